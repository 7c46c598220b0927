// Samples the Cirrus display at frame points: every `period_ns` of guest
// time (a TimedDevice, so frame points are service points and replay meets
// them at the same places; an observer that never stops the guest, so a
// frame point falls at the first exit after its time), and just before a VGA
// register write that follows drawing (which catches the last picture of a
// mode before the guest switches modes). Each sample carries the VRAM pages
// written since the previous one and the display registers when they changed.
//
// The sampler never reads the clock itself (it would add clock events to the
// trace that a replay without --frames would not consume); its time is the
// last frame point's.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "display/renderer.h"
#include "trace/trace_events.h"
#include "vmm/device_state.h"
#include "vmm/guest_memory.h"
#include "vmm/interrupts.h"
#include "vmm/run_tap.h"

namespace rrvm {

class CirrusVga;

constexpr uint64_t kDefaultFramePeriodNs = 1000000000ull / 30;

class DisplaySampler final : public TimedDevice, public RunTap, public DeviceState {
 public:
  // `sink` receives each frame event and the frame rendered from the live
  // device at that moment.
  using Sink = std::function<void(const DisplayFrameEvent&, const Frame&)>;
  DisplaySampler(GuestMemory& memory, CirrusVga& vga, Sink sink, uint64_t period_ns = kDefaultFramePeriodNs);

  std::optional<uint64_t> next_deadline_ns() override { return next_; }
  void advance_to(uint64_t now_ns) override;
  bool stops_guest() const override { return false; }
  void on_exit(const Position& pos, const Exit& exit) override;
  void on_stop(const Position& pos, const RunResult& result) override;
  // Takes the VRAM pages written so far into its own state, so that a
  // snapshot taken at this boundary holds them (the memory's dirty log is
  // not part of a snapshot). Frames do not change: a sample takes every page
  // written since the last one either way.
  bool on_boundary(const Position& pos) override;

  uint64_t frames() const { return frames_; }
  // The last display registers a frame carried (empty before the first):
  // what a reader starting at a keyframe renders with.
  const std::vector<uint8_t>& last_registers() const { return last_registers_; }

  // Snapshots: the next frame point, the VRAM pages written since the last
  // frame, the last registers sent.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  void sample(uint64_t now_ns, bool force);
  void gather_dirty();
  bool any_dirty() const;

  GuestMemory& memory_;
  CirrusVga& vga_;
  Sink sink_;
  uint64_t period_;
  uint64_t next_;
  uint64_t last_ns_ = 0;
  DirtyBitmap pending_;
  std::vector<uint8_t> last_registers_;
  Frame frame_;
  uint64_t frames_ = 0;
};

}  // namespace rrvm
