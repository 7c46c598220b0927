#include "replay/replayer.h"

#include <stdexcept>
#include <vector>

#include "trace/trace_inspect.h"
#include "vmm/cpu_state.h"
#include "vmm/format.h"

namespace rrvm {

namespace {
constexpr size_t kRecentEvents = 8;

std::string describe_exit(TraceExitKind kind, bool write, uint64_t address, unsigned size, uint64_t data,
                          bool with_data) {
  std::string s = trace_exit_kind_name(kind);
  if (kind == TraceExitKind::PortIo || kind == TraceExitKind::Mmio) {
    s += write ? " write " : " read ";
    s += hex(address) + " size " + std::to_string(size);
    if (with_data) s += " data " + hex(data);
  }
  return s;
}

const KickState* async_point_of(const TraceEvent& e) {
  if (auto* s = std::get_if<ServicePointEvent>(&e.body); s && s->async) return &*s->async;
  if (auto* i = std::get_if<InterruptEvent>(&e.body); i && i->kicked) return &*i->kicked;
  return nullptr;
}

// Does the live CPU state equal the recorded point's? By the registers where
// the trace has them, else by the hash.
bool same_point(const Registers& live, const KickState& k) {
  if (k.registers) return same_execution_point(live, *k.registers) && live.pc_linear() == k.pc;
  return execution_point_hash(live) == k.state_hash && live.pc_linear() == k.pc;
}

std::string describe_point(const KickState& k) {
  return "state hash " + hex(k.state_hash) + " at pc " + hex(k.pc);
}
}  // namespace

Replayer::Replayer(const TraceReader& reader, Machine& machine, ReplayOptions options)
    : reader_(reader), machine_(machine), options_(options), cursor_(reader.events(0, /*page_bytes=*/false)) {
  if (!machine_.vcpu().instruction_count()) changed_pages_.emplace(machine_.memory());
}

ReplayerState Replayer::save_state() const {
  if (divergence_) throw std::logic_error("Replayer::save_state after a divergence");
  ReplayerState st{consumed_, last_clock_, recorded_vector_, target_reached_, recent_, std::nullopt};
  // A timeline's checkpoint on kvm: the digest's reference goes with it.
  if (changed_pages_) st.digest_reference = changed_pages_->reference_changes();
  st.last_tsc = last_tsc_;
  return st;
}

void Replayer::restore_state(const ReplayerState& state) {
  if (changed_pages_) {
    if (!state.digest_reference)
      throw std::logic_error("Replayer::restore_state without the digest reference on a backend without an instruction count");
    changed_pages_->restart(*state.digest_reference);
  }
  // Display frames are skipped (replay renders its own): no page bytes, so
  // the cursor starts at the frame holding the event, not at a keyframe.
  cursor_ = reader_.events(state.consumed, /*page_bytes=*/false);
  peeked_.reset();
  ended_ = false;
  divergence_.reset();
  consumed_ = state.consumed;
  last_clock_ = state.last_clock;
  last_tsc_ = state.last_tsc;
  recorded_vector_ = state.recorded_vector;
  target_reached_ = state.target_reached;
  recent_ = state.recent;
  candidate_note_.clear();
  candidate_misses_ = 0;
}

const TraceEvent* Replayer::peek() {
  while (!peeked_ && !ended_) {
    const TraceEvent* e = nullptr;
    try {
      e = cursor_.next();
    } catch (const TraceError& err) {
      ended_ = true;
      diverge("trace", "readable events", err.what());
      break;
    }
    if (!e) {
      ended_ = true;
      break;
    }
    // Display frames are for offline reconstruction; replay renders its own.
    if (e->kind() == TraceEventKind::DisplayFrame) {
      ++consumed_;
      continue;
    }
    peeked_ = *e;
  }
  return peeked_ ? &*peeked_ : nullptr;
}

void Replayer::consume() {
  if (!peeked_) return;
  // Kept as events, formatted only for a report: formatting every event was
  // a tenth of an emu replay.
  recent_.emplace_back(consumed_, std::move(*peeked_));
  if (recent_.size() > kRecentEvents) recent_.pop_front();
  peeked_.reset();
  ++consumed_;
}

bool Replayer::at_end() {
  peek();
  return ended_ && !peeked_;
}

void Replayer::diverge(const std::string& what, const std::string& expected, const std::string& actual) {
  if (divergence_) return;
  DivergenceReport r;
  r.event_ordinal = consumed_;
  r.position = machine_.position();
  r.what = what;
  r.expected = expected;
  r.actual = actual;
  if (!candidate_note_.empty()) r.actual += " (while searching for the point: " + candidate_note_ + ")";
  else if (candidate_misses_)
    r.actual += " (while searching for the point: " + std::to_string(candidate_misses_) +
                " stops at the recorded pc had another CPU state)";
  capture_cpu(r, machine_.vcpu(), machine_.memory());
  for (const auto& [ordinal, event] : recent_) r.recent_events.push_back(format_event_text(ordinal, event));
  divergence_ = std::move(r);
}

void Replayer::skip_checksums() {
  while (const TraceEvent* e = peek()) {
    auto* c = std::get_if<CpuChecksumEvent>(&e->body);
    if (!c) return;
    if (options_.verify_cpu_checksums) {
      uint64_t live = register_state_hash(machine_.vcpu().get_registers());
      if (live != c->register_hash) {
        diverge("CPU state checksum at exit " + std::to_string(c->exit_ordinal), hex(c->register_hash), hex(live));
        return;
      }
    }
    consume();
  }
}

// Checks the next trace event is this exit. Reads are checked in read_value: the
// recorder logs them after the device answered, so clock reads the device
// made while answering come first in the trace.
bool Replayer::expect_exit(const Exit& exit, bool check_data) {
  skip_checksums();
  if (divergence_) return false;
  const TraceEvent* e = peek();
  TraceExitKind kind = trace_exit_kind(exit.kind);
  // Described only for a report: formatting it at every exit was measurable.
  auto live = [&] { return describe_exit(kind, exit.is_write, exit.address, exit.size, exit.data, exit.is_write); };
  if (!e) {
    const auto& end = reader_.end();
    if (end && end->reason == StopReason::InstructionLimit && !machine_.vcpu().instruction_count())
      diverge("exit sequence",
              "end of trace (the recording stopped at --max-instructions " +
                  std::to_string(end->instruction_count.value_or(0)) +
                  ", a point this backend cannot stop at: replay it with --backend emu)",
              live());
    else if (end)
      diverge("exit sequence", "end of trace", live());
    return false;  // truncated trace: wants_stop ends the run
  }
  auto* x = std::get_if<ExitEvent>(&e->body);
  bool io = kind == TraceExitKind::PortIo || kind == TraceExitKind::Mmio;
  if (!x || x->kind != kind ||
      (io && (x->is_write != exit.is_write || x->address != exit.address || x->size != exit.size))) {
    diverge("exit sequence", format_event_text(consumed_, *e), live());
    return false;
  }
  if (check_data && x->data != exit.data) {
    diverge("value written to " + hex(exit.address), hex(x->data), hex(exit.data));
    return false;
  }
  return true;
}

void Replayer::on_exit(const Position&, const Exit& exit) {
  bool io = exit.kind == ExitKind::PortIo || exit.kind == ExitKind::Mmio;
  if (io && !exit.is_write) {
    skip_checksums();  // logged before the exit, like every checksum
    return;            // the exit itself is checked in read_value
  }
  if (expect_exit(exit, io)) consume();
}

uint64_t Replayer::read_value(const Position&, const Exit& exit, uint64_t device_value) {
  if (!expect_exit(exit, false)) return device_value;
  uint64_t recorded = std::get<ExitEvent>(peek()->body).data;
  if (device_value != recorded)
    diverge(std::string(exit.kind == ExitKind::PortIo ? "port" : "MMIO") + " read at " + hex(exit.address) +
                ": device model answered differently",
            hex(recorded), hex(device_value));
  consume();
  return recorded;
}

bool Replayer::wants_stop(RunResult* result) {
  if (divergence_) {
    result->exit_status = kExitDivergence;
    result->message = divergence_->headline();
    return true;
  }
  if (options_.until_event && consumed_ >= *options_.until_event) {
    result->exit_status = kExitOk;
    const uint64_t asked = *options_.until_event;
    if (consumed_ == asked)
      result->message = "stopped at event " + std::to_string(consumed_) + " as asked (--until)";
    else
      result->message = "stopped at event " + std::to_string(consumed_) + ", not " + std::to_string(asked) +
                        " as asked (--until): replay stops only between exits, and the events up to the first "
                        "exit boundary after event " +
                        std::to_string(asked) + " belong together";
    return true;
  }
  // A recording the user interrupted ends after the same exit here.
  if (const auto& end = reader_.end();
      end && end->reason == StopReason::Interrupted && machine_.at_exit_boundary() && at_end() &&
      machine_.position().exit_ordinal >= end->exit_count) {
    result->reason = StopReason::Interrupted;
    result->exit_status = end->exit_status;
    result->message = end->message;
    return true;
  }
  if (at_end() && !reader_.end()) {
    result->exit_status = kExitOk;
    result->message = "replayed every readable event of a truncated trace (" + std::to_string(consumed_) +
                      " events)";
    return true;
  }
  return false;
}

std::optional<AsyncTarget> Replayer::next_async_target(uint64_t exit_ordinal) {
  if (divergence_) return std::nullopt;
  const TraceEvent* e = peek();
  if (!e) return std::nullopt;
  AsyncTarget t;
  t.exit_ordinal = exit_ordinal;
  const KickState* k = nullptr;
  if (auto* s = std::get_if<ServicePointEvent>(&e->body); s && s->async && s->exit_ordinal == exit_ordinal) {
    t.icount = s->icount;
    k = &*s->async;
  } else if (auto* i = std::get_if<InterruptEvent>(&e->body); i && i->kicked && i->exit_ordinal == exit_ordinal) {
    t.icount = i->icount;
    k = &*i->kicked;
  } else {
    return std::nullopt;
  }
  t.pc = k->pc;
  t.regs = k->registers;
  t.rcx = k->rcx();
  // A point the CPU has already passed can never be reached.
  auto now = machine_.vcpu().instruction_count();
  if (t.icount && now && *t.icount <= *now) {
    diverge("asynchronous event position", "icount " + std::to_string(*t.icount),
            "the CPU is already at icount " + std::to_string(*now));
    return std::nullopt;
  }
  return t;
}

bool Replayer::at_async_target(const Registers& regs) {
  const TraceEvent* e = peek();
  const KickState* k = e ? async_point_of(*e) : nullptr;
  if (!k) return false;
  if (!same_point(regs, *k)) {
    ++candidate_misses_;
    return false;
  }
  // Registers equal; where the trace has a memory digest and this backend
  // has no instruction count, memory must agree too (a loop whose registers
  // repeat while it counts in memory).
  if (k->dirty_pages_digest && changed_pages_) {
    changed_pages_->collect();
    if (kvm_point_digest(changed_pages_->digest(), regs.rflags, reader_.format_version()) != k->dirty_pages_digest) {
      candidate_note_ = "a stop at pc " + hex(k->pc) +
                        " had the recorded registers but not the recorded memory (changed-pages digest)";
      return false;
    }
    changed_pages_->commit();
  }
  candidate_note_.clear();
  candidate_misses_ = 0;
  target_reached_ = true;
  return true;
}

// A point reached by its instruction count (both sides count): the CPU
// state there must be the recorded one too.
bool Replayer::check_point_state(const TraceEvent& e) {
  const KickState* k = async_point_of(e);
  if (!k) return true;
  Registers live = machine_.vcpu().get_registers();
  if (same_point(live, *k)) return true;
  const KickState now = KickState::at(live);
  std::string actual = describe_point(now);
  if (k->registers) actual += " (differs in " + execution_point_difference(*k->registers, live) + ")";
  else actual += " (the trace keeps full registers only at every " + std::to_string(kTraceFullRegistersEvery) +
                 "th point)";
  diverge("CPU state at an asynchronous point", describe_point(*k), actual);
  return false;
}

bool Replayer::async_matches(const Position& pos, uint64_t exit_ordinal, const std::optional<uint64_t>& icount,
                             bool async) {
  if (exit_ordinal != pos.exit_ordinal || async != pos.async) return false;
  if (!async) return true;
  // Inside guest execution the point is the recorded one when both sides
  // count instructions and agree, or when the breakpoint search found it;
  // any other stop (a pause, a snapshot) is just somewhere on the way.
  if (icount && pos.icount) return *icount == *pos.icount;
  return target_reached_;
}

std::optional<uint64_t> Replayer::service_time(const Position& pos) {
  if (divergence_) return std::nullopt;
  const TraceEvent* e = peek();
  auto* s = e ? std::get_if<ServicePointEvent>(&e->body) : nullptr;
  if (!s || !async_matches(pos, s->exit_ordinal, s->icount, s->async.has_value())) return std::nullopt;
  if (s->async && s->icount && pos.icount && !check_point_state(*e)) return std::nullopt;
  uint64_t ns = s->ns;
  consume();
  last_clock_ = std::max(last_clock_, ns);
  return ns;
}

uint64_t Replayer::clock_read(const Position&) {
  const TraceEvent* e = peek();
  auto* c = e ? std::get_if<ClockSampleEvent>(&e->body) : nullptr;
  if (!c) {
    // A truncated trace simply ends here (wants_stop reports it); a complete
    // one, or another event, means replay asked for time the recording did not.
    if (!divergence_ && (e || reader_.end()))
      diverge("clock read", e ? format_event_text(consumed_, *e) : "end of trace", "a device read the clock");
    return last_clock_;
  }
  uint64_t ns = c->ns;
  consume();
  last_clock_ = std::max(last_clock_, ns);
  return ns;
}

uint64_t Replayer::tsc_read(const Position&) {
  const TraceEvent* e = peek();
  auto* t = e ? std::get_if<TscReadEvent>(&e->body) : nullptr;
  if (!t) {
    if (!divergence_ && (e || reader_.end()))
      diverge("TSC read", e ? format_event_text(consumed_, *e) : "end of trace",
              "the guest read the TSC (a patched rdtsc/rdtscp)");
    return std::max(last_tsc_, last_clock_);
  }
  const uint64_t value = t->value;
  // Where the recording's time source puts it (trace.capnp
  // EventBatch.tscReads): no earlier than the previous TSC read and the
  // latest recorded guest time, no later than the next service point or
  // clock sample in the frame already decoded, and, against the next TSC
  // reads there, not above both of the next two: one value raised sits above
  // every read after it until time catches up, while one lowered (the next
  // one) leaves this one below the read after it and is found at its own
  // event by the lower bound. Where the frame or a recorded guest time comes
  // before the second next read, a value above the next read only is left
  // to that read's lower bound (it cannot tell which of the two is wrong).
  const uint64_t low = std::max(last_tsc_, last_clock_);
  std::optional<uint64_t> device_high;
  std::vector<uint64_t> next_tsc;
  for (const TraceEvent& next : cursor_.rest_of_frame()) {
    if (auto* n = std::get_if<TscReadEvent>(&next.body)) {
      if (next_tsc.size() < 2) next_tsc.push_back(n->value);
    } else if (auto* c = std::get_if<ClockSampleEvent>(&next.body)) {
      device_high = c->ns;
    } else if (auto* sp = std::get_if<ServicePointEvent>(&next.body)) {
      device_high = sp->ns;
    }
    if (device_high || next_tsc.size() == 2) break;
  }
  std::string bad;
  if (value < low)
    bad = "at least " + std::to_string(low) + " (the previous TSC read or the latest recorded guest time)";
  else if (device_high && value > *device_high)
    bad = "at most " + std::to_string(*device_high) + " (the next recorded guest time)";
  else if (next_tsc.size() == 2 && value > next_tsc.front() && value > next_tsc.back())
    bad = "at most " + std::to_string(next_tsc.front()) + " (the next TSC read; the one after it is " +
          std::to_string(next_tsc.back()) + ")";
  if (!bad.empty()) {
    diverge("TSC read: the recorded value breaks the order the recording's clock gives (a damaged or edited trace)",
            "a value " + bad, std::to_string(value));
    return value;
  }
  consume();
  last_tsc_ = value;
  return value;
}

InterruptAction Replayer::interrupt_action(const Position& pos, bool pending, bool cpu_ready) {
  // The trace says whether an interrupt entered here; the controller and the
  // CPU are still asked (vector_to_inject), so their disagreement is reported.
  const TraceEvent* e = divergence_ ? nullptr : peek();
  auto* i = e ? std::get_if<InterruptEvent>(&e->body) : nullptr;
  if (i && async_matches(pos, i->exit_ordinal, i->icount, i->kicked.has_value())) {
    if (i->kicked && i->icount && pos.icount && !check_point_state(*e)) return InterruptAction::None;
    recorded_vector_ = i->vector;
    consume();
    return InterruptAction::Inject;
  }
  // Not injected here with one pending: the recording's CPU could not take
  // it (IF=0 or an interrupt shadow), and asked for a window. Ask for it
  // too even where this CPU says it could (kvm ends a shadow at the
  // breakpoint that found this point; the Machine puts the shadow back).
  (void)cpu_ready;
  return pending ? InterruptAction::RequestWindow : InterruptAction::None;
}

std::optional<uint8_t> Replayer::vector_to_inject(const Position&, std::optional<uint8_t> acknowledged,
                                                  bool cpu_ready) {
  const uint8_t recorded = recorded_vector_;
  if (!cpu_ready) {
    diverge("interrupt injection", "vector " + hex(recorded) + " injected",
            "the CPU cannot take an interrupt here (IF=0 or interrupt shadow)");
    return std::nullopt;
  }
  if (acknowledged != recorded) {
    diverge("interrupt controller", "vector " + hex(recorded),
            acknowledged ? "vector " + hex(*acknowledged) : std::string("no interrupt pending"));
    return std::nullopt;
  }
  return recorded;
}

StopPlan Replayer::next_stop(uint64_t exit_ordinal) {
  target_reached_ = false;  // the vCPU moves on from wherever it was found
  StopPlan plan;
  // A divergence found before the vCPU runs (at a service point or an
  // injection inside guest execution): stop it at once, so that the run
  // ends at that stop (wants_stop) instead of in a guest that may never
  // exit again.
  if (divergence_) {
    plan.deadline_ns = 0;
    return plan;
  }
  plan.target = next_async_target(exit_ordinal);
  return plan;
}

IdleOutcome Replayer::idle_wait(uint64_t) {
  // Time passes for a halted guest only through the trace's service points
  // at this exit; anything else next means the recording woke up here and
  // the replay did not.
  const Position pos = machine_.position();
  const TraceEvent* e = divergence_ ? nullptr : peek();
  if (!e) return IdleOutcome::NoMoreInput;  // the end record decides (or the trace was cut here)
  auto* s = std::get_if<ServicePointEvent>(&e->body);
  if (s && async_matches(pos, s->exit_ordinal, s->icount, s->async.has_value())) return IdleOutcome::Waited;
  diverge("halted guest", format_event_text(consumed_, *e),
          "the guest halted with no interrupt pending and no recorded service point at this exit");
  return IdleOutcome::NoMoreInput;
}

std::optional<std::string> Replayer::halt_ends_run(const Position& pos) {
  const auto& end = reader_.end();
  if (divergence_ || !end || end->reason != StopReason::HaltedForever || pos.exit_ordinal != end->exit_count)
    return std::nullopt;
  if (!at_end()) return std::nullopt;
  return end->message;
}

std::optional<uint8_t> Replayer::serial_byte() {
  const TraceEvent* e = peek();
  auto* b = e ? std::get_if<SerialInputEvent>(&e->body) : nullptr;
  if (!b) return std::nullopt;
  uint8_t v = b->byte;
  consume();
  return v;
}

}  // namespace rrvm
