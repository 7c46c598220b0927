// The PC's legacy devices on one board: PIC pair, PIT (+ port 0x61), CMOS/RTC,
// COM1 and the debug ports, registered on a Machine's port bus and wired to
// its interrupt controller, timers and exit request. The board must outlive
// every Machine::run() that uses it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vmm/byte_source.h"
#include "devices/cmos_rtc.h"
#include "devices/debug_port.h"
#include "vmm/device_state.h"
#include "devices/pic_8259.h"
#include "devices/pit_8254.h"
#include "devices/serial_16550.h"
#include "vmm/guest_memory.h"
#include "vmm/machine.h"

namespace rrvm {

// Port ranges of the board's consoles, shared with what rebuilds their
// output from a trace (system/console_rebuild).
struct PortRange {
  uint16_t base;
  uint16_t length;
};
inline constexpr PortRange kCom1Ports{0x3F8, 8};
inline constexpr PortRange kDebugConsolePorts{0xE9, 1};
inline constexpr uint8_t kCom1Irq = 4;

// RAM slots of a PC with `mem_bytes` of memory (page aligned, > 0):
// "ram-low" [0, 0xA0000), "ram-bios" [0xC0000, 0x100000) and "ram"
// [0x100000, mem) when mem > 1 MiB; 0xA0000-0xBFFFF stays a hole for VGA.
// With `shadow_ram`, 0xC0000-0xFFFFF is left to the shadow RAM the
// firmware board adds (devices/pci/shadow_ram.h). Throws
// std::invalid_argument on a bad size.
void add_pc_memory(GuestMemory& memory, uint64_t mem_bytes, bool shadow_ram = false);

struct PcBoardConfig {
  std::function<void(uint8_t)> serial_output;
  std::function<void(uint8_t)> debug_console;
  ByteSource* serial_input = nullptr;  // not owned; may be null
  int64_t rtc_base_seconds = kDefaultRtcBase;
};

struct BoardDevice {
  std::string name;
  DeviceState* state;
};

class PcBoard {
 public:
  PcBoard(Machine& machine, PcBoardConfig config);
  ~PcBoard();
  PcBoard(const PcBoard&) = delete;
  PcBoard& operator=(const PcBoard&) = delete;

  Pic8259Pair& pic() { return pic_; }
  Pit8254& pit() { return pit_; }
  CmosRtc& rtc() { return rtc_; }
  Serial16550& com1() { return com1_; }
  DebugConsole& debug_console() { return debugcon_; }
  DebugExit& debug_exit() { return debug_exit_; }

  // Every device with state, by a stable name (keyframes).
  std::vector<BoardDevice> devices();

  struct PortClaim {
    uint16_t base, length;
    IoDevice* device;
  };
  const std::vector<PortClaim>& port_claims() const { return claims_; }

 private:
  void claim(uint16_t base, uint16_t length, IoDevice* device);

  Machine& machine_;
  PcBoardConfig config_;
  Pic8259Pair pic_;
  Pit8254 pit_;
  CmosRtc rtc_;
  Serial16550 com1_;
  DebugConsole debugcon_;
  DebugExit debug_exit_;
  std::vector<PortClaim> claims_;
};

}  // namespace rrvm
