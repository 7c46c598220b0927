// Virtual time. Every device reads time through a Clock, never the host
// directly, so the recorder can log what the devices consumed and emu runs
// are deterministic with no trace at all.
#pragma once
#include <cstdint>

namespace rrvm {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds of guest time since the machine started; never decreases.
  virtual uint64_t now_ns() = 0;
};

// Host monotonic time since construction (kvm recording).
class HostClock final : public Clock {
 public:
  HostClock();
  uint64_t now_ns() override;
  static uint64_t host_monotonic_ns();

 private:
  uint64_t start_;
};

// Time derived from the retired-instruction count (emu): deterministic.
// While the guest halts, time jumps to the next device deadline (skip_to).
class InstructionClock final : public Clock {
 public:
  using CountFn = uint64_t (*)(void* ctx);
  InstructionClock(CountFn count, void* ctx, uint64_t ns_per_instruction = 1)
      : count_(count), ctx_(ctx), ns_per_insn_(ns_per_instruction) {}
  uint64_t now_ns() override { return count_(ctx_) * ns_per_insn_ + skipped_ns_; }
  // Advance time to `ns` without instructions retiring (guest halted).
  void skip_to(uint64_t ns) {
    uint64_t now = now_ns();
    if (ns > now) skipped_ns_ += ns - now;
  }
  // Instruction count at which time reaches `ns` (for stop-at-count).
  uint64_t icount_at(uint64_t ns) {
    uint64_t base = skipped_ns_;
    if (ns <= base) return 0;
    return (ns - base + ns_per_insn_ - 1) / ns_per_insn_;
  }
  uint64_t ns_per_instruction() const { return ns_per_insn_; }
  // Halted time added so far (snapshots keep it).
  uint64_t skipped_ns() const { return skipped_ns_; }
  void set_skipped_ns(uint64_t ns) { skipped_ns_ = ns; }

 private:
  CountFn count_;
  void* ctx_;
  uint64_t ns_per_insn_;
  uint64_t skipped_ns_ = 0;
};

// Set by hand (unit tests, offline device replay).
class ManualClock final : public Clock {
 public:
  uint64_t now_ns() override { return now_; }
  void set(uint64_t ns) { now_ = ns; }
  void advance(uint64_t ns) { now_ += ns; }

 private:
  uint64_t now_ = 0;
};

}  // namespace rrvm
