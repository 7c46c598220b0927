// `rrvm record`: run a guest and write everything that entered it to a trace.
#include <signal.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/machine_options.h"
#include "cli/option_checks.h"
#include "system/record_session.h"

namespace rrvm::cli {

namespace {
struct RecordOptions {
  MachineOptions machine;
  std::string output;
  uint64_t keyframe_every = kDefaultKeyframeInterval;
  uint64_t keyframe_ms = kDefaultKeyframeIntervalMs;
  bool keyframe_ms_given = false;  // a spacing the user chose is kept as given
  std::vector<std::string> argv;  // the command line, for the trace header
};

// The first SIGINT asks the recording to stop after the guest's next exit,
// leaving a complete trace that replays to the same end; a second one (a
// guest that makes no more exits) ends rrvm at once, leaving the readable
// prefix a killed recorder leaves.
std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  if (g_interrupted.exchange(true)) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
  }
}

int record(const RecordOptions& o) {
  for (const std::string* out : {&o.machine.serial_out, &o.machine.debugcon_out, &o.machine.bios_log})
    if (!out->empty() && same_file(*out, o.output))
      throw SystemError("-o '" + o.output + "' is also the guest's output file '" + *out +
                            "': give the trace its own path",
                        kExitBadInput);
  GuestOutputs outputs;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  RecordOutcome r = record_to_trace(make_system_config(o.machine, outputs), o.output, o.argv, true, {},
                                    o.keyframe_every, &g_interrupted, o.keyframe_ms, !o.keyframe_ms_given);
  if (r.write_error) {
    // Said once, whether writing failed during the run or at the end record.
    std::fprintf(stderr, "rrvm: error: cannot write the trace: %s (the trace is readable up to its last whole frame)\n",
                 r.write_error->c_str());
    return kExitIoError;
  }
  if (r.result.reason != StopReason::DebugExit) std::fprintf(stderr, "rrvm: %s\n", r.result.message.c_str());
  std::fprintf(stderr, "rrvm: recorded %llu events (%llu exits) into %s: %llu bytes, %.2f bytes/exit, %.3f s\n",
               (unsigned long long)r.events, (unsigned long long)r.result.exits, o.output.c_str(),
               (unsigned long long)r.trace_bytes,
               r.result.exits ? double(r.trace_bytes) / double(r.result.exits) : 0.0, r.wall_seconds);
  if (o.machine.patch_tsc || !o.machine.kernel.empty())  // every --kernel machine is patched
    std::fprintf(stderr, "rrvm: %llu TSC read sites found, %llu patched; %llu TSC reads recorded\n",
                 (unsigned long long)r.tsc_sites, (unsigned long long)r.tsc_patched, (unsigned long long)r.tsc_reads);
  if (r.keyframe_error)
    std::fprintf(stderr, "rrvm: keyframes stopped after %llu: %s\n", (unsigned long long)r.keyframes,
                 r.keyframe_error->c_str());
  else if (r.keyframes_on && r.backend == "emu")
    std::fprintf(stderr, "rrvm: %llu keyframe(s), one every %llu instructions (%.3f s taking them)\n",
                 (unsigned long long)r.keyframes, (unsigned long long)o.keyframe_every, r.keyframe_seconds);
  else if (r.keyframes_on)
    std::fprintf(stderr, "rrvm: %llu keyframe(s), one after the first exit every %llu ms%s (%.3f s taking them)\n",
                 (unsigned long long)r.keyframes, (unsigned long long)o.keyframe_ms,
                 o.keyframe_ms_given ? "" : " or more (at most 5% of the time)", r.keyframe_seconds);
  return r.result.exit_status;
}
}  // namespace

Command add_record_command(CLI::App& app, int argc, char** argv) {
  auto o = std::make_shared<RecordOptions>();
  auto* cmd = app.add_subcommand("record", "Run a guest and record it into a trace");
  add_machine_options(*cmd, o->machine);
  cmd->add_option("-o,--output", o->output, "trace file to write")->required();
  cmd->add_option("--keyframe-every", o->keyframe_every,
                  "write a keyframe (a whole-machine snapshot replay --from and frames --at start from) every N "
                  "retired instructions (0: none; emu, which counts instructions)")
      ->check(whole_number())
      ->capture_default_str();
  cmd->add_option_function<uint64_t>(
         "--keyframe-ms",
         [o](uint64_t ms) {
           o->keyframe_ms = ms;
           o->keyframe_ms_given = true;
         },
         "on kvm, which counts no instructions: write a keyframe right after the first guest exit at "
         "least MS milliseconds of host time after the previous one (0: none; by default 1000, stretched "
         "so that keyframes take at most 5% of the recording's time)")
      ->type_name("MS")
      ->check(whole_number());
  o->argv.assign(argv, argv + argc);
  return {cmd, [o] { return record(*o); }};
}

}  // namespace rrvm::cli
