// `rrvm replay`: re-execute a trace deterministically and check it.
#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "system/replay_session.h"

namespace rrvm::cli {

namespace {
std::string g_trace, g_backend = "auto", g_image;
uint64_t g_until = 0, g_until_icount = 0;
bool g_quiet = false;
}  // namespace

CLI::App* add_replay_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("replay", "Replay a trace exactly; report the first divergence");
  cmd->add_option("--backend", g_backend, "vCPU backend: auto, kvm, emu (any backend replays any trace)")
      ->check(CLI::IsMember({"auto", "kvm", "emu"}))
      ->capture_default_str();
  cmd->add_option("--until", g_until, "stop after this many trace events");
  cmd->add_option("--until-icount", g_until_icount, "stop at this instruction count (emu)");
  cmd->add_option("--image", g_image, "guest image to use instead of the path stored in the trace");
  cmd->add_flag("-q,--quiet", g_quiet, "do not print the guest's output");
  cmd->add_option("TRACE", g_trace, "trace file")->required();
  return cmd;
}

int replay_command() {
  ReplaySettings s;
  s.backend = g_backend == "kvm" ? BackendKind::Kvm : g_backend == "emu" ? BackendKind::Emu : BackendKind::Auto;
  if (g_until) s.options.until_event = g_until;
  if (g_until_icount) s.options.until_icount = g_until_icount;
  if (!g_image.empty()) s.image_override = g_image;
  if (!g_quiet) {
    s.serial_out = [](uint8_t b) {
      std::fputc(b, stdout);
      if (b == '\n') std::fflush(stdout);
    };
    s.debug_out = [](uint8_t b) { std::fputc(b, stderr); };
  }
  ReplayOutcome r = replay_trace(g_trace, s);
  std::fflush(stdout);
  if (r.divergence) {
    std::fprintf(stderr, "rrvm: %s", r.divergence->to_string().c_str());
    return kExitDivergence;
  }
  std::fprintf(stderr, "rrvm: %s\n", r.message.c_str());
  std::fprintf(stderr, "rrvm: replay on %s of a %s recording: %llu events, %llu exits", r.backend.c_str(),
               r.recorded_backend.c_str(), (unsigned long long)r.events, (unsigned long long)r.exits);
  if (r.instructions) std::fprintf(stderr, ", %llu instructions", (unsigned long long)*r.instructions);
  std::fprintf(stderr, ", %.3f s\n", r.wall_seconds);
  return r.exit_status;
}

}  // namespace rrvm::cli
