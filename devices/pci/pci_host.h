// PCI bus 0 with configuration mechanism #1 (ports 0xCF8 address, 0xCFC-0xCFF
// data) and the PciDevice base every PCI function derives from: a 256-byte
// configuration space, BARs sized by all-ones writes, and a notification when
// a BAR's decoded window appears, moves or disappears.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vmm/device_state.h"
#include "vmm/io_bus.h"

namespace rrvm {

enum class PciBarKind : uint8_t { None, Io, Memory32, Memory32Prefetch };

class PciDevice {
 public:
  static constexpr int kBars = 6;
  virtual ~PciDevice() = default;
  virtual const char* pci_name() const = 0;

  // Config-space access; offsets outside 0-255 or crossing its end read as
  // all ones / are dropped. size is 1, 2 or 4.
  uint32_t config_read(unsigned offset, unsigned size) const;
  void config_write(unsigned offset, unsigned size, uint32_t value);

  // The window a BAR decodes now (its I/O or memory decoding enabled and an
  // address programmed that fits), else nullopt.
  std::optional<uint64_t> bar_window(int bar) const;
  uint32_t bar_size(int bar) const { return bars_[bar].size; }
  bool memory_enabled() const { return config_[0x04] & 0x02; }
  bool io_enabled() const { return config_[0x04] & 0x01; }

  // The raw 256 bytes, for device state save/load.
  const std::array<uint8_t, 256>& config_space() const { return config_; }
  // Restores config space and re-announces every BAR window.
  void restore_config_space(std::span<const uint8_t, 256> bytes);

 protected:
  PciDevice(uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision);
  // size: a power of two (>= 16 for memory, >= 4 for I/O).
  void declare_bar(int bar, PciBarKind kind, uint32_t size);
  void set_config8(unsigned offset, uint8_t v) { config_[offset & 0xFF] = v; }
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
};

// 00:00.0, an i440FX-style host bridge with no BARs.
class PciHostBridge final : public PciDevice {
 public:
  PciHostBridge() : PciDevice(0x8086, 0x1237, 0x060000, 0x02) {}
  const char* pci_name() const override { return "host-bridge"; }

 protected:
  void bar_window_changed(int, std::optional<uint64_t>) override {}
};

// Ports 0xCF8-0xCFF. Devices live on bus 0, function 0 of their slot.
class PciHost final : public IoDevice, public DeviceState {
 public:
  static constexpr uint16_t kBasePort = 0xCF8;
  PciHost();
  // Claims 0xCF8-0xCFF on `ports`.
  void attach(IoBus& ports);
  // Throws std::invalid_argument if the slot is taken or >= 32.
  void add_device(unsigned slot, PciDevice* device);
  PciDevice* device(unsigned slot) const { return slot < 32 ? slots_[slot] : nullptr; }

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
  std::array<PciDevice*, 32> slots_{};
  PciHostBridge bridge_;
};

}  // namespace rrvm
