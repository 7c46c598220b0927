#include "record/recorder.h"

#include <algorithm>
#include <array>
#include <utility>

#include "vmm/counted_loop.h"
#include "vmm/cpu_state.h"
#include "vmm/disassembler.h"
#include "vmm/rep_string.h"

namespace rrvm {

std::chrono::nanoseconds kvm_keyframe_spacing(uint64_t interval_ms, std::chrono::nanoseconds last_cost,
                                              bool adapts) {
  const std::chrono::nanoseconds interval = std::chrono::milliseconds(interval_ms);
  return adapts ? std::max(interval, last_cost * kKeyframeCostSpacing) : interval;
}

Recorder::Recorder(TraceWriter& writer, Machine& machine, RecorderOptions options)
    : writer_(writer), machine_(machine), options_(options) {
  if (!machine_.vcpu().instruction_count()) changed_pages_.emplace(machine_.memory());
  keyframes_on_ = machine_.vcpu().instruction_count() ? options_.keyframe_interval > 0
                                                      : options_.keyframe_interval_ms > 0;
}

void Recorder::mark_run_start() {
  run_started_ = std::chrono::steady_clock::now();
  if (!keyframes_on_) return;
  // Memory as the machine was built (image loaded): what replay starts from,
  // and the base the first keyframe's pages are taken against.
  previous_.emplace();
  previous_->memory = RamImage::capture(machine_.memory(), [](const MemorySlot&) { return true; });
  if (!machine_.vcpu().instruction_count()) {
    next_keyframe_time_ = *run_started_ + std::chrono::milliseconds(options_.keyframe_interval_ms);
    return;
  }
  next_keyframe_ = machine_.vcpu().instruction_count().value_or(0) + options_.keyframe_interval;
  // The vCPU stops there even in a guest that never exits (a pause changes
  // nothing the guest sees: live inputs service no device there).
  machine_.set_pause_icount(next_keyframe_);
}

bool Recorder::on_boundary(const Position& pos) {
  if (!keyframes_on_ || write_error_) return false;
  if (pos.icount) {
    if (*pos.icount < next_keyframe_) return false;
  } else {
    // Without a count, only right after an exit (a replay meets the point
    // exactly there; one inside guest execution would be a search).
    if (pos.async || !machine_.at_exit_boundary() || std::chrono::steady_clock::now() < next_keyframe_time_)
      return false;
  }
  if (!machine_.can_snapshot()) return false;
  const auto started = std::chrono::steady_clock::now();
  try {
    write_keyframe(pos);
    keyframe_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  } catch (const std::exception& e) {
    // A snapshot that cannot be taken ends the keyframes, not the recording.
    keyframe_error_ = e.what();
    keyframes_on_ = false;
    machine_.set_pause_icount(std::nullopt);
    return false;
  }
  if (!pos.icount) {
    // From the end of this one: a keyframe's own cost never bunches them.
    const auto now = std::chrono::steady_clock::now();
    next_keyframe_time_ =
        now + kvm_keyframe_spacing(options_.keyframe_interval_ms, now - started, options_.keyframe_spacing_adapts);
    return false;
  }
  next_keyframe_ = *pos.icount + options_.keyframe_interval;
  machine_.set_pause_icount(next_keyframe_);
  return false;
}

void Recorder::write_keyframe(const Position& pos) {
  MachineSnapshot s = machine_.snapshot(&*previous_);
  const RamImage& before = previous_->memory;
  Keyframe k;
  k.incremental = true;
  k.exit_ordinal = s.exits;
  k.icount = s.cpu.icount ? s.cpu.icount : pos.icount;
  k.registers = s.cpu.regs;
  k.fpu = s.cpu.fpu;
  k.interrupt_shadow = s.cpu.interrupt_shadow;
  k.interrupts = s.interrupts;
  k.async = s.async;
  k.clock_last_ns = s.clock_last_ns;
  k.clock_skipped_ns = s.clock_skipped_ns;
  k.replay_clock_ns = replay_clock_ns_;
  for (const auto& [name, state] : s.devices) k.devices.push_back(KeyframeDevice{name, state});
  for (const RamImage::Slot& slot : s.memory.slots()) {
    const MemorySlot& m = machine_.memory().slots().at(slot.id);
    KeyframeSlot out;
    out.name = m.name;
    out.base = m.guest_base;
    out.size = m.size;
    const RamImage::Slot* old = before.slot(slot.id);
    for (uint64_t i = 0; i < slot.pages.size(); ++i) {
      // Pages equal to the previous image's are shared with it (the same
      // pointer, or both zero).
      if (old && i < old->pages.size() && old->pages[i] == slot.pages[i]) continue;
      const uint8_t* bytes = s.memory.page(slot.id, i);
      out.pages.push_back(KeyframePage{uint32_t(i), std::vector<uint8_t>(bytes, bytes + kPageSize)});
    }
    k.memory.push_back(std::move(out));
  }
  if (changed_pages_) {
    // The digest's state: what the next asynchronous point's digest is
    // taken against (a replay from here computes the same one).
    k.digest_reference.emplace();
    for (ChangedPagesDigest::ReferencePage& p : changed_pages_->reference_changes()) {
      const MemorySlot& m = machine_.memory().slots().at(p.slot);
      if (k.digest_reference->empty() || k.digest_reference->back().name != m.name)
        k.digest_reference->push_back(KeyframeSlot{m.name, m.guest_base, {}, m.size, {}});
      k.digest_reference->back().pages.push_back(KeyframePage{p.page, std::move(p.bytes)});
    }
  }
  s.cpu.exact.clear();  // the next snapshot needs only the memory to share with
  try {
    writer_.add_keyframe(k);
    ++keyframes_;
  } catch (const TraceError& e) {
    write_error_ = e.what();
  }
  previous_ = std::move(s);
}

void Recorder::append(const TraceEvent& event) {
  if (write_error_) return;  // the trace ends where writing failed
  try {
    writer_.append(event);
  } catch (const TraceError& e) {
    write_error_ = e.what();
  }
}

bool Recorder::wants_stop(RunResult* result) {
  if (write_error_) {
    result->exit_status = kExitIoError;
    result->message = "recording stopped: cannot write the trace: " + *write_error_;
    return true;
  }
  // Only right after an exit: the replay meets the same point after the
  // same exit, on every backend (a point inside guest execution would need
  // an instruction count or a breakpoint search to find again).
  if (machine_.at_exit_boundary() && options_.interrupt && options_.interrupt->load()) {
    result->reason = StopReason::Interrupted;
    result->exit_status = kExitInterrupted;
    result->message = "recording interrupted by the user (SIGINT) after exit " +
                      std::to_string(machine_.position().exit_ordinal);
    return true;
  }
  return false;
}

void Recorder::on_exit(const Position& pos, const Exit& exit) {
  // A keyframe due without a count: right after this exit if the vCPU can
  // finish its instruction there, else after a later one.
  if (keyframes_on_ && !pos.icount && std::chrono::steady_clock::now() >= next_keyframe_time_)
    machine_.request_exit_boundary();
  if (options_.checksum_interval && pos.exit_ordinal % options_.checksum_interval == 0 &&
      pos.exit_ordinal) {
    CpuChecksumEvent c;
    c.exit_ordinal = pos.exit_ordinal;
    c.icount = pos.icount;
    c.register_hash = register_state_hash(machine_.vcpu().get_registers());
    append(TraceEvent{c});
  }
  if (!exit.is_write && (exit.kind == ExitKind::PortIo || exit.kind == ExitKind::Mmio))
    return;  // written in on_read, with the value the guest received
  ExitEvent e;
  e.kind = trace_exit_kind(exit.kind);
  e.is_write = exit.is_write;
  if (exit.kind == ExitKind::PortIo || exit.kind == ExitKind::Mmio) {
    e.size = exit.size;
    e.address = exit.address;
    e.data = exit.data;
  }
  append(TraceEvent{e});
}

void Recorder::on_read(const Position&, const Exit& exit, uint64_t value) {
  ExitEvent e;
  e.kind = trace_exit_kind(exit.kind);
  e.is_write = false;
  e.size = exit.size;
  e.address = exit.address;
  e.data = value;
  append(TraceEvent{e});
}

bool Recorder::at_rep_string(const Registers& regs) {
  std::array<uint8_t, 15> code{};
  const size_t n = read_linear(machine_.vcpu(), machine_.memory(), regs.pc_linear(), code);
  return decode_rep_string(std::span(code.data(), n), code_bits(regs)).has_value();
}

KickState Recorder::async_point(const Registers& regs) {
  KickState k = KickState::at(regs, false);
  // The same place as the previous point (an interrupt right after the
  // service point that raised it): the same entry, which the trace stores
  // as a repeat.
  if (last_point_ && last_point_->pc == k.pc && last_point_->state_hash == k.state_hash) return *last_point_;
  // Full registers at the first point and every kTraceFullRegistersEvery-th:
  // a backend's breakpoint search filters on them, and a divergence there
  // names the register that differs. At a rep string instruction rCX: a
  // replay without instruction counts reaches such a point from the count
  // register in a few stops (Machine::rep_search_step), not one per
  // iteration (format version 5 kept the full registers there, ~400 bytes
  // before LZ4, for the one register the search reads). Inside a counted
  // loop (vmm/counted_loop.h: Linux's delay_loop) full registers: from the
  // counter a replay computes the pass before the point. Elsewhere pc and
  // hash find the point.
  if (async_points_++ % kTraceFullRegistersEvery == 0 || counted_loop_at(machine_.vcpu(), machine_.memory(), regs))
    k.registers = regs;
  else if (at_rep_string(regs)) k.rep_rcx = regs.rcx;
  last_point_ = k;
  return k;
}

std::optional<KickState> Recorder::async_state(const Position& pos, const Registers* regs) {
  if (!pos.async || !regs) return std::nullopt;
  KickState k = async_point(*regs);
  // With an instruction count the point is exact already; hashing would need
  // a write hook on all of RAM (emu), so there is no digest there.
  if (!pos.icount && changed_pages_) {
    changed_pages_->collect();
    k.dirty_pages_digest = kvm_point_digest(changed_pages_->digest(), regs->rflags, kTraceFormatVersion);
    changed_pages_->commit();
  }
  return k;
}

void Recorder::on_service(const Position& pos, uint64_t now_ns, const Registers* regs) {
  ServicePointEvent s;
  s.ns = now_ns;
  s.exit_ordinal = pos.exit_ordinal;
  s.icount = pos.async ? pos.icount : std::nullopt;
  s.async = async_state(pos, regs);
  replay_clock_ns_ = std::max(replay_clock_ns_, now_ns);
  append(TraceEvent{s});
}

void Recorder::on_clock_read(const Position&, uint64_t now_ns) {
  replay_clock_ns_ = std::max(replay_clock_ns_, now_ns);
  append(TraceEvent{ClockSampleEvent{now_ns}});
}

// After the port-io write exit of the patched instruction's out.
void Recorder::on_tsc_read(const Position&, uint64_t value) { append(TraceEvent{TscReadEvent{value}}); }

void Recorder::on_interrupt(const Position& pos, uint8_t vector, const Registers* regs) {
  InterruptEvent i;
  i.vector = vector;
  i.exit_ordinal = pos.exit_ordinal;
  i.icount = pos.async ? pos.icount : std::nullopt;
  // A service point at the same async position already pinned it down; the
  // dirty-page window was consumed there, so only the registers repeat.
  if (pos.async && regs) i.kicked = async_point(*regs);
  append(TraceEvent{i});
}

void Recorder::on_serial_input(uint8_t byte) { append(TraceEvent{SerialInputEvent{byte}}); }

void Recorder::on_stop(const Position& pos, const RunResult& result) {
  TraceEnd end;
  end.reason = result.reason;
  end.exit_status = result.exit_status;
  end.message = result.message;
  try {
    end.final_registers = machine_.vcpu().get_registers();
  } catch (const VcpuError&) {
    // The backend failed for good (the end says so); its registers are gone.
  }
  end.ram_sha256 = machine_.memory().content_sha256();
  end.instruction_count = pos.icount;
  end.exit_count = pos.exit_ordinal;
  if (run_started_)
    end.record_wall_ns = uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::steady_clock::now() - *run_started_)
                                      .count());
  if (write_error_) return;  // no end record: the trace reads as truncated at its last whole frame
  try {
    writer_.close(end);
    closed_ = true;
  } catch (const TraceError& e) {
    write_error_ = e.what();
  }
}

}  // namespace rrvm
