// `rrvm info`, `rrvm dump`, `rrvm serial`: look into a trace without running it.
#include <iostream>

#include "cli/commands.h"
#include "trace/trace_inspect.h"
#include "trace/trace_reader.h"
#include "vmm/machine.h"

namespace rrvm::cli {

namespace {
std::string g_info_trace, g_dump_trace, g_serial_trace, g_kind;
uint64_t g_from = 0, g_to = ~0ull;
bool g_json = false;
}  // namespace

void add_trace_commands(CLI::App& app, CLI::App** info, CLI::App** dump, CLI::App** serial) {
  *info = app.add_subcommand("info", "Summarise a trace: header, event counts, sizes, completeness");
  (*info)->add_option("TRACE", g_info_trace, "trace file")->required();
  *dump = app.add_subcommand("dump", "Print a trace's events, one per line");
  (*dump)->add_option("--from", g_from, "first event ordinal");
  (*dump)->add_option("--to", g_to, "stop before this event ordinal");
  (*dump)->add_option("--kind", g_kind, "only events of this kind (exit, interrupt, service, clock, serial-input, "
                                        "cpu-checksum, display-frame)");
  (*dump)->add_flag("--json", g_json, "JSON lines");
  (*dump)->add_option("TRACE", g_dump_trace, "trace file")->required();
  *serial = app.add_subcommand("serial", "Print the guest's serial and debug-console output, from the trace alone");
  (*serial)->add_option("TRACE", g_serial_trace, "trace file")->required();
}

int info_command() {
  TraceReader reader(g_info_trace);
  trace_info(reader, std::cout);
  return reader.status().state == TraceCompleteness::Corrupt ? kExitBadInput : 0;
}

int dump_command() {
  TraceReader reader(g_dump_trace);
  DumpOptions o;
  o.from = g_from;
  o.to = g_to;
  o.json = g_json;
  if (!g_kind.empty()) {
    o.kind = trace_event_kind_from_name(g_kind);
    if (!o.kind) throw std::runtime_error("--kind: unknown event kind '" + g_kind + "'");
  }
  dump_events(reader, o, std::cout);
  return 0;
}

int serial_command() {
  TraceReader reader(g_serial_trace);
  ConsoleOutput out = rebuild_serial(reader);
  std::cout << out.serial << std::flush;
  if (!out.debug_console.empty()) std::cerr << out.debug_console << std::flush;
  if (out.error) {
    std::cerr << "rrvm: " << *out.error << "\n";
    return kExitBadInput;
  }
  return 0;
}

}  // namespace rrvm::cli
