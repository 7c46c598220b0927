// `rrvm replay`: re-execute a trace deterministically and check it.
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/commands.h"
#include "cli/frame_export.h"
#include "cli/frame_files.h"
#include "cli/machine_options.h"
#include "cli/option_checks.h"
#include "cli/progress.h"
#include "system/replay_session.h"

namespace rrvm::cli {

namespace {
struct ReplayCommandOptions {
  std::string trace, backend = "auto", frames, bios_log, search_log;
  std::vector<std::string> images;
  uint64_t until = 0, until_icount = 0, every = 1, from = 0;
  unsigned jobs = PngPipeline::default_workers();
  CLI::Option* until_given = nullptr;
  CLI::Option* until_icount_given = nullptr;
  CLI::Option* from_given = nullptr;
  bool quiet = false;
};

int replay(const ReplayCommandOptions& o) {
  ReplaySettings s;
  s.backend = o.backend == "kvm" ? BackendKind::Kvm : o.backend == "emu" ? BackendKind::Emu : BackendKind::Auto;
  if (o.until_given->count()) s.options.until_event = o.until;
  if (o.until_icount_given->count()) s.options.until_icount = o.until_icount;
  for (const std::string& i : o.images) {
    const size_t eq = i.find('=');
    const std::string role = eq == std::string::npos ? "" : i.substr(0, eq);
    if (role == "bios" || role == "vga-bios" || role == "floppy" || role == "disk" || role == "guest" ||
        role == "kernel" || role == "initrd")
      s.image_overrides.emplace_back(role, i.substr(eq + 1));
    else
      s.image_override = i;
  }
  // What this replay reads, so that no output it writes destroys one.
  std::vector<InputFile> inputs;
  if (!o.bios_log.empty() || !o.frames.empty() || !o.search_log.empty())
    inputs = replay_input_files(*open_replay_trace(o.trace), s);
  // An output file; SystemError (one line, status 8) when it is an input or
  // cannot be written.
  using OutputFile = std::unique_ptr<FILE, int (*)(FILE*)>;
  auto open_log = [&](const std::string& path, const char* option) {
    refuse_output_over_input(inputs, path, option);
    return OutputFile(open_output(path, option), &std::fclose);
  };
  OutputFile bios_log(nullptr, &std::fclose), search_log(nullptr, &std::fclose);
  if (!o.bios_log.empty()) {
    bios_log = open_log(o.bios_log, "--bios-log");
    FILE* f = bios_log.get();
    s.bios_log = [f](uint8_t b) { std::fputc(b, f); };
  }
  if (!o.search_log.empty()) {
    search_log = open_log(o.search_log, "--search-log");
    FILE* f = search_log.get();
    std::setvbuf(f, nullptr, _IOLBF, 0);  // a line per point, readable while a long replay runs
    std::fprintf(f, "# event pc stops: each point inside guest execution found by a breakpoint search\n");
    s.on_search_point = [f](uint64_t event, uint64_t pc, uint64_t stops) {
      std::fprintf(f, "%llu 0x%llx %llu\n", (unsigned long long)event, (unsigned long long)pc,
                   (unsigned long long)stops);
    };
  }
  if (o.from_given->count()) s.from_event = o.from;
  // The bar shares the terminal with the guest's output: it is erased before
  // guest output and drawn again only where a guest line has ended, so
  // neither cuts into the other.
  Progress progress("replay", 0);
  bool mid_line = false;
  if (!o.quiet) {
    s.serial_out = [&](uint8_t b) {
      progress.clear();
      std::fputc(b, stdout);
      if (b == '\n') std::fflush(stdout);
      mid_line = b != '\n';
    };
    s.debug_out = [&](uint8_t b) {
      progress.clear();
      std::fputc(b, stderr);
      mid_line = b != '\n';
    };
  }
  s.progress = [&](uint64_t done, uint64_t total) {
    progress.set_total(total);
    if (mid_line) return;
    std::fflush(stdout);  // the guest's finished lines first, then the bar
    progress.update(done);
  };
  // Frame N is the Nth frame the replay's sampler takes, which is the trace's
  // Nth display-frame event: the index `rrvm frames` names it by.
  std::unique_ptr<FrameFiles> files;
  std::unique_ptr<FrameExport> out;
  uint64_t frame_index = 0;
  std::optional<std::string> frame_error;
  int frame_error_status = kExitIoError;
  if (!o.frames.empty()) {
    files = std::make_unique<FrameFiles>(o.frames, o.every, "--frames", inputs);
    out = std::make_unique<FrameExport>(*files, nullptr, CanvasSize{}, o.jobs);
    s.on_frame = [&](uint64_t, const Frame& f) {
      uint64_t index = frame_index++;
      if (frame_error || !files->selected(index)) return;
      // No exception may cross the run loop: keep the first error for the end.
      try {
        out->add(index, f, 0);
      } catch (const OutputError& e) {
        frame_error = e.what();
      } catch (const std::exception& e) {
        frame_error = e.what();
        frame_error_status = kExitBadInput;
      }
    };
  }
  s.on_start = [&](const ReplayStart& start) {
    if (!o.from_given->count()) return;
    std::fprintf(stderr, "rrvm: replay: %s\n", start.note.c_str());
    frame_index = start.display_frames;  // the frames before it are not replayed
  };
  ReplayOutcome r;
  try {
    r = replay_trace(o.trace, s);
  } catch (...) {
    if (out && !frame_error) out->finish();  // the frames replayed so far are written
    throw;
  }
  if (out && !frame_error) {
    try {
      out->finish();
    } catch (const OutputError& e) {
      frame_error = e.what();
    } catch (const std::exception& e) {
      frame_error = e.what();
      frame_error_status = kExitBadInput;
    }
  }
  progress.clear();
  std::fflush(stdout);
  if (files) {
    if (frame_error) {
      std::fprintf(stderr, "rrvm: error: --frames: %s\n", frame_error->c_str());
      return frame_error_status;
    }
    std::fprintf(stderr, "rrvm: %llu frame(s) of %llu written to %s\n", (unsigned long long)files->written(),
                 (unsigned long long)frame_index, files->dir().c_str());
  }
  if (r.divergence) {
    std::fprintf(stderr, "rrvm: %s", r.divergence->to_string().c_str());
    return kExitDivergence;
  }
  std::fprintf(stderr, "rrvm: %s\n", r.message.c_str());
  std::fprintf(stderr, "rrvm: replay on %s of the %s recording: %llu events, %llu exits", r.backend.c_str(),
               r.recorded_backend.c_str(), (unsigned long long)r.events, (unsigned long long)r.exits);
  if (r.instructions) std::fprintf(stderr, ", %llu instructions", (unsigned long long)*r.instructions);
  std::fprintf(stderr, ", %.3f s", r.wall_seconds);
  if (r.record_wall_seconds > 0)
    std::fprintf(stderr, " (recording: %.3f s; replay/record %.2fx)", r.record_wall_seconds,
                 r.wall_seconds / r.record_wall_seconds);
  std::fprintf(stderr, "\n");
  if (r.search.points)
    std::fprintf(stderr,
                 "rrvm: %llu point(s) inside guest execution found by breakpoint: %llu breakpoint stop(s), %llu "
                 "single step(s), at most %llu stops for one point, %llu counted-loop jump(s)\n",
                 (unsigned long long)r.search.points, (unsigned long long)r.search.hits,
                 (unsigned long long)r.search.steps, (unsigned long long)r.search.max_stops,
                 (unsigned long long)r.search.loop_jumps);
  return r.exit_status;
}
}  // namespace

Command add_replay_command(CLI::App& app) {
  auto o = std::make_shared<ReplayCommandOptions>();
  auto* cmd = app.add_subcommand("replay", "Replay a trace exactly; report the first divergence");
  cmd->add_option("--backend", o->backend, "vCPU backend: auto, kvm, emu (any backend replays any trace)")
      ->check(CLI::IsMember({"auto", "kvm", "emu"}))
      ->capture_default_str();
  o->until_given = cmd->add_option("--until", o->until, "stop after this many trace events (0: before the first)")
                       ->check(whole_number());
  o->until_icount_given = cmd->add_option("--until-icount", o->until_icount, "stop at this instruction count (emu)")
                              ->check(whole_number());
  o->from_given = cmd->add_option("--from", o->from,
                                  "start at the latest keyframe at or before this trace event (restore the machine "
                                  "there, then replay to the end); from the start when the trace has none")
                      ->check(whole_number());
  cmd->add_option("--image", o->images,
                  "the guest image to use instead of the path stored in the trace; ROLE=PATH for a firmware "
                  "or Linux machine's images (bios, vga-bios, floppy, disk; kernel, initrd); may repeat")
      ->option_text("[ROLE=]PATH");
  cmd->add_option("--bios-log", o->bios_log, "write the replayed SeaBIOS's debug output (port 0x402) to FILE");
  auto* frames = cmd->add_option("--frames", o->frames,
                                 "write the frames the replayed display renders to DIR as frame-NNNNNN.png "
                                 "(the names `rrvm frames` gives the same frames)");
  frames->option_text("DIR");
  cmd->add_option("--every", o->every, "with --frames: write every Nth frame")
      ->check(whole_number(1))
      ->needs(frames)
      ->capture_default_str();
  cmd->add_option("--jobs", o->jobs,
                  "with --frames: threads encoding PNGs (default: one per core; 0: the replay's thread encodes); the "
                  "files are the same whatever the number")
      ->check(CLI::Range(0u, 64u))
      ->needs(frames)
      ->capture_default_str();
  cmd->add_option("--search-log", o->search_log,
                  "write one line per point found by a breakpoint search (no instruction count: kvm): "
                  "trace event, linear pc, stops it took");
  cmd->add_flag("-q,--quiet", o->quiet, "do not print the guest's output");
  cmd->add_option("TRACE", o->trace, "trace file")->required();
  return {cmd, [o] { return replay(*o); }};
}

}  // namespace rrvm::cli
