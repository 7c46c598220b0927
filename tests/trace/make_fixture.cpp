// Writes the format fixture traces/v1-timer-serial.rrt: a recording-shaped
// trace of a guest that sets up COM1, prints a greeting, takes 50 timer
// ticks, reads one serial input byte, draws one display frame and exits.
// trace_fixture_test checks this content; the committed file must keep
// reading in every later rrvm. Usage: trace_fixture_gen OUTPUT
#include <cstdio>
#include <string>

#include "trace/trace_writer.h"
#include "vmm/guest_memory.h"

using namespace rrvm;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.rrt\n", argv[0]);
    return 2;
  }
  TraceHeader h;
  h.rrvm_version = "0.1.0";
  h.backend = "emu";
  h.machine.memory_size = 1 << 20;
  h.machine.rtc_base_seconds = 1700000000;
  h.machine.serial_input = true;
  h.machine.options = {{"clock", "instructions"}};
  h.memory_map = {{"ram", 0, 1 << 20, false, true}, {"vram", 0xE0000000, 64 * kPageSize, true, true}};
  h.devices = {{"serial0", "port=0x3f8 irq=4"}, {"pit", "port=0x40 irq=0"}, {"debug-exit", "port=0xf4"}};
  h.cpuid = default_cpuid_table();
  h.images = {{"guests/timer_serial.bin", sha256("fixture image", 13), 512, false}};
  h.initial_registers.cs.selector = 0;
  h.initial_registers.rip = 0x7C00;
  h.command_line = {"rrvm", "record", "--backend=emu", "guests/timer_serial.bin"};

  TraceWriter w(argv[1], h);
  uint64_t exits = 0;
  auto out = [&](uint16_t port, uint8_t value) {
    w.append(TraceEvent{ExitEvent{TraceExitKind::PortIo, true, 1, port, value}});
    ++exits;
  };
  auto in = [&](uint16_t port, uint64_t value, uint8_t size = 1) {
    w.append(TraceEvent{ExitEvent{TraceExitKind::PortIo, false, size, port, value}});
    ++exits;
  };
  // 115200 baud divisor through DLAB, then 8N1.
  out(0x3FB, 0x80);
  out(0x3F8, 0x01);
  out(0x3F9, 0x00);
  out(0x3FB, 0x03);
  for (char c : std::string("Hello, rrvm\n")) {
    in(0x3FD, 0x60);
    out(0x3F8, static_cast<uint8_t>(c));
  }
  for (char c : std::string("dbg\n")) out(0xE9, static_cast<uint8_t>(c));
  out(0x43, 0x34);  // PIT channel 0, rate generator, 1193 = 1 kHz
  out(0x40, 0xA9);
  out(0x40, 0x04);
  uint64_t icount = 200;
  for (uint64_t tick = 1; tick <= 50; ++tick) {
    w.append(TraceEvent{ExitEvent{TraceExitKind::Halt, false, 0, 0, 0}});
    ++exits;
    w.append(TraceEvent{ClockSampleEvent{tick * 1'000'000}});
    icount += 3;
    w.append(TraceEvent{InterruptEvent{0x08, exits, icount, std::nullopt}});
    out(0x20, 0x20);
    in(0x40, 1193 - tick, 1);
    icount += 12;
  }
  w.append(TraceEvent{SerialInputEvent{'k'}});
  in(0x3F8, 'k');
  Registers at_checksum = h.initial_registers;
  at_checksum.rip = 0x7C40;
  w.append(TraceEvent{CpuChecksumEvent{exits, icount, register_state_hash(at_checksum)}});

  Keyframe k;
  k.exit_ordinal = exits;
  k.icount = icount;
  k.registers = at_checksum;
  KeyframeSlot ram{"ram", 0, std::vector<uint8_t>(4 * kPageSize, 0), 0, {}};
  for (size_t i = 0; i < kPageSize; ++i) ram.bytes[kPageSize + i] = static_cast<uint8_t>(i);
  k.memory = {ram};
  k.devices = {{"serial0", {0x03, 0x00}}, {"pit", {0x34, 0xA9, 0x04}}};
  w.add_keyframe(k);

  DisplayFrameEvent frame;
  frame.guest_ns = 50'000'000;
  frame.display_registers = {'m', 'o', 'd', 'e', 0x13};
  frame.pages = {{0, std::vector<uint8_t>(kPageSize, 0x0F)}, {5, std::vector<uint8_t>(kPageSize, 0xF0)}};
  w.append(TraceEvent{frame});
  out(0xF4, 0x01);

  TraceEnd end;
  end.reason = StopReason::DebugExit;
  end.exit_status = 3;
  end.message = "guest exited with status 1";
  end.final_registers = at_checksum;
  end.final_registers.rip = 0x7C50;
  end.ram_sha256 = sha256("ram", 3);
  end.instruction_count = icount + 5;
  end.exit_count = exits;
  w.close(end);
  std::printf("wrote %s: %llu events, %llu exits, %llu bytes\n", argv[1], (unsigned long long)w.events_written(),
              (unsigned long long)w.exits_written(), (unsigned long long)w.bytes_written());
  return 0;
}
