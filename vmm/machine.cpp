#include "vmm/machine.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include "vmm/counted_loop.h"
#include "vmm/disassembler.h"
#include "vmm/rep_string.h"
#include "vmm/tsc_sites.h"
#include <stdexcept>
#include <utility>


namespace rrvm {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::DebugExit: return "debug-exit";
    case StopReason::Shutdown: return "shutdown";
    case StopReason::InstructionLimit: return "instruction-limit";
    case StopReason::HaltedForever: return "halted-forever";
    case StopReason::BackendError: return "backend-error";
    case StopReason::TapRequest: return "tap-request";
    case StopReason::Interrupted: return "interrupted";
  }
  return "unknown";
}

namespace {
// A halted guest whose devices keep reaching deadlines without ever raising an
// unmasked interrupt is stuck; give up after this many wake-ups.
constexpr int kMaxIdleWakeups = 100000;

uint64_t vcpu_icount(void* ctx) { return static_cast<Vcpu*>(ctx)->instruction_count().value_or(0); }
}  // namespace

uint64_t MachineClock::now_ns() {
  if (fixed_) return *fixed_;
  if (!machine_.started_) return last_;
  Position pos = machine_.position();
  uint64_t v = machine_.authority_->clock_read(pos);
  last_ = std::max(last_, v);
  for (auto* t : machine_.taps_) t->on_clock_read(pos, v);
  return v;
}

std::optional<uint8_t> Machine::SerialInput::next_byte() {
  auto b = machine_.authority_->serial_byte();
  if (b)
    for (auto* t : machine_.taps_) t->on_serial_input(*b);
  return b;
}

Machine::Machine(std::unique_ptr<GuestMemory> memory, std::unique_ptr<Vcpu> vcpu)
    : memory_(std::move(memory)), vcpu_(std::move(vcpu)) {
  // RRVM_REP_SEARCH=0: single-step through rep iterations as before (to
  // measure what the rep search saves).
  if (const char* e = std::getenv("RRVM_REP_SEARCH"); e && std::string(e) == "0") rep_search_ok_ = false;
  // RRVM_LOOP_SEARCH=0: one stop per pass of a counted loop (to measure).
  if (const char* e = std::getenv("RRVM_LOOP_SEARCH"); e && std::string(e) == "0") loop_search_ok_ = false;
  // RRVM_SEARCH_LIKE_KVM=1 (tests): find recorded points by breakpoint and
  // register compare, as kvm must, even on a backend that counts.
  if (const char* e = std::getenv("RRVM_SEARCH_LIKE_KVM"); e && std::string(e) == "1") search_like_kvm_ = true;
  if (vcpu_->instruction_count()) {
    auto ic = std::make_unique<InstructionClock>(&vcpu_icount, vcpu_.get());
    instruction_clock_ = ic.get();
    source_ = std::move(ic);
  } else {
    source_ = std::make_unique<HostClock>();
  }
}

Machine::~Machine() = default;

uint64_t Machine::source_now_ns() { return source_->now_ns(); }

void Machine::request_exit(int status) {
  if (!exit_request_) exit_request_ = status;
}

void Machine::request_reset(const std::string& source) {
  if (!reset_request_) reset_request_ = source;
}

void Machine::start_time() {
  if (started_) return;
  for (auto* d : timed_) d->start();
  started_ = true;
}

void Machine::add_device_state(std::string name, DeviceState* device) {
  device_states_.emplace_back(std::move(name), device);
}

bool Machine::can_snapshot() const {
  return vcpu_->at_instruction_boundary() && !vcpu_->inside_string_batch() && !exit_request_ && !reset_request_;
}

MachineSnapshot Machine::snapshot(const MachineSnapshot* previous) {
  if (!can_snapshot()) throw std::logic_error("Machine::snapshot: not at an instruction boundary");
  MachineSnapshot s;
  s.cpu = vcpu_->save_cpu();
  s.exits = exits_;
  s.interrupts = interrupts_;
  s.async = in_async_;
  s.after_interrupt = resume_after_interrupt_;
  s.clock_last_ns = clock_.last_;
  s.clock_skipped_ns = instruction_clock_ ? instruction_clock_->skipped_ns() : 0;
  for (const auto& [name, device] : device_states_) s.devices.emplace_back(name, device->save_state());
  // Memory as the guest has it, not with a backend's breakpoint patched in.
  vcpu_->hide_breakpoints(true);
  s.memory = RamImage::capture(memory(), [](const MemorySlot&) { return true; }, previous ? &previous->memory : nullptr);
  vcpu_->hide_breakpoints(false);
  return s;
}

void Machine::restore(const MachineSnapshot& s) {
  // A run that ended inside an instruction (the debug-exit port write) or was
  // paused there: finish it first (everything it does is overwritten below).
  for (int i = 0; i < 64 && !vcpu_->at_instruction_boundary(); ++i) {
    RunLimits finish;
    finish.stop_at_boundary = true;
    Exit e = vcpu_->run(finish);
    if ((e.kind == ExitKind::PortIo || e.kind == ExitKind::Mmio) && !e.is_write) vcpu_->complete_read(0);
  }
  // The replay breakpoint belongs to the timeline left behind: the run loop
  // arms it again for whatever comes next from here.
  bp_target_.reset();
  rep_search_.reset();
  vcpu_->set_breakpoint(std::nullopt);
  vcpu_->set_breakpoint_registers(std::nullopt);
  vcpu_->set_single_step(false);
  for (const auto& entry : device_states_) {
    const std::string& name = entry.first;
    DeviceState* device = entry.second;
    auto it = std::find_if(s.devices.begin(), s.devices.end(), [&](const auto& d) { return d.first == name; });
    if (it == s.devices.end()) throw std::runtime_error("snapshot has no state for device " + name);
    device->load_state(it->second);
  }
  vcpu_->sync_memory_map();  // a device state may have moved or hidden a slot (PCI BARs)
  s.memory.restore(memory(), [this](uint64_t gpa) { vcpu_->invalidate_code(gpa, kPageSize); });
  // What the dirty logs gathered since the snapshot belongs to the timeline
  // left behind too.
  for (const auto& slot : memory().slots()) memory().collect_dirty(slot.id);
  vcpu_->restore_cpu(s.cpu);
  // Without the backend's exact state the CPU is set through its registers,
  // and loading a protected-mode segment sets the accessed bit of its
  // descriptor in guest memory (emu): put those pages back as they were
  // (a snapshot from a trace's keyframe; the next compare finds few).
  if (s.cpu.exact.empty()) {
    s.memory.restore(memory(), [this](uint64_t gpa) { vcpu_->invalidate_code(gpa, kPageSize); });
    for (const auto& slot : memory().slots()) memory().collect_dirty(slot.id);
  }
  exits_ = s.exits;
  interrupts_ = s.interrupts;
  in_async_ = s.async;
  resume_after_interrupt_ = s.after_interrupt;
  async_regs_.reset();
  exit_request_.reset();
  reset_request_.reset();
  clock_.last_ = s.clock_last_ns;
  clock_.fixed_.reset();
  if (instruction_clock_) instruction_clock_->set_skipped_ns(s.clock_skipped_ns);
}

Position Machine::position() const {
  return Position{exits_, vcpu_->instruction_count(), in_async_};
}

const Registers* Machine::async_registers() {
  if (!in_async_) return nullptr;
  if (!async_regs_) async_regs_ = vcpu_->get_registers();
  return &*async_regs_;
}

std::optional<uint64_t> Machine::next_deadline_ns(bool observers) {
  std::optional<uint64_t> best;
  for (auto* d : timed_) {
    if (!observers && !d->stops_guest()) continue;
    auto t = d->next_deadline_ns();
    if (t && (!best || *t < *best)) best = t;
  }
  return best;
}

void Machine::service_devices(uint64_t now_ns) {
  now_ns = std::max(now_ns, clock_.last_);
  clock_.last_ = now_ns;
  clock_.fixed_ = now_ns;
  for (auto* d : timed_) d->advance_to(now_ns);
  clock_.fixed_.reset();
}

// Brings timed devices up to date when the authority says they are due here.
void Machine::service_point() {
  if (timed_.empty()) return;
  Position pos = position();
  auto t = authority_->service_time(pos);
  if (!t) return;
  const Registers* regs = async_registers();
  for (auto* tap : taps_) tap->on_service(pos, *t, regs);
  service_devices(*t);
}

// The controller and the CPU are always asked, so that a replay whose
// devices or CPU disagree with the trace is reported by the authority.
void Machine::deliver_interrupt() {
  const bool pending = pic_ && pic_->has_pending_interrupt();
  const bool ready = vcpu_->can_inject_interrupt();
  Position pos = position();
  InterruptAction action = authority_->interrupt_action(pos, pending, ready);
  if (action != InterruptAction::Inject) {
    vcpu_->request_interrupt_window(action == InterruptAction::RequestWindow);
    return;
  }
  std::optional<uint8_t> acknowledged;
  if (pending) acknowledged = pic_->acknowledge_interrupt();
  std::optional<uint8_t> vector = authority_->vector_to_inject(pos, acknowledged, ready);
  if (vector && ready) {
    const Registers* regs = async_registers();
    for (auto* t : taps_) t->on_interrupt(pos, *vector, regs);
    vcpu_->inject_interrupt(*vector);
    ++interrupts_;
  }
  vcpu_->request_interrupt_window(false);
}

bool Machine::handle_halt(RunResult* result) {
  auto halted_forever = [&](std::string message) {
    result->reason = StopReason::HaltedForever;
    result->exit_status = kExitHaltedForever;
    result->message = std::move(message);
    return false;
  };
  for (int idle = 0; idle < kMaxIdleWakeups; ++idle) {
    service_point();
    if (exit_request_ || reset_request_) return true;  // handled by the loop
    if (auto recorded = authority_->halt_ends_run(position())) return halted_forever(*recorded);
    Registers regs = vcpu_->get_registers();
    if (pic_ && pic_->has_pending_interrupt() && regs.interrupts_enabled()) return true;
    if (!regs.interrupts_enabled())
      return halted_forever("guest executed hlt with interrupts disabled (" + format_registers(regs) +
                            "); nothing can wake it");
    // A halted guest can wait long (kvm sleeps to the deadline): taps may
    // stop the run here too, before the wait (the user's SIGINT; in replay
    // the same point, once the events recorded before it are consumed).
    if (taps_want_stop(result)) return false;
    auto deadline = next_deadline_ns(/*observers=*/false);
    if (!deadline)
      return halted_forever("guest halted waiting for an interrupt that no device will raise (" +
                            format_registers(regs) + ")");
    const IdleOutcome waited = authority_->idle_wait(*deadline);
    if (waited == IdleOutcome::NoMoreInput)
      return halted_forever("guest halted and no further input will arrive (" + format_registers(regs) + ")");
    if (waited == IdleOutcome::WaitedForInput) --idle;  // as long as the user takes
  }
  return halted_forever("guest halted and no unmasked interrupt arrived in " + std::to_string(kMaxIdleWakeups) +
                        " device deadlines");
}

void Machine::dispatch(const Exit& exit) {
  if (tsc_ports_ && exit.kind == ExitKind::PortIo && exit.is_write && exit.size == 1 &&
      (exit.address == kTscReadPort || exit.address == kTscReadAuxPort)) {
    read_tsc(exit.address == kTscReadAuxPort);
    return;
  }
  IoBus& bus = exit.kind == ExitKind::PortIo ? ports_ : mmio_;
  if (exit.is_write) {
    bus.write(exit.address, exit.size, exit.data);
    return;
  }
  Position pos = position();
  uint64_t value = authority_->read_value(pos, exit, bus.read(exit.address, exit.size));
  for (auto* t : taps_) t->on_read(pos, exit, value);
  vcpu_->complete_read(value);
}

// A patched rdtsc (or rdtscp, `aux`) exited through its out: the value is
// an input like a port read's, asked of the authority and shown to the taps.
void Machine::read_tsc(bool aux) {
  const Position pos = position();
  const uint64_t value = authority_->tsc_read(pos);
  ++tsc_reads_;
  for (auto* t : taps_) t->on_tsc_read(pos, value);
  vcpu_->set_out_results(static_cast<uint32_t>(value), static_cast<uint32_t>(value >> 32),
                         aux ? std::optional<uint32_t>(kTscAux) : std::nullopt);
}

void Machine::plan_limits(RunLimits* limits) {
  StopPlan plan = authority_->next_stop(exits_);
  if (plan.target) {
    if (plan.target->icount && instruction_clock_ && !search_like_kvm_) {
      limits->stop_at_icount = plan.target->icount;
    } else if (!bp_target_) {
      bp_target_ = plan.target;
      vcpu_->set_single_step(false);
      if (!search_like_kvm_) vcpu_->set_breakpoint_registers(plan.target->regs);
      vcpu_->set_breakpoint(plan.target->pc);
    }
  }
  if (plan.deadline_ns) {
    if (instruction_clock_) {
      // Inside a rep ins batch the next element is an exit, where the
      // devices are serviced: no stop between elements, a state a kvm
      // replay could not reach (KVM emulates the batch without entering the
      // guest).
      uint64_t at = instruction_clock_->icount_at(*plan.deadline_ns);
      if (!vcpu_->inside_string_batch() && (!limits->stop_at_icount || at < *limits->stop_at_icount))
        limits->stop_at_icount = at;
    } else {
      uint64_t now = source_now_ns();
      limits->deadline_host_ns =
          HostClock::host_monotonic_ns() + (*plan.deadline_ns > now ? *plan.deadline_ns - now : 0);
      defer_kick_while_masked(limits);
    }
  }
  // Mid-instruction the count includes the instruction under way: a pause
  // at it is the boundary after it.
  if (pause_icount_ && vcpu_->retired_count() &&
      (*vcpu_->retired_count() < *pause_icount_ || !vcpu_->at_instruction_boundary()) &&
      (!limits->stop_at_icount || *pause_icount_ < *limits->stop_at_icount))
    limits->stop_at_icount = pause_icount_;
  if (instruction_limit_ && instruction_clock_ &&
      (!limits->stop_at_icount || *instruction_limit_ < *limits->stop_at_icount))
    limits->stop_at_icount = instruction_limit_;
  limits->stop_at_boundary = boundary_wanted_ && !vcpu_->at_instruction_boundary();
}

// Live without an instruction count (kvm): while the guest cannot take an
// interrupt, a device deadline changes nothing it can see before its next
// exit (devices are read through exits, nothing can be injected, and a
// pending interrupt asks for a window, whose opening is an exit). So a kick
// that finds interrupts off services nothing (LiveInputs::service_time), and
// the next looks again kMaskedKickRecheckNs later, until an exit services
// the devices or a kick finds interrupts on.
// Points inside guest execution then fall where the guest can be interrupted,
// not inside the counting loops firmware runs with IF=0 (a memset of
// SeaBIOS's POST), which a replay without an instruction count finds only by
// a breakpoint stop per pass.
void Machine::defer_kick_while_masked(RunLimits* limits) {
  // The first kick comes at the deadline (the guest may have enabled
  // interrupts since this exit); only a deadline already past, after a kick
  // that found them off, waits.
  const uint64_t host_now = HostClock::host_monotonic_ns();
  if (!limits->deadline_host_ns || *limits->deadline_host_ns > host_now || vcpu_->can_inject_interrupt()) return;
  limits->deadline_host_ns = host_now + kMaskedKickRecheckNs;
}

// Replay without an instruction count: a breakpoint at the recorded RIP fired
// (or a single step ended). The point is reached when the whole CPU state
// matches; otherwise step past this instruction and re-arm. A rep string
// instruction stops at the same RIP before every iteration: there
// rep_search_step goes straight to the point's iteration (or past the
// instruction) instead of one single step per iteration.
bool Machine::reached_async_target() {
  if (!bp_target_) return false;
  if (rep_search_) rep_search_landed();
  Registers now = vcpu_->get_registers();
  const uint64_t pc = bp_target_->pc;
  const bool at_pc = now.pc_linear() == pc;
  // Compare against memory as the guest has it (kvm patches a hlt in).
  vcpu_->set_breakpoint(std::nullopt);
  const bool found = at_pc && authority_->at_async_target(now);
  count_search_stop(at_pc, found);
  if (found) {
    vcpu_->set_breakpoint_registers(std::nullopt);
    vcpu_->set_single_step(false);
    bp_target_.reset();
    return true;
  }
  if (at_pc && (!instruction_clock_ || search_like_kvm_) && rep_search_ok_ && rep_search_step(now)) {
    search_stepping_ = false;  // the next stop is the breakpoint after the rep
    return false;
  }
  if (at_pc) {
    if (loop_search_ok_ && bp_target_->regs && !vcpu_->retired_count()) counted_loop_jump(now);
    vcpu_->set_single_step(true);
  } else {
    vcpu_->set_single_step(false);
    vcpu_->set_breakpoint(pc);
  }
  return false;
}

namespace {
// Every page of [r.begin, r.end) is RAM the guest can access without an
// exit (writable too when `write`): iterations over it exit nowhere.
bool plain_ram(Vcpu& vcpu, const GuestMemory& memory, const LinearRange& r, bool write) {
  if (r.end <= r.begin) return true;
  constexpr uint64_t kMaxPages = 1u << 16;
  if ((r.end - r.begin) / kPageSize + 2 > kMaxPages) return false;
  for (uint64_t page = r.begin & ~(kPageSize - 1); page < r.end; page += kPageSize) {
    auto gpa = vcpu.translate(std::max(page, r.begin));
    const MemorySlot* slot = gpa ? memory.find_slot(*gpa) : nullptr;
    if (!slot || !slot->mapped || (write && slot->read_only)) return false;
  }
  return true;
}

// The general registers no iteration of `s` changes, and the direction
// flag: when they differ from the point's, this execution of the
// instruction cannot reach it. (Segments and the other flags are left to
// the point's own compare: backends describe segment attributes
// differently.)
bool rep_invariants_match(const RepString& s, const Registers& a, const Registers& b) {
  constexpr uint64_t kDf = 1u << 10;
  const uint64_t mask = s.count_mask();
  return (a.rcx & ~mask) == (b.rcx & ~mask) && (s.op == RepString::Op::Lods || a.rax == b.rax) &&
         a.rbx == b.rbx && a.rdx == b.rdx && a.rbp == b.rbp && a.rsp == b.rsp && a.r8 == b.r8 && a.r9 == b.r9 &&
         a.r10 == b.r10 && a.r11 == b.r11 && a.r12 == b.r12 && a.r13 == b.r13 && a.r14 == b.r14 &&
         a.r15 == b.r15 && (a.rflags & kDf) == (b.rflags & kDf);
}
}  // namespace

// At the RIP of a rep string instruction, the state not the point's. Within
// one execution of it only rCX, rSI, rDI (and rAX for lods, the flags for
// cmps/scas) move, rCX down by one per iteration: the point, if it is in
// this execution, is after (count now - the point's count) iterations.
// Those run in one go: rCX set to that number and a breakpoint right after
// the instruction, where rep_search_landed adds the point's count back
// (and puts RIP back on the instruction if it would go on). An execution
// that cannot hold the point (its count already at or below the point's,
// or an invariant register differing) runs out the same way, unchanged.
// Port string instructions (an exit per element anyway) and memory that is
// not plain RAM (exits, whose checks see rCX) keep single-stepping.
bool Machine::rep_search_step(const Registers& now) {
  std::array<uint8_t, 15> code{};
  const size_t n = read_linear(*vcpu_, *memory_, now.pc_linear(), code);
  const std::optional<RepString> rep = decode_rep_string(std::span(code.data(), n), code_bits(now));
  if (!rep) return false;
  // The point's count: the recorder keeps rCX at points on a rep string
  // instruction (record/recorder.cpp); without it, single steps.
  if (!bp_target_->rcx) return false;
  const uint64_t want_rcx = *bp_target_->rcx;
  const uint64_t mask = rep->count_mask();
  const uint64_t have = rep->count(now), wanted = want_rcx & mask;
  RepSearch s;
  s.rep_linear = now.pc_linear();
  s.length = rep->length;
  s.count_mask = mask;
  s.conditional = rep->cond != RepString::Cond::None;
  s.continues_while_zf = rep->cond == RepString::Cond::WhileEqual;
  Registers run = now;
  // The other registers, where the point has them, tell an execution that
  // cannot hold it; with rCX alone the forward run lands on the point's
  // count, the state compare there says no, and the rest runs out the same.
  const bool may_hold = (now.rcx & ~mask) == (want_rcx & ~mask) &&
                        (!bp_target_->regs || rep_invariants_match(*rep, now, *bp_target_->regs));
  if (have > wanted && may_hold) {
    const uint64_t iterations = have - wanted;
    if (rep->is_io()) return false;
    if (rep->reads_source()) {
      auto r = rep_source_range(*rep, now, iterations);
      if (!r || !plain_ram(*vcpu_, *memory_, *r, false)) return false;
    }
    if (rep->uses_destination()) {
      auto r = rep_destination_range(*rep, now, iterations);
      const bool writes = rep->op == RepString::Op::Movs || rep->op == RepString::Op::Stos;
      if (!r || !plain_ram(*vcpu_, *memory_, *r, writes)) return false;
    }
    s.forward = true;
    s.added_back = wanted;
    run.rcx = (now.rcx & ~mask) | iterations;
  }
  if (!vcpu_->set_breakpoint(s.rep_linear + s.length)) return false;
  if (s.forward) vcpu_->set_registers(run);
  vcpu_->set_single_step(false);
  rep_search_ = s;
  return true;
}

void Machine::rep_search_landed() {
  const RepSearch s = *std::exchange(rep_search_, std::nullopt);
  if (!s.forward) return;
  Registers r = vcpu_->get_registers();
  if (r.pc_linear() != s.rep_linear + s.length) return;
  // 0 unless a repe/repne condition ended the instruction early.
  const uint64_t left = r.rcx & s.count_mask;
  r.rcx = (r.rcx & ~s.count_mask) | ((left + s.added_back) & s.count_mask);
  const bool zf = (r.rflags & (1u << 6)) != 0;
  if (left == 0 && (!s.conditional || zf == s.continues_while_zf)) r.rip -= s.length;
  vcpu_->set_registers(r);
}

// A wrong hit inside a counted loop (vmm/counted_loop.h) whose point has
// full registers: the counter is set to the point's plus one, so that the
// single step past this stop and the breakpoint after it run the one pass
// left; or, when this execution of the loop cannot hold the point, to 1, so
// that the loop ends after one pass. Skipping passes executes nothing the
// guest could see: a pass writes only the counter and flags, which come out
// as the passes would leave them. Only without any instruction count (kvm):
// a count would lose the passes skipped.
void Machine::counted_loop_jump(const Registers& now) {
  const std::optional<CountedLoop> loop = counted_loop_at(*vcpu_, *memory_, now);
  if (!loop) return;
  if (std::optional<LoopSkip> skip = counted_loop_skip(*loop, now, *bp_target_->regs)) {
    vcpu_->set_registers(skip->regs);
    ++search_stats_.loop_jumps;
  }
}

// The stop just taken was a single step when the previous one stepped past
// a wrong hit (reached_async_target arms a step exactly then).
void Machine::count_search_stop(bool at_pc, bool found) {
  ++search_stops_;
  if (search_stepping_) ++search_stats_.steps;
  else ++search_stats_.hits;
  search_stepping_ = !found && at_pc;
  if (!found) return;
  ++search_stats_.points;
  search_stats_.max_stops = std::max(search_stats_.max_stops, search_stops_);
  if (search_observer_ && bp_target_) search_observer_(bp_target_->pc, search_stops_);
  search_stops_ = 0;
}

RunResult Machine::run() { return *run_loop(false); }

std::optional<RunResult> Machine::run_until_pause() { return run_loop(true); }

std::optional<RunResult> Machine::run_loop(bool honour_pause) {
  RunResult result;
  start_time();
  try {
    if (run_until_stop(&result, honour_pause)) return std::nullopt;
  } catch (const VcpuError& e) {
    result.reason = StopReason::BackendError;
    result.exit_status = kExitBackendError;
    result.message = std::string(vcpu_->backend_name()) + " backend error: " + e.what();
  }
  result.exits = exits_;
  result.interrupts = interrupts_;
  Position pos = position();
  for (auto* t : taps_) t->on_stop(pos, result);
  return result;
}

bool Machine::run_until_stop(RunResult* result, bool honour_pause) {
  auto finish = [&](StopReason reason, int status, std::string message) {
    result->reason = reason;
    result->exit_status = status;
    result->message = std::move(message);
  };
  for (;;) {
    if (!std::exchange(resume_after_interrupt_, false)) {
      if (exit_boundary_wanted_ && at_exit_ && !exit_request_ && !reset_request_ &&
          !vcpu_->at_instruction_boundary())
        vcpu_->finish_instruction();
      if (vcpu_->at_instruction_boundary()) {
        boundary_wanted_ = false;
        if (at_exit_) exit_boundary_wanted_ = false;
        const Position pos = position();
        bool pause = false;
        for (auto* t : taps_) pause |= t->on_boundary(pos);
        if (pause && honour_pause) return true;
      }
      service_point();
      if (exit_request_) {
        finish(StopReason::DebugExit, *exit_request_,
               "guest requested exit with status " + std::to_string(*exit_request_));
        return false;
      }
      if (reset_request_) {
        finish(StopReason::Shutdown, kExitTripleFault,
               "guest reset the machine (" + *reset_request_ + "); rrvm ends the run at a reset");
        return false;
      }
      const uint64_t delivered = interrupts_;
      deliver_interrupt();
      if (interrupts_ != delivered && vcpu_->at_instruction_boundary()) {
        const Position pos = position();
        bool pause = false;
        for (auto* t : taps_) pause |= t->on_interrupt_boundary(pos);
        if (pause && honour_pause) {
          resume_after_interrupt_ = true;
          return true;
        }
      }
    }

    RunLimits limits;
    plan_limits(&limits);
    Exit exit = vcpu_->run(limits);
    // The CPU may have moved: the point is asynchronous only when this stop
    // says so below (a breakpoint that found the wrong state does not).
    in_async_ = false;
    async_regs_.reset();
    at_exit_ = exit.kind == ExitKind::PortIo || exit.kind == ExitKind::Mmio || exit.kind == ExitKind::Halt ||
               exit.kind == ExitKind::IrqWindowOpen;
    Position pos = position();
    switch (exit.kind) {
      case ExitKind::PortIo:
      case ExitKind::Mmio:
        for (auto* t : taps_) t->on_exit(pos, exit);
        ++exits_;
        dispatch(exit);
        break;
      case ExitKind::Halt:
        for (auto* t : taps_) t->on_exit(pos, exit);
        ++exits_;
        if (!handle_halt(result)) return false;
        break;
      case ExitKind::IrqWindowOpen:
        for (auto* t : taps_) t->on_exit(pos, exit);
        ++exits_;
        break;
      case ExitKind::StopAtPosition:
        if (instruction_limit_ && pos.icount && *pos.icount >= *instruction_limit_) {
          finish(StopReason::InstructionLimit, kExitInstructionLimit,
                 "guest ran past --max-instructions " + std::to_string(*instruction_limit_) + " (" +
                     format_registers(vcpu_->get_registers()) + ")");
          return false;
        }
        in_async_ = true;
        break;
      case ExitKind::Kicked:
        in_async_ = true;
        break;
      case ExitKind::Debug:
        // Inside guest execution whether or not it is the replay's point (a
        // point is matched by instruction count, or by the search's verdict).
        reached_async_target();
        in_async_ = true;
        for (auto* t : taps_) t->on_debug(position(), exit);
        break;
      case ExitKind::Shutdown:
        finish(StopReason::Shutdown, kExitTripleFault, "guest triple-faulted (shutdown): " + exit.message);
        return false;
    }
    if (taps_want_stop(result)) return false;
  }
}

bool Machine::taps_want_stop(RunResult* result) {
  for (auto* t : taps_) {
    // A tap that stops the run may name another reason (the recorder: the
    // user interrupted it; the replayer: the recorded end reached).
    result->reason = StopReason::TapRequest;
    if (t->wants_stop(result)) return true;
  }
  return false;
}

}  // namespace rrvm
