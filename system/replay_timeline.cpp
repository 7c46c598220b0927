#include "system/replay_timeline.h"

#include <algorithm>
#include <limits>

#include "devices/cirrus/cirrus_vga.h"

namespace rrvm {

struct ReplayTimeline::Checkpoint {
  TimelinePosition position;
  uint64_t event = 0;
  MachineSnapshot machine;
  ReplayerState replayer;
  uint64_t bytes = 0;
};

// The timeline's eyes on the run loop: every instruction boundary, every
// interrupt delivery, every debugger stop.
class ReplayTimeline::Tap final : public RunTap {
 public:
  explicit Tap(ReplayTimeline& t) : t_(t) {}
  bool on_boundary(const Position&) override { return t_.at_boundary(t_.retired(), false); }
  bool on_interrupt_boundary(const Position&) override { return t_.at_boundary(t_.retired(), true); }
  // I/O exits leave the emu vCPU inside the instruction: near the event a
  // goto wants, ask for the boundary after it.
  void on_exit(const Position&, const Exit&) override {
    if (t_.until_event_ && t_.replayer_->events_consumed() + 2 >= *t_.until_event_)
      t_.system_->machine().request_boundary();
  }
  void on_debug(const Position&, const Exit& exit) override {
    if (exit.size) t_.watch_hit_ = exit;  // a watchpoint's (a breakpoint's has size 0)
  }

 private:
  ReplayTimeline& t_;
};

ReplayTimeline::ReplayTimeline(const std::string& trace_path, TimelineOptions options)
    : options_(std::move(options)) {
  reader_ = open_replay_trace(trace_path);
  ReplaySettings settings = options_.replay;
  // Exact points need an instruction count: emu's, or kvm's single steps.
  stepping_ = options_.backend == BackendKind::Kvm;
  settings.backend = stepping_ ? BackendKind::Kvm : BackendKind::Emu;
  settings.count_by_stepping = stepping_;
  if (options_.checkpoint_interval == 0)
    options_.checkpoint_interval = stepping_ ? kDefaultSteppingCheckpointInterval : kDefaultCheckpointInterval;
  system_ = replay_system(*reader_, settings);
  ReplayOptions replay_options;
  replay_options.verify_cpu_checksums = system_->backend() == reader_->header().backend;
  Machine& m = system_->machine();
  replayer_ = std::make_unique<Replayer>(*reader_, m, replay_options);
  m.add_tap(replayer_.get());
  m.set_input_authority(*replayer_);
  tap_ = std::make_unique<Tap>(*this);
  m.add_tap(tap_.get());
  // To the first instruction, where the first checkpoint is taken.
  run(Mode::Target, TimelinePosition{0, false});
}

ReplayTimeline::~ReplayTimeline() = default;

TimelinePosition ReplayTimeline::position() {
  // At the end the vCPU stays where the replay stopped until a restore.
  if (end_) return {retired(), false};
  return here_;
}

uint64_t ReplayTimeline::event() const { return replayer_->events_consumed(); }

Registers ReplayTimeline::registers() { return system_->machine().vcpu().get_registers(); }

size_t ReplayTimeline::read_linear(uint64_t linear, std::span<uint8_t> out) {
  Machine& m = system_->machine();
  return rrvm::read_linear(m.vcpu(), m.memory(), linear, out);
}

Frame ReplayTimeline::screen() {
  auto vram = system_->vga().vram();
  return render(system_->vga().display_state(), vram.data(), vram.size());
}

std::vector<CheckpointInfo> ReplayTimeline::checkpoints() const {
  std::vector<CheckpointInfo> out;
  for (const auto& c : checkpoints_) out.push_back({c.position, c.event, c.bytes});
  return out;
}

uint64_t ReplayTimeline::checkpoint_bytes() const {
  uint64_t total = 0;
  for (const auto& c : checkpoints_) total += c.bytes;
  return total;
}

void ReplayTimeline::set_breakpoints(std::vector<uint64_t> linear) {
  std::sort(linear.begin(), linear.end());
  linear.erase(std::unique(linear.begin(), linear.end()), linear.end());
  breakpoints_ = std::move(linear);
}

void ReplayTimeline::set_watchpoints(std::vector<Vcpu::Watchpoint> watch) { watchpoints_ = std::move(watch); }

void ReplayTimeline::arm(bool stops) {
  Vcpu& v = system_->machine().vcpu();
  v.set_code_breakpoints(stops && mode_ != Mode::Step ? breakpoints_ : std::vector<uint64_t>{});
  v.set_watchpoints(stops ? watchpoints_ : std::vector<Vcpu::Watchpoint>{});
}

// Called at every instruction boundary the run loop reaches. Only the first
// boundary at an instruction count (and the one after an interrupt delivery)
// is a point; the loop comes back to the same point after stops that change
// nothing (a breakpoint reported, an interrupt window opening), and those
// depend on what is armed.
bool ReplayTimeline::at_boundary(uint64_t icount, bool after_interrupt) {
  if (!after_interrupt && last_icount_ && *last_icount_ == icount) return false;
  last_icount_ = icount;
  const TimelinePosition here{icount, after_interrupt};
  Machine& m = system_->machine();
  if (after_interrupt) interrupts_at_.insert(icount);
  if (!after_interrupt && (checkpoints_.empty() || icount >= last_checkpoint_icount_ + options_.checkpoint_interval) &&
      m.can_snapshot()) {
    take_checkpoint(here);
    plan_pause();
  }
  bool interrupted = false;
  if (mode_ == Mode::Continue && interrupt_check_ && icount >= next_poll_icount_) {
    next_poll_icount_ = icount + interrupt_poll_instructions();
    plan_pause();
    interrupted = interrupt_check_();
  }

  const bool at_start = start_ && here == *start_;
  std::optional<TimelineStop> stop;
  if (!at_start && mode_ != Mode::Target) {
    if (watch_hit_) {
      stop = TimelineStop{TimelineStopKind::Watchpoint, watch_hit_->address, watch_hit_->is_write};
    } else if (mode_ != Mode::Step && !breakpoints_.empty() &&
               std::binary_search(breakpoints_.begin(), breakpoints_.end(), m.vcpu().get_registers().pc_linear())) {
      stop = TimelineStop{TimelineStopKind::Breakpoint};
    }
  }
  watch_hit_.reset();
  if (mode_ == Mode::Scan) {
    // A write seen at the target itself happened before it: it counts.
    const bool before_target =
        !target_ || here < *target_ || (stop && stop->kind == TimelineStopKind::Watchpoint && here == *target_);
    if (stop && before_target) hits_.push_back({here, *stop});
    stop.reset();
  }
  auto pause = [&](TimelineStop s) {
    here_ = here;
    pause_ = s;
    return true;
  };
  if (target_ && here >= *target_) return pause({TimelineStopKind::Step});
  if (until_event_ && replayer_->events_consumed() >= *until_event_) return pause({TimelineStopKind::Step});
  if (mode_ == Mode::Step && !at_start) return pause(stop.value_or(TimelineStop{TimelineStopKind::Step}));
  if (stop) return pause(*stop);
  if (interrupted) return pause({TimelineStopKind::Interrupted});
  return false;
}

TimelineStop ReplayTimeline::run(Mode mode, std::optional<TimelinePosition> target, std::optional<uint64_t> until_event) {
  if (end_ || !divergence_.empty()) return {TimelineStopKind::End};
  Machine& m = system_->machine();
  mode_ = mode;
  target_ = target;
  until_event_ = until_event;
  hits_.clear();
  watch_hit_.reset();
  // A scan counts the point it starts from (a checkpoint); other runs leave it.
  if (checkpoints_.empty() || mode == Mode::Scan) start_.reset();
  else start_ = here_;
  arm(mode != Mode::Target);
  step_icount_ = mode == Mode::Step ? std::optional<uint64_t>(here_.icount + 1) : std::nullopt;
  next_poll_icount_ = here_.icount + interrupt_poll_instructions();
  plan_pause();
  std::optional<RunResult> r = m.run_until_pause();
  m.set_pause_icount(std::nullopt);
  if (!r) {
    // Where the user stands is worth a checkpoint: going back a little from
    // here is what comes next most often.
    const Checkpoint* before = latest_before(here_, true);
    if (!here_.after_interrupt && m.can_snapshot() && before && before->position != here_ &&
        here_.icount - before->position.icount >= options_.checkpoint_interval / 8)
      take_checkpoint(here_);
    return pause_;
  }
  end_ = *r;
  if (const auto& d = replayer_->divergence()) divergence_ = d->headline();
  return {TimelineStopKind::End};
}

// The vCPU stops at the point wanted, and where the next periodic checkpoint
// is due (a guest computing without exits reaches no boundary otherwise).
void ReplayTimeline::plan_pause() {
  std::optional<uint64_t> pause = checkpoints_.empty() ? std::nullopt
                                                       : std::optional<uint64_t>(last_checkpoint_icount_ +
                                                                                 options_.checkpoint_interval);
  auto earliest = [&](std::optional<uint64_t> v) {
    if (v && (!pause || *v < *pause)) pause = v;
  };
  if (target_) earliest(target_->icount);
  earliest(step_icount_);
  if (mode_ == Mode::Continue && interrupt_check_) earliest(next_poll_icount_);
  system_->machine().set_pause_icount(pause);
}

void ReplayTimeline::restore(const Checkpoint& c) {
  system_->machine().restore(c.machine);
  replayer_->restore_state(c.replayer);
  end_.reset();
  last_icount_.reset();
  here_ = c.position;
}

const ReplayTimeline::Checkpoint* ReplayTimeline::latest_before(TimelinePosition p, bool inclusive) const {
  const Checkpoint* best = nullptr;
  for (const auto& c : checkpoints_)
    if (c.position < p || (inclusive && c.position == p)) best = &c;
  return best;
}

void ReplayTimeline::take_checkpoint(TimelinePosition p) {
  auto at = std::lower_bound(checkpoints_.begin(), checkpoints_.end(), p,
                             [](const Checkpoint& c, const TimelinePosition& q) { return c.position < q; });
  if (at != checkpoints_.end() && at->position == p) return;
  const MachineSnapshot* previous = at == checkpoints_.begin() ? nullptr : &std::prev(at)->machine;
  Checkpoint c;
  c.position = p;
  c.event = replayer_->events_consumed();
  c.machine = system_->machine().snapshot(previous);
  c.replayer = replayer_->save_state();
  c.bytes = c.machine.cost_bytes(previous);
  at = checkpoints_.insert(at, std::move(c));
  if (auto next = std::next(at); next != checkpoints_.end()) next->bytes = next->machine.cost_bytes(&at->machine);
  last_checkpoint_icount_ = std::max(last_checkpoint_icount_, p.icount);
  thin_checkpoints();
}

void ReplayTimeline::thin_checkpoints() {
  const uint64_t now = position().icount;
  while (checkpoint_bytes() > options_.checkpoint_memory && checkpoints_.size() > 2) {
    // The start stays; of the others, drop the one whose gap, were it gone,
    // is smallest for its distance from here.
    size_t victim = 0;
    double best = std::numeric_limits<double>::infinity();
    for (size_t i = 1; i < checkpoints_.size(); ++i) {
      const uint64_t left = checkpoints_[i - 1].position.icount;
      const uint64_t right = i + 1 < checkpoints_.size() ? checkpoints_[i + 1].position.icount : now;
      const uint64_t at = checkpoints_[i].position.icount;
      const double distance = double(at > now ? at - now : now - at) + 1;
      const double score = double(right > left ? right - left : 0) / distance;
      if (score < best) {
        best = score;
        victim = i;
      }
    }
    if (victim == 0) break;
    checkpoints_.erase(checkpoints_.begin() + victim);
    if (victim < checkpoints_.size())
      checkpoints_[victim].bytes = checkpoints_[victim].machine.cost_bytes(&checkpoints_[victim - 1].machine);
  }
}

TimelineStop ReplayTimeline::seek(TimelinePosition target) {
  if (end_ && target >= position()) return {TimelineStopKind::End};
  if (!end_ && target == here_) return {TimelineStopKind::Step};
  const Checkpoint* c = latest_before(target, true);
  // Forward from here unless a checkpoint lies between here and the target.
  if (end_ || target < here_ || (c && c->position > here_)) {
    if (!c) return {TimelineStopKind::Start};
    restore(*c);
    if (c->position == target) return {TimelineStopKind::Step};
  }
  return run(Mode::Target, target);
}

TimelineStop ReplayTimeline::goto_event(uint64_t event) {
  if (end_ || event < replayer_->events_consumed()) {
    const Checkpoint* best = nullptr;
    for (const auto& c : checkpoints_)
      if (c.event <= event) best = &c;
    if (!best) return {TimelineStopKind::Start};
    restore(*best);
    if (replayer_->events_consumed() >= event) return {TimelineStopKind::Step};
  } else if (replayer_->events_consumed() >= event) {
    return {TimelineStopKind::Step};
  }
  return run(Mode::Target, std::nullopt, event);
}

TimelineStop ReplayTimeline::step() { return run(Mode::Step, std::nullopt); }

TimelineStop ReplayTimeline::cont() { return run(Mode::Continue, std::nullopt); }

TimelinePosition ReplayTimeline::previous_position(TimelinePosition p) const {
  if (p.after_interrupt) return {p.icount, false};
  if (p.icount == 0) return p;
  return {p.icount - 1, interrupts_at_.count(p.icount - 1) > 0};
}

TimelineStop ReplayTimeline::reverse_step() {
  const TimelinePosition p = position();
  if (p == TimelinePosition{0, false}) return {TimelineStopKind::Start};
  const TimelinePosition previous = previous_position(p);
  TimelineStop s = seek(previous);
  if (s.kind == TimelineStopKind::Step && previous == TimelinePosition{0, false}) s.kind = TimelineStopKind::Start;
  return s;
}

TimelineStop ReplayTimeline::reverse_cont() {
  const TimelinePosition now = position();
  TimelinePosition high = now;
  for (;;) {
    if (interrupt_check_ && high != now && interrupt_check_()) return {TimelineStopKind::Interrupted};
    const Checkpoint* c = latest_before(high, false);
    if (!c) break;
    const TimelinePosition from = c->position;
    restore(*c);
    run(Mode::Scan, high);
    if (!hits_.empty()) {
      // Going back, a watchpoint stops where the access is about to happen
      // (the write undone), as gdb expects of reverse execution.
      const Hit last = hits_.back();
      seek(last.stop.kind == TimelineStopKind::Watchpoint ? previous_position(last.position) : last.position);
      return last.stop;
    }
    high = from;
  }
  seek(TimelinePosition{0, false});
  return {TimelineStopKind::Start};
}

}  // namespace rrvm
