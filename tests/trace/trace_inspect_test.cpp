// The inspection functions behind `rrvm trace info|dump|serial`.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "system/console_rebuild.h"
#include "trace/trace_inspect.h"
#include "trace/trace_writer.h"
#include "tests/trace/trace_samples.h"
#include "vmm/cpu_state.h"
#include "vmm/format.h"

namespace rrvm {
namespace {

using namespace trace_samples;

std::string write_console_trace(bool close) {
  std::string path = temp_path(close ? "console.rrt" : "console_cut.rrt");
  TraceWriter w(path, header());
  for (const auto& e : every_kind_events()) w.append(e);  // prints "hi"
  // Wide write: low byte to THR, high byte to IER.
  w.append(port_out(0x3F8, 0x0A21, 2));
  w.append(port_out(0x3FB, 0x83));  // DLAB on: the next THR write is a divisor
  w.append(port_out(0x3F8, 'X'));
  w.append(port_out(0x3FB, 0x03));
  w.append(port_in(0x3F8, 'Y'));  // reads are not output
  w.append(port_out(0x3F8, '.'));
  for (char c : std::string("ok")) w.append(port_out(0xE9, static_cast<uint8_t>(c)));
  if (close) w.close(end());
  return path;
}

TEST(TraceInspect, RebuildsSerialHonouringDlab) {
  TraceReader reader(write_console_trace(true));
  ConsoleOutput out = rebuild_console(reader);
  EXPECT_EQ(out.serial, "hi!.");
  EXPECT_EQ(out.debug_console, "ok");
}

TEST(TraceInspect, DumpFiltersByRangeAndKind) {
  TraceReader reader(write_console_trace(true));
  std::ostringstream all, some, json;
  dump_events(reader, {}, all);
  size_t lines = 0;
  for (char c : all.str()) lines += c == '\n';
  EXPECT_EQ(lines, reader.event_count());

  DumpOptions interrupts;
  interrupts.kind = TraceEventKind::Interrupt;
  dump_events(reader, interrupts, some);
  EXPECT_EQ(some.str(), "13 interrupt vector 0x20 at exit 13 icount 1000\n"
                        "14 interrupt vector 0x21 at exit 13 kicked at pc 0x7c07 state " +
                            hex(execution_point_hash(registers(7))) + " dirty " +
                            hex(digest_prefix(sha256("dirty", 5))) +
                            "\n"
                            "15 interrupt vector 0x8 at exit 20 icount 500\n");

  DumpOptions range;
  range.from = 3;
  range.to = 5;
  range.json = true;
  dump_events(reader, range, json);
  EXPECT_EQ(json.str(),
            "{\"ordinal\":3,\"type\":\"exit\",\"kind\":\"port-io\",\"write\":false,\"size\":1,\"address\":1021,\"data\":96}\n"
            "{\"ordinal\":4,\"type\":\"exit\",\"kind\":\"port-io\",\"write\":true,\"size\":1,\"address\":1016,\"data\":104}\n");
}

TEST(TraceInspect, InfoSummarisesCompleteAndTruncatedTraces) {
  {
    TraceReader reader(write_console_trace(true));
    std::ostringstream out;
    trace_info(reader, out);
    std::string s = out.str();
    EXPECT_NE(s.find("backend emu"), std::string::npos) << s;
    EXPECT_NE(s.find("status: complete"), std::string::npos) << s;
    EXPECT_NE(s.find("interrupt 3"), std::string::npos) << s;
    EXPECT_NE(s.find("bytes per exit"), std::string::npos) << s;
    EXPECT_NE(s.find("end: debug-exit"), std::string::npos) << s;
  }
  {
    TraceReader reader(write_console_trace(false));
    std::ostringstream out;
    trace_info(reader, out);
    EXPECT_NE(out.str().find("status: truncated"), std::string::npos) << out.str();
  }
}

}  // namespace
}  // namespace rrvm
