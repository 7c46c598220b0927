// Cirrus Logic CL-GD5446 on PCI (1013:00B8): the VGA core (sequencer,
// graphics and attribute controllers, CRTC, DAC), the Cirrus extensions
// (banking, extended pixel formats, hidden DAC, hardware cursor) and the
// BitBLT engine.
//
// Two paths into VRAM, as on a real Linux guest: BAR0 (4 MiB linear
// framebuffer) is a GuestMemory slot "vram" with dirty logging, so guest
// writes there cost no exit; the legacy window 0xA0000-0xBFFFF, the BAR1 blit
// registers and the ports trap. While a system-to-screen blit waits for CPU
// data the slot is hidden so LFB writes trap and feed the blitter.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "devices/cirrus/cirrus_blitter.h"
#include "devices/pci/pci_host.h"
#include "vmm/device_state.h"
#include "display/display_state.h"
#include "vmm/clock.h"
#include "vmm/guest_memory.h"
#include "vmm/io_bus.h"

namespace rrvm {

class CirrusVga final : public PciDevice, public DeviceState {
 public:
  static constexpr uint64_t kVramSize = 4ull << 20;
  static constexpr uint64_t kMmioSize = 4096;
  static constexpr uint16_t kPortBase = 0x3B0;
  static constexpr uint16_t kPortCount = 0x30;
  static constexpr uint64_t kLegacyBase = 0xA0000;
  static constexpr uint64_t kLegacySize = 0x20000;
  // Where the (unmapped) VRAM slot waits until the guest programs BAR0.
  static constexpr uint64_t kDefaultParkingBase = 0xFC000000;

  // Creates the "vram" slot in `memory`. `memory_map_changed` runs after every
  // slot move/hide/show (the board wires it to Vcpu::sync_memory_map).
  CirrusVga(GuestMemory& memory, Clock& clock, std::function<void()> memory_map_changed,
            uint64_t parking_base = kDefaultParkingBase);
  ~CirrusVga() override;
  CirrusVga(const CirrusVga&) = delete;
  CirrusVga& operator=(const CirrusVga&) = delete;

  // Claims ports 0x3B0-0x3DF and the legacy window; BAR windows are claimed on
  // `mmio` as the guest maps them.
  void attach(IoBus& ports, IoBus& mmio);

  // The VGA BIOS as the device's PCI expansion ROM (config 0x30): a
  // read-only slot "cirrus-rom" shown wherever the guest maps the ROM BAR
  // while it is enabled. Call before attach. Throws std::invalid_argument for
  // an empty ROM or one over 16 MiB.
  void set_option_rom(std::span<const uint8_t> rom);

  // The bus-facing pieces (offsets relative to where each is claimed).
  IoDevice& ports() { return *ports_dev_; }
  IoDevice& legacy_window() { return *legacy_dev_; }
  IoDevice& lfb_trap() { return *lfb_dev_; }          // BAR0 while the slot is hidden
  IoDevice& mmio_registers() { return *mmio_dev_; }   // BAR1

  const char* pci_name() const override { return "cirrus-vga"; }

  DisplayState display_state() const;
  std::span<const uint8_t> vram() const { return {vram_, kVramSize}; }
  std::span<uint8_t> vram() { return {vram_, kVramSize}; }
  uint32_t vram_slot() const { return vram_slot_; }
  bool blit_waiting_for_cpu() const { return blitter_.active(); }
  const CirrusBlitter& blitter() const { return blitter_; }

  // Registers, DAC, latches, PCI config and blitter progress. VRAM itself is
  // the "vram" guest-memory slot and is saved with guest memory.
  std::vector<uint8_t> save_state() const override;
  // Throws std::runtime_error (one line) on malformed input; re-applies the BAR mappings.
  void load_state(std::span<const uint8_t> bytes) override;

  // Register-level entry points (also used by the IoDevice adapters).
  uint8_t port_read(uint16_t port);
  void port_write(uint16_t port, uint8_t value);
  uint8_t window_read(uint32_t offset);   // offset from 0xA0000
  void window_write(uint32_t offset, uint8_t value);
  uint8_t mmio_read(uint32_t offset);     // BAR1 offset
  void mmio_write(uint32_t offset, uint8_t value);
  uint8_t lfb_read(uint32_t offset);
  void lfb_write(uint32_t offset, uint8_t value);

 protected:
  void bar_window_changed(int bar, std::optional<uint64_t> window) override;

 private:
  class Adapter;
  void reset_registers();
  bool mono_ports() const { return !(misc_ & 0x01); }
  uint8_t input_status1();
  void write_seq(uint8_t value);
  uint8_t read_seq() const;
  void write_gr(uint8_t index, uint8_t value, bool from_mmio);
  void write_crtc(uint8_t value);
  uint8_t read_crtc() const;
  void write_blt_control(uint8_t value);
  void start_blit();
  void blit_finished();
  uint8_t blt_reg_read(uint32_t offset) const;
  void blt_reg_write(uint32_t offset, uint8_t value);
  void update_banks();
  // VGA planar/chain-4/odd-even access (standard modes).
  uint8_t vga_read(uint32_t offset);
  void vga_write(uint32_t offset, uint8_t value);
  void banked_write(uint32_t offset, uint8_t value);
  void mark_dirty(size_t offset, size_t length);
  // Puts the VRAM slot and the BAR claims where config space and the blitter say.
  void apply_mappings();

  GuestMemory& memory_;
  Clock& clock_;
  std::function<void()> map_changed_;
  uint32_t vram_slot_ = 0;
  std::optional<uint32_t> rom_slot_;
  uint8_t* vram_ = nullptr;
  IoBus* mmio_bus_ = nullptr;
  std::optional<uint64_t> lfb_claim_, mmio_claim_;

  std::unique_ptr<IoDevice> ports_dev_, legacy_dev_, lfb_dev_, mmio_dev_;

  // Register files (see DisplayState for the meaning).
  std::array<uint8_t, 32> sr_{};
  std::array<uint8_t, 64> gr_{};
  std::array<uint8_t, 32> ar_{};
  std::array<uint8_t, 64> cr_{};
  uint8_t sr_index_ = 0, gr_index_ = 0, ar_index_ = 0, cr_index_ = 0;
  bool ar_flip_flop_ = false;  // false: next 0x3C0 write is an index
  uint8_t misc_ = 0, feature_ = 0;
  std::array<uint8_t, 768> palette_{};
  std::array<uint8_t, 48> cursor_palette_{};
  uint8_t dac_write_index_ = 0, dac_read_index_ = 0, dac_sub_ = 0, dac_state_ = 0;
  std::array<uint8_t, 3> dac_cache_{};
  uint8_t pixel_mask_ = 0xFF, hidden_dac_ = 0, hidden_dac_reads_ = 0;
  uint16_t cursor_x_ = 0, cursor_y_ = 0;
  uint32_t latch_ = 0;
  std::array<uint32_t, 2> bank_base_{}, bank_limit_{};

  CirrusBlitter blitter_;
};

}  // namespace rrvm
