// `rrvm frames`: rebuild the guest's screen from a trace alone and write PNGs
// (and, with --animation, one animated PNG of the same frames).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/frame_animation.h"
#include "cli/frame_export.h"
#include "cli/frame_files.h"
#include "cli/machine_options.h"
#include "cli/option_checks.h"
#include "cli/progress.h"
#include "replay/frame_rebuilder.h"
#include "trace/keyframe_chain.h"
#include "trace/trace_reader.h"

namespace rrvm::cli {

namespace {
struct FramesOptions {
  std::string trace, dir, animation;
  uint64_t every = 1, at = 0;
  unsigned jobs = PngPipeline::default_workers();
  CLI::Option* at_given = nullptr;
};

int frames(const FramesOptions& o) {
  const bool at_set = o.at_given->count() > 0;
  const std::vector<InputFile> inputs{{o.trace, "the trace being read"}};
  if (!o.animation.empty()) refuse_output_over_input(inputs, o.animation, "--animation");
  TraceReader reader(o.trace);
  FrameFiles files(o.dir, o.every, "--output", inputs);
  if (!o.animation.empty() && files.names_a_frame_file(o.animation))
    throw SystemError("--animation '" + o.animation + "' is one of the frame files written to '" + o.dir +
                          "': give the animation another name or directory",
                      kExitBadInput);
  FrameRebuilder rebuilder;
  std::unique_ptr<FrameAnimation> animation;
  CanvasSize canvas;
  if (!o.animation.empty()) {
    // The canvas must hold the largest frame before the first one is written.
    canvas = animation_canvas(reader, [&](uint64_t i) { return files.selected(i); });
    if (!canvas.width)
      throw std::runtime_error("--animation: '" + o.trace + "' has no display frames with a picture to animate");
    animation = std::make_unique<FrameAnimation>(o.animation, canvas);
  }
  // Declared after what it writes to: its workers stop before those go.
  FrameExport out(files, animation.get(), canvas, o.jobs);
  Progress progress("frames", reader.event_count());
  uint64_t index = 0;
  // --at: from the latest keyframe at or before the event, with the picture
  // the frames before it built (no need to read the trace from the start).
  uint64_t from_event = 0;
  if (at_set) {
    if (o.at > reader.event_count())
      throw std::runtime_error("--at " + std::to_string(o.at) + ": '" + o.trace + "' has only " +
                               std::to_string(reader.event_count()) + " events");
    if (std::optional<size_t> k = latest_keyframe_at_or_before(reader, o.at)) {
      FrameRebuilder from_keyframe;
      uint64_t event = 0, frames_before = 0;
      try {
        read_keyframe_chain(reader, *k, [&](const Keyframe& kf) {
          from_keyframe.apply_keyframe(kf.display);
          event = kf.event_ordinal;
          frames_before = kf.display.frames;
        });
        rebuilder = std::move(from_keyframe);
        from_event = event;
        index = frames_before;
        std::cerr << "rrvm: frames: starting at keyframe " << *k << " of " << reader.keyframes().size()
                  << ": event " << event << " (for --at " << o.at << ")\n";
      } catch (const KeyframeUnusable& e) {
        std::cerr << "rrvm: frames: " << e.what() << "; rebuilding from the start\n";
      }
    } else {
      std::cerr << "rrvm: frames: no keyframe at or before event " << o.at << "; rebuilding from the start\n";
    }
  }
  auto cursor = reader.events(from_event);
  auto write = [&](uint64_t n, uint64_t guest_ns) { out.add(n, rebuilder, guest_ns); };
  try {
    while (const TraceEvent* e = cursor.next()) {
      if (at_set && cursor.ordinal() > o.at) break;
      progress.update(cursor.ordinal());
      auto* f = std::get_if<DisplayFrameEvent>(&e->body);
      if (!f) continue;
      try {
        rebuilder.apply(*f);
      } catch (const std::exception& err) {
        throw std::runtime_error("trace '" + o.trace + "': event " + std::to_string(cursor.ordinal()) + ": " +
                                 err.what());
      }
      if (!at_set && files.selected(index)) write(index, f->guest_ns);
      ++index;
    }
    if (at_set) write(o.at, 0);
  } catch (...) {
    // A damaged trace: the frames before the damage are still written (a
    // failed write of one of them is the error reported: it came first).
    out.finish();
    throw;
  }
  out.finish();
  progress.finish();
  if (at_set && files.written() == 0) {
    // Nothing to draw yet: say when the first picture comes instead of "0 of 0".
    std::optional<uint64_t> first_frame;
    for (auto later = reader.events(o.at); const TraceEvent* e = later.next();)
      if (std::holds_alternative<DisplayFrameEvent>(e->body)) {
        first_frame = later.ordinal();
        break;
      }
    std::cerr << "rrvm: frames: the guest had drawn nothing by event " << o.at
              << (first_frame ? " (its first display frame is event " + std::to_string(*first_frame) + ")"
                              : std::string(" (the trace has no display frame after it)"))
              << "; no file written\n";
    return 0;
  }
  std::cerr << "rrvm: " << files.written() << " frame(s) of " << index << " written to " << o.dir << "\n";
  if (animation) {
    animation->finish();
    std::cerr << "rrvm: animation of " << animation->frames() << " frame(s) written to " << o.animation << "\n";
  }
  if (reader.status().state != TraceCompleteness::Complete)
    std::cerr << "rrvm: note: " << reader.status().detail << "\n";
  return 0;
}
}  // namespace

Command add_frames_command(CLI::App& app) {
  auto o = std::make_shared<FramesOptions>();
  auto* cmd = app.add_subcommand("frames", "Rebuild the guest's screen from a trace alone (no CPU) as PNG files");
  cmd->add_option("-o,--output", o->dir, "directory for frame-NNNNNN.png")->required();
  cmd->add_option("--every", o->every, "write every Nth frame")->check(whole_number(1))->capture_default_str();
  cmd->add_option("--jobs", o->jobs,
                  "threads encoding PNGs (default: one per core; 0: none, the rendering thread encodes); the files "
                  "are the same whatever the number")
      ->check(CLI::Range(0u, 64u))
      ->capture_default_str();
  o->at_given = cmd->add_option("--at", o->at, "write only the screen as it was at this event ordinal")
                    ->check(whole_number());
  cmd->add_option("--animation", o->animation,
                  "also write the same frames as one animated PNG (APNG) FILE, each shown for its guest time "
                  "until the next frame (the last for 1 s); frames smaller than the largest are padded with black")
      ->type_name("FILE")
      ->excludes(o->at_given);
  cmd->add_option("TRACE", o->trace, "trace file")->required();
  return {cmd, [o] { return frames(*o); }};
}

}  // namespace rrvm::cli
