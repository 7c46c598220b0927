// `rrvm record`: run a guest and write everything that entered it to a trace.
#include <cstdio>

#include "cli/commands.h"
#include "cli/machine_options.h"
#include "system/record_session.h"

namespace rrvm::cli {

namespace {
MachineOptions g_opts;
std::string g_output;
std::vector<std::string> g_argv;
}  // namespace

CLI::App* add_record_command(CLI::App& app, int argc, char** argv) {
  auto* cmd = app.add_subcommand("record", "Run a guest and record it into a trace");
  add_machine_options(*cmd, g_opts);
  cmd->add_option("-o,--output", g_output, "trace file to write")->required();
  g_argv.assign(argv, argv + argc);
  return cmd;
}

int record_command() {
  GuestOutputs outputs(g_opts);
  RecordOutcome r = record_to_trace(make_system_config(g_opts, outputs), g_output, g_argv, true);
  if (r.write_error) {
    // Said once, whether writing failed during the run or at the end record.
    std::fprintf(stderr, "rrvm: error: cannot write the trace: %s (the trace is readable up to its last whole frame)\n",
                 r.write_error->c_str());
    return kExitIoError;
  }
  if (r.result.reason != StopReason::DebugExit) std::fprintf(stderr, "rrvm: %s\n", r.result.message.c_str());
  std::fprintf(stderr, "rrvm: recorded %llu events (%llu exits) into %s: %llu bytes, %.2f bytes/exit, %.3f s\n",
               (unsigned long long)r.events, (unsigned long long)r.result.exits, g_output.c_str(),
               (unsigned long long)r.trace_bytes,
               r.result.exits ? double(r.trace_bytes) / double(r.result.exits) : 0.0, r.wall_seconds);
  return r.result.exit_status;
}

}  // namespace rrvm::cli
