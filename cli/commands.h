// The `rrvm` subcommands: each file adds its CLI11 subcommand and runs it.
#pragma once
#include <CLI/CLI.hpp>

namespace rrvm::cli {

CLI::App* add_run_command(CLI::App& app);
int run_command();
CLI::App* add_record_command(CLI::App& app, int argc, char** argv);
int record_command();
CLI::App* add_replay_command(CLI::App& app);
int replay_command();
void add_trace_commands(CLI::App& app, CLI::App** info, CLI::App** dump, CLI::App** serial);
int info_command();
int dump_command();
int serial_command();
CLI::App* add_frames_command(CLI::App& app);
int frames_command();
CLI::App* add_host_command(CLI::App& app);
int host_command();

}  // namespace rrvm::cli
