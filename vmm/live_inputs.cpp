#include "vmm/live_inputs.h"

#include <algorithm>
#include <ctime>

#include "vmm/machine.h"

namespace rrvm {

uint64_t LiveInputs::read_value(const Position&, const Exit&, uint64_t device_value) { return device_value; }

uint64_t LiveInputs::clock_read(const Position&) { return machine_.source_now_ns(); }

// The time source itself (what a device's clock read gives here), so a TSC
// read is never below a recorded clock sample or service point before it nor
// above one after it: the window the replayer checks.
uint64_t LiveInputs::tsc_read(const Position&) {
  last_tsc_ = std::max(last_tsc_, machine_.source_now_ns());
  return last_tsc_;
}

std::optional<uint64_t> LiveInputs::service_time(const Position& pos) {
  // Observers (the display sampler) are met at exits, never inside guest
  // execution: a stop there that no guest-stopping device asked for (the
  // recorder's pause for a keyframe) leaves the devices alone, so the
  // recording is the same with or without such stops.
  uint64_t now = machine_.source_now_ns();
  const bool host_time = !machine_.instruction_clock();
  if (host_time && !pos.async) spacing_.observe_exit(pos.exit_ordinal, now);
  auto deadline = machine_.next_deadline_ns(/*observers=*/!pos.async);
  if (!deadline) return std::nullopt;
  // Without an instruction count (kvm) a kick that finds interrupts off is
  // only a look (Machine::defer_kick_while_masked): the devices wait for the
  // next exit, where the guest can see them.
  if (pos.async && host_time && !machine_.vcpu().can_inject_interrupt()) return std::nullopt;
  // Between elements of a rep ins batch (a stop at a count there: a pause
  // for a keyframe, a debugger's) likewise: KVM never shows that state to a
  // replay, and the batch's next element is an exit.
  if (pos.async && machine_.vcpu().inside_string_batch()) return std::nullopt;
  if (now < *deadline || now < earliest_service_ns()) return std::nullopt;
  if (host_time) spacing_.serviced(now);
  return now;
}

uint64_t LiveInputs::earliest_service_ns() const {
  return machine_.instruction_clock() ? 0 : spacing_.earliest_service_ns();
}

InterruptAction LiveInputs::interrupt_action(const Position&, bool pending, bool cpu_ready) {
  if (!pending) return InterruptAction::None;
  return cpu_ready ? InterruptAction::Inject : InterruptAction::RequestWindow;
}

std::optional<uint8_t> LiveInputs::vector_to_inject(const Position&, std::optional<uint8_t> acknowledged, bool) {
  return acknowledged;
}

StopPlan LiveInputs::next_stop(uint64_t) {
  StopPlan plan;
  plan.deadline_ns = machine_.next_deadline_ns(/*observers=*/false);
  if (plan.deadline_ns) plan.deadline_ns = std::max(*plan.deadline_ns, earliest_service_ns());
  return plan;
}

IdleOutcome LiveInputs::idle_wait(uint64_t deadline_ns) {
  if (InstructionClock* ic = machine_.instruction_clock()) {
    // Guest time is the instruction count, so an idle guest would race
    // through every deadline before a user types: with input that arrives in
    // real time, idle guest time passes in host time (the recording logs
    // where each byte arrived, so replay needs no waiting).
    IdleOutcome outcome = IdleOutcome::Waited;
    const uint64_t now = ic->now_ns();
    if (serial_ && !serial_->at_end() && deadline_ns > now && serial_->wait_ready(deadline_ns - now))
      outcome = IdleOutcome::WaitedForInput;
    ic->skip_to(deadline_ns);
    return outcome;
  }
  uint64_t now = machine_.source_now_ns();
  deadline_ns = std::max(deadline_ns, earliest_service_ns());
  if (deadline_ns > now) {
    uint64_t wait = deadline_ns - now;
    timespec ts{time_t(wait / 1000000000ull), long(wait % 1000000000ull)};
    nanosleep(&ts, nullptr);
  }
  return IdleOutcome::Waited;
}

std::optional<uint8_t> LiveInputs::serial_byte() { return serial_ ? serial_->next_byte() : std::nullopt; }

bool LiveInputs::serial_at_end() { return !serial_ || serial_->at_end(); }

}  // namespace rrvm
