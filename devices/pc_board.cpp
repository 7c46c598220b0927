#include "devices/pc_board.h"

#include <algorithm>
#include <stdexcept>

namespace rrvm {

namespace {
constexpr uint64_t kVgaHoleStart = 0xA0000, kBiosStart = 0xC0000, kOneMiB = 0x100000;
}

void add_pc_memory(GuestMemory& memory, uint64_t mem_bytes, bool shadow_ram) {
  if (mem_bytes == 0 || mem_bytes % kPageSize != 0)
    throw std::invalid_argument("guest memory size " + std::to_string(mem_bytes) +
                                " bytes is not a positive multiple of 4 KiB; pass e.g. 64M");
  memory.add_slot(0, std::min(mem_bytes, kVgaHoleStart), "ram-low");
  if (mem_bytes > kVgaHoleStart && !shadow_ram) memory.add_slot(kBiosStart, kOneMiB - kBiosStart, "ram-bios");
  if (mem_bytes > kOneMiB) memory.add_slot(kOneMiB, mem_bytes - kOneMiB, "ram");
}

PcBoard::PcBoard(Machine& machine, PcBoardConfig config)
    : machine_(machine),
      config_(std::move(config)),
      pit_(machine.clock(), pic_, 0),
      rtc_(machine.clock(), pic_, config_.rtc_base_seconds, 8),
      com1_(machine.clock(), pic_, kCom1Irq, config_.serial_output, config_.serial_input),
      debugcon_(config_.debug_console),
      debug_exit_([&machine](int status) { machine.request_exit(status); }) {
  claim(0x20, 2, &pic_.master());
  claim(0xA0, 2, &pic_.slave());
  claim(0x4D0, 2, &pic_.elcr());
  claim(0x40, 4, &pit_);
  claim(0x61, 1, &pit_.port61());
  claim(0x70, 2, &rtc_);
  claim(kCom1Ports.base, kCom1Ports.length, &com1_);
  claim(kDebugConsolePorts.base, kDebugConsolePorts.length, &debugcon_);
  claim(0xF4, 4, &debug_exit_);
  machine.set_interrupt_controller(&pic_);
  machine.add_timed_device(&pit_);
  machine.add_timed_device(&rtc_);
  machine.add_timed_device(&com1_);

  // CMOS memory size bytes as a BIOS expects them.
  // RAM end: the slot that starts at 1 MiB, else the low RAM alone.
  const MemorySlot* high = machine.memory().find_slot(kOneMiB);
  uint64_t total = high ? high->guest_base + high->size : kOneMiB;
  uint64_t ext_kib = std::min<uint64_t>(total > kOneMiB ? (total - kOneMiB) / 1024 : 0, 0xFFFF);
  uint64_t above_16m = std::min<uint64_t>(
      total > 16 * kOneMiB ? (total - 16 * kOneMiB) / 65536 : 0, 0xFFFF);
  rtc_.set_byte(0x15, 640 & 0xFF);
  rtc_.set_byte(0x16, 640 >> 8);
  for (uint8_t reg : {uint8_t(0x17), uint8_t(0x30)}) {
    rtc_.set_byte(reg, uint8_t(ext_kib));
    rtc_.set_byte(uint8_t(reg + 1), uint8_t(ext_kib >> 8));
  }
  rtc_.set_byte(0x34, uint8_t(above_16m));
  rtc_.set_byte(0x35, uint8_t(above_16m >> 8));
}

PcBoard::~PcBoard() {
  for (const auto& c : claims_) machine_.ports().remove(c.base);
  machine_.set_interrupt_controller(nullptr);
}

void PcBoard::claim(uint16_t base, uint16_t length, IoDevice* device) {
  machine_.ports().add(base, length, device);
  claims_.push_back({base, length, device});
}

std::vector<BoardDevice> PcBoard::devices() {
  return {{"pic", &pic_},           {"pit", &pit_},           {"cmos-rtc", &rtc_},
          {"com1", &com1_},         {"debugcon", &debugcon_}, {"debug-exit", &debug_exit_}};
}

}  // namespace rrvm
