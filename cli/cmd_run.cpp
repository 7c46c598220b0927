// `rrvm run`: run a guest, no recording.
#include <memory>

#include "cli/commands.h"
#include "cli/machine_options.h"

namespace rrvm::cli {

namespace {
int run(const MachineOptions& o) {
  GuestOutputs outputs;
  auto sys = PcSystem::create(make_system_config(o, outputs));
  announce_backend(*sys);
  RunResult r = sys->run();
  if (r.reason != StopReason::DebugExit) std::fprintf(stderr, "rrvm: %s\n", r.message.c_str());
  return r.exit_status;
}
}  // namespace

Command add_run_command(CLI::App& app) {
  auto o = std::make_shared<MachineOptions>();
  auto* cmd = app.add_subcommand("run", "Run a guest (no recording)");
  add_machine_options(*cmd, *o);
  return {cmd, [o] { return run(*o); }};
}

}  // namespace rrvm::cli
