// PCI bus 0 with configuration mechanism #1 (ports 0xCF8 address, 0xCFC-0xCFF
// data) and the PciDevice base every PCI function derives from: a 256-byte
// configuration space, BARs and an expansion ROM BAR sized by all-ones
// writes, and a notification when a BAR's decoded window appears, moves or
// disappears.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "vmm/device_state.h"
#include "vmm/io_bus.h"

namespace rrvm {

class I440fxHostBridge;

enum class PciBarKind : uint8_t { None, Io, Memory32, Memory32Prefetch };

class PciDevice {
 public:
  static constexpr int kBars = 6;
  // bar_window_changed's number for the expansion ROM BAR (config 0x30).
  static constexpr int kRomBar = 6;
  virtual ~PciDevice() = default;
  virtual const char* pci_name() const = 0;

  // Config-space access; offsets outside 0-255 or crossing its end read as
  // all ones / are dropped. size is 1, 2 or 4.
  uint32_t config_read(unsigned offset, unsigned size) const;
  void config_write(unsigned offset, unsigned size, uint32_t value);

  // The window a BAR decodes now (its I/O or memory decoding enabled and an
  // address programmed that fits), else nullopt.
  // kRomBar: the expansion ROM, decoded when memory decoding and the ROM
  // BAR's enable bit are on.
  std::optional<uint64_t> bar_window(int bar) const;
  uint32_t bar_size(int bar) const { return bar == kRomBar ? rom_.size : bars_[bar].size; }
  bool memory_enabled() const { return config_[0x04] & 0x02; }
  bool io_enabled() const { return config_[0x04] & 0x01; }

  // Subsystem vendor and ID (QEMU gives every device 1af4:1100, which
  // SeaBIOS takes as "running on QEMU").
  void set_subsystem(uint16_t vendor, uint16_t id);

  // The raw 256 bytes, for device state save/load.
  const std::array<uint8_t, 256>& config_space() const { return config_; }
  // Restores config space and re-announces every BAR window.
  void restore_config_space(std::span<const uint8_t, 256> bytes);

 protected:
  PciDevice(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision);
  // size: a power of two (>= 16 for memory, >= 4 for I/O).
  void declare_bar(int bar, PciBarKind kind, uint32_t size);
  // An expansion ROM of `size` bytes (a power of two, >= 2 KiB).
  void declare_rom(uint32_t size);
  void set_config8(unsigned offset, uint8_t v) { config_[offset & 0xFF] = v; }
  // Header type bit 7: the device has more functions than 0.
  void set_multi_function() { config_[0x0E] |= 0x80; }
  // A write of `value` to device-specific config byte `offset` (0x40-0xFF);
  // the default keeps them read-only. Called once per byte.
  virtual void device_config_write(unsigned /*offset*/, uint8_t /*value*/) {}
  // A BAR's decoded window changed (nullopt: no longer decoded).
  virtual void bar_window_changed(int bar, std::optional<uint64_t> window) = 0;

 private:
  struct Bar {
    PciBarKind kind = PciBarKind::None;
    uint32_t size = 0;
    std::optional<uint64_t> window;  // last announced
  };
  void write_byte(unsigned offset, uint8_t v);
  void update_windows();
  uint32_t bar_register(int bar) const;

  std::array<uint8_t, 256> config_{};
  std::array<Bar, kBars> bars_{};
  Bar rom_;

 protected:
  // Device-specific bytes for device_config_write overrides.
  uint8_t config8(unsigned offset) const { return config_[offset & 0xFF]; }
  void store_config8(unsigned offset, uint8_t v) { config_[offset & 0xFF] = v; }
};

// Ports 0xCF8-0xCFF. Devices live on bus 0; a slot's functions 1-7 are seen
// only when function 0 says it is multi-function (as SeaBIOS and Linux scan).
class PciHost final : public IoDevice, public DeviceState {
 public:
  static constexpr uint16_t kBasePort = 0xCF8;
  PciHost();
  ~PciHost() override;
  // Claims 0xCF8-0xCFF on `ports`.
  void attach(IoBus& ports);
  // Throws std::invalid_argument if the slot/function is taken or out of range.
  void add_device(unsigned slot, PciDevice* device, unsigned function = 0);
  PciDevice* device(unsigned slot, unsigned function = 0) const {
    return slot < 32 && function < 8 ? slots_[slot][function] : nullptr;
  }
  // 00:00.0, the i440FX host bridge.
  I440fxHostBridge& host_bridge() { return *bridge_; }
  // Byte accesses to 0xCF9 go here instead of the address register (the
  // PIIX3 reset control register; QEMU takes only 32-bit accesses at 0xCF8).
  void set_port_cf9(IoDevice* device) { cf9_ = device; }

  const char* device_name() const override { return "pci-host"; }
  uint64_t io_read(uint64_t offset, unsigned size) override;
  void io_write(uint64_t offset, unsigned size, uint64_t value) override;

  uint32_t address_register() const { return address_; }
  void set_address_register(uint32_t v) { address_ = v & 0x80FFFFFC; }

  // The address register and the host bridge's config space (the devices in
  // the slots keep their own).
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  PciDevice* selected(unsigned* config_offset) const;
  uint32_t address_ = 0;
  std::array<std::array<PciDevice*, 8>, 32> slots_{};
  std::unique_ptr<I440fxHostBridge> bridge_;
  IoDevice* cf9_ = nullptr;
};

}  // namespace rrvm
