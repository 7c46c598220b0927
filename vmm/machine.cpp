#include "vmm/machine.h"

#include <ctime>

namespace rrvm {

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::DebugExit: return "debug-exit";
    case StopReason::Shutdown: return "shutdown";
    case StopReason::InstructionLimit: return "instruction-limit";
    case StopReason::HaltedForever: return "halted-forever";
    case StopReason::BackendError: return "backend-error";
    case StopReason::TapRequest: return "tap-request";
  }
  return "unknown";
}

namespace {
// A halted guest whose devices keep reaching deadlines without ever raising an
// unmasked interrupt is stuck; give up after this many wake-ups.
constexpr int kMaxIdleWakeups = 100000;

uint64_t vcpu_icount(void* ctx) { return static_cast<Vcpu*>(ctx)->instruction_count().value_or(0); }
}  // namespace

Machine::Machine(std::unique_ptr<GuestMemory> memory, std::unique_ptr<Vcpu> vcpu)
    : memory_(std::move(memory)), vcpu_(std::move(vcpu)) {
  if (vcpu_->instruction_count()) {
    auto ic = std::make_unique<InstructionClock>(&vcpu_icount, vcpu_.get());
    instruction_clock_ = ic.get();
    clock_ = std::move(ic);
  } else {
    clock_ = std::make_unique<HostClock>();
  }
}

Machine::~Machine() = default;

void Machine::request_exit(int status) {
  if (!exit_request_) exit_request_ = status;
}

Position Machine::position() const {
  return Position{exits_, vcpu_->instruction_count()};
}

std::optional<uint64_t> Machine::next_deadline_ns() {
  std::optional<uint64_t> best;
  for (auto* d : timed_) {
    auto t = d->next_deadline_ns();
    if (t && (!best || *t < *best)) best = t;
  }
  return best;
}

void Machine::service_timers() {
  if (timed_.empty()) return;
  uint64_t now = clock_->now_ns();
  for (auto* d : timed_) d->advance_to(now);
}

bool Machine::try_inject(bool /*from_window*/) {
  if (!pic_ || !pic_->has_pending_interrupt()) {
    vcpu_->request_interrupt_window(false);
    return false;
  }
  if (!vcpu_->can_inject_interrupt()) {
    vcpu_->request_interrupt_window(true);
    return false;
  }
  Position pos = position();
  uint8_t vector = pic_->acknowledge_interrupt();
  for (auto* t : taps_) t->on_interrupt(pos, vector, false);
  vcpu_->inject_interrupt(vector);
  vcpu_->request_interrupt_window(false);
  ++interrupts_;
  return true;
}

bool Machine::handle_halt(RunResult* result) {
  for (int idle = 0; idle < kMaxIdleWakeups; ++idle) {
    service_timers();
    if (exit_request_) return true;  // handled by the loop
    Registers regs = vcpu_->get_registers();
    if (pic_ && pic_->has_pending_interrupt() && regs.interrupts_enabled()) return true;
    if (!regs.interrupts_enabled()) {
      result->reason = StopReason::HaltedForever;
      result->exit_status = kExitHaltedForever;
      result->message = "guest executed hlt with interrupts disabled (" + format_registers(regs) +
                        "); nothing can wake it";
      return false;
    }
    auto deadline = next_deadline_ns();
    if (!deadline) {
      result->reason = StopReason::HaltedForever;
      result->exit_status = kExitHaltedForever;
      result->message = "guest halted waiting for an interrupt that no device will raise (" +
                        format_registers(regs) + ")";
      return false;
    }
    if (instruction_clock_) {
      instruction_clock_->skip_to(*deadline);
    } else {
      uint64_t now = clock_->now_ns();
      if (*deadline > now) {
        uint64_t wait = *deadline - now;
        timespec ts{time_t(wait / 1000000000ull), long(wait % 1000000000ull)};
        nanosleep(&ts, nullptr);
      }
    }
  }
  result->reason = StopReason::HaltedForever;
  result->exit_status = kExitHaltedForever;
  result->message = "guest halted and no unmasked interrupt arrived in " +
                    std::to_string(kMaxIdleWakeups) + " device deadlines";
  return false;
}

void Machine::dispatch(const Exit& exit) {
  IoBus& bus = exit.kind == ExitKind::PortIo ? ports_ : mmio_;
  if (exit.is_write) {
    bus.write(exit.address, exit.size, exit.data);
    return;
  }
  Position pos = position();
  uint64_t value = bus.read(exit.address, exit.size);
  for (auto* t : taps_) value = t->on_read(pos, exit, value);
  vcpu_->complete_read(value);
}

RunResult Machine::run() {
  RunResult result;
  auto finish = [&](StopReason reason, int status, std::string message) {
    result.reason = reason;
    result.exit_status = status;
    result.message = std::move(message);
  };
  for (;;) {
    service_timers();
    if (exit_request_) {
      finish(StopReason::DebugExit, *exit_request_, "guest requested exit with status " +
                                                      std::to_string(*exit_request_));
      break;
    }
    try_inject(false);

    RunLimits limits;
    auto deadline = next_deadline_ns();
    if (instruction_clock_) {
      std::optional<uint64_t> stop;
      if (deadline) stop = instruction_clock_->icount_at(*deadline);
      if (instruction_limit_ && (!stop || *instruction_limit_ < *stop)) stop = instruction_limit_;
      limits.stop_at_icount = stop;
    } else if (deadline) {
      uint64_t now = clock_->now_ns();
      limits.deadline_host_ns =
          HostClock::host_monotonic_ns() + (*deadline > now ? *deadline - now : 0);
    }

    Exit exit = vcpu_->run(limits);
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
        if (!handle_halt(&result)) goto stopped;
        break;
      case ExitKind::IrqWindowOpen:
        for (auto* t : taps_) t->on_exit(pos, exit);
        ++exits_;
        try_inject(true);
        break;
      case ExitKind::StopAtPosition:
        if (instruction_limit_ && pos.icount && *pos.icount >= *instruction_limit_) {
          finish(StopReason::InstructionLimit, kExitInstructionLimit,
                 "guest ran past --max-instructions " + std::to_string(*instruction_limit_) +
                     " (" + format_registers(vcpu_->get_registers()) + ")");
          goto stopped;
        }
        break;
      case ExitKind::Kicked:
      case ExitKind::Debug:
        break;
      case ExitKind::Shutdown:
        finish(StopReason::Shutdown, kExitTripleFault,
               "guest triple-faulted (shutdown): " + exit.message);
        goto stopped;
      case ExitKind::Error:
        finish(StopReason::BackendError, kExitBackendError,
               std::string(vcpu_->backend_name()) + " backend error: " + exit.message);
        goto stopped;
    }
    for (auto* t : taps_) {
      if (t->wants_stop(&result)) {
        result.reason = StopReason::TapRequest;
        goto stopped;
      }
    }
  }
stopped:
  result.exits = exits_;
  result.interrupts = interrupts_;
  {
    Position pos = position();
    for (auto* t : taps_) t->on_stop(pos, result);
  }
  return result;
}

}  // namespace rrvm
