// rrvm: deterministic record/replay VMM for debugging.
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "trace/trace_events.h"
#include "system/pc_system.h"
#include "vmm/version.h"

int main(int argc, char** argv) {
  CLI::App app{"rrvm: record and replay whole x86 machines on KVM or a software CPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("rrvm ") + rrvm::kRrvmVersion);
  struct Command {
    CLI::App* app;
    int (*run)();
  };
  CLI::App *info, *dump, *serial;
  CLI::App* run = rrvm::cli::add_run_command(app);
  CLI::App* record = rrvm::cli::add_record_command(app, argc, argv);
  CLI::App* replay = rrvm::cli::add_replay_command(app);
  rrvm::cli::add_trace_commands(app, &info, &dump, &serial);
  CLI::App* frames = rrvm::cli::add_frames_command(app);
  CLI::App* host = rrvm::cli::add_host_command(app);
  const Command commands[] = {
      {run, rrvm::cli::run_command},       {record, rrvm::cli::record_command},
      {replay, rrvm::cli::replay_command}, {info, rrvm::cli::info_command},
      {dump, rrvm::cli::dump_command},     {serial, rrvm::cli::serial_command},
      {frames, rrvm::cli::frames_command}, {host, rrvm::cli::host_command},
  };
  CLI11_PARSE(app, argc, argv);
  try {
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const rrvm::SystemError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return e.status();
  } catch (const rrvm::TraceWriteError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return rrvm::kExitIoError;
  } catch (const rrvm::OutputError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return rrvm::kExitIoError;
  } catch (const rrvm::VcpuError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return rrvm::kExitBackendError;
  } catch (const rrvm::TraceError& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return rrvm::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rrvm: error: %s\n", e.what());
    return rrvm::kExitBadInput;
  }
  return 0;
}
