// The kvm backend driven through the Vcpu interface with nasm guest snippets.
// Runs for real only where /dev/kvm works (nested KVM harness); skips
// elsewhere unless RRVM_REQUIRE_KVM=1.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kvm_test_support.h"
#include "vmm/clock.h"
#include "vmm/page_walk.h"
#include "vmm/rep_string.h"
#include "vmm/stepping_vcpu.h"

using namespace rrvm;
using namespace rrvm::kvmtest;

namespace {

constexpr uint64_t kBoot = 0x7C00;
constexpr uint64_t kPmEntry = 0x10000;

class KvmVcpuTest : public KvmTest {};

TEST_F(KvmVcpuTest, PortInOutWithDataAndHlt) {
  create();
  auto labels = guest_trailer(load("port_io", kBoot), 3);  // after_hlt, result, after_in
  cpu_->set_registers(real_mode_at(kBoot));
  EXPECT_EQ(expect_port(0x10, true, 1).data, 0x41u);
  expect_port(0x11, false, 1);
  cpu_->complete_read(0x5A);
  EXPECT_EQ(expect_port(0x12, true, 1).data, 0x5Au) << "the in value must reach the guest";
  EXPECT_EQ(expect_port(0x1234, true, 2).data, 0xBEEFu);
  expect_port(0x1234, false, 4);
  cpu_->complete_read(0xCAFEF00D);
  EXPECT_EQ(expect_port(0x1234, true, 4).data, 0xCAFEF00Du);
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  Registers r = cpu_->get_registers();
  EXPECT_EQ(r.rip, labels[0]) << "rip points past hlt";
  EXPECT_EQ(r.rax & 0xFFFFFFFF, 0xCAFEF00Du);
  EXPECT_EQ(read32(labels[1]), 0xCAFEF00Du);
}

TEST_F(KvmVcpuTest, KickAtPendingInCompletesTheInstructionFirst) {
  create();
  auto labels = guest_trailer(load("port_io", kBoot), 3);
  cpu_->set_registers(real_mode_at(kBoot));
  expect_port(0x10, true, 1);
  expect_port(0x11, false, 1);
  cpu_->complete_read(0x77);
  cpu_->kick();
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Kicked) << describe(e);
  Registers r = cpu_->get_registers();
  EXPECT_EQ(r.rip, labels[2]) << "the in completed, nothing after it ran";
  EXPECT_EQ(r.rax & 0xFF, 0x77u);
  EXPECT_EQ(expect_port(0x12, true, 1).data, 0x77u);
}

TEST_F(KvmVcpuTest, StringIoOneExitPerElement) {
  create();
  auto labels = guest_trailer(load("string_io", kBoot), 2);  // buf, wbuf
  cpu_->set_registers(real_mode_at(kBoot));
  const char* msg = "hello";
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(expect_port(0xE9, true, 1).data, uint64_t(uint8_t(msg[i]))) << "element " << i;
  for (int i = 0; i < 4; ++i) {
    expect_port(0xEA, false, 1);
    cpu_->complete_read(0xA0 + i);
  }
  for (int i = 0; i < 2; ++i) {
    expect_port(0xEB, false, 2);
    cpu_->complete_read(0x1111 * (i + 1));
  }
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  EXPECT_EQ(read32(labels[0]), 0xA3A2A1A0u);
  EXPECT_EQ(read32(labels[1]), 0x22221111u);
  Registers r = cpu_->get_registers();
  EXPECT_EQ(r.rcx & 0xFFFF, 0u);
  EXPECT_EQ(r.rdi & 0xFFFF, labels[1] + 4);
}

// Where KVM enters the guest inside rep ins / rep outs, found with an IRQ
// window asked for at every element (it opens at the first entry): after
// every element of rep outs, after each batch of rep ins
// (kvm_ins_batch_elements), and can_inject_interrupt() says no inside one.
TEST_F(KvmVcpuTest, StringIoBatchesFollowTheRule) {
  create();
  load("string_batch", kBoot);
  cpu_->set_registers(real_mode_at(kBoot));
  struct Window {
    uint16_t port;
    uint64_t cx;
    uint64_t rip;
  };
  std::vector<Window> windows;
  std::vector<uint64_t> ins_batches;  // elements per KVM exit
  uint16_t last_port = 0;
  uint64_t in_batch = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    Exit e = step();
    if (e.kind == ExitKind::Halt) break;
    if (e.kind == ExitKind::IrqWindowOpen) {
      const Registers r = cpu_->get_registers();
      windows.push_back({last_port, r.rcx & 0xFFFF, r.rip});
      cpu_->request_interrupt_window(false);
      continue;
    }
    ASSERT_EQ(e.kind, ExitKind::PortIo) << describe(e);
    last_port = uint16_t(e.address);
    if (!e.is_write) {
      cpu_->complete_read(0x5A);
      if (in_batch == 0) {
        // The first element of a KVM exit: the registers before the batch.
        const Registers r = cpu_->get_registers();
        const uint8_t insw[] = {0xF3, 0x6D}, insb[] = {0xF3, 0x6C};
        auto rep = decode_rep_string(e.size == 2 ? std::span<const uint8_t>(insw) : std::span<const uint8_t>(insb),
                                     CodeBits::k16);
        in_batch = kvm_ins_batch_elements(*rep, r);
        ins_batches.push_back(in_batch);
      }
      --in_batch;
      EXPECT_EQ(cpu_->can_inject_interrupt(), in_batch == 0) << "port " << e.address << " element of a batch";
    } else {
      EXPECT_TRUE(cpu_->can_inject_interrupt()) << "rep outs: after every element";
    }
    cpu_->request_interrupt_window(true);
  }
  // rep outsb: a window after each of its 1100 elements (the last one after
  // the instruction).
  std::vector<Window> outs, insb, insw;
  for (const Window& w : windows) (w.port == 0xE9 ? outs : w.port == 0xEA ? insb : insw).push_back(w);
  ASSERT_EQ(outs.size(), 1100u);
  for (size_t i = 0; i + 1 < outs.size(); ++i) EXPECT_EQ(outs[i].cx, 1100 - 1 - i) << "outs window " << i;
  // rep insb from 0x2F00: 0x100 to the page's end, 1024, the 220 left.
  ASSERT_EQ(insb.size(), 3u);
  EXPECT_EQ(insb[0].cx, 1500u - 0x100);
  EXPECT_EQ(insb[1].cx, 1500u - 0x100 - 1024);
  // rep insw down from 0x4100: 0x100 bytes below rDI in the page are 0x100
  // words (KVM compares bytes with elements), then the 44 left.
  ASSERT_EQ(insw.size(), 2u);
  EXPECT_EQ(insw[0].cx, 300u - 0x100);
  EXPECT_EQ(ins_batches, (std::vector<uint64_t>{0x100, 1024, 220, 0x100, 44}));
  // After the last element KVM enters the guest with RIP still on the
  // instruction and the count at 0 (the CPU then runs it with no iteration).
  for (const auto* each : {&outs, &insb, &insw}) {
    EXPECT_EQ(each->back().cx, 0u);
    EXPECT_EQ(each->back().rip, each->front().rip) << "RIP on the instruction after its last element";
  }
}

TEST_F(KvmVcpuTest, MmioReadsAndWritesOfEverySize) {
  create();
  write_flat_gdt_at_0x500(mem_);
  auto res = guest_trailer(load("mmio", kPmEntry), 4);  // res1, res2, res4, res8
  cpu_->set_registers(flat32_at(kPmEntry));
  struct Want {
    uint64_t address;
    uint8_t size;
    uint64_t data;
  };
  const uint64_t mm = 0xE0000000;
  for (Want w : {Want{mm + 0, 1, 0x11}, Want{mm + 2, 2, 0x2233}, Want{mm + 4, 4, 0x44556677},
                 Want{mm + 8, 8, 0x8877665544332211ull}}) {
    Exit e = step();
    ASSERT_EQ(e.kind, ExitKind::Mmio) << describe(e);
    EXPECT_TRUE(e.is_write);
    EXPECT_EQ(e.address, w.address);
    EXPECT_EQ(e.size, w.size);
    EXPECT_EQ(e.data, w.data);
  }
  const uint64_t reads[4] = {0xA1, 0xB2B1, 0xC4C3C2C1, 0xD8D7D6D5D4D3D2D1ull};
  const uint8_t sizes[4] = {1, 2, 4, 8};
  const uint64_t addrs[4] = {mm + 0x10, mm + 0x12, mm + 0x14, mm + 0x18};
  for (int i = 0; i < 4; ++i) {
    Exit e = step();
    ASSERT_EQ(e.kind, ExitKind::Mmio) << describe(e);
    EXPECT_FALSE(e.is_write);
    EXPECT_EQ(e.address, addrs[i]);
    EXPECT_EQ(e.size, sizes[i]);
    // Upper bytes beyond the access size must not leak into the guest.
    uint64_t junk_above = sizes[i] < 8 ? ~0ull << (8 * sizes[i]) : 0;
    cpu_->complete_read(reads[i] | junk_above);
  }
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  uint8_t b = 0;
  uint16_t w = 0;
  uint64_t q = 0;
  ASSERT_TRUE(mem_.read(res[0], &b, 1));
  ASSERT_TRUE(mem_.read(res[1], &w, 2));
  ASSERT_TRUE(mem_.read(res[3], &q, 8));
  EXPECT_EQ(b, 0xA1);
  EXPECT_EQ(w, 0xB2B1);
  EXPECT_EQ(read32(res[2]), 0xC4C3C2C1u);
  EXPECT_EQ(q, 0xD8D7D6D5D4D3D2D1ull);
}

TEST_F(KvmVcpuTest, RealModeInterruptsWindowAndHalt) {
  create();
  auto labels = guest_trailer(load("interrupts", kBoot), 3);  // after_shadow, after_hlt, count
  cpu_->set_registers(real_mode_at(kBoot));
  expect_port(0x10, true, 1);
  EXPECT_FALSE(cpu_->can_inject_interrupt()) << "IF=0 must block injection";
  cpu_->request_interrupt_window(true);
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::IrqWindowOpen) << describe(e);
  Registers r = cpu_->get_registers();
  EXPECT_EQ(r.rip, labels[0]) << "the window opens after sti and its shadow";
  EXPECT_TRUE(r.interrupts_enabled());
  ASSERT_TRUE(cpu_->can_inject_interrupt());
  cpu_->inject_interrupt(0x20);
  cpu_->request_interrupt_window(false);
  EXPECT_FALSE(cpu_->can_inject_interrupt()) << "one injection pending already";
  EXPECT_EQ(expect_port(0x20, true, 1).data, 1u) << "handler ran first";
  EXPECT_EQ(expect_port(0x11, true, 1).data, 1u) << "then the interrupted code, registers intact";
  e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  EXPECT_EQ(cpu_->get_registers().rip, labels[1]);
  ASSERT_TRUE(cpu_->can_inject_interrupt());
  cpu_->inject_interrupt(0x20);
  EXPECT_EQ(expect_port(0x20, true, 1).data, 2u) << "interrupt injected at hlt wakes the guest";
  expect_port(0x12, true, 1);
  e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  EXPECT_FALSE(cpu_->can_inject_interrupt()) << "cli; hlt";
  uint8_t count = 0;
  ASSERT_TRUE(mem_.read(labels[2], &count, 1));
  EXPECT_EQ(count, 2);
}

TEST_F(KvmVcpuTest, Flat32ProtectedModeEntryState) {
  create();
  write_flat_gdt_at_0x500(mem_);
  load("pm_entry", kPmEntry);
  const uint32_t magic = 0x5EC0DE42;
  ASSERT_TRUE(mem_.write(0x1FFFF0, &magic, 4));
  Registers start = flat32_at(kPmEntry);
  cpu_->set_registers(start);
  Registers back = cpu_->get_registers();
  EXPECT_EQ(back.rip, start.rip);
  EXPECT_EQ(back.cs.selector, 0x08);
  EXPECT_EQ(back.cs.db, 1);
  EXPECT_EQ(back.cs.limit, 0xFFFFFFFFu);
  EXPECT_EQ(back.gdt, start.gdt);
  EXPECT_EQ(back.cr0 & 1, 1u);
  EXPECT_EQ(expect_port(0x10, true, 4).data, 0x08u);
  EXPECT_EQ(expect_port(0x11, true, 4).data, 0x10u);
  EXPECT_EQ(expect_port(0x12, true, 4).data, 0x10u);
  EXPECT_EQ(expect_port(0x13, true, 4).data & 1, 1u) << "CR0.PE";
  EXPECT_EQ(expect_port(0x14, true, 4).data, magic) << "flat addressing above 1 MiB";
  EXPECT_EQ(expect_port(0x15, true, 4).data, start.rsp - 4) << "stack at the entry esp";
  EXPECT_EQ(expect_port(0x16, true, 4).data, uint32_t(~magic)) << "segments reload from the GDT";
  Exit e = step();
  EXPECT_EQ(e.kind, ExitKind::Halt) << describe(e);
}

TEST_F(KvmVcpuTest, DeadlineKicksAComputingGuestAtAConsistentPoint) {
  create();
  auto labels = guest_trailer(load("spin", kBoot), 3);  // loop_start, loop_end, counter
  cpu_->set_registers(real_mode_at(kBoot));
  for (int round = 0; round < 3; ++round) {
    RunLimits limits;
    uint64_t start = HostClock::host_monotonic_ns();
    limits.deadline_host_ns = start + 20'000'000;  // 20 ms
    Exit e = cpu_->run(limits);
    uint64_t end = HostClock::host_monotonic_ns();
    ASSERT_EQ(e.kind, ExitKind::Kicked) << describe(e);
    EXPECT_GE(end, *limits.deadline_host_ns) << "not before the deadline";
    EXPECT_LT(end - *limits.deadline_host_ns, 1'000'000'000ull) << "promptly after it";
    Registers r = cpu_->get_registers();
    EXPECT_GE(r.rip, labels[0]);
    EXPECT_LT(r.rip, labels[1]);
    uint32_t counter = read32(labels[2]);
    uint32_t ebx = uint32_t(r.rbx);
    EXPECT_GT(ebx, 0u);
    EXPECT_TRUE(counter == ebx || counter + 1 == ebx) << counter << " vs ebx " << ebx;
    cpu_->set_registers(r);  // the kick point round-trips
    ASSERT_TRUE(cpu_->can_inject_interrupt());
    cpu_->inject_interrupt(0x20);
    Exit irq = expect_port(0x20, true, 4);
    EXPECT_EQ(irq.data, counter) << "the handler runs at the kick point, before any more work";
  }
}


// Replay finds a point without an instruction count by breakpoint, and steps
// past a hit that is not the one it wants.
TEST_F(KvmVcpuTest, BreakpointAndSingleStep) {
  create();
  auto labels = guest_trailer(load("spin", kBoot), 3);  // loop_start, loop_end, counter
  cpu_->set_registers(real_mode_at(kBoot));
  ASSERT_TRUE(cpu_->set_breakpoint(labels[0]));
  for (uint32_t iteration = 0; iteration < 3; ++iteration) {
    Exit e = step();
    ASSERT_EQ(e.kind, ExitKind::Debug) << describe(e);
    Registers r = cpu_->get_registers();
    EXPECT_EQ(r.rip, labels[0]) << "stops before the instruction";
    EXPECT_EQ(uint32_t(r.rbx), iteration) << "once per loop iteration";
    ASSERT_TRUE(cpu_->set_breakpoint(std::nullopt));
    ASSERT_TRUE(cpu_->set_single_step(true));
    e = step();
    ASSERT_EQ(e.kind, ExitKind::Debug) << describe(e);
    r = cpu_->get_registers();
    EXPECT_GT(r.rip, labels[0]);
    EXPECT_EQ(uint32_t(r.rbx), iteration + 1) << "one instruction (inc ebx) ran";
    ASSERT_TRUE(cpu_->set_single_step(false));
    ASSERT_TRUE(cpu_->set_breakpoint(labels[0]));
  }
  ASSERT_TRUE(cpu_->set_breakpoint(std::nullopt));
  cpu_->kick();
  EXPECT_EQ(step().kind, ExitKind::Kicked) << "without debugging the guest runs on";
}

// KVM delivers an injected interrupt on the next VM entry. A kick that is
// already pending must not stop the vCPU before that entry, or the stop would
// show a state (interrupt queued, not taken) that no other backend has.
TEST_F(KvmVcpuTest, InjectedInterruptIsTakenBeforeAPendingKick) {
  create();
  auto labels = guest_trailer(load("spin", kBoot), 3);
  cpu_->set_registers(real_mode_at(kBoot));
  for (int round = 0; round < 20 && !(round && cpu_->can_inject_interrupt()); ++round) {
    RunLimits limits;  // until the kick lands after the guest's sti
    limits.deadline_host_ns = HostClock::host_monotonic_ns() + 5'000'000;
    ASSERT_EQ(cpu_->run(limits).kind, ExitKind::Kicked);
  }
  uint32_t counter = read32(labels[2]);
  ASSERT_TRUE(cpu_->can_inject_interrupt());
  cpu_->inject_interrupt(0x20);
  cpu_->kick();
  Exit irq = expect_port(0x20, true, 4);
  EXPECT_EQ(irq.data, counter) << "the handler ran first, at the injection point";
}

TEST_F(KvmVcpuTest, KickFromAnotherThreadAndBeforeRun) {
  create();
  auto labels = guest_trailer(load("spin", kBoot), 3);
  cpu_->set_registers(real_mode_at(kBoot));
  cpu_->kick();
  Exit e = step();
  EXPECT_EQ(e.kind, ExitKind::Kicked) << "a kick before run() makes it return at once";
  EXPECT_EQ(cpu_->get_registers().rip, kBoot) << "without running the guest";

  uint32_t before = 0;
  for (int round = 0; round < 2; ++round) {
    std::thread kicker([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      cpu_->kick();
    });
    auto t0 = std::chrono::steady_clock::now();
    e = cpu_->run(RunLimits{});  // no deadline: only the kick can end it
    auto took = std::chrono::steady_clock::now() - t0;
    kicker.join();
    ASSERT_EQ(e.kind, ExitKind::Kicked) << describe(e);
    EXPECT_LT(took, std::chrono::seconds(2));
    uint32_t counter = read32(labels[2]);
    EXPECT_GT(counter, before) << "the guest computed between kicks";
    before = counter;
  }
}

// Peek/poke through the monitor guest. Between calls the guest sits at its
// "next command" port read, so every access of a call has completed.
class MonitorTest : public KvmTest {
 protected:
  void start() {
    create();
    write_flat_gdt_at_0x500(mem_);
    load("monitor", kPmEntry);
    cpu_->set_registers(flat32_at(kPmEntry));
    expect_port(0x40, false, 4);
  }
  // Reads through the guest; `mmio_answer` answers an MMIO exit if one comes.
  uint32_t peek(uint32_t address, bool* via_mmio = nullptr, uint32_t mmio_answer = 0) {
    cpu_->complete_read(1);
    expect_port(0x41, false, 4);
    cpu_->complete_read(address);
    Exit e = step();
    if (via_mmio) *via_mmio = e.kind == ExitKind::Mmio;
    if (e.kind == ExitKind::Mmio) {
      EXPECT_EQ(e.address, address);
      EXPECT_FALSE(e.is_write);
      cpu_->complete_read(mmio_answer);
      e = step();
    }
    EXPECT_EQ(e.kind, ExitKind::PortIo) << describe(e);
    EXPECT_EQ(e.address, 0x42u);
    expect_port(0x40, false, 4);
    return uint32_t(e.data);
  }
  // Writes through the guest; returns the MMIO exit if the write was not RAM.
  Exit poke(uint32_t address, uint8_t value) {
    cpu_->complete_read(2);
    expect_port(0x41, false, 4);
    cpu_->complete_read(address);
    expect_port(0x43, false, 4);
    cpu_->complete_read(value);
    Exit e = step();
    Exit mmio;
    if (e.kind == ExitKind::Mmio) {
      mmio = e;
      e = step();
    }
    EXPECT_EQ(e.kind, ExitKind::PortIo) << describe(e);
    EXPECT_EQ(e.address, 0x40u);
    return mmio;
  }
  static std::vector<int> pages(const DirtyBitmap& bits) {
    std::vector<int> out;
    for (size_t i = 0; i < bits.size() * 64; ++i)
      if (bits[i / 64] >> (i % 64) & 1) out.push_back(int(i));
    return out;
  }
};

TEST_F(MonitorTest, DirtyLogReportsExactlyTheWrittenPages) {
  start();
  const auto& vram = mem_.add_slot(0x400000, 16 * kPageSize, "vram", /*log_dirty=*/true);
  uint32_t id = vram.id;
  cpu_->sync_memory_map();
  EXPECT_EQ(pages(mem_.collect_dirty(id)), std::vector<int>{});
  poke(0x400000 + 1 * 4096 + 7, 0xAA);
  poke(0x400000 + 5 * 4096, 0xBB);
  poke(0x400000 + 15 * 4096 + 4095, 0xCC);
  EXPECT_EQ(pages(mem_.collect_dirty(id)), (std::vector<int>{1, 5, 15}));
  EXPECT_EQ(pages(mem_.collect_dirty(id)), std::vector<int>{}) << "collecting clears the log";
  poke(0x400000 + 5 * 4096 + 1, 0xDD);
  EXPECT_EQ(pages(mem_.collect_dirty(id)), std::vector<int>{5});
  EXPECT_EQ(mem_.host_ptr(0x400000 + 15 * 4096 + 4095, 1)[0], 0xCC);
}

TEST_F(MonitorTest, MovedAndHiddenSlots) {
  start();
  const auto& bar = mem_.add_slot(0x800000, 2 * kPageSize, "bar", /*log_dirty=*/true);
  uint32_t id = bar.id;
  const uint32_t magic = 0x0BA5EBA5;
  ASSERT_TRUE(mem_.write(0x800000, &magic, 4));
  cpu_->sync_memory_map();
  mem_.collect_dirty(id);
  EXPECT_EQ(peek(0x800000), magic);
  poke(0x800000 + 4096, 0x5A);  // dirty page 1 before the move

  mem_.move_slot(id, 0xA00000);
  cpu_->sync_memory_map();
  bool via_mmio = false;
  EXPECT_EQ(peek(0x800000, &via_mmio, 0xFEEDFACE), 0xFEEDFACEu);
  EXPECT_TRUE(via_mmio) << "the old range is no longer RAM";
  EXPECT_EQ(peek(0xA00000, &via_mmio), magic);
  EXPECT_FALSE(via_mmio) << "contents moved with the slot";
  // Page 1 was written before the move. (Page 0 may be reported too: KVM
  // logs a host-populated page as dirty when a guest read first maps it
  // writable, so the log is a superset of the written pages.)
  auto dirty = pages(mem_.collect_dirty(id));
  EXPECT_NE(std::find(dirty.begin(), dirty.end(), 1), dirty.end()) << "dirty bits survive the move";

  mem_.set_slot_mapped(id, false);
  cpu_->sync_memory_map();
  EXPECT_EQ(peek(0xA00000, &via_mmio, 0x1234), 0x1234u);
  EXPECT_TRUE(via_mmio) << "a hidden slot is not RAM";
  Exit w = poke(0xA00010, 0x77);
  EXPECT_EQ(w.kind, ExitKind::Mmio) << "writes to a hidden slot are MMIO too";
  EXPECT_EQ(w.address, 0xA00010u);
  EXPECT_EQ(w.data, 0x77u);
  mem_.set_slot_mapped(id, true);
  cpu_->sync_memory_map();
  EXPECT_EQ(peek(0xA00000, &via_mmio), magic);
  EXPECT_FALSE(via_mmio);
}

TEST_F(KvmVcpuTest, CpuidTableIsWhatTheGuestSees) {
  auto table = default_cpuid_table();
  table[0].eax = 4;  // max basic leaf now covers the sub-leafed leaf 4
  table.push_back({4, 0, 0x11111111, 0x22222222, 0x33333333, 0x44444444});
  table.push_back({4, 1, 0x55555555, 0x66666666, 0x77777777, 0x88888888});
  create(table);
  load("cpuid", kBoot);
  cpu_->set_registers(real_mode_at(kBoot));
  // Every table entry, then leaves the table lacks: in range (zeros) and past
  // the maximum basic leaf (the highest basic leaf answers), as cpuid_lookup
  // and the emu backend answer them.
  struct Query {
    uint32_t function, index;
    CpuidEntry want;
  };
  std::vector<Query> queries;
  for (const CpuidEntry& e : table) queries.push_back({e.function, e.index, e});
  // Including an extended leaf past the maximum extended leaf and a missing
  // sub-leaf, where cpuid_lookup follows KVM (highest basic leaf; zeros).
  for (auto [function, index] : {std::pair{2u, 0u}, std::pair{0x10u, 0u}, std::pair{0x10u, 1u},
                                 std::pair{0x40000000u, 0u}, std::pair{0x80000008u, 0u},
                                 std::pair{4u, 7u}, std::pair{1u, 3u}})
    queries.push_back({function, index, cpuid_lookup(table, function, index)});
  for (const Query& q : queries) {
    expect_port(0x50, false, 4);
    cpu_->complete_read(q.function);
    expect_port(0x51, false, 4);
    cpu_->complete_read(q.index);
    uint32_t got[4];
    for (auto& g : got) g = uint32_t(expect_port(0x52, true, 4).data);
    const uint32_t want[4] = {q.want.eax, q.want.ebx, q.want.ecx, q.want.edx};
    for (int r = 0; r < 4; ++r)
      EXPECT_EQ(got[r], want[r]) << "leaf " << std::hex << q.function << "." << q.index
                                 << " register " << "abcd"[r];
  }
}

TEST_F(KvmVcpuTest, TripleFaultIsShutdown) {
  create();
  load("triple_fault", kBoot);
  Registers r = real_mode_at(kBoot);
  r.idt = DescriptorTable{0, 0};  // nothing can be delivered
  cpu_->set_registers(r);
  Exit e = step();
  EXPECT_EQ(e.kind, ExitKind::Shutdown) << describe(e);
  EXPECT_FALSE(e.message.empty());
  EXPECT_EQ(e.message.find('\n'), std::string::npos);
}

TEST_F(KvmVcpuTest, InvalidStateIsRejectedWithOneLine) {
  create();
  Registers r = real_mode_at(kBoot);
  r.cr0 = 0x80000010;  // paging without protected mode
  try {
    cpu_->set_registers(r);
    FAIL() << "KVM accepted CR0.PG without CR0.PE";
  } catch (const VcpuError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("KVM_SET_SREGS"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

// translate() on kvm is KVM_TRANSLATE; it must agree with the software page
// walk (what emu and the tools use) on page tables the guest could have built.
TEST_F(KvmVcpuTest, TranslateAgreesWithThePageWalk) {
  create();
  auto put32 = [&](uint64_t gpa, uint32_t v) { ASSERT_TRUE(mem_.write(gpa, &v, 4)); };
  auto put64 = [&](uint64_t gpa, uint64_t v) { ASSERT_TRUE(mem_.write(gpa, &v, 8)); };
  write_flat_gdt_at_0x500(mem_);
  Registers r = flat32_at(kPmEntry);
  // 32-bit paging: linear 0x00400000.. -> a page table; 0x00800000.. -> a 4 MiB page would
  // leave RAM (2 MiB), so use 4 KiB pages only.
  r.cr0 = 0x80000011;
  r.cr3 = 0x100000;
  put32(0x100000 + 1 * 4, 0x101000 | 3);
  put32(0x101000 + 5 * 4, 0x1A3000 | 1);
  put32(0x100000 + 0 * 4, 0x102000 | 3);
  put32(0x102000 + 0x10 * 4, 0x010000 | 3);  // 0x10000 identity (the entry point)
  cpu_->set_registers(r);
  const uint64_t probes32[] = {0x00405ABC, 0x00010123, 0x00406000, 0x00C00000, 0xFFFFF000};
  for (uint64_t linear : probes32)
    EXPECT_EQ(cpu_->translate(linear), linear_to_physical(cpu_->get_registers(), mem_, linear)) << std::hex << linear;
  EXPECT_EQ(cpu_->translate(0x00405ABC), 0x1A3ABCu);

  // 4-level long mode with a 2 MiB page in the higher half.
  r.cr4 = 1u << 5;
  r.efer = (1u << 8) | (1u << 10);
  r.cs.l = 1;
  r.cs.db = 0;
  r.cr3 = 0x110000;
  put64(0x110000 + 511 * 8, 0x111000 | 3);
  put64(0x111000 + 510 * 8, 0x112000 | 3);
  put64(0x112000 + 0 * 8, 0x000000 | 3 | 0x80);
  put64(0x110000 + 0 * 8, 0x113000 | 3);
  put64(0x113000 + 0 * 8, 0x114000 | 3);
  put64(0x114000 + 0 * 8, 0x115000 | 3);
  put64(0x115000 + 0x10 * 8, 0x010000 | 3);
  cpu_->set_registers(r);
  const uint64_t probes64[] = {0xFFFFFFFF80012345ull, 0x10FEDull, 0xFFFFFFFF80200000ull, 0x7FFF0000ull};
  for (uint64_t linear : probes64)
    EXPECT_EQ(cpu_->translate(linear), linear_to_physical(cpu_->get_registers(), mem_, linear)) << std::hex << linear;
  EXPECT_EQ(cpu_->translate(0xFFFFFFFF80012345ull), 0x12345u);
}

TEST(KvmUnavailable, CreateThrowsOneClearLine) {
  if (kvm_missing_reason().empty()) GTEST_SKIP() << "KVM is available here";
  GuestMemory mem;
  mem.add_slot(0, 1 << 20, "ram");
  try {
    create_kvm_vcpu(mem, default_cpuid_table());
    FAIL() << "created a KVM vCPU without KVM";
  } catch (const std::runtime_error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("/dev/kvm"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

}  // namespace

// kvm's stepping vCPU (the timeline's backend on kvm): one count per
// instruction, the trap flag in no register and no flags image the guest
// stores, interrupts delivered at once, breakpoints and write watchpoints
// without patching memory.
namespace rrvm::kvmtest {
namespace {
class SteppingTest : public KvmTest {
 protected:
  std::vector<uint32_t> start() {
    create();
    auto labels = guest_trailer(load("stepping", kBoot), 5);
    cpu_ = make_stepping_vcpu(std::move(cpu_), mem_);
    cpu_->set_registers(real_mode_at(kBoot));
    return labels;
  }
  uint16_t read16(uint64_t gpa) {
    uint16_t v = 0;
    EXPECT_TRUE(mem_.read(gpa, &v, 2));
    return v;
  }
};

TEST_F(SteppingTest, CountsEveryInstructionAndLeavesNoTrapFlagBehind) {
  auto labels = start();
  EXPECT_FALSE(cpu_->instruction_count()) << "not an instruction count the replayer may compare with emu's";
  ASSERT_EQ(cpu_->retired_count(), uint64_t{0});
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Halt) << describe(e);
  // mov ss and mov sp are one step, int n is one; sti's shadow holds the
  // trap on some CPUs (nested SVM under TCG), making sti and hlt one too.
  const uint64_t at_halt = cpu_->retired_count().value_or(0);
  EXPECT_TRUE(at_halt == 15 || at_halt == 16) << at_halt;
  Registers r = cpu_->get_registers();
  EXPECT_EQ(r.rip, labels[4]);
  EXPECT_FALSE(r.rflags & Registers::kFlagTF);
  EXPECT_FALSE(r.rbx & Registers::kFlagTF) << "pushf's image";
  EXPECT_FALSE(r.rdx & Registers::kFlagTF) << "pushf's image in the handler";
  EXPECT_FALSE(read16(0x6FFE) & Registers::kFlagTF) << "the flags int pushed";
  EXPECT_EQ(read16(labels[3]), 0x1234);

  // An injected interrupt: at the handler when inject_interrupt returns.
  ASSERT_TRUE(cpu_->can_inject_interrupt());
  cpu_->inject_interrupt(0x20);
  r = cpu_->get_registers();
  EXPECT_EQ(r.pc_linear(), labels[2]) << "delivered at once, as on emu";
  EXPECT_EQ(cpu_->retired_count(), at_halt) << "a delivery is no instruction";
  EXPECT_FALSE(read16(0x7000 - 2) & Registers::kFlagTF) << "the flags the delivery pushed";
  EXPECT_TRUE(cpu_->at_instruction_boundary());
}

TEST_F(SteppingTest, StopsAtCountsBreakpointsAndWrites) {
  auto labels = start();
  RunLimits at5;
  at5.stop_at_icount = 5;
  ASSERT_EQ(cpu_->run(at5).kind, ExitKind::StopAtPosition);
  EXPECT_EQ(cpu_->retired_count(), uint64_t{5});
  ASSERT_TRUE(cpu_->set_code_breakpoints({labels[0]}));
  Exit e = step();
  ASSERT_EQ(e.kind, ExitKind::Debug) << describe(e);
  EXPECT_EQ(cpu_->get_registers().pc_linear(), labels[0]);
  EXPECT_EQ(cpu_->retired_count(), uint64_t{12});
  uint8_t first = 0;
  ASSERT_TRUE(mem_.read(labels[0], &first, 1));
  EXPECT_EQ(first, 0xC7) << "nothing patched into guest memory";
  ASSERT_TRUE(cpu_->set_code_breakpoints({}));
  EXPECT_FALSE(cpu_->set_watchpoints({{labels[3], 2, /*reads=*/true, /*writes=*/false}})) << "reads are refused";
  ASSERT_TRUE(cpu_->set_watchpoints({{labels[3], 2, /*reads=*/false, /*writes=*/true}}));
  e = step();
  ASSERT_EQ(e.kind, ExitKind::Debug) << describe(e);
  EXPECT_EQ(e.address, labels[3]);
  EXPECT_TRUE(e.is_write);
  EXPECT_EQ(cpu_->retired_count(), uint64_t{13}) << "right after the store";
  ASSERT_TRUE(cpu_->set_watchpoints({}));
  ASSERT_TRUE(cpu_->set_single_step(true));
  e = step();
  ASSERT_EQ(e.kind, ExitKind::Debug);
  EXPECT_EQ(cpu_->retired_count(), uint64_t{14}) << "the machine's single step: one instruction";
  // Snapshots carry the count; a restore goes back to it.
  CpuSnapshot snap = cpu_->save_cpu();
  ASSERT_TRUE(cpu_->set_single_step(false));
  ASSERT_EQ(step().kind, ExitKind::Halt);
  const auto at_halt = cpu_->retired_count();
  cpu_->restore_cpu(snap);
  EXPECT_EQ(cpu_->retired_count(), uint64_t{14});
  EXPECT_FALSE(cpu_->get_registers().rflags & Registers::kFlagTF);
  ASSERT_EQ(step().kind, ExitKind::Halt);
  EXPECT_EQ(cpu_->retired_count(), at_halt) << "the same count from the snapshot";
}
}  // namespace
}  // namespace rrvm::kvmtest
