#include "tests/trace/trace_samples.h"

#include <unistd.h>

#include <filesystem>

#include "vmm/guest_memory.h"

namespace rrvm::trace_samples {

Registers registers(uint64_t seed) {
  Registers r;
  uint64_t* gprs[] = {&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rsp, &r.rbp,
                      &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
  for (size_t i = 0; i < 16; ++i) *gprs[i] = seed * 0x1000 + i;
  r.rip = 0x7C00 + seed;
  r.rflags = 0x202;
  r.cs = Segment{0x08, 0, 0xFFFFFFFF, 0xB, 1, 0, 1, 1, 0, 1, 0};
  r.ss = Segment{0x10, 0x1000, 0xFFFF, 0x3, 1, 3, 0, 1, 0, 0, 1};
  r.tr = Segment{0x18, 0x2000, 0x67, 0xB, 1, 0, 0, 0, 0, 0, 0};
  r.gdt = DescriptorTable{0x500, 0x17};
  r.idt = DescriptorTable{0x600, 0x7FF};
  r.cr0 = 0x11;
  r.cr2 = 0xDEAD0000 + seed;
  r.cr3 = 0x9000;
  r.cr4 = 0x20;
  r.efer = 0x500;
  return r;
}

TraceHeader header() {
  TraceHeader h;
  h.rrvm_version = "0.1.0";
  h.backend = "emu";
  h.machine.memory_size = 16 << 20;
  h.machine.rtc_base_seconds = -86400;  // signed on purpose: before 1970
  h.machine.serial_input = true;
  h.machine.max_instructions = 1000000;
  h.machine.load_address = 0x7C00;
  h.machine.patch_tsc = true;  // format version 7
  h.machine.options = {{"clock", "instructions"}};
  h.memory_map = {{"ram", 0, 16 << 20, false, true}, {"vram", 0xE0000000, 4 << 20, true, false}};
  h.devices = {{"serial0", "port=0x3f8 irq=4"}, {"pit", ""}, {"cirrus", "vram=4MiB"}};
  h.cpuid = {{0, 0, 1, 0x6D767272, 0x6D767272, 0x4D565252}, {1, 0, 0x633, 0, 0, 0x0789A9BF}, {7, 1, 0, 0, 0, 0}};
  TraceImage image;
  image.path = "guests/hello.bin";
  image.sha256 = sha256("hello", 5);
  image.size = 512;
  h.images = {image, TraceImage{"kernel.elf", sha256("k", 1), 123456, true}};
  h.initial_registers = registers(1);
  h.command_line = {"rrvm", "record", "--backend=emu", "guests/hello.bin"};
  return h;
}

TraceEvent port_out(uint16_t port, uint64_t value, uint8_t size) {
  return TraceEvent{ExitEvent{TraceExitKind::PortIo, true, size, port, value}};
}
TraceEvent port_in(uint16_t port, uint64_t value, uint8_t size) {
  return TraceEvent{ExitEvent{TraceExitKind::PortIo, false, size, port, value}};
}

TraceEvent display_frame(uint64_t ns, std::vector<uint32_t> pages, uint8_t fill) {
  DisplayFrameEvent d;
  d.guest_ns = ns;
  d.display_registers = {0x3C, 0x4, fill, 0, 0xFF};
  for (uint32_t index : pages) {
    VramPage p{index, std::vector<uint8_t>(kPageSize, fill)};
    p.bytes[index % kPageSize] = static_cast<uint8_t>(index);
    d.pages.push_back(std::move(p));
  }
  return TraceEvent{d};
}

std::vector<TraceEvent> every_kind_events() {
  std::vector<TraceEvent> e;
  e.push_back(port_out(0x3FB, 0x80));
  e.push_back(port_out(0x3F8, 0x01));
  e.push_back(port_out(0x3FB, 0x03));
  e.push_back(port_in(0x3FD, 0x60));
  e.push_back(port_out(0x3F8, 'h'));
  e.push_back(port_out(0x3F8, 'i', 2));
  e.push_back(port_in(0x40, 0xFFFF, 2));
  e.push_back(port_in(0xCFC, 0x00B81013, 4));
  e.push_back(TraceEvent{ExitEvent{TraceExitKind::Mmio, true, 8, 0xE0000000, ~uint64_t{0}}});
  e.push_back(TraceEvent{ExitEvent{TraceExitKind::Mmio, false, 8, 0xFFFFFFFFFFFFF000, 0}});
  e.push_back(TraceEvent{ExitEvent{TraceExitKind::Mmio, false, 1, 0, 0x80}});
  e.push_back(TraceEvent{ExitEvent{TraceExitKind::Halt, false, 0, 0, 0}});
  e.push_back(TraceEvent{ExitEvent{TraceExitKind::IrqWindow, false, 0, 0, 0}});
  e.push_back(TraceEvent{InterruptEvent{0x20, 13, 1000, std::nullopt}});
  KickState kicked = KickState::at(registers(7));
  kicked.dirty_pages_digest = digest_prefix(sha256("dirty", 5));
  e.push_back(TraceEvent{InterruptEvent{0x21, 13, std::nullopt, kicked}});
  e.push_back(TraceEvent{InterruptEvent{0x08, 20, 500, std::nullopt}});  // icount may be anything
  e.push_back(TraceEvent{ClockSampleEvent{1'000'000}});
  e.push_back(TraceEvent{ClockSampleEvent{999'999}});
  e.push_back(TraceEvent{ClockSampleEvent{~uint64_t{0}}});
  e.push_back(TraceEvent{SerialInputEvent{'q'}});
  e.push_back(TraceEvent{SerialInputEvent{0xFF}});
  e.push_back(TraceEvent{CpuChecksumEvent{21, 2000, register_state_hash(registers(3))}});
  e.push_back(TraceEvent{CpuChecksumEvent{22, std::nullopt, 42}});
  e.push_back(display_frame(5'000'000, {0, 1, 1023}, 0x11));
  e.push_back(display_frame(6'000'000, {1}, 0x11));  // same content: delta of zeros
  e.push_back(display_frame(7'000'000, {}, 0));
  e.push_back(display_frame(8'000'000, {1, 2}, 0x22));
  return e;
}

std::vector<TraceEvent> async_point_events() {
  std::vector<TraceEvent> e;
  // Service points, and asynchronous points in every form the format
  // version 5 columns store: full registers, a repeat (an interrupt at the
  // service point's place), pc and hash only, a digest.
  e.push_back(TraceEvent{ServicePointEvent{9'000'000, 22, std::nullopt, std::nullopt}});
  KickState full = KickState::at(registers(12));
  e.push_back(TraceEvent{ServicePointEvent{9'500'000, 23, 4000, full}});
  e.push_back(TraceEvent{InterruptEvent{0x20, 23, 4000, full}});
  KickState hashed = KickState::at(registers(13), false);
  hashed.dirty_pages_digest = 0x0123456789ABCDEFull;
  e.push_back(TraceEvent{ServicePointEvent{9'400'000, 24, std::nullopt, hashed}});  // ns may go back between batches only in tests
  hashed.dirty_pages_digest = 0;
  e.push_back(TraceEvent{InterruptEvent{0x20, 24, std::nullopt, hashed}});
  KickState lower = KickState::at(registers(2), false);  // pc below the previous one
  e.push_back(TraceEvent{ServicePointEvent{9'600'000, 24, 3990, lower}});
  // Format version 6: a point on a rep string instruction keeps rCX (and
  // its repeat does too).
  KickState rep = KickState::at(registers(14), false);
  rep.rep_rcx = registers(14).rcx;
  e.push_back(TraceEvent{ServicePointEvent{9'700'000, 25, 4100, rep}});
  e.push_back(TraceEvent{InterruptEvent{0x20, 25, 4100, rep}});
  // Format version 7: TSC reads, each after its out's exit; deltas of every
  // size, and one going back (the codec keeps it; the replayer judges).
  for (uint64_t v : {9'700'100ull, 9'700'150ull, 9'700'150ull, 0x1'0000'0000ull + 5, 9'700'000ull}) {
    e.push_back(TraceEvent{ExitEvent{TraceExitKind::PortIo, true, 1, 0xE2, v & 0xFF}});
    e.push_back(TraceEvent{TscReadEvent{v}});
  }
  return e;
}

Keyframe keyframe() {
  Keyframe k;
  k.exit_ordinal = 13;
  k.icount = 1234;
  k.registers = registers(9);
  KeyframeSlot ram{"ram", 0, std::vector<uint8_t>(8 * kPageSize, 0), 0, {}};
  for (size_t i = 0; i < 100; ++i) ram.bytes[kPageSize * 2 + i * 7] = static_cast<uint8_t>(i + 1);
  ram.bytes.back() = 0xAA;
  k.memory = {ram, KeyframeSlot{"vram", 0xE0000000, std::vector<uint8_t>(2 * kPageSize, 0x5A), 0, {}}};
  k.devices = {{"serial0", {1, 2, 3}}, {"pit", {}}};
  return k;
}

TraceEnd end() {
  TraceEnd e;
  e.reason = StopReason::DebugExit;
  e.exit_status = 3;
  e.message = "guest wrote 1 to the debug-exit port";
  e.final_registers = registers(11);
  e.ram_sha256 = sha256("ram", 3);
  e.instruction_count = 99999;
  e.exit_count = 77;
  return e;
}

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("rrvm_trace_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

}  // namespace rrvm::trace_samples
