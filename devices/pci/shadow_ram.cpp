#include "devices/pci/shadow_ram.h"

#include <fmt/format.h>

#include <stdexcept>

namespace rrvm {

namespace {
constexpr uint64_t k4GiB = 1ull << 32, kOneMiB = 0x100000;
}

ShadowRam::ShadowRam(GuestMemory& memory, uint32_t bios_slot, std::function<void()> map_changed)
    : memory_(memory), map_changed_(std::move(map_changed)) {
  const MemorySlot bios = memory_.slots().at(bios_slot);
  if (bios.guest_base + bios.size != k4GiB)
    throw std::invalid_argument("shadow RAM: the BIOS slot must end at 4 GiB");
  const uint64_t low_alias = std::min<uint64_t>(bios.size, 0x20000);  // shown at 1 MiB minus this
  for (int i = 0; i < kRegions; ++i) {
    const uint64_t base = region_base(i), size = region_size(i);
    regions_[i].ram = memory_.add_slot(base, size, fmt::format("ram-shadow-{:05x}", base), false, false).id;
    if (base >= kOneMiB - low_alias) {
      const uint64_t offset = bios.size - (kOneMiB - base);
      regions_[i].rom = memory_.add_alias_slot(base, size, fmt::format("bios-{:05x}", base), bios_slot, offset, true).id;
    }
  }
}

void ShadowRam::set_mode(int region, uint8_t mode) {
  if (region < 0 || region >= kRegions) return;
  mode &= kReadRam | kWriteRam;
  if (modes_[region] == mode) return;
  modes_[region] = mode;
  apply(region);
  if (map_changed_) map_changed_();
}

// Hide before show: the RAM and the ROM alias share guest addresses.
void ShadowRam::apply(int region) {
  const Region& r = regions_[region];
  const uint8_t m = modes_[region];
  if (m & kReadRam) {
    if (r.rom) memory_.set_slot_mapped(*r.rom, false);
    memory_.set_slot_read_only(r.ram, !(m & kWriteRam));
    memory_.set_slot_mapped(r.ram, true);
  } else {
    memory_.set_slot_mapped(r.ram, false);
    if (r.rom) memory_.set_slot_mapped(*r.rom, true);
  }
}

uint64_t ShadowRam::io_read(uint64_t /*offset*/, unsigned size) {
  return IoBus::size_mask(size);  // a region that reads nothing: open bus
}

void ShadowRam::io_write(uint64_t offset, unsigned size, uint64_t value) {
  for (unsigned i = 0; i < size && i < 8; ++i) {
    const uint64_t gpa = kBase + offset + i;
    if (gpa >= kBase + kSize) return;
    int region = gpa >= 0xF0000 ? 12 : int((gpa - kBase) / 0x4000);
    if (!(modes_[region] & kWriteRam)) continue;  // write-protected: dropped
    const MemorySlot& ram = memory_.slots()[regions_[region].ram];
    ram.host[gpa - ram.guest_base] = static_cast<uint8_t>(value >> (8 * i));
    memory_.mark_dirty(gpa, 1);
  }
}

std::vector<uint8_t> ShadowRam::save_state() const {
  ByteWriter w;
  w.header("SHDW", 1);
  w.bytes(modes_);
  return w.take();
}

void ShadowRam::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "shadow-ram state");
  r.header("SHDW", 1);
  std::array<uint8_t, kRegions> modes{};
  r.bytes(modes);
  r.finish();
  for (int i = 0; i < kRegions; ++i) {
    modes_[i] = modes[i] & (kReadRam | kWriteRam);
    apply(i);
  }
  if (map_changed_) map_changed_();
}

}  // namespace rrvm
