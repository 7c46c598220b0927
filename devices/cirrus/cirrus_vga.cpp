// Registers, ports, PCI BAR handling and state of the CL-GD5446. VRAM access
// paths (legacy window, LFB trap, BAR1) live in cirrus_memory.cpp.
#include "devices/cirrus/cirrus_vga.h"

#include <algorithm>
#include <stdexcept>

#include "vmm/state_bytes.h"

namespace rrvm {

using namespace blt;

// One IoDevice per bus-facing region; multi-byte accesses are split into
// little-endian byte accesses, as the ISA/VGA data path does.
class CirrusVga::Adapter final : public IoDevice {
 public:
  enum class Kind { Ports, Legacy, Lfb, Mmio };
  Adapter(CirrusVga& vga, Kind kind, const char* name) : vga_(vga), kind_(kind), name_(name) {}
  const char* device_name() const override { return name_; }
  uint64_t io_read(uint64_t offset, unsigned size) override {
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; ++i) v |= uint64_t(byte_read(offset + i)) << (8 * i);
    return v;
  }
  void io_write(uint64_t offset, unsigned size, uint64_t value) override {
    for (unsigned i = 0; i < size && i < 8; ++i) byte_write(offset + i, static_cast<uint8_t>(value >> (8 * i)));
  }

 private:
  uint8_t byte_read(uint64_t off) {
    switch (kind_) {
      case Kind::Ports: return off < kPortCount ? vga_.port_read(static_cast<uint16_t>(kPortBase + off)) : 0xFF;
      case Kind::Legacy: return off < kLegacySize ? vga_.window_read(static_cast<uint32_t>(off)) : 0xFF;
      case Kind::Lfb: return off < kVramSize ? vga_.lfb_read(static_cast<uint32_t>(off)) : 0xFF;
      case Kind::Mmio: return off < kMmioSize ? vga_.mmio_read(static_cast<uint32_t>(off)) : 0xFF;
    }
    return 0xFF;
  }
  void byte_write(uint64_t off, uint8_t v) {
    switch (kind_) {
      case Kind::Ports:
        if (off < kPortCount) vga_.port_write(static_cast<uint16_t>(kPortBase + off), v);
        break;
      case Kind::Legacy:
        if (off < kLegacySize) vga_.window_write(static_cast<uint32_t>(off), v);
        break;
      case Kind::Lfb:
        if (off < kVramSize) vga_.lfb_write(static_cast<uint32_t>(off), v);
        break;
      case Kind::Mmio:
        if (off < kMmioSize) vga_.mmio_write(static_cast<uint32_t>(off), v);
        break;
    }
  }
  CirrusVga& vga_;
  Kind kind_;
  const char* name_;
};

CirrusVga::CirrusVga(GuestMemory& memory, Clock& clock, std::function<void()> memory_map_changed,
                     uint64_t parking_base)
    : PciDevice(0x1013, 0x00B8, 0x030000, 0x00),
      memory_(memory),
      clock_(clock),
      map_changed_(std::move(memory_map_changed)),
      vram_slot_(memory.add_slot(parking_base, kVramSize, "vram", /*log_dirty=*/true).id),
      vram_(memory.slots()[vram_slot_].host),
      blitter_({vram_, kVramSize}, [this](size_t off, size_t len) { mark_dirty(off, len); }) {
  memory_.set_slot_mapped(vram_slot_, false);  // until the guest enables BAR0
  declare_bar(0, PciBarKind::Memory32Prefetch, static_cast<uint32_t>(kVramSize));
  declare_bar(1, PciBarKind::Memory32, static_cast<uint32_t>(kMmioSize));
  ports_dev_ = std::make_unique<Adapter>(*this, Adapter::Kind::Ports, "cirrus-vga ports");
  legacy_dev_ = std::make_unique<Adapter>(*this, Adapter::Kind::Legacy, "cirrus-vga window");
  lfb_dev_ = std::make_unique<Adapter>(*this, Adapter::Kind::Lfb, "cirrus-vga lfb");
  mmio_dev_ = std::make_unique<Adapter>(*this, Adapter::Kind::Mmio, "cirrus-vga mmio");
  reset_registers();
}

CirrusVga::~CirrusVga() {
  if (mmio_bus_) {
    if (lfb_claim_) mmio_bus_->remove(*lfb_claim_);
    if (mmio_claim_) mmio_bus_->remove(*mmio_claim_);
  }
}

void CirrusVga::reset_registers() {
  misc_ = 0x01;
  sr_[0x06] = 0x0F;
  sr_[0x0F] = 0x98;  // 4 MiB of DRAM, bank switching present
  sr_[0x17] = 0x20;  // PCI bus
  sr_[0x1F] = 0x22;  // memory clock
  pixel_mask_ = 0xFF;
  update_banks();
}

void CirrusVga::attach(IoBus& ports, IoBus& mmio) {
  ports.add(kPortBase, kPortCount, ports_dev_.get());
  mmio.add(kLegacyBase, kLegacySize, legacy_dev_.get());
  mmio_bus_ = &mmio;
  apply_mappings();
}

void CirrusVga::set_option_rom(std::span<const uint8_t> rom) {
  if (rom.empty() || rom.size() > (16u << 20)) throw std::invalid_argument("cirrus-vga: option ROM must be 1 byte to 16 MiB");
  uint64_t size = kPageSize;  // a power of two (PCI) and whole pages (a slot)
  while (size < rom.size()) size <<= 1;
  declare_rom(static_cast<uint32_t>(size));
  const MemorySlot& slot = memory_.add_slot(kDefaultParkingBase, size, "cirrus-rom", false, /*mapped=*/false);
  std::copy(rom.begin(), rom.end(), slot.host);
  rom_slot_ = slot.id;
  memory_.set_slot_read_only(slot.id, true);
}

void CirrusVga::bar_window_changed(int, std::optional<uint64_t>) { apply_mappings(); }

void CirrusVga::apply_mappings() {
  const auto lfb = bar_window(0);
  const auto regs = bar_window(1);
  if (mmio_bus_) {
    auto reclaim = [&](std::optional<uint64_t>& claim, std::optional<uint64_t> want, uint64_t len, IoDevice* dev) {
      if (claim == want) return;
      if (claim) mmio_bus_->remove(*claim);
      claim.reset();
      if (!want) return;
      try {
        mmio_bus_->add(*want, len, dev);
        claim = want;
      } catch (const std::invalid_argument&) {
        // The guest put the BAR over another device: it decodes nothing there.
      }
    };
    reclaim(lfb_claim_, lfb, kVramSize, lfb_dev_.get());
    reclaim(mmio_claim_, regs, kMmioSize, mmio_dev_.get());
  }
  bool changed = false;
  bool want_mapped = lfb.has_value() && !blitter_.active();
  if (lfb && memory_.slots()[vram_slot_].guest_base != *lfb) {
    try {
      memory_.move_slot(vram_slot_, *lfb);
      changed = true;
    } catch (const std::invalid_argument&) {
      want_mapped = false;  // BAR0 over RAM: keep VRAM hidden rather than alias
    }
  }
  if (memory_.slots()[vram_slot_].mapped != want_mapped) {
    memory_.set_slot_mapped(vram_slot_, want_mapped);
    changed = true;
  }
  if (rom_slot_) {
    // The ROM BAR: shown where it points while enabled; over RAM or another
    // slot it stays hidden (the guest then reads open bus there).
    const auto rom = bar_window(kRomBar);
    const MemorySlot& slot = memory_.slots()[*rom_slot_];
    if (slot.mapped && (!rom || slot.guest_base != *rom)) {
      memory_.set_slot_mapped(*rom_slot_, false);
      changed = true;
    }
    if (rom && !memory_.slots()[*rom_slot_].mapped) {
      try {
        if (slot.guest_base != *rom) memory_.move_slot(*rom_slot_, *rom);
        memory_.set_slot_mapped(*rom_slot_, true);
        changed = true;
      } catch (const std::invalid_argument&) {
        // Over RAM or another window: not decoded.
      }
    }
  }
  if (changed && map_changed_) map_changed_();
}

void CirrusVga::mark_dirty(size_t offset, size_t length) {
  memory_.mark_dirty(memory_.slots()[vram_slot_].guest_base + offset, length);
}

uint8_t CirrusVga::input_status1() {
  ar_flip_flop_ = false;
  // 60 Hz frames of 525 lines; the first ~1 ms of each frame is vertical retrace.
  constexpr uint64_t kFrameNs = 16'666'667, kLineNs = kFrameNs / 525, kRetraceNs = 1'000'000;
  uint64_t phase = clock_.now_ns() % kFrameNs;
  bool vretrace = phase < kRetraceNs;
  bool hblank = (phase % kLineNs) > kLineNs * 4 / 5;
  return static_cast<uint8_t>((vretrace ? 0x08 : 0) | ((vretrace || hblank) ? 0x01 : 0));
}

uint8_t CirrusVga::port_read(uint16_t port) {
  if ((port < 0x3C0 && !mono_ports()) || (port >= 0x3D0 && mono_ports())) return 0xFF;
  if (port != 0x3C6) hidden_dac_reads_ = 0;
  switch (port) {
    case 0x3C0: return ar_index_;
    case 0x3C1: return (ar_index_ & 0x1F) < 0x15 ? ar_[ar_index_ & 0x1F] : 0;
    case 0x3C2: return 0x00;  // input status 0
    case 0x3C4: return sr_index_;
    case 0x3C5: return read_seq();
    case 0x3C6:
      // Four reads of the pixel mask unlock the hidden DAC register.
      if (hidden_dac_reads_ >= 4) {
        hidden_dac_reads_ = 0;
        return hidden_dac_;
      }
      ++hidden_dac_reads_;
      return pixel_mask_;
    case 0x3C7: return dac_state_;
    case 0x3C8: return dac_write_index_;
    case 0x3C9: {
      uint8_t v = (sr_[0x12] & 0x02) ? cursor_palette_[(dac_read_index_ & 0x0F) * 3 + dac_sub_]
                                     : palette_[dac_read_index_ * 3 + dac_sub_];
      if (++dac_sub_ == 3) {
        dac_sub_ = 0;
        ++dac_read_index_;
      }
      return v;
    }
    case 0x3CA: return feature_;
    case 0x3CC: return misc_;
    case 0x3CE: return gr_index_;
    case 0x3CF: return gr_[gr_index_ & 0x3F];
    case 0x3B4:
    case 0x3D4: return cr_index_;
    case 0x3B5:
    case 0x3D5: return read_crtc();
    case 0x3BA:
    case 0x3DA: return input_status1();
    default: return 0xFF;
  }
}

void CirrusVga::port_write(uint16_t port, uint8_t v) {
  if ((port < 0x3C0 && !mono_ports()) || (port >= 0x3D0 && mono_ports())) return;
  if (port != 0x3C6) hidden_dac_reads_ = 0;
  switch (port) {
    case 0x3C0:
      if (!ar_flip_flop_) {
        ar_index_ = v & 0x3F;
      } else {
        uint8_t i = ar_index_ & 0x1F;
        if (i < 0x10) ar_[i] = v & 0x3F;
        else if (i == 0x10) ar_[i] = v & ~0x10;
        else if (i == 0x11) ar_[i] = v;
        else if (i == 0x12) ar_[i] = v & 0x3F;
        else if (i == 0x13 || i == 0x14) ar_[i] = v & 0x0F;
      }
      ar_flip_flop_ = !ar_flip_flop_;
      break;
    case 0x3C2: misc_ = v; break;
    case 0x3C4: sr_index_ = v; break;
    case 0x3C5: write_seq(v); break;
    case 0x3C6:
      if (hidden_dac_reads_ >= 4) hidden_dac_ = v;
      else pixel_mask_ = v;
      hidden_dac_reads_ = 0;
      break;
    case 0x3C7:
      dac_read_index_ = v;
      dac_sub_ = 0;
      dac_state_ = 3;
      break;
    case 0x3C8:
      dac_write_index_ = v;
      dac_sub_ = 0;
      dac_state_ = 0;
      break;
    case 0x3C9:
      dac_cache_[dac_sub_++] = v & 0x3F;
      if (dac_sub_ == 3) {
        uint8_t* dst = (sr_[0x12] & 0x02) ? &cursor_palette_[(dac_write_index_ & 0x0F) * 3]
                                          : &palette_[dac_write_index_ * 3];
        for (int i = 0; i < 3; ++i) dst[i] = dac_cache_[i];
        dac_sub_ = 0;
        ++dac_write_index_;
      }
      break;
    case 0x3CA: break;
    case 0x3CE: gr_index_ = v & 0x3F; break;
    case 0x3CF: write_gr(gr_index_, v, false); break;
    case 0x3B4:
    case 0x3D4: cr_index_ = v; break;
    case 0x3B5:
    case 0x3D5: write_crtc(v); break;
    case 0x3BA:
    case 0x3DA: feature_ = v; break;
    default: break;
  }
}

void CirrusVga::write_seq(uint8_t v) {
  const uint8_t idx = sr_index_;
  const uint8_t low = idx & 0x1F;
  // Cursor position: the index's top three bits carry the position's low bits.
  if (low == 0x10) {
    sr_[0x10] = v;
    cursor_x_ = static_cast<uint16_t>((v << 3) | (idx >> 5));
    return;
  }
  if (low == 0x11) {
    sr_[0x11] = v;
    cursor_y_ = static_cast<uint16_t>((v << 3) | (idx >> 5));
    return;
  }
  if (idx > 0x1F) return;
  static constexpr uint8_t kStdMask[5] = {0x03, 0x3D, 0x0F, 0x3F, 0x0E};
  if (idx < 5) sr_[idx] = v & kStdMask[idx];
  else if (idx == 0x06) sr_[6] = (v & 0x17) == 0x12 ? 0x12 : 0x0F;
  else if (idx == 0x17) sr_[idx] = static_cast<uint8_t>((sr_[idx] & 0x38) | (v & 0xC7));
  else sr_[idx] = v;
}

uint8_t CirrusVga::read_seq() const {
  uint8_t low = sr_index_ & 0x1F;
  if (low == 0x10 || low == 0x11) return sr_[low];
  return sr_index_ > 0x1F ? 0xFF : sr_[sr_index_];
}

void CirrusVga::write_crtc(uint8_t v) {
  const uint8_t idx = cr_index_;
  if (idx > 0x3F) return;
  if ((cr_[0x11] & 0x80) && idx <= 0x07) {  // write-protect CR0-CR7 except CR7 bit 4
    if (idx == 0x07) cr_[7] = static_cast<uint8_t>((cr_[7] & ~0x10) | (v & 0x10));
    return;
  }
  if (idx == 0x22 || idx == 0x24 || idx == 0x26 || idx == 0x27) return;  // read-only
  cr_[idx] = v;
}

uint8_t CirrusVga::read_crtc() const {
  switch (cr_index_) {
    case 0x24: return ar_flip_flop_ ? 0x80 : 0x00;
    case 0x26: return ar_index_ & 0x3F;
    case 0x27: return 0xB8;  // CL-GD5446 identification
    default: return cr_index_ > 0x3F ? 0xFF : cr_[cr_index_];
  }
}

void CirrusVga::write_gr(uint8_t index, uint8_t v, bool from_mmio) {
  index &= 0x3F;
  switch (index) {
    case 0x02: gr_[index] = v & 0x0F; break;
    case 0x03: gr_[index] = v & 0x1F; break;
    case 0x04: gr_[index] = v & 0x03; break;
    case 0x05: gr_[index] = v & 0x7F; break;
    case 0x06: gr_[index] = v & 0x0F; break;
    case 0x07: gr_[index] = v & 0x0F; break;
    case 0x09:
    case 0x0A:
    case 0x0B:
      gr_[index] = v;
      update_banks();
      break;
    case 0x21:
    case 0x25:
    case 0x27: gr_[index] = v & 0x1F; break;
    case 0x23: gr_[index] = v & 0x07; break;
    case 0x2E: gr_[index] = v & 0x3F; break;
    case 0x2A:
      gr_[index] = v & 0x3F;
      if (from_mmio && (gr_[0x31] & kAutoStart)) start_blit();
      break;
    case 0x31: write_blt_control(v); break;
    default: gr_[index] = v; break;  // GR0/GR1 keep all 8 bits: blitter colours
  }
}

void CirrusVga::write_blt_control(uint8_t v) {
  uint8_t old = gr_[0x31];
  gr_[0x31] = v;
  if ((old & kReset) && !(v & kReset)) {
    blitter_.reset();
    blit_finished();
  } else if (!(old & kStart) && (v & kStart)) {
    start_blit();
  }
}

void CirrusVga::start_blit() {
  if (blitter_.active()) blitter_.reset();  // a new start abandons an unfinished transfer
  if (blitter_.start(gr_) == CirrusBlitter::Outcome::AwaitingCpuData) {
    gr_[0x31] |= kBusy | kFifoUsed;
    apply_mappings();  // hide the LFB slot so CPU data traps
  } else {
    blit_finished();
  }
}

void CirrusVga::blit_finished() {
  gr_[0x31] &= static_cast<uint8_t>(~(kStart | kBusy | kFifoUsed));
  apply_mappings();
}

void CirrusVga::update_banks() {
  for (int bank = 0; bank < 2; ++bank) {
    uint32_t offset = (gr_[0x0B] & 0x01) ? gr_[0x09 + bank] : gr_[0x09];
    offset <<= (gr_[0x0B] & 0x20) ? 14 : 12;  // 16 KiB or 4 KiB granularity
    uint32_t limit = offset >= kVramSize ? 0 : static_cast<uint32_t>(kVramSize - offset);
    if (!(gr_[0x0B] & 0x01) && bank == 1) {  // single bank: the second half follows the first
      if (limit > 0x8000) {
        offset += 0x8000;
        limit -= 0x8000;
      } else {
        limit = 0;
      }
    }
    bank_base_[bank] = limit ? offset : 0;
    bank_limit_[bank] = limit;
  }
}

DisplayState CirrusVga::display_state() const {
  DisplayState s;
  s.seq = sr_;
  s.gc = gr_;
  s.attr = ar_;
  s.attr_index = ar_index_;
  s.crtc = cr_;
  s.misc = misc_;
  s.palette = palette_;
  s.pixel_mask = pixel_mask_;
  s.hidden_dac = hidden_dac_;
  s.cursor_palette = cursor_palette_;
  s.cursor_x = cursor_x_;
  s.cursor_y = cursor_y_;
  return s;
}

namespace {
constexpr uint32_t kStateMagic = 0x56435252;  // "RRCV"
constexpr uint32_t kStateVersion = 1;
}  // namespace

std::vector<uint8_t> CirrusVga::save_state() const {
  ByteWriter w;
  w.u32(kStateMagic);
  w.u32(kStateVersion);
  w.bytes(config_space());
  w.bytes(sr_);
  w.bytes(gr_);
  w.bytes(ar_);
  w.bytes(cr_);
  for (uint8_t b : {sr_index_, gr_index_, ar_index_, cr_index_, uint8_t(ar_flip_flop_), misc_, feature_}) w.u8(b);
  w.bytes(palette_);
  w.bytes(cursor_palette_);
  for (uint8_t b : {dac_write_index_, dac_read_index_, dac_sub_, dac_state_}) w.u8(b);
  w.bytes(dac_cache_);
  for (uint8_t b : {pixel_mask_, hidden_dac_, hidden_dac_reads_}) w.u8(b);
  w.u16(cursor_x_);
  w.u16(cursor_y_);
  w.u32(latch_);
  blitter_.save(w);
  return w.take();
}

void CirrusVga::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "cirrus-vga state");
  if (r.u32() != kStateMagic) r.fail("bad magic (not a cirrus-vga state)");
  if (uint32_t v = r.u32(); v != kStateVersion) r.fail("unsupported version " + std::to_string(v));
  std::array<uint8_t, 256> config{};
  r.bytes(config);
  r.bytes(sr_);
  r.bytes(gr_);
  r.bytes(ar_);
  r.bytes(cr_);
  sr_index_ = r.u8();
  gr_index_ = r.u8() & 0x3F;
  ar_index_ = r.u8() & 0x3F;
  cr_index_ = r.u8();
  ar_flip_flop_ = r.u8() != 0;
  misc_ = r.u8();
  feature_ = r.u8();
  r.bytes(palette_);
  r.bytes(cursor_palette_);
  dac_write_index_ = r.u8();
  dac_read_index_ = r.u8();
  dac_sub_ = r.u8() % 3;
  dac_state_ = r.u8();
  r.bytes(dac_cache_);
  pixel_mask_ = r.u8();
  hidden_dac_ = r.u8();
  hidden_dac_reads_ = r.u8();
  cursor_x_ = r.u16();
  cursor_y_ = r.u16();
  latch_ = r.u32();
  blitter_.load(r);
  if (r.remaining() != 0) r.fail(std::to_string(r.remaining()) + " trailing bytes");
  update_banks();
  restore_config_space(config);  // re-announces the BAR windows
  apply_mappings();
}

}  // namespace rrvm
