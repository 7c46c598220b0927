// `rrvm run`: run a guest, no recording.
#include "cli/commands.h"
#include "cli/machine_options.h"

namespace rrvm::cli {

namespace {
MachineOptions g_run;
}

CLI::App* add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a guest (no recording)");
  add_machine_options(*cmd, g_run);
  return cmd;
}

int run_command() {
  GuestOutputs outputs(g_run);
  auto sys = PcSystem::create(make_system_config(g_run, outputs));
  announce_backend(*sys);
  RunResult r = sys->run();
  if (r.reason != StopReason::DebugExit) std::fprintf(stderr, "rrvm: %s\n", r.message.c_str());
  return r.exit_status;
}

}  // namespace rrvm::cli
