#include "vmm/stepping_vcpu.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "vmm/format.h"

namespace rrvm {

std::optional<uint64_t> interrupt_handler_linear(Vcpu& vcpu, const GuestMemory& memory, const Registers& regs,
                                                 uint8_t vector) {
  auto read = [&](uint64_t linear, std::span<uint8_t> out) {
    return read_linear(vcpu, memory, linear, out) == out.size();
  };
  auto word = [](const uint8_t* p) { return uint64_t(p[0]) | uint64_t(p[1]) << 8; };
  if (!regs.protected_mode()) {
    std::array<uint8_t, 4> e{};
    if (uint64_t(vector) * 4 + 3 > regs.idt.limit || !read(regs.idt.base + uint64_t(vector) * 4, e)) return std::nullopt;
    return (word(&e[2]) << 4) + word(&e[0]);
  }
  constexpr uint64_t kEferLma = 1u << 10;
  if (regs.efer & kEferLma) {
    std::array<uint8_t, 16> e{};
    if (uint64_t(vector) * 16 + 15 > regs.idt.limit || !read(regs.idt.base + uint64_t(vector) * 16, e))
      return std::nullopt;
    if (!(e[5] & 0x80)) return std::nullopt;
    uint64_t high = 0;
    std::memcpy(&high, &e[8], 4);
    return word(&e[0]) | word(&e[6]) << 16 | high << 32;  // long mode: code segments have base 0
  }
  std::array<uint8_t, 8> e{};
  if (uint64_t(vector) * 8 + 7 > regs.idt.limit || !read(regs.idt.base + uint64_t(vector) * 8, e)) return std::nullopt;
  const uint8_t type = e[5] & 0x0F;
  if (!(e[5] & 0x80) || (type != 0x6 && type != 0x7 && type != 0xE && type != 0xF)) return std::nullopt;
  uint64_t offset = word(&e[0]);
  if (type >= 0xE) offset |= word(&e[6]) << 16;
  const uint64_t selector = word(&e[2]);
  const DescriptorTable& table = (selector & 4) ? DescriptorTable{regs.ldt.base, uint16_t(regs.ldt.limit)} : regs.gdt;
  std::array<uint8_t, 8> d{};
  if ((selector & ~7ull) + 7 > table.limit || !read(table.base + (selector & ~7ull), d)) return std::nullopt;
  const uint64_t base = word(&d[2]) | uint64_t(d[4]) << 16 | uint64_t(d[7]) << 24;
  return (base + offset) & 0xFFFFFFFF;
}

namespace {

// What the instruction at the PC is, as far as stepping cares.
struct NextInstruction {
  std::optional<uint8_t> software_interrupt;  // int n / int3 / into (taken) / int1
  bool pushf = false;
};

NextInstruction look_at(Vcpu& vcpu, const GuestMemory& memory, const Registers& regs) {
  std::array<uint8_t, 15> code{};
  // Without paging linear is physical: no translation (an ioctl on kvm).
  constexpr uint64_t kCr0Pg = 1ull << 31;
  const size_t n = (regs.cr0 & kCr0Pg) ? read_linear(vcpu, memory, regs.pc_linear(), code)
                   : memory.read(regs.pc_linear(), code.data(), code.size()) ? code.size()
                                                                               : 0;
  NextInstruction out;
  size_t i = 0;
  auto prefix = [](uint8_t b) {
    return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65 || b == 0x66 || b == 0x67 ||
           b == 0xF0 || b == 0xF2 || b == 0xF3;
  };
  while (i < n && prefix(code[i])) ++i;
  if (i >= n) return out;
  constexpr uint64_t kFlagOF = 1u << 11;
  switch (code[i]) {
    case 0xCD:
      if (i + 1 < n) out.software_interrupt = code[i + 1];
      break;
    case 0xCC: out.software_interrupt = 3; break;
    case 0xCE:
      if (regs.rflags & kFlagOF) out.software_interrupt = 4;
      break;
    case 0xF1: out.software_interrupt = 1; break;
    case 0x9C: out.pushf = true; break;
    default: break;
  }
  return out;
}

class SteppingVcpu final : public Vcpu {
 public:
  SteppingVcpu(std::unique_ptr<Vcpu> inner, GuestMemory& memory) : inner_(std::move(inner)), memory_(memory) {}

  const char* backend_name() const override { return inner_->backend_name(); }

  Exit run(const RunLimits& limits) override {
    if (pending_exit_) return *std::exchange(pending_exit_, std::nullopt);
    if (!inner_->at_instruction_boundary()) {
      // The instruction under way (after a port or MMIO exit) completes on
      // this entry; its trap is its retirement.
      Exit e = step_inner();
      if (e.kind != ExitKind::Debug) return e;
      if (auto stop = after_step()) return *stop;
      if (limits.stop_at_boundary) return debug_exit();
    }
    for (;;) {
      if (limits.stop_at_icount && steps_ >= *limits.stop_at_icount) {
        Exit e;
        e.kind = ExitKind::StopAtPosition;
        return e;
      }
      const Registers regs = visible_registers();
      const uint64_t pc = regs.pc_linear();
      if (skip_breakpoint_at_ != pc) {
        skip_breakpoint_at_.reset();
        if ((search_breakpoint_ && *search_breakpoint_ == pc) ||
            std::binary_search(code_breakpoints_.begin(), code_breakpoints_.end(), pc)) {
          skip_breakpoint_at_ = pc;  // reported once; the next run() executes it
          return debug_exit();
        }
      }
      if (window_wanted_ && inner_->can_inject_interrupt()) {
        Exit e;
        e.kind = ExitKind::IrqWindowOpen;
        return e;
      }
      const NextInstruction next = look_at(*inner_, memory_, regs);
      capture_watched();
      Exit e = next.software_interrupt ? run_to_handler(regs, *next.software_interrupt, /*inject=*/false)
                                       : step_inner();
      if (e.kind != ExitKind::Debug) return e;
      if (next.pushf) clear_pushed_trap_flag();
      if (auto stop = after_step()) return *stop;
    }
  }

  void complete_read(uint64_t value) override { inner_->complete_read(value); }
  void set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) override {
    inner_->set_out_results(eax, edx, ecx);
  }
  Registers get_registers() override { return visible_registers(); }
  void set_registers(const Registers& regs) override {
    Registers r = regs;
    if (armed_) r.rflags |= Registers::kFlagTF;  // ours, kept across the write
    regs_.reset();
    inner_->set_registers(r);
    skip_breakpoint_at_.reset();
  }
  bool can_inject_interrupt() override { return inner_->can_inject_interrupt(); }
  // Delivered at once, as on emu: the vCPU stands at the handler's first
  // instruction when this returns (see the file comment).
  void inject_interrupt(uint8_t vector) override {
    Exit e = run_to_handler(visible_registers(), vector, /*inject=*/true);
    if (e.kind != ExitKind::Debug) pending_exit_ = e;
  }
  void request_interrupt_window(bool enable) override { window_wanted_ = enable; }
  std::optional<uint64_t> instruction_count() const override { return std::nullopt; }
  std::optional<uint64_t> retired_count() const override { return steps_; }
  std::optional<uint64_t> translate(uint64_t linear) override { return inner_->translate(linear); }
  void invalidate_code(uint64_t gpa, uint64_t size) override { inner_->invalidate_code(gpa, size); }
  void sync_memory_map() override { inner_->sync_memory_map(); }
  bool set_breakpoint(std::optional<uint64_t> rip) override {
    search_breakpoint_ = rip;
    return true;
  }
  bool set_single_step(bool enable) override {
    step_requested_ = enable;
    return true;
  }
  bool set_code_breakpoints(std::vector<uint64_t> linear) override {
    std::sort(linear.begin(), linear.end());
    code_breakpoints_ = std::move(linear);
    return true;
  }
  bool set_watchpoints(std::vector<Watchpoint> watch) override {
    if (std::any_of(watch.begin(), watch.end(), [](const Watchpoint& w) { return w.reads; })) {
      watched_.clear();
      return false;
    }
    watched_.clear();
    for (const Watchpoint& w : watch) watched_.push_back({w, {}});
    return true;
  }
  void hide_breakpoints(bool hidden) override { inner_->hide_breakpoints(hidden); }
  void kick() override { inner_->kick(); }
  bool at_instruction_boundary() const override { return inner_->at_instruction_boundary() && !pending_exit_; }
  bool inside_string_batch() const override { return inner_->inside_string_batch(); }
  // Snapshots hold no trap flag of ours: the step is disarmed first (and
  // armed again by the next step).
  CpuSnapshot save_cpu() override {
    disarm();
    CpuSnapshot c = inner_->save_cpu();
    c.icount = steps_;
    return c;
  }
  void restore_cpu(const CpuSnapshot& snapshot) override {
    disarm();
    regs_.reset();
    inner_->restore_cpu(snapshot);
    steps_ = snapshot.icount.value_or(0);
    pending_exit_.reset();
    skip_breakpoint_at_.reset();
  }

 private:
  struct Watched {
    Watchpoint watch;
    std::vector<uint8_t> before;
  };

  // The registers, read once per stop (each read is two ioctls on kvm).
  const Registers& registers() {
    if (!regs_) regs_ = inner_->get_registers();
    return *regs_;
  }
  // Without the trap flag while it is ours.
  Registers visible_registers() {
    Registers r = registers();
    if (armed_) r.rflags &= ~Registers::kFlagTF;
    return r;
  }
  Exit run_inner() {
    regs_.reset();
    return inner_->run(RunLimits{});
  }

  static Exit debug_exit() {
    Exit e;
    e.kind = ExitKind::Debug;
    return e;
  }

  // One instruction (or up to its next port/MMIO exit) under the inner
  // vCPU's single step. Debug: it retired.
  // The trap flag stays set from step to step (one KVM_RUN and one register
  // read per instruction). It is re-armed where it is gone: the instruction
  // cleared it (popf, iret), or KVM hides it because the PC is back where the
  // step was armed (it shows the flag everywhere else).
  Exit step_inner() {
    if (!armed_) {
      inner_->set_single_step(true);
      armed_ = true;
    }
    Exit e = run_inner();
    if (e.kind == ExitKind::Debug || e.kind == ExitKind::Halt) {
      ++steps_;
      skip_breakpoint_at_.reset();
      if (!(registers().rflags & Registers::kFlagTF)) {
        // Re-armed by the next step; meanwhile nothing of ours is set.
        inner_->set_single_step(false);
        armed_ = false;
      }
      if (e.kind == ExitKind::Debug) return debug_exit();
    }
    return e;
  }

  // No trap flag of ours in the CPU: KVM's single step off, and the flag
  // taken out (KVM leaves it where the PC moved since it was armed).
  void disarm() {
    if (!armed_) return;
    inner_->set_single_step(false);
    armed_ = false;
    regs_.reset();
    if (registers().rflags & Registers::kFlagTF) {
      Registers r = registers();
      r.rflags &= ~Registers::kFlagTF;
      inner_->set_registers(r);
      regs_ = r;
    }
  }

  // The vCPU enters the handler of `vector`, by injection or by executing
  // the software interrupt at the PC, with no trap flag, and stops before
  // the handler's first instruction.
  Exit run_to_handler(const Registers& regs, uint8_t vector, bool inject) {
    auto handler = interrupt_handler_linear(*inner_, memory_, regs, vector);
    if (!handler)
      throw VcpuError("stepping: no handler address for vector " + std::to_string(vector) +
                      " (a task gate, or a gate not present); the kvm timeline cannot deliver it exactly");
    disarm();
    if (!inner_->set_breakpoint(*handler))
      throw VcpuError("stepping: the handler of vector " + std::to_string(vector) + " at linear " +
                      hex(*handler) + " is not in RAM");
    if (inject) inner_->inject_interrupt(vector);
    Exit e = run_inner();
    inner_->set_breakpoint(std::nullopt);
    if (e.kind == ExitKind::Debug && registers().pc_linear() == *handler) {
      if (!inject) ++steps_;
      skip_breakpoint_at_.reset();
      return debug_exit();
    }
    return e;  // the delivery faulted or ran elsewhere: passed on as it came
  }

  // pushf stored the flags with the trap flag set: take it out of the image.
  void clear_pushed_trap_flag() {
    const Registers& r = registers();
    constexpr uint64_t kEferLma = 1u << 10;
    const uint64_t sp = (r.efer & kEferLma) && r.cs.l ? r.rsp : r.ss.db ? (r.rsp & 0xFFFFFFFF) : (r.rsp & 0xFFFF);
    auto gpa = inner_->translate(r.ss.base + sp + 1);  // bit 8: the image's second byte
    if (uint8_t* host = gpa ? memory_.host_ptr(*gpa, 1) : nullptr) *host &= ~1u;
  }

  void capture_watched() {
    for (Watched& w : watched_) {
      const uint8_t* host = memory_.host_ptr(w.watch.address, w.watch.size);
      if (host) w.before.assign(host, host + w.watch.size);
      else w.before.clear();
    }
  }

  // After an instruction retired: a watched byte it changed, or the
  // machine's single step.
  std::optional<Exit> after_step() {
    for (const Watched& w : watched_) {
      if (!w.watch.writes || w.before.empty()) continue;
      const uint8_t* host = memory_.host_ptr(w.watch.address, w.watch.size);
      if (!host) continue;
      for (uint64_t i = 0; i < w.watch.size; ++i) {
        if (host[i] == w.before[i]) continue;
        Exit e = debug_exit();
        e.address = w.watch.address + i;
        e.size = 1;
        e.is_write = true;
        capture_watched();
        return e;
      }
    }
    if (step_requested_) return debug_exit();
    return std::nullopt;
  }

  std::unique_ptr<Vcpu> inner_;
  GuestMemory& memory_;
  uint64_t steps_ = 0;
  std::optional<Exit> pending_exit_;
  std::optional<Registers> regs_;  // cached since the last run or register write
  std::optional<uint64_t> search_breakpoint_;
  std::vector<uint64_t> code_breakpoints_;
  std::optional<uint64_t> skip_breakpoint_at_;
  std::vector<Watched> watched_;
  bool step_requested_ = false;
  bool armed_ = false;  // the inner vCPU single-steps, its trap flag set by us
  bool window_wanted_ = false;
};

}  // namespace

std::unique_ptr<Vcpu> make_stepping_vcpu(std::unique_ptr<Vcpu> inner, GuestMemory& memory) {
  return std::make_unique<SteppingVcpu>(std::move(inner), memory);
}

}  // namespace rrvm
