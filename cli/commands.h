// The `rrvm` subcommands: each file adds its CLI11 subcommand, with its own
// options struct, and returns what runs it.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace rrvm::cli {

// A subcommand: its CLI11 app and what runs it once the command line parsed
// (with the options the parse filled in). Returns rrvm's exit status.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_run_command(CLI::App& app);
Command add_record_command(CLI::App& app, int argc, char** argv);
Command add_replay_command(CLI::App& app);
Command add_info_command(CLI::App& app);
Command add_dump_command(CLI::App& app);
Command add_serial_command(CLI::App& app);
Command add_frames_command(CLI::App& app);
Command add_host_command(CLI::App& app);
Command add_gdb_command(CLI::App& app);

}  // namespace rrvm::cli
