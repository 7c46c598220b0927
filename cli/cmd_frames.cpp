// `rrvm frames`: rebuild the guest's screen from a trace alone and write PNGs
// (and, with --animation, one animated PNG of the same frames).
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/frame_animation.h"
#include "cli/frame_export.h"
#include "cli/frame_files.h"
#include "cli/progress.h"
#include "replay/frame_rebuilder.h"
#include "replay/trace_reader.h"

namespace rrvm::cli {

namespace {
std::string g_trace, g_dir, g_animation;
uint64_t g_every = 1;
unsigned g_jobs = PngPipeline::default_workers();
uint64_t g_at = 0;
bool g_at_set = false;
}  // namespace

CLI::App* add_frames_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("frames", "Rebuild the guest's screen from a trace alone (no CPU) as PNG files");
  cmd->add_option("-o,--output", g_dir, "directory for frame-NNNNNN.png")->required();
  cmd->add_option("--every", g_every, "write every Nth frame")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--jobs", g_jobs, "threads encoding PNGs (default: one per core; 0: none, the rendering thread "
                                    "encodes); the files are the same whatever the number")
      ->check(CLI::Range(0u, 64u))
      ->capture_default_str();
  auto* at = cmd->add_option("--at", g_at, "write only the screen as it was at this event ordinal")
                 ->each([](const std::string&) { g_at_set = true; });
  cmd->add_option("--animation", g_animation,
                  "also write the same frames as one animated PNG (APNG) FILE, each shown for its guest time "
                  "until the next frame (the last for 1 s); frames smaller than the largest are padded with black")
      ->type_name("FILE")
      ->excludes(at);
  cmd->add_option("TRACE", g_trace, "trace file")->required();
  return cmd;
}

int frames_command() {
  TraceReader reader(g_trace);
  FrameFiles files(g_dir, g_every, "--output");
  FrameRebuilder rebuilder;
  std::unique_ptr<FrameAnimation> animation;
  CanvasSize canvas;
  if (!g_animation.empty()) {
    // The canvas must hold the largest frame before the first one is written.
    canvas = animation_canvas(reader, [&](uint64_t i) { return files.selected(i); });
    if (!canvas.width)
      throw std::runtime_error("--animation: '" + g_trace + "' has no display frames with a picture to animate");
    animation = std::make_unique<FrameAnimation>(g_animation, canvas);
  }
  // Declared after what it writes to: its workers stop before those go.
  FrameExport out(files, animation.get(), canvas, g_jobs);
  Progress progress("frames", reader.event_count());
  uint64_t index = 0;
  auto cursor = reader.events();
  auto write = [&](uint64_t n, uint64_t guest_ns) { out.add(n, rebuilder, guest_ns); };
  try {
    while (const TraceEvent* e = cursor.next()) {
      if (g_at_set && cursor.ordinal() > g_at) break;
      progress.update(cursor.ordinal());
      auto* f = std::get_if<DisplayFrameEvent>(&e->body);
      if (!f) continue;
      try {
        rebuilder.apply(*f);
      } catch (const std::exception& err) {
        throw std::runtime_error("trace '" + g_trace + "': event " + std::to_string(cursor.ordinal()) + ": " +
                                 err.what());
      }
      if (!g_at_set && files.selected(index)) write(index, f->guest_ns);
      ++index;
    }
    if (g_at_set) write(g_at, 0);
  } catch (...) {
    // A damaged trace: the frames before the damage are still written (a
    // failed write of one of them is the error reported: it came first).
    out.finish();
    throw;
  }
  out.finish();
  progress.finish();
  std::cerr << "rrvm: " << files.written() << " frame(s) of " << index << " written to " << g_dir << "\n";
  if (animation) {
    animation->finish();
    std::cerr << "rrvm: animation of " << animation->frames() << " frame(s) written to " << g_animation << "\n";
  }
  if (reader.status().state != TraceCompleteness::Complete)
    std::cerr << "rrvm: note: " << reader.status().detail << "\n";
  return 0;
}

}  // namespace rrvm::cli
