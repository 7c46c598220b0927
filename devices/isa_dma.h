// The PC's two 8237A DMA controllers: channels 0-3 (8-bit, ports 0x00-0x0F)
// and 4-7 (16-bit, ports 0xC0-0xDE, even), with their page registers (0x81-
// 0x83, 0x87, 0x89-0x8B, 0x8F). Only the floppy controller moves data through
// a channel here; it does so the moment its command asks (no bus timing), so
// what lands in guest RAM follows from the programmed registers and the disk
// image alone.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "vmm/device_state.h"
#include "vmm/guest_dma.h"
#include "vmm/io_bus.h"

namespace rrvm {

class IsaDma final : public DeviceState {
 public:
  explicit IsaDma(GuestDma& memory);
  ~IsaDma() override;

  // Registers the controllers and page registers on `ports`.
  void attach(IoBus& ports);

  // Device-to-memory (a "write transfer"): copies `data` to the channel's
  // current address as long as the channel is unmasked, programmed for that
  // direction and has count left. Returns the bytes moved.
  size_t write_memory(unsigned channel, std::span<const uint8_t> data);
  // Memory-to-device (a "read transfer").
  size_t read_memory(unsigned channel, std::span<uint8_t> out);
  // The channel's count ran out (terminal count) in its last transfer.
  bool terminal_count(unsigned channel) const { return channels_[channel & 7].tc; }

  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

  // Register-level entry points: controller 0 or 1, register 0-15; page
  // register by channel.
  uint8_t read_register(unsigned controller, unsigned reg);
  void write_register(unsigned controller, unsigned reg, uint8_t value);
  uint8_t page(unsigned channel) const { return channels_[channel & 7].page; }
  void set_page(unsigned channel, uint8_t value) { channels_[channel & 7].page = value; }

 private:
  struct Channel {
    uint16_t base_address = 0, base_count = 0;
    uint16_t address = 0, count = 0;  // current; count = transfers left - 1
    uint8_t mode = 0, page = 0;
    bool masked = true, tc = false, exhausted = false;
  };
  struct Controller {
    uint8_t command = 0, request = 0, temp = 0;
    bool flip_flop = false;  // false: the next 16-bit register access is the low byte
  };
  enum class Direction { ToMemory, FromMemory };
  size_t transfer(unsigned channel, Direction dir, uint8_t* data, size_t len);
  void master_clear(unsigned controller);

  GuestDma& memory_;
  std::array<Channel, 8> channels_{};
  std::array<Controller, 2> controllers_{};
  std::array<std::unique_ptr<IoDevice>, 3> adapters_;
};

}  // namespace rrvm
