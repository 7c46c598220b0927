// Instruction counting per translated block: every way a count can go wrong
// (self-modifying code, code a device rewrites, a block that faults half
// way, rep iterations, stops in the middle of a block) compared with single
// stepping, where every instruction is seen on its own.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "tests/emu/emu_harness.h"
#include "vmm/rep_string.h"

namespace rrvm::emutest {
namespace {

RunLimits stop_at(uint64_t icount) {
  RunLimits l;
  l.stop_at_icount = icount;
  return l;
}

// What the test does when the snippet halts before its last hlt (the n-th
// such halt, from 0): e.g. rewrite code as a device would.
using OnHalt = std::function<void(Harness&, int)>;

struct Case {
  std::string snippet;
  int halts = 1;  // the snippet ends at its halts-th hlt
  OnHalt on_halt = [](Harness&, int) {};
  Mode mode = Mode::Flat32;
};

// regs[k - 1]: the registers once k instructions have run.
struct Reference {
  std::vector<Registers> regs;
};

Reference single_step(const Case& c) {
  Reference ref;
  Harness h(c.snippet, c.mode);
  EXPECT_TRUE(h.cpu->set_single_step(true));
  int halts = 0;
  for (;;) {
    Exit e = h.run();
    EXPECT_TRUE(e.kind == ExitKind::Debug || e.kind == ExitKind::Halt) << exit_kind_name(e.kind) << " " << e.message;
    if (e.kind != ExitKind::Debug && e.kind != ExitKind::Halt) break;
    ref.regs.push_back(h.cpu->get_registers());
    EXPECT_EQ(*h.cpu->instruction_count(), ref.regs.size()) << "one instruction per step";
    if (e.kind == ExitKind::Halt) {
      if (++halts == c.halts) break;
      c.on_halt(h, halts - 1);
    }
    if (ref.regs.size() > 100000) {
      ADD_FAILURE() << "runaway";
      break;
    }
  }
  return ref;
}

// Runs to the end with no limit: the total.
uint64_t free_run(const Case& c) {
  Harness h(c.snippet, c.mode);
  int halts = 0;
  for (;;) {
    Exit e = h.run();
    EXPECT_EQ(e.kind, ExitKind::Halt) << exit_kind_name(e.kind) << " " << e.message;
    if (e.kind != ExitKind::Halt || ++halts == c.halts) break;
    c.on_halt(h, halts - 1);
  }
  return *h.cpu->instruction_count();
}

// One run that stops at every target in turn (ascending): each stop runs
// whole blocks up to the one the target falls in.
void stops_in_one_run(const Case& c, const Reference& ref, const std::vector<uint64_t>& targets) {
  Harness h(c.snippet, c.mode);
  int halts = 0;
  size_t next = 0;
  for (;;) {
    const bool limited = next < targets.size();
    Exit e = h.run(limited ? stop_at(targets[next]) : RunLimits{});
    if (e.kind == ExitKind::StopAtPosition) {
      ASSERT_TRUE(limited);
      const uint64_t t = targets[next++];
      ASSERT_EQ(*h.cpu->instruction_count(), t);
      ASSERT_EQ(h.cpu->get_registers(), ref.regs[t - 1]) << c.snippet << ": at icount " << t;
      continue;
    }
    ASSERT_EQ(e.kind, ExitKind::Halt) << exit_kind_name(e.kind) << " " << e.message;
    const uint64_t n = *h.cpu->instruction_count();
    ASSERT_LE(n, ref.regs.size());
    EXPECT_EQ(h.cpu->get_registers(), ref.regs[n - 1]) << c.snippet << ": hlt at icount " << n;
    if (++halts == c.halts) break;
    c.on_halt(h, halts - 1);
  }
  EXPECT_EQ(next, targets.size()) << c.snippet << ": targets left";
  EXPECT_EQ(*h.cpu->instruction_count(), ref.regs.size());
}

// expected_total: the count worked out by hand, 0 to take single stepping's.
void check_case(const Case& c, uint64_t expected_total = 0) {
  const Reference ref = single_step(c);
  if (expected_total) {
    ASSERT_EQ(ref.regs.size(), expected_total) << c.snippet << ": single stepping";
  }
  EXPECT_EQ(free_run(c), ref.regs.size()) << c.snippet << ": a free run";
  const uint64_t total = ref.regs.size();
  // Every count as the first stop of a fresh vCPU (the target inside the
  // first blocks that run, whole blocks before it).
  for (uint64_t t = 1; t < total; ++t) stops_in_one_run(c, ref, {t});
  // Chains of stops at several strides in one run.
  for (uint64_t stride : {1, 2, 3, 5, 7, 11, 17, 29}) {
    std::vector<uint64_t> targets;
    for (uint64_t t = stride; t < total; t += stride) targets.push_back(t);
    stops_in_one_run(c, ref, targets);
  }
}

TEST(EmuBlockCount, SelfModifyingCodeMatchesSingleStepping) {
  // 3 + rounds (10, 9, 10, 9, 10) + 4 + the running block rewritten ahead of
  // itself (3) + 3 + rep movsb (40 iterations) + hlt.
  check_case({"blk_smc"}, 3 + 48 + 4 + 3 + 3 + 40 + 1);
}

TEST(EmuBlockCount, SelfModifyingCodeRunsTheNewInstructions) {
  Harness h("blk_smc", Mode::Flat32);
  ASSERT_EQ(h.run().kind, ExitKind::Halt);
  const Registers r = h.cpu->get_registers();
  // inc,inc / add alternating: 2+3, 3+3, 2+3, 3+3, 2+3, then 3 and 3 (6th
  // round runs `add` once more), then + 7 (mov dl, 7 as rewritten).
  const uint32_t eax = (2 + 3) + (3 + 3) + (2 + 3) + (3 + 3) + (2 + 3) + (3 + 3);
  EXPECT_EQ(r.rdx & 0xFF, 7u);
  EXPECT_EQ(r.rax & 0xFF, (eax + 7) & 0xFF);
}

TEST(EmuBlockCount, SameBytesInAnotherCodeSizeAreAnotherBlock) {
  Case c{"blk_modes"};
  c.mode = Mode::Real;
  // 5 + far jmp, 3 + call + shared (4 in 16-bit: mov, inc, inc, ret) + far
  // jmp, call + shared (2 in 32-bit) + far jmp, call + 4 + hlt.
  check_case(c, 5 + 1 + 3 + 1 + 4 + 1 + 1 + 2 + 1 + 1 + 4 + 1);
  Harness h("blk_modes", Mode::Real);
  ASSERT_EQ(h.run().kind, ExitKind::Halt);
  EXPECT_EQ(h.cpu->get_registers().rax & 0xFFFF, 3u) << "the last call ran the 16-bit decoding";
}

TEST(EmuBlockCount, RepAndLoopMatchSingleStepping) {
  check_case({"blk_rep"});
}

// Hardware takes an interrupt or a single step's trap inside a rep string
// instruction only between iterations, with the count still above 0: after
// its last iteration RIP is past the instruction. QEMU checks the count once
// more in a block of its own, which is no instruction: no stop shows RIP at
// the instruction with the count at 0 after iterations ran (a kvm replay
// can never reach such a point), and a rep counts one instruction per
// iteration (one with none). check_case shows every stop at a count agrees.
void expect_only_hardware_states_in_reps(const Case& c, int reps_wanted) {
  const Reference ref = single_step(c);
  Harness h(c.snippet, c.mode);
  const CodeBits bits = c.mode == Mode::Real ? CodeBits::k16 : CodeBits::k32;
  int iterating = 0;  // executions of a rep that stopped between iterations
  bool stayed = false;
  for (size_t k = 1; k < ref.regs.size(); ++k) {
    const Registers& prev = ref.regs[k - 1];
    const Registers& r = ref.regs[k];
    const bool stays = r.pc_linear() == prev.pc_linear();
    iterating += stays && !stayed;
    stayed = stays;
    if (!stays) continue;
    uint8_t code[15] = {};
    ASSERT_TRUE(h.memory->read(r.pc_linear(), code, sizeof code));
    const auto rep = decode_rep_string(code, bits);
    ASSERT_TRUE(rep.has_value()) << c.snippet << ": a step that stayed at " << std::hex << r.pc_linear();
    EXPECT_NE(rep->count(r), 0u) << c.snippet << ": stopped at the rep at " << std::hex << r.pc_linear()
                                 << " with its count at 0 after its last iteration (icount " << std::dec << k + 1
                                 << ")";
    EXPECT_EQ(rep->count(r) + 1, rep->count(prev)) << "one iteration per step";
  }
  EXPECT_GE(iterating, reps_wanted) << c.snippet << ": rep instructions seen iterating";
}

TEST(EmuBlockCount, RepInstructionsStopOnlyWhereHardwareCan) {
  expect_only_hardware_states_in_reps({"blk_rep"}, 3);
  Case real{"blk_rep16"};
  real.mode = Mode::Real;
  expect_only_hardware_states_in_reps(real, 5);
  check_case(real);
}

TEST(EmuBlockCount, BlocksThatFaultHalfWayMatchSingleStepping) {
  check_case({"blk_fault"});
  Harness h("blk_fault", Mode::Flat32);
  ASSERT_EQ(h.run().kind, ExitKind::Halt);
  const Registers r = h.cpu->get_registers();
  EXPECT_EQ(r.rsi, 3u * 0x101) << "#DE and #GP handlers ran three times each";
  EXPECT_EQ(r.rdi, 3u * 0x101) << "#UD and int 0x41 handlers ran three times each";
}

TEST(EmuBlockCount, CodeRewrittenByTheVmmMatchesSingleStepping) {
  // Four bytes at 0x12000, each a different instruction count.
  static const uint8_t variants[][4] = {
      {0x8D, 0x40, 0x05, 0xC3},  // lea eax, [eax+5]; ret
      {0x01, 0xC0, 0x40, 0xC3},  // add eax, eax; inc eax; ret
      {0x40, 0x40, 0x40, 0xC3},  // inc eax (3); ret
  };
  Case c{"blk_device", 4, [](Harness& h, int n) { ASSERT_TRUE(h.memory->write(0x12000, variants[n % 3], 4)); }};
  // 2 + (call, 4, hlt, dec, jnz) + (call, 2, ...) + (call, 3, ...) + hlt.
  check_case(c, 2 + (1 + 4 + 3) + (1 + 2 + 3) + (1 + 3 + 3) + 1);
  Harness h("blk_device", Mode::Flat32);
  for (int n = 0; n < 3; ++n) {
    ASSERT_EQ(h.run().kind, ExitKind::Halt);
    c.on_halt(h, n);
  }
  ASSERT_EQ(h.run().kind, ExitKind::Halt);
  // 3 (inc x3), then + 5 (lea) = 8, then * 2 + 1 = 17 (add, inc).
  EXPECT_EQ(h.cpu->get_registers().rax, 17u);
}

TEST(EmuBlockCount, WhatFollowsAnMmioExitComesRightAfterTheInstruction) {
  // After each MMIO exit a stop at the boundary, then an interrupt injected
  // mid-instruction: both right after the MMIO instruction (as on kvm), not
  // at the end of its translated block.
  Harness h("blk_mmio", Mode::Flat32);
  Exit e = h.run();
  ASSERT_EQ(e.kind, ExitKind::Mmio) << e.message;
  ASSERT_TRUE(e.is_write);
  EXPECT_EQ(*h.cpu->instruction_count(), 4u);
  RunLimits boundary;
  boundary.stop_at_boundary = true;
  e = h.run(boundary);
  ASSERT_EQ(e.kind, ExitKind::StopAtPosition) << exit_kind_name(e.kind);
  EXPECT_EQ(*h.cpu->instruction_count(), 4u);
  Registers r = h.cpu->get_registers();
  EXPECT_EQ(r.rbx, 1u) << "nothing after the store ran";
  EXPECT_EQ(r.rip, 0x10000u + 5 + 5 + 2 + 5);
  e = h.run();
  ASSERT_EQ(e.kind, ExitKind::Mmio);
  ASSERT_FALSE(e.is_write);
  EXPECT_EQ(*h.cpu->instruction_count(), 7u);
  h.cpu->complete_read(0x40);
  e = h.run(boundary);
  ASSERT_EQ(e.kind, ExitKind::StopAtPosition);
  EXPECT_EQ(*h.cpu->instruction_count(), 7u);
  r = h.cpu->get_registers();
  EXPECT_EQ(r.rcx, 0x40u);
  EXPECT_EQ(r.rbx, 3u);
  EXPECT_EQ(h.run().kind, ExitKind::Halt);
  EXPECT_EQ(h.cpu->get_registers().rcx, 2u * (0x40 + 3));
}

TEST(EmuBlockCount, SnapshotInsideABlockResumesToTheSameEnd) {
  Harness h("blk_rep", Mode::Flat32);
  ASSERT_EQ(h.run(stop_at(23)).kind, ExitKind::StopAtPosition);
  const CpuSnapshot snap = h.cpu->save_cpu();
  EXPECT_EQ(snap.icount, 23u);
  std::vector<uint8_t> ram(0x100000);
  ASSERT_TRUE(h.memory->read(0, ram.data(), ram.size()));
  ASSERT_EQ(h.run().kind, ExitKind::Halt);
  const uint64_t total = *h.cpu->instruction_count();
  const Registers end = h.cpu->get_registers();
  for (uint64_t target : {uint64_t{0}, uint64_t{24}, uint64_t{40}, total - 1}) {
    ASSERT_TRUE(h.memory->write(0, ram.data(), ram.size()));
    h.cpu->restore_cpu(snap);
    EXPECT_EQ(*h.cpu->instruction_count(), 23u);
    if (target) {
      ASSERT_EQ(h.run(stop_at(target)).kind, ExitKind::StopAtPosition) << target;
      EXPECT_EQ(*h.cpu->instruction_count(), target);
    }
    ASSERT_EQ(h.run().kind, ExitKind::Halt);
    EXPECT_EQ(*h.cpu->instruction_count(), total);
    EXPECT_EQ(h.cpu->get_registers(), end);
  }
}

}  // namespace
}  // namespace rrvm::emutest
