#include "devices/ata_channel.h"

#include <algorithm>
#include <cstring>

namespace rrvm {

namespace {
constexpr uint8_t kBsy = 0x80, kDrdy = 0x40, kDsc = 0x10, kDrq = 0x08, kErr = 0x01;
constexpr uint8_t kErrAbort = 0x04, kErrIdNotFound = 0x10;
constexpr uint8_t kCtlNoInterrupt = 0x02, kCtlReset = 0x04;
constexpr uint8_t kSelLba = 0x40;

// ATA strings: space padded, two characters per word, first character high.
void put_string(std::vector<uint8_t>& id, unsigned word, unsigned words, const char* text) {
  const size_t n = std::strlen(text);
  for (unsigned i = 0; i < words * 2; ++i) {
    const char c = i < n ? text[i] : ' ';
    id[word * 2 + (i ^ 1)] = uint8_t(c);
  }
}
void put16(std::vector<uint8_t>& id, unsigned word, uint16_t v) {
  id[word * 2] = uint8_t(v);
  id[word * 2 + 1] = uint8_t(v >> 8);
}
}  // namespace

class AtaControlPort final : public IoDevice {
 public:
  explicit AtaControlPort(AtaChannel& ch) : ch_(ch) {}
  const char* device_name() const override { return "ata control"; }
  uint64_t io_read(uint64_t, unsigned) override { return ch_.read_alternate_status(); }
  void io_write(uint64_t, unsigned, uint64_t value) override { ch_.write_device_control(uint8_t(value)); }

 private:
  AtaChannel& ch_;
};

AtaChannel::AtaChannel(IrqSink& irq, unsigned irq_line, const char* name)
    : irq_(irq), irq_line_(irq_line), name_(name), control_port_(std::make_unique<AtaControlPort>(*this)) {}

AtaChannel::~AtaChannel() = default;

void AtaChannel::attach(IoBus& ports, uint16_t command_base, uint16_t control_port) {
  ports.add(command_base, 8, this);
  ports.add(control_port, 1, control_port_.get());
}

uint32_t AtaChannel::cylinders() const {
  const uint64_t c = disk_ ? disk_->sectors() / (kHeads * kSectorsPerTrack) : 0;
  return uint32_t(std::clamp<uint64_t>(c, 2, 16383));
}

void AtaChannel::set_irq(bool pending) {
  irq_pending_ = pending;
  irq_.set_irq(irq_line_, pending && !(control_ & kCtlNoInterrupt));
}

uint64_t AtaChannel::io_read(uint64_t offset, unsigned size) {
  if (offset == 0) {
    if (size == 1) return 0xFF;  // QEMU: the data register is not byte-wide
    uint64_t v = read_data();
    if (size == 4) v |= uint64_t(read_data()) << 16;
    return v;
  }
  uint64_t v = read_register(unsigned(offset));
  for (unsigned i = 1; i < size && i < 4; ++i) v |= uint64_t(read_register(unsigned(offset + i) & 7)) << (8 * i);
  return v;
}

void AtaChannel::io_write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset == 0) {
    if (size == 1) return;
    write_data(uint16_t(value));
    if (size == 4) write_data(uint16_t(value >> 16));
    return;
  }
  for (unsigned i = 0; i < size && i < 4; ++i) write_register(unsigned(offset + i) & 7, uint8_t(value >> (8 * i)));
}

uint8_t AtaChannel::read_register(unsigned reg) {
  // No disk on the channel, or the absent device 1 selected: QEMU reads 0.
  const bool none = !present() || (select_ & 0x10);
  switch (reg) {
    case 1: return none ? 0 : error_;
    case 2: return none ? 0 : nsector_;
    case 3: return none ? 0 : sector_;
    case 4: return none ? 0 : lcyl_;
    case 5: return none ? 0 : hcyl_;
    case 6: return present() ? select_ : 0;
    case 7:
      if (none) return 0;
      set_irq(false);  // reading status acknowledges the interrupt
      return status_;
    default: return 0xFF;
  }
}

uint8_t AtaChannel::read_alternate_status() { return selected_present() ? status_ : 0; }

void AtaChannel::write_register(unsigned reg, uint8_t v) {
  switch (reg) {
    case 1: feature_ = v; break;
    case 2: hob_nsector_ = nsector_; nsector_ = v; break;
    case 3: hob_sector_ = sector_; sector_ = v; break;
    case 4: hob_lcyl_ = lcyl_; lcyl_ = v; break;
    case 5: hob_hcyl_ = hcyl_; hcyl_ = v; break;
    case 6: select_ = uint8_t(v | 0xA0); break;
    case 7:
      if (!selected_present() || (status_ & kBsy)) return;  // commands to no device are ignored
      execute(v);
      break;
    default: break;
  }
}

void AtaChannel::write_device_control(uint8_t v) {
  const bool was_reset = control_ & kCtlReset;
  control_ = v;
  if (v & kCtlReset) {
    transfer_ = Transfer::None;
    if (present()) status_ = kBsy | kDsc;
  } else if (was_reset) {
    signature();
  }
  irq_.set_irq(irq_line_, irq_pending_ && !(control_ & kCtlNoInterrupt));
}

// The state after a reset or diagnostic: an ATA device's signature.
void AtaChannel::signature() {
  transfer_ = Transfer::None;
  nsector_ = 1;
  sector_ = 1;
  lcyl_ = hcyl_ = 0;
  select_ = 0xA0;
  error_ = 0x01;  // diagnostic passed
  status_ = present() ? uint8_t(kDrdy | kDsc) : 0;
}

uint64_t AtaChannel::lba(bool lba48) const {
  if (lba48)
    return uint64_t(sector_) | uint64_t(lcyl_) << 8 | uint64_t(hcyl_) << 16 | uint64_t(hob_sector_) << 24 |
           uint64_t(hob_lcyl_) << 32 | uint64_t(hob_hcyl_) << 40;
  if (select_ & kSelLba) return uint64_t(sector_) | uint64_t(lcyl_) << 8 | uint64_t(hcyl_) << 16 | uint64_t(select_ & 0xF) << 24;
  // CHS through the logical geometry.
  const uint64_t cyl = uint64_t(lcyl_) | uint64_t(hcyl_) << 8, head = select_ & 0xF;
  if (sector_ == 0) return ~0ull;
  return (cyl * logical_heads_ + head) * logical_sectors_ + (sector_ - 1u);
}

void AtaChannel::set_lba(uint64_t v, bool lba48) {
  if (!lba48 && !(select_ & kSelLba)) {
    const uint64_t cyl = v / (uint64_t(logical_heads_) * logical_sectors_);
    const uint64_t rest = v % (uint64_t(logical_heads_) * logical_sectors_);
    lcyl_ = uint8_t(cyl);
    hcyl_ = uint8_t(cyl >> 8);
    select_ = uint8_t((select_ & 0xF0) | (rest / logical_sectors_));
    sector_ = uint8_t(rest % logical_sectors_ + 1);
    return;
  }
  sector_ = uint8_t(v);
  lcyl_ = uint8_t(v >> 8);
  hcyl_ = uint8_t(v >> 16);
  if (lba48) {
    hob_sector_ = uint8_t(v >> 24);
    hob_lcyl_ = uint8_t(v >> 32);
    hob_hcyl_ = uint8_t(v >> 40);
  } else {
    select_ = uint8_t((select_ & 0xF0) | ((v >> 24) & 0xF));
  }
}

void AtaChannel::abort_command() {
  transfer_ = Transfer::None;
  error_ = kErrAbort;
  status_ = kDrdy | kDsc | kErr;
  set_irq(true);
}

void AtaChannel::complete(bool irq) {
  transfer_ = Transfer::None;
  error_ = 0;
  status_ = kDrdy | kDsc;
  if (irq) set_irq(true);
}

void AtaChannel::execute(uint8_t cmd) {
  switch (cmd) {
    case 0xEC: identify(); return;
    case 0x20: case 0x21: start_read(false, 1); return;
    case 0x24: start_read(true, 1); return;
    case 0xC4: case 0x29:
      if (!multiple_) return abort_command();
      start_read(cmd == 0x29, multiple_);
      return;
    case 0x30: case 0x31: start_write(false, 1); return;
    case 0x34: start_write(true, 1); return;
    case 0xC5: case 0x39:
      if (!multiple_) return abort_command();
      start_write(cmd == 0x39, multiple_);
      return;
    case 0x40: case 0x41: case 0x42: {  // READ VERIFY: range check only
      const bool ext = cmd == 0x42;
      const uint64_t first = lba(ext);
      const uint32_t count = ext ? (uint32_t(hob_nsector_) << 8 | nsector_) : nsector_;
      const uint32_t n = count ? count : (ext ? 65536u : 256u);
      if (first > disk_->sectors() || n > disk_->sectors() - first) {
        error_ = kErrIdNotFound;
        status_ = kDrdy | kDsc | kErr;
        set_irq(true);
        return;
      }
      set_lba(first + n - 1, ext);
      complete(true);
      return;
    }
    case 0x91:  // INITIALIZE DEVICE PARAMETERS
      if (nsector_ == 0) return abort_command();
      logical_heads_ = uint8_t((select_ & 0xF) + 1);
      logical_sectors_ = nsector_;
      complete(true);
      return;
    case 0xC6:  // SET MULTIPLE
      if (nsector_ > kMaxMultiple || (nsector_ & (nsector_ - 1))) return abort_command();
      multiple_ = nsector_;
      complete(true);
      return;
    case 0x90:  // EXECUTE DEVICE DIAGNOSTIC
      signature();
      set_irq(true);
      return;
    case 0xE5: nsector_ = 0xFF; complete(true); return;  // CHECK POWER MODE: active
    case 0xF8: set_lba(disk_->sectors() - 1, false); complete(true); return;  // READ NATIVE MAX ADDRESS
    case 0x27: set_lba(disk_->sectors() - 1, true); complete(true); return;
    case 0xEF:  // SET FEATURES (transfer modes, caches): accepted
    case 0xE7: case 0xEA:  // FLUSH CACHE
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE6:  // power modes
      complete(true);
      return;
    default:
      if ((cmd & 0xF0) == 0x10 || (cmd & 0xF0) == 0x70) {  // RECALIBRATE, SEEK
        complete(true);
        return;
      }
      // Unknown, and the ATAPI commands (PACKET, IDENTIFY PACKET DEVICE,
      // DEVICE RESET) a hard disk does not take.
      abort_command();
      return;
  }
}

void AtaChannel::identify() {
  std::vector<uint8_t> id(512, 0);
  const uint64_t total = disk_->sectors();
  const uint32_t cyl = cylinders();
  put16(id, 0, 0x0040);  // fixed disk
  put16(id, 1, uint16_t(cyl));
  put16(id, 3, kHeads);
  put16(id, 4, 512 * kSectorsPerTrack);
  put16(id, 5, 512);
  put16(id, 6, kSectorsPerTrack);
  put_string(id, 10, 10, "RV00001");
  put16(id, 20, 3);
  put16(id, 21, 512);
  put16(id, 22, 4);
  put_string(id, 23, 4, "rrvm");
  put_string(id, 27, 20, "RRVM HARDDISK");
  put16(id, 47, 0x8000 | kMaxMultiple);
  put16(id, 48, 1);
  put16(id, 49, (1 << 11) | (1 << 9));  // IORDY, LBA
  put16(id, 51, 0x200);
  put16(id, 53, 1 | 2);  // words 54-58 and 64-70 valid
  put16(id, 54, uint16_t(cyl));
  put16(id, 55, logical_heads_);
  put16(id, 56, logical_sectors_);
  const uint32_t chs = uint32_t(std::min<uint64_t>(uint64_t(cyl) * logical_heads_ * logical_sectors_, total));
  put16(id, 57, uint16_t(chs));
  put16(id, 58, uint16_t(chs >> 16));
  if (multiple_) put16(id, 59, 0x100 | multiple_);
  const uint32_t lba28 = uint32_t(std::min<uint64_t>(total, 0x0FFFFFFF));
  put16(id, 60, uint16_t(lba28));
  put16(id, 61, uint16_t(lba28 >> 16));
  put16(id, 64, 0x03);  // PIO modes 3 and 4
  for (unsigned w = 65; w <= 68; ++w) put16(id, w, 120);
  put16(id, 80, 0xF0);  // ATA-4 to ATA-7
  put16(id, 81, 0x16);
  put16(id, 82, (1 << 14));
  put16(id, 83, (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10));  // LBA48, FLUSH CACHE (EXT)
  put16(id, 84, (1 << 14));
  put16(id, 85, (1 << 14));
  put16(id, 86, (1 << 13) | (1 << 12) | (1 << 10));
  put16(id, 87, (1 << 14));
  put16(id, 93, 1 | (1 << 14) | 0x2000);
  for (unsigned i = 0; i < 4; ++i) put16(id, 100 + i, uint16_t(total >> (16 * i)));
  buffer_ = std::move(id);
  buffer_pos_ = 0;
  sectors_left_ = 0;
  transfer_ = Transfer::PioIn;
  error_ = 0;
  status_ = kDrdy | kDsc | kDrq;
  set_irq(true);
}

bool AtaChannel::begin_transfer(bool lba48, unsigned block, Transfer transfer) {
  const uint64_t first = lba(lba48);
  const uint32_t count = lba48 ? (uint32_t(hob_nsector_) << 8 | nsector_) : nsector_;
  const uint32_t n = count ? count : (lba48 ? 65536u : 256u);
  if (first > disk_->sectors() || n > disk_->sectors() - first) {
    error_ = kErrIdNotFound;
    status_ = kDrdy | kDsc | kErr;
    set_irq(true);
    return false;
  }
  next_lba_ = first;
  sectors_left_ = n;
  block_sectors_ = block;
  lba48_ = lba48;
  transfer_ = transfer;
  return true;
}

void AtaChannel::start_read(bool lba48, unsigned block) {
  if (begin_transfer(lba48, block, Transfer::PioIn)) load_block();
}

// The next DRQ block of a read: up to block_sectors_ sectors, then an interrupt.
void AtaChannel::load_block() {
  const uint32_t n = std::min(sectors_left_, block_sectors_);
  buffer_.assign(size_t(n) * DiskImage::kSectorSize, 0);
  disk_->read(next_lba_, n, buffer_);
  next_lba_ += n;
  sectors_left_ -= n;
  buffer_pos_ = 0;
  set_lba(next_lba_ - 1, lba48_);
  error_ = 0;
  status_ = kDrdy | kDsc | kDrq;
  set_irq(true);
}

void AtaChannel::start_write(bool lba48, unsigned block) {
  if (!begin_transfer(lba48, block, Transfer::PioOut)) return;
  buffer_.assign(size_t(std::min(sectors_left_, block_sectors_)) * DiskImage::kSectorSize, 0);
  buffer_pos_ = 0;
  error_ = 0;
  status_ = kDrdy | kDsc | kDrq;  // the first block is asked for without an interrupt
}

void AtaChannel::store_block() {
  const uint32_t n = uint32_t(buffer_.size() / DiskImage::kSectorSize);
  disk_->write(next_lba_, n, buffer_);  // into the in-memory copy only
  next_lba_ += n;
  sectors_left_ -= n;
  set_lba(next_lba_ - 1, lba48_);
  if (sectors_left_ == 0) {
    complete(true);
    return;
  }
  buffer_.assign(size_t(std::min(sectors_left_, block_sectors_)) * DiskImage::kSectorSize, 0);
  buffer_pos_ = 0;
  status_ = kDrdy | kDsc | kDrq;
  set_irq(true);
}

uint16_t AtaChannel::read_data() {
  if (transfer_ != Transfer::PioIn || !(status_ & kDrq) || buffer_pos_ + 2 > buffer_.size()) return 0;
  const uint16_t v = uint16_t(buffer_[buffer_pos_] | buffer_[buffer_pos_ + 1] << 8);
  buffer_pos_ += 2;
  if (buffer_pos_ == buffer_.size()) {
    if (sectors_left_ > 0) {
      load_block();
    } else {
      transfer_ = Transfer::None;
      status_ = kDrdy | kDsc;
    }
  }
  return v;
}

void AtaChannel::write_data(uint16_t v) {
  if (transfer_ != Transfer::PioOut || !(status_ & kDrq) || buffer_pos_ + 2 > buffer_.size()) return;
  buffer_[buffer_pos_] = uint8_t(v);
  buffer_[buffer_pos_ + 1] = uint8_t(v >> 8);
  buffer_pos_ += 2;
  if (buffer_pos_ == buffer_.size()) store_block();
}

std::vector<uint8_t> AtaChannel::save_state() const {
  ByteWriter w;
  w.header("ATA ", 1);
  for (uint8_t b : {feature_, error_, nsector_, sector_, lcyl_, hcyl_, select_, hob_nsector_, hob_sector_, hob_lcyl_,
                    hob_hcyl_, status_, control_, uint8_t(transfer_), multiple_, logical_heads_, logical_sectors_})
    w.u8(b);
  w.boolean(irq_pending_);
  w.boolean(lba48_);
  w.u32(uint32_t(buffer_.size()));
  w.bytes(buffer_);
  w.u32(buffer_pos_);
  w.u64(next_lba_);
  w.u32(sectors_left_);
  w.u32(block_sectors_);
  return w.take();
}

void AtaChannel::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "ata state");
  r.header("ATA ", 1);
  for (uint8_t* b : {&feature_, &error_, &nsector_, &sector_, &lcyl_, &hcyl_, &select_, &hob_nsector_, &hob_sector_,
                     &hob_lcyl_, &hob_hcyl_, &status_, &control_})
    *b = r.u8();
  const uint8_t t = r.u8();
  if (t > 2) r.fail("transfer kind " + std::to_string(t));
  transfer_ = Transfer(t);
  multiple_ = r.u8();
  logical_heads_ = r.u8();
  logical_sectors_ = r.u8();
  irq_pending_ = r.boolean();
  lba48_ = r.boolean();
  const uint32_t n = r.u32();
  if (n > kMaxMultiple * DiskImage::kSectorSize) r.fail("buffer of " + std::to_string(n) + " bytes");
  buffer_.resize(n);
  r.bytes(buffer_);
  buffer_pos_ = r.u32();
  if (buffer_pos_ > buffer_.size()) r.fail("buffer position past its end");
  next_lba_ = r.u64();
  sectors_left_ = r.u32();
  block_sectors_ = r.u32();
  r.finish();
  set_irq(irq_pending_);
}

}  // namespace rrvm
