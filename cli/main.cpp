// rrvm: deterministic record/replay VMM for debugging.
#include <cstdio>
#include <exception>
#include <vector>

#include "cli/commands.h"
#include "system/pc_system.h"
#include "trace/trace_events.h"
#include "vmm/version.h"

int main(int argc, char** argv) {
  using namespace rrvm;
  CLI::App app{"rrvm: record and replay whole x86 machines on KVM or a software CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("rrvm ") + kRrvmVersion);
  // Command-line errors are one line, like every other error.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("rrvm: error: ") + e.what() + " (see --help)\n";
  });
  const std::vector<cli::Command> commands = {
      cli::add_run_command(app),    cli::add_record_command(app, argc, argv), cli::add_replay_command(app),
      cli::add_info_command(app),   cli::add_dump_command(app),                cli::add_serial_command(app),
      cli::add_frames_command(app), cli::add_host_command(app),   cli::add_gdb_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with status 0; every real one is bad input.
    return app.exit(e) == 0 ? kExitOk : kExitBadInput;
  }
  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const SystemError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return e.status();
  } catch (const TraceWriteError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return kExitIoError;
  } catch (const OutputError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return kExitIoError;
  } catch (const VcpuError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return kExitBackendError;
  } catch (const std::exception& e) {
    // TraceError (an unreadable trace) and every other problem with what the
    // user gave us.
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return kExitBadInput;
  }
  return kExitOk;
}
