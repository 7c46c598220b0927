#include "debug/gdb_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "display/png_writer.h"
#include "vmm/format.h"

namespace rrvm::debug {

namespace {

constexpr unsigned kGeneralRegisters = 16;  // eax..gs
constexpr unsigned kRegisters = 32;         // + st0..st7, fctrl..fop

std::optional<uint64_t> parse_hex(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string le32(uint64_t v) {
  const uint32_t x = uint32_t(v);
  return to_hex(&x, 4);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// Register `n` of the target description, in gdb's byte order.
std::string register_value_hex(unsigned n, const Registers& r, const FpuState& f) {
  switch (n) {
    case 0: return le32(r.rax);
    case 1: return le32(r.rcx);
    case 2: return le32(r.rdx);
    case 3: return le32(r.rbx);
    case 4: return le32(r.rsp);
    case 5: return le32(r.rbp);
    case 6: return le32(r.rsi);
    case 7: return le32(r.rdi);
    case 8: return le32(r.pc_linear());
    case 9: return le32(r.rflags);
    case 10: return le32(r.cs.selector);
    case 11: return le32(r.ss.selector);
    case 12: return le32(r.ds.selector);
    case 13: return le32(r.es.selector);
    case 14: return le32(r.fs.selector);
    case 15: return le32(r.gs.selector);
    default: break;
  }
  if (n >= kRegisters) return "";
  if (n < 24) {
    // ST(i) is the physical register (TOP + i) mod 8; FXSAVE keeps them in
    // ST order already.
    return to_hex(f.st[n - 16].data(), 10);
  }
  // The full tag word from FXSAVE's abridged one: 0 valid, 3 empty (zero and
  // special are not told apart).
  uint32_t tag = 0;
  for (int i = 0; i < 8; ++i) tag |= uint32_t(f.ftw >> i & 1 ? 0 : 3) << (2 * i);
  const uint64_t values[] = {f.fcw, f.fsw, tag, 0, f.fip & 0xFFFFFFFF, 0, f.fdp & 0xFFFFFFFF, f.fop};
  return le32(values[n - 24]);
}

}  // namespace

GdbServer::GdbServer(ReplayTimeline& timeline, RspConnection& connection)
    : timeline_(timeline), connection_(connection) {
  // gdb cannot change architectures within a session: the mode at the start
  // decides how it disassembles (`set architecture i386` after a switch).
  architecture_ = timeline_.registers().protected_mode() ? "i386" : "i8086";
  // gdb's Ctrl-C arrives as a 0x03 byte while a continue runs.
  timeline_.set_interrupt_check([this] { return connection_.interrupt_pending(); });
}

GdbServer::~GdbServer() { timeline_.set_interrupt_check({}); }

std::string GdbServer::target_xml() const {
  std::string xml =
      "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\"><target version=\"1.0\">"
      "<architecture>" + architecture_ + "</architecture><osabi>none</osabi><feature name=\"org.gnu.gdb.i386.core\">";
  const char* general[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
                           "cs",  "ss",  "ds",  "es",  "fs",  "gs"};
  for (unsigned i = 0; i < kGeneralRegisters; ++i) {
    const char* type = i == 4 || i == 5 ? "data_ptr" : i == 8 ? "code_ptr" : "int32";
    xml += fmt::format("<reg name=\"{}\" bitsize=\"32\" type=\"{}\" regnum=\"{}\"/>", general[i], type, i);
  }
  for (unsigned i = 0; i < 8; ++i) xml += fmt::format("<reg name=\"st{}\" bitsize=\"80\" type=\"i387_ext\"/>", i);
  for (const char* f : {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"})
    xml += fmt::format("<reg name=\"{}\" bitsize=\"32\" type=\"int\" group=\"float\"/>", f);
  xml += "</feature></target>";
  return xml;
}

std::string GdbServer::register_hex(unsigned n) {
  // The x87 state costs a backend snapshot: read only when asked for.
  return register_value_hex(n, timeline_.registers(), n < kGeneralRegisters ? FpuState{} : timeline_.fpu());
}

std::string GdbServer::registers_hex() {
  const Registers r = timeline_.registers();
  const FpuState f = timeline_.fpu();
  std::string out;
  for (unsigned i = 0; i < kRegisters; ++i) out += register_value_hex(i, r, f);
  return out;
}

std::string GdbServer::read_memory(const std::string& args) {
  auto parts = split(args, ',');
  if (parts.size() != 2) return "E01";
  auto addr = parse_hex(parts[0]), len = parse_hex(parts[1]);
  if (!addr || !len) return "E01";
  std::vector<uint8_t> bytes(std::min<uint64_t>(*len, 0x4000));
  // As much as can be read from the start; an error only when nothing can.
  const size_t readable = timeline_.read_linear(*addr, bytes);
  if (readable == 0 && !bytes.empty()) return "E14";
  return to_hex(bytes.data(), readable);
}

void GdbServer::arm() {
  timeline_.set_breakpoints(breakpoints_);
  std::vector<Vcpu::Watchpoint> w;
  for (const Watch& x : watches_) {
    Vcpu::Watchpoint v;
    v.address = x.physical;
    v.size = x.length;
    v.writes = x.type == 2 || x.type == 4;
    v.reads = x.type == 3 || x.type == 4;
    w.push_back(v);
  }
  timeline_.set_watchpoints(std::move(w));
}

std::string GdbServer::breakpoint(const std::string& args, bool insert) {
  auto parts = split(args, ',');
  if (parts.size() < 3 || parts[0].size() != 1) return "E01";
  const char type = parts[0][0];
  auto addr = parse_hex(parts[1]), kind = parse_hex(parts[2]);
  if (!addr || !kind) return "E01";
  if (type == '0' || type == '1') {
    auto it = std::find(breakpoints_.begin(), breakpoints_.end(), *addr);
    if (insert && it == breakpoints_.end()) breakpoints_.push_back(*addr);
    if (!insert && it != breakpoints_.end()) breakpoints_.erase(it);
  } else if (type >= '2' && type <= '4') {
    // Not supported (an empty reply): gdb says so to its user.
    if (type != '2' && !timeline_.watches_reads()) return "";
    Watch w{type - '0', *addr, std::max<uint64_t>(*kind, 1), 0};
    auto same = [&](const Watch& x) { return x.type == w.type && x.linear == w.linear && x.length == w.length; };
    if (insert) {
      // Watched through guest-physical addresses: translated now (a guest
      // that remaps the page later is watched where it was).
      auto phys = timeline_.translate(w.linear);
      if (!phys) return "E14";
      w.physical = *phys;
      if (std::none_of(watches_.begin(), watches_.end(), same)) watches_.push_back(w);
    } else {
      watches_.erase(std::remove_if(watches_.begin(), watches_.end(), same), watches_.end());
    }
  } else {
    return "";
  }
  arm();
  return "OK";
}

std::string GdbServer::stop_reply(const TimelineStop& stop) {
  last_stop_ = stop;
  std::string reply = "T05";
  switch (stop.kind) {
    case TimelineStopKind::Breakpoint: reply += "swbreak:;"; break;
    case TimelineStopKind::Watchpoint: {
      // Back in the terms gdb set it: the watched linear address.
      uint64_t linear = stop.watch_address;
      for (const Watch& w : watches_)
        if (stop.watch_address >= w.physical && stop.watch_address < w.physical + w.length)
          linear = w.linear + (stop.watch_address - w.physical);
      bool write_only = std::any_of(watches_.begin(), watches_.end(), [&](const Watch& w) {
        return w.type == 2 && linear >= w.linear && linear < w.linear + w.length;
      });
      const char* kind = stop.watch_write ? (write_only ? "watch" : "awatch") : "rwatch";
      reply += fmt::format("{}:{:x};", kind, linear);
      break;
    }
    case TimelineStopKind::Interrupted: reply = "T02"; break;  // SIGINT, as gdb asked
    case TimelineStopKind::Start: reply += "replaylog:begin;"; break;
    case TimelineStopKind::End: reply += "replaylog:end;"; break;
    case TimelineStopKind::Step: break;
  }
  reply += "thread:1;";
  return reply;
}

std::string GdbServer::resume(char action) {
  TimelineStop s;
  switch (action) {
    case 'c': s = timeline_.cont(); break;
    case 's': s = timeline_.step(); break;
    case 'C': s = timeline_.reverse_cont(); break;  // bc
    case 'S': s = timeline_.reverse_step(); break;  // bs
    default: return "E01";
  }
  if (!timeline_.divergence().empty() && log_) log_("replay diverged: " + timeline_.divergence());
  return stop_reply(s);
}

std::string GdbServer::monitor(const std::string& command) {
  std::string out;
  auto words = split(command, ' ');
  words.erase(std::remove(words.begin(), words.end(), std::string()), words.end());
  auto where = [&] {
    const TimelinePosition p = timeline_.position();
    return fmt::format("event {} of {}, icount {}{}{}\n", timeline_.event(), timeline_.trace().event_count(), p.icount,
                       p.after_interrupt ? " (just after an interrupt delivery)" : "",
                       timeline_.end() ? " (the end of the trace: " + timeline_.end()->message + ")" : "");
  };
  if (words.empty() || words[0] == "help") {
    out = "rrvm monitor commands:\n"
          "  when                   the current event ordinal and instruction count\n"
          "  goto EVENT             go to the first point where EVENT trace events were consumed\n"
          "  goto icount N          go to the point where N instructions have retired\n"
          "  checkpoints            the checkpoints held in memory\n"
          "  frame FILE.png         write the screen at this point\n"
          "  regs                   the raw registers (eip not made linear)\n";
  } else if (words[0] == "when") {
    out = where();
  } else if (words[0] == "goto" && (words.size() == 2 || (words.size() == 3 && words[1] == "icount"))) {
    uint64_t n = 0;
    const std::string& v = words.back();
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size()) {
      out = "goto: '" + v + "' is not a number\n";
    } else {
      TimelineStop s = words.size() == 3 ? timeline_.seek({n, false}) : timeline_.goto_event(n);
      last_stop_ = s;
      if (s.kind == TimelineStopKind::End) out = "beyond the end of the trace; now at its end: ";
      if (s.kind == TimelineStopKind::Start) out = "before the start of the trace; now at its start: ";
      out += where();
    }
  } else if (words[0] == "checkpoints") {
    auto list = timeline_.checkpoints();
    out = fmt::format("{} checkpoint(s), {:.1f} MiB:\n", list.size(), double(timeline_.checkpoint_bytes()) / (1 << 20));
    for (const auto& c : list)
      out += fmt::format("  icount {}{} event {} ({:.1f} KiB)\n", c.position.icount,
                         c.position.after_interrupt ? "+irq" : "", c.event, double(c.bytes) / 1024);
  } else if (words[0] == "frame" && words.size() == 2) {
    try {
      write_png(words[1], timeline_.screen());
      out = "screen written to " + words[1] + "\n";
    } catch (const std::exception& e) {
      out = std::string("frame: ") + e.what() + "\n";
    }
  } else if (words[0] == "regs") {
    out = format_registers(timeline_.registers()) + "\n";
  } else {
    out = "unknown monitor command '" + command + "' (monitor help lists them)\n";
  }
  connection_.send("O" + hex_text(out));
  return "OK";
}

std::string GdbServer::features_read(const std::string& args) {
  // target.xml:OFFSET,LENGTH
  auto colon = args.find(':');
  if (colon == std::string::npos || args.substr(0, colon) != "target.xml") return "E00";
  auto parts = split(args.substr(colon + 1), ',');
  if (parts.size() != 2) return "E00";
  auto offset = parse_hex(parts[0]), length = parse_hex(parts[1]);
  if (!offset || !length) return "E00";
  const std::string xml = target_xml();
  if (*offset >= xml.size()) return "l";
  const std::string part = xml.substr(*offset, *length);
  return (*offset + part.size() >= xml.size() ? "l" : "m") + part;
}

std::string GdbServer::handle(const std::string& p, bool* done) {
  if (p.empty()) return "";
  auto refuse = [&](const char* what) {
    if (log_) log_(std::string("refused a ") + what + " write: a replay cannot be changed");
    return std::string("E01");
  };
  switch (p[0]) {
    case '?': return stop_reply(last_stop_);
    case 'g': return registers_hex();
    case 'p': {
      auto n = parse_hex(p.substr(1));
      if (!n || *n >= kRegisters) return "E01";
      return register_hex(unsigned(*n));
    }
    case 'G': return refuse("register");
    case 'P': return refuse("register");
    case 'M': return refuse("memory");
    case 'X': return refuse("memory");
    case 'm': return read_memory(p.substr(1));
    case 'c': return resume('c');
    case 's': return resume('s');
    case 'b':
      if (p == "bc") return resume('C');
      if (p == "bs") return resume('S');
      return "";
    case 'Z': return breakpoint(p.substr(1), true);
    case 'z': return breakpoint(p.substr(1), false);
    case 'H': return "OK";
    case 'T': return "OK";
    case 'k': *done = true; return "";
    case 'D': *done = true; return "OK";
    default: break;
  }
  if (p.rfind("qSupported", 0) == 0)
    return "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+;QStartNoAckMode+";
  if (p == "QStartNoAckMode") {
    connection_.send("OK");
    connection_.set_no_ack();
    return std::string(1, '\0');  // already answered
  }
  if (p.rfind("qXfer:features:read:", 0) == 0) return features_read(p.substr(20));
  if (p == "qfThreadInfo") return "m1";
  if (p == "qsThreadInfo") return "l";
  if (p == "qC") return "QC1";
  if (p == "qAttached") return "1";
  if (p == "qOffsets") return "Text=0;Data=0;Bss=0";
  if (p.rfind("qSymbol", 0) == 0) return "OK";
  if (p == "vCont?") return "vCont;c;C;s;S";
  if (p.rfind("vCont;", 0) == 0) {
    // One thread: the first action decides (signals are not delivered).
    const char a = p.size() > 6 ? p[6] : 'c';
    return resume(a == 's' || a == 'S' ? 's' : 'c');
  }
  if (p.rfind("vKill", 0) == 0) {
    *done = true;
    return "OK";
  }
  if (p.rfind("qRcmd,", 0) == 0) {
    auto text = from_hex_text(p.substr(6));
    if (!text) return "E01";
    return monitor(*text);
  }
  return "";  // not supported
}

void GdbServer::serve(const std::function<void(const std::string&)>& log) {
  log_ = log;
  last_stop_ = TimelineStop{TimelineStopKind::Step};
  bool done = false;
  while (!done) {
    auto packet = connection_.receive();
    if (!packet) return;
    if (*packet == "\x03") {  // interrupt while stopped: report where we are
      connection_.send(stop_reply(last_stop_));
      continue;
    }
    std::string reply;
    try {
      reply = handle(*packet, &done);
    } catch (const std::exception& e) {
      // A request that failed leaves the session usable.
      if (log_) log_(std::string("error answering '") + packet->substr(0, 40) + "': " + e.what());
      reply = "E01";
    }
    if (reply.size() == 1 && reply[0] == '\0') continue;
    if (done && reply.empty()) return;  // k: no reply
    connection_.send(reply);
  }
}

}  // namespace rrvm::debug
