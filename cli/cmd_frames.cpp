// `rrvm frames`: rebuild the guest's screen from a trace alone and write PNGs.
#include <iostream>

#include "cli/commands.h"
#include "cli/frame_files.h"
#include "cli/progress.h"
#include "replay/frame_rebuilder.h"
#include "replay/trace_reader.h"

namespace rrvm::cli {

namespace {
std::string g_trace, g_dir;
uint64_t g_every = 1;
uint64_t g_at = 0;
bool g_at_set = false;
}  // namespace

CLI::App* add_frames_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("frames", "Rebuild the guest's screen from a trace alone (no CPU) as PNG files");
  cmd->add_option("-o,--output", g_dir, "directory for frame-NNNNNN.png")->required();
  cmd->add_option("--every", g_every, "write every Nth frame")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--at", g_at, "write only the screen as it was at this event ordinal")
      ->each([](const std::string&) { g_at_set = true; });
  cmd->add_option("TRACE", g_trace, "trace file")->required();
  return cmd;
}

int frames_command() {
  TraceReader reader(g_trace);
  FrameFiles files(g_dir, g_every, "--output");
  FrameRebuilder rebuilder;
  Progress progress("frames", reader.event_count());
  uint64_t index = 0;
  auto cursor = reader.events();
  auto write = [&](uint64_t n) {
    if (rebuilder.has_registers()) files.write(n, rebuilder.render());
  };
  while (const TraceEvent* e = cursor.next()) {
    if (g_at_set && cursor.ordinal() > g_at) break;
    progress.update(cursor.ordinal());
    auto* f = std::get_if<DisplayFrameEvent>(&e->body);
    if (!f) continue;
    rebuilder.apply(*f);
    if (!g_at_set && files.selected(index)) write(index);
    ++index;
  }
  if (g_at_set) write(g_at);
  progress.finish();
  std::cerr << "rrvm: " << files.written() << " frame(s) of " << index << " written to " << g_dir << "\n";
  if (reader.status().state != TraceCompleteness::Complete)
    std::cerr << "rrvm: note: " << reader.status().detail << "\n";
  return 0;
}

}  // namespace rrvm::cli
