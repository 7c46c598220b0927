// `rrvm gdb`: a gdb remote protocol server over the replay of a trace, with
// reverse execution (debug/gdb_server.h).
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "debug/gdb_server.h"
#include "system/replay_timeline.h"

namespace rrvm::cli {

namespace {
struct GdbCommandOptions {
  std::string trace, backend = "emu", image;
  uint16_t port = 1234;
  uint64_t checkpoint_memory_mib = 1024;
  uint64_t checkpoint_interval = 0;  // 0: the backend's default
};

int serve_gdb(const GdbCommandOptions& o) {
  TimelineOptions t;
  // auto is emu: exact and fast wherever the guest runs on it; kvm counts
  // by single-stepping (one trap per instruction).
  t.backend = o.backend == "kvm" ? BackendKind::Kvm : BackendKind::Emu;
  t.checkpoint_memory = o.checkpoint_memory_mib << 20;
  t.checkpoint_interval = o.checkpoint_interval;
  if (!o.image.empty()) t.replay.image_override = o.image;
  // The guest's output goes to the terminal as the replay produces it (again
  // when the user goes back and forward over it).
  t.replay.serial_out = [](uint8_t b) {
    std::fputc(b, stdout);
    if (b == '\n') std::fflush(stdout);
  };
  std::fprintf(stderr, "rrvm: gdb: loading %s\n", o.trace.c_str());
  ReplayTimeline timeline(o.trace, t);
  if (t.backend == BackendKind::Kvm)
    std::fprintf(stderr,
                 "rrvm: gdb: replaying on kvm, single-stepping every instruction (checkpoint every %llu "
                 "instructions); only write watchpoints\n",
                 (unsigned long long)timeline.checkpoint_interval());
  debug::RspConnection connection(o.port);
  std::fprintf(stderr, "rrvm: gdb: listening; in gdb: target remote 127.0.0.1:%u\n", unsigned(connection.port()));
  std::fflush(stderr);
  connection.accept_client();
  debug::GdbServer server(timeline, connection);
  server.serve([](const std::string& line) { std::fprintf(stderr, "rrvm: gdb: %s\n", line.c_str()); });
  std::fflush(stdout);
  std::fprintf(stderr, "rrvm: gdb: session ended at event %llu, icount %llu\n",
               (unsigned long long)timeline.event(), (unsigned long long)timeline.position().icount);
  return kExitOk;
}
}  // namespace

Command add_gdb_command(CLI::App& app) {
  auto o = std::make_shared<GdbCommandOptions>();
  auto* cmd = app.add_subcommand("gdb", "Serve the replay of a trace to gdb, with reverse execution");
  cmd->add_option("--port", o->port, "TCP port on 127.0.0.1 (0: any free port; the line to use is printed)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--backend", o->backend,
                  "replay backend: emu (auto), or kvm counting instructions by single-stepping (slow; write "
                  "watchpoints only)")
      ->check(CLI::IsMember({"auto", "emu", "kvm"}))
      ->capture_default_str();
  cmd->add_option("--checkpoint-memory", o->checkpoint_memory_mib,
                  "MiB the in-memory checkpoints may hold (older ones thin out first)")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd->add_option("--checkpoint-interval", o->checkpoint_interval,
                  "instructions between checkpoints taken while replaying forward (default: 2000000 on emu, "
                  "20000 on kvm)")
      ->check(whole_number(1));
  cmd->add_option("--image", o->image, "guest image to use instead of the path stored in the trace");
  cmd->add_option("TRACE", o->trace, "trace file")->required();
  return {cmd, [o] { return serve_gdb(*o); }};
}

}  // namespace rrvm::cli
