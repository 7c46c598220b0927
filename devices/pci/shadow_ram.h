// The PC's shadow memory at 0xC0000-0xFFFFF, as the i440FX's PAM registers
// steer it: 13 regions (0xC0000-0xEFFFF in 16 KiB pieces, then 0xF0000-
// 0xFFFFF), each with RAM behind it and, from 0xE0000 up, the BIOS ROM's
// last 128 KiB in front of it. Per region, reads come from RAM or the ROM
// (nothing below 0xE0000: open bus) and writes reach RAM or are dropped.
//
// Both come from guest-memory slots, so the guest runs from shadow RAM and
// ROM at full speed on both backends: RAM that reads and writes is a plain
// slot; read-only RAM and the ROM are read-only slots (their writes exit as
// MMIO writes); a region that reads the ROM but writes RAM (PAM mode 2)
// shows the ROM and this device, claimed on the MMIO bus over the whole
// range, puts the writes into the RAM behind it.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "vmm/device_state.h"
#include "vmm/guest_memory.h"
#include "vmm/io_bus.h"

namespace rrvm {

class ShadowRam final : public IoDevice, public DeviceState {
 public:
  static constexpr uint64_t kBase = 0xC0000, kSize = 0x40000;
  static constexpr int kRegions = 13;
  // Region modes, as a PAM nibble's low two bits.
  static constexpr uint8_t kReadRam = 1, kWriteRam = 2;

  // Adds a hidden RAM slot per region ("ram-shadow-c0000", ...) and, for the
  // regions the BIOS slot `bios_slot` reaches (its end sits at 4 GiB; its
  // last 128 KiB show at 0xE0000), a read-only alias onto it, shown: the reset
  // state, every region in mode 0. `map_changed` runs after every change
  // (the system wires it to Vcpu::sync_memory_map).
  ShadowRam(GuestMemory& memory, uint32_t bios_slot, std::function<void()> map_changed);

  static uint64_t region_base(int region) { return region < 12 ? kBase + uint64_t(region) * 0x4000 : 0xF0000; }
  static uint64_t region_size(int region) { return region < 12 ? 0x4000 : 0x10000; }

  void set_mode(int region, uint8_t mode);
  uint8_t mode(int region) const { return modes_[region]; }
  uint32_t ram_slot(int region) const { return regions_[region].ram; }

  // The MMIO bus side: accesses no slot took.
  const char* device_name() const override { return "shadow-ram"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  // The modes; the RAM itself is saved with guest memory.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  struct Region {
    uint32_t ram = 0;
    std::optional<uint32_t> rom;
  };
  void apply(int region);

  GuestMemory& memory_;
  std::function<void()> map_changed_;
  std::array<Region, kRegions> regions_{};
  std::array<uint8_t, kRegions> modes_{};
};

}  // namespace rrvm
