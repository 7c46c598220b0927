// `rrvm info`, `rrvm dump`, `rrvm serial`: look into a trace without running it.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "system/console_rebuild.h"
#include "trace/trace_inspect.h"
#include "trace/trace_reader.h"
#include "vmm/machine.h"

namespace rrvm::cli {

namespace {
struct DumpCommandOptions {
  std::string trace, kind;
  DumpOptions dump;
};

int dump(const DumpCommandOptions& o) {
  TraceReader reader(o.trace);
  DumpOptions d = o.dump;
  if (!o.kind.empty()) {
    d.kind = trace_event_kind_from_name(o.kind);
    if (!d.kind) throw std::runtime_error("--kind: unknown event kind '" + o.kind + "'");
  }
  dump_events(reader, d, std::cout);
  return 0;
}

int serial(const std::string& trace) {
  TraceReader reader(trace);
  ConsoleOutput out = rebuild_console(reader);
  std::cout << out.serial << std::flush;
  if (!out.debug_console.empty()) std::cerr << out.debug_console << std::flush;
  if (out.error) {
    std::cerr << "rrvm: " << *out.error << "\n";
    return kExitBadInput;
  }
  return 0;
}
}  // namespace

Command add_info_command(CLI::App& app) {
  auto trace = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("info", "Summarise a trace: header, event counts, sizes, completeness");
  cmd->add_option("TRACE", *trace, "trace file")->required();
  return {cmd, [trace] {
            TraceReader reader(*trace);
            trace_info(reader, std::cout);
            return reader.status().state == TraceCompleteness::Corrupt ? int(kExitBadInput) : 0;
          }};
}

Command add_dump_command(CLI::App& app) {
  auto o = std::make_shared<DumpCommandOptions>();
  auto* cmd = app.add_subcommand("dump", "Print a trace's events, one per line");
  cmd->add_option("--from", o->dump.from, "first event ordinal")->check(whole_number());
  cmd->add_option("--to", o->dump.to, "stop before this event ordinal")->check(whole_number());
  cmd->add_option("--kind", o->kind,
                  "only events of this kind (exit, interrupt, service, clock, serial-input, cpu-checksum, "
                  "display-frame)");
  cmd->add_flag("--json", o->dump.json, "JSON lines");
  cmd->add_option("TRACE", o->trace, "trace file")->required();
  return {cmd, [o] { return dump(*o); }};
}

Command add_serial_command(CLI::App& app) {
  auto trace = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("serial", "Print the guest's serial and debug-console output, from the trace alone");
  cmd->add_option("TRACE", *trace, "trace file")->required();
  return {cmd, [trace] { return serial(*trace); }};
}

}  // namespace rrvm::cli
