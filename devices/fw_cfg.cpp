#include "devices/fw_cfg.h"

#include <algorithm>
#include <cstring>

namespace rrvm {

namespace {
constexpr uint64_t kDmaSignature = 0x51454D5520434647ull;  // "QEMU CFG", big endian
constexpr size_t kFileNameBytes = 56;

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint64_t be64(const uint8_t* p) { return uint64_t(be32(p)) << 32 | be32(p + 4); }
void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(uint8_t(v >> (8 * i)));
}
uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
}  // namespace

// 0x514-0x51B arrive here and go on with offsets 4-11.
class FwCfgDmaPort final : public IoDevice {
 public:
  explicit FwCfgDmaPort(FwCfg& cfg) : cfg_(cfg) {}
  const char* device_name() const override { return "fw_cfg dma"; }
  uint64_t io_read(uint64_t offset, unsigned size) override { return cfg_.io_read(4 + offset, size); }
  void io_write(uint64_t offset, unsigned size, uint64_t value) override { cfg_.io_write(4 + offset, size, value); }

 private:
  FwCfg& cfg_;
};

FwCfg::FwCfg(GuestDma& dma) : dma_(dma), dma_port_(std::make_unique<FwCfgDmaPort>(*this)) {
  add_item(kSignature, {'Q', 'E', 'M', 'U'});
  add_item(kId, {0x03, 0, 0, 0});  // bit 0: traditional interface, bit 1: DMA
  rebuild_directory();
}

FwCfg::~FwCfg() = default;

void FwCfg::attach(IoBus& ports) {
  ports.add(kPort, 2, this);
  ports.add(kDmaPort, 8, dma_port_.get());
}

void FwCfg::add_item(uint16_t key, std::vector<uint8_t> data) { items_[uint16_t(key & ~kWriteChannel)] = std::move(data); }

void FwCfg::add_file(const std::string& name, std::vector<uint8_t> data) {
  auto it = std::find_if(files_.begin(), files_.end(), [&](const auto& f) { return f.first == name; });
  if (it != files_.end()) it->second = std::move(data);
  else files_.emplace_back(name, std::move(data));
  std::sort(files_.begin(), files_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  rebuild_directory();
}

uint16_t FwCfg::file_key(const std::string& name) const {
  for (size_t i = 0; i < files_.size(); ++i)
    if (files_[i].first == name) return uint16_t(kFileFirst + i);
  return 0;
}

// The directory (key 0x19) and the file keys, from the sorted list.
void FwCfg::rebuild_directory() {
  for (auto it = items_.begin(); it != items_.end();) {
    const uint16_t index = it->first & 0x3FFF;
    it = (!(it->first & kArchLocal) && index >= kFileFirst) ? items_.erase(it) : std::next(it);
  }
  std::vector<uint8_t> dir;
  put_be32(dir, uint32_t(files_.size()));
  for (size_t i = 0; i < files_.size(); ++i) {
    const uint16_t key = uint16_t(kFileFirst + i);
    put_be32(dir, uint32_t(files_[i].second.size()));
    dir.push_back(uint8_t(key >> 8));
    dir.push_back(uint8_t(key));
    dir.push_back(0);
    dir.push_back(0);
    char name[kFileNameBytes] = {};
    std::strncpy(name, files_[i].first.c_str(), kFileNameBytes - 1);
    dir.insert(dir.end(), name, name + kFileNameBytes);
    items_[key] = files_[i].second;
  }
  items_[kFileDir] = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::entry() const {
  auto it = items_.find(uint16_t(selected_ & ~kWriteChannel));
  return it == items_.end() ? nullptr : &it->second;
}

void FwCfg::select(uint16_t key) {
  selected_ = key;
  offset_ = 0;
}

uint8_t FwCfg::read_byte() {
  const auto* e = entry();
  if (!e || offset_ >= e->size()) return 0;
  return (*e)[offset_++];
}

uint64_t FwCfg::io_read(uint64_t offset, unsigned size) {
  if (offset < 2) return size == 1 ? read_byte() : IoBus::size_mask(size);
  // The DMA address register reads as the signature, 32 bits at a time.
  if (size == 4 && (offset == 4 || offset == 8))
    return bswap32(uint32_t(kDmaSignature >> (offset == 4 ? 32 : 0)));
  return IoBus::size_mask(size);
}

void FwCfg::io_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset < 2) {
    if (size == 2 && offset == 0) select(uint16_t(value));
    return;  // byte writes to the data port do nothing (deprecated upstream)
  }
  if (size != 4) return;
  // Big-endian halves: the guest's little-endian outl arrives byte-swapped.
  if (offset == 4) {
    dma_address_ = uint64_t(bswap32(uint32_t(value))) << 32;
  } else if (offset == 8) {
    const uint64_t descriptor = dma_address_ | bswap32(uint32_t(value));
    dma_address_ = 0;
    dma_transfer(descriptor);
  }
}

// hw/nvram/fw_cfg.c fw_cfg_dma_transfer, step for step.
void FwCfg::dma_transfer(uint64_t descriptor) {
  uint8_t raw[16];
  auto set_control = [&](uint32_t control) {
    const uint8_t be[4] = {uint8_t(control >> 24), uint8_t(control >> 16), uint8_t(control >> 8), uint8_t(control)};
    dma_.write(descriptor, be, 4);
  };
  if (!dma_.read(descriptor, raw, sizeof raw)) {
    set_control(kDmaError);
    return;
  }
  uint32_t control = be32(raw);
  uint32_t length = be32(raw + 4);
  uint64_t address = be64(raw + 8);
  if (control & kDmaSelect) select(uint16_t(control >> 16));
  const bool read = control & kDmaRead, write = !read && (control & kDmaWrite);
  if (!read && !write && !(control & kDmaSkip)) length = 0;
  uint32_t status = 0;
  const std::vector<uint8_t>* e = entry();
  while (length > 0 && !(status & kDmaError)) {
    uint32_t len;
    if (!e || offset_ >= e->size()) {
      len = length;
      if (read && !dma_.fill(address, 0, len)) status |= kDmaError;
      if (write) status |= kDmaError;  // nothing here takes writes
    } else {
      len = std::min<uint32_t>(length, uint32_t(e->size() - offset_));
      if (read && !dma_.write(address, e->data() + offset_, len)) status |= kDmaError;
      if (write) status |= kDmaError;  // no item is writable
      offset_ += len;
    }
    address += len;
    length -= len;
  }
  set_control(status);
}

std::vector<uint8_t> FwCfg::save_state() const {
  ByteWriter w;
  w.header("FWCF", 1);
  w.u16(selected_);
  w.u32(offset_);
  w.u64(dma_address_);
  return w.take();
}

void FwCfg::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "fw_cfg state");
  r.header("FWCF", 1);
  selected_ = r.u16();
  offset_ = r.u32();
  dma_address_ = r.u64();
  r.finish();
}

}  // namespace rrvm
