#include "trace/trace_inspect.h"

#include <array>
#include <sstream>

#include "vmm/format.h"

namespace rrvm {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string human_bytes(uint64_t n) {
  if (n >= (uint64_t{1} << 20) && n % (uint64_t{1} << 20) == 0) return fmt::format("{} MiB", n >> 20);
  if (n >= 1024 && n % 1024 == 0) return fmt::format("{} KiB", n >> 10);
  return fmt::format("{} bytes", n);
}

}  // namespace

std::string format_event_text(uint64_t ordinal, const TraceEvent& event) {
  std::ostringstream s;
  s << ordinal << ' ' << trace_event_kind_name(event.kind());
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ExitEvent>) {
          s << ' ' << trace_exit_kind_name(e.kind);
          if (e.kind == TraceExitKind::PortIo || e.kind == TraceExitKind::Mmio)
            s << (e.is_write ? " write " : " read ") << hex(e.address) << '/' << int(e.size) << " = " << hex(e.data);
        } else if constexpr (std::is_same_v<T, InterruptEvent>) {
          s << " vector " << hex(e.vector) << " at exit " << e.exit_ordinal;
          if (e.icount) s << " icount " << *e.icount;
          if (e.kicked) {
            s << " kicked at pc " << hex(e.kicked->pc) << " state " << hex(e.kicked->state_hash);
            if (e.kicked->rep_rcx) s << " rcx " << hex(*e.kicked->rep_rcx);
            if (e.kicked->dirty_pages_digest) s << " dirty " << hex(e.kicked->dirty_pages_digest);
          }
        } else if constexpr (std::is_same_v<T, ClockSampleEvent>) {
          s << ' ' << e.ns << " ns";
        } else if constexpr (std::is_same_v<T, TscReadEvent>) {
          s << ' ' << e.value;
        } else if constexpr (std::is_same_v<T, SerialInputEvent>) {
          s << ' ' << hex(e.byte);
        } else if constexpr (std::is_same_v<T, CpuChecksumEvent>) {
          s << " at exit " << e.exit_ordinal;
          if (e.icount) s << " icount " << *e.icount;
          s << " hash " << hex(e.register_hash);
        } else if constexpr (std::is_same_v<T, ServicePointEvent>) {
          s << " at " << e.ns << " ns, exit " << e.exit_ordinal;
          if (e.icount) s << " icount " << *e.icount;
          if (e.async) {
            s << " inside guest at pc " << hex(e.async->pc) << " state " << hex(e.async->state_hash);
            if (e.async->rep_rcx) s << " rcx " << hex(*e.async->rep_rcx);
            if (e.async->dirty_pages_digest) s << " dirty " << hex(e.async->dirty_pages_digest);
          }
        } else if constexpr (std::is_same_v<T, DisplayFrameEvent>) {
          s << " at " << e.guest_ns << " ns, " << e.pages.size() << " VRAM pages, " << e.display_registers.size()
            << " register bytes";
        }
      },
      event.body);
  return s.str();
}

std::string format_event_json(uint64_t ordinal, const TraceEvent& event) {
  std::ostringstream s;
  s << "{\"ordinal\":" << ordinal << ",\"type\":" << json_string(trace_event_kind_name(event.kind()));
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ExitEvent>) {
          s << ",\"kind\":" << json_string(trace_exit_kind_name(e.kind));
          if (e.kind == TraceExitKind::PortIo || e.kind == TraceExitKind::Mmio)
            s << ",\"write\":" << (e.is_write ? "true" : "false") << ",\"size\":" << int(e.size)
              << ",\"address\":" << e.address << ",\"data\":" << e.data;
        } else if constexpr (std::is_same_v<T, InterruptEvent>) {
          s << ",\"vector\":" << int(e.vector) << ",\"exit\":" << e.exit_ordinal;
          if (e.icount) s << ",\"icount\":" << *e.icount;
          if (e.kicked)
            s << ",\"kicked\":{\"pc\":" << e.kicked->pc << ",\"state_hash\":" << e.kicked->state_hash
              << ",\"registers\":" << (e.kicked->registers ? "true" : "false")
              << (e.kicked->rep_rcx ? ",\"rcx\":" + std::to_string(*e.kicked->rep_rcx) : std::string())
              << ",\"dirty\":" << e.kicked->dirty_pages_digest << "}";
        } else if constexpr (std::is_same_v<T, ClockSampleEvent>) {
          s << ",\"ns\":" << e.ns;
        } else if constexpr (std::is_same_v<T, TscReadEvent>) {
          s << ",\"value\":" << e.value;
        } else if constexpr (std::is_same_v<T, SerialInputEvent>) {
          s << ",\"byte\":" << int(e.byte);
        } else if constexpr (std::is_same_v<T, CpuChecksumEvent>) {
          s << ",\"exit\":" << e.exit_ordinal;
          if (e.icount) s << ",\"icount\":" << *e.icount;
          s << ",\"hash\":" << e.register_hash;
        } else if constexpr (std::is_same_v<T, ServicePointEvent>) {
          s << ",\"ns\":" << e.ns << ",\"exit\":" << e.exit_ordinal;
          if (e.icount) s << ",\"icount\":" << *e.icount;
          if (e.async)
            s << ",\"async\":{\"pc\":" << e.async->pc << ",\"state_hash\":" << e.async->state_hash
              << ",\"registers\":" << (e.async->registers ? "true" : "false")
              << (e.async->rep_rcx ? ",\"rcx\":" + std::to_string(*e.async->rep_rcx) : std::string())
              << ",\"dirty\":" << e.async->dirty_pages_digest << "}";
        } else if constexpr (std::is_same_v<T, DisplayFrameEvent>) {
          s << ",\"ns\":" << e.guest_ns << ",\"register_bytes\":" << e.display_registers.size() << ",\"pages\":[";
          for (size_t i = 0; i < e.pages.size(); ++i) s << (i ? "," : "") << e.pages[i].index;
          s << "]";
        }
      },
      event.body);
  s << "}";
  return s.str();
}

void dump_events(const TraceReader& reader, const DumpOptions& options, std::ostream& out) {
  if (options.from >= options.to) return;
  EventCursor cursor = reader.events(options.from);
  while (const TraceEvent* e = cursor.next()) {
    if (cursor.ordinal() >= options.to) break;
    if (options.kind && e->kind() != *options.kind) continue;
    out << (options.json ? format_event_json(cursor.ordinal(), *e) : format_event_text(cursor.ordinal(), *e)) << '\n';
  }
}

void trace_info(const TraceReader& reader, std::ostream& out) {
  const TraceHeader& h = reader.header();
  out << "trace: " << reader.path() << "\n";
  out << "format: version " << reader.format_version() << ", written by rrvm " << h.rrvm_version << ", backend "
      << h.backend << "\n";
  out << "machine: memory " << human_bytes(h.machine.memory_size);
  if (h.machine.rtc_base_seconds) out << ", rtc base " << *h.machine.rtc_base_seconds << " s";
  out << ", serial input " << (h.machine.serial_input ? "yes" : "no");
  if (h.machine.load_address) out << ", load address " << hex(*h.machine.load_address);
  if (h.machine.entry) out << ", entry " << hex(*h.machine.entry);
  if (h.machine.max_instructions) out << ", max instructions " << *h.machine.max_instructions;
  if (h.machine.firmware) out << ", firmware boot from " << h.machine.boot_device;
  if (h.machine.linux_boot) out << ", linux boot, command line \"" << h.machine.kernel_command_line << "\"";
  for (const auto& o : h.machine.options) out << ", " << o.key << "=" << o.value;
  out << "\n";
  for (const auto& s : h.memory_map)
    out << "memory slot: " << s.name << " at " << hex(s.base) << ", " << human_bytes(s.size)
        << (s.log_dirty ? ", dirty-logged" : "") << (s.mapped ? "" : ", unmapped") << "\n";
  for (const auto& d : h.devices) out << "device: " << d.name << (d.config.empty() ? "" : " " + d.config) << "\n";
  for (const auto& i : h.images)
    out << "image: " << i.role << " " << i.path << ", " << i.size << " bytes, " << (i.elf ? "ELF" : "raw")
        << ", sha256 " << to_hex(i.sha256) << "\n";
  out << "cpuid: " << h.cpuid.size() << " leaves\n";
  out << "initial cpu: " << format_registers(h.initial_registers) << "\n";
  if (!h.command_line.empty()) {
    out << "command line:";
    for (const auto& a : h.command_line) out << ' ' << a;
    out << "\n";
  }

  std::array<uint64_t, kTraceEventKindCount> counts{};
  std::array<uint64_t, 4> exit_counts{};
  uint64_t last_ns = 0;
  std::optional<std::string> damage;
  try {
    EventCursor cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) {
      counts[static_cast<size_t>(e->kind())]++;
      if (const auto* x = std::get_if<ExitEvent>(&e->body)) exit_counts[static_cast<size_t>(x->kind)]++;
      if (const auto* c = std::get_if<ClockSampleEvent>(&e->body)) last_ns = std::max(last_ns, c->ns);
      if (const auto* d = std::get_if<DisplayFrameEvent>(&e->body)) last_ns = std::max(last_ns, d->guest_ns);
    }
  } catch (const TraceError& e) {
    damage = e.what();
  }
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  out << "frames: " << reader.frames().size() << " (" << reader.keyframes().size() << " keyframes)\n";
  out << "events: " << total;
  for (int k = 0; k < kTraceEventKindCount; ++k)
    out << (k ? ", " : " (") << trace_event_kind_name(static_cast<TraceEventKind>(k)) << " " << counts[static_cast<size_t>(k)];
  out << ")\n";
  uint64_t exits = counts[0];
  out << "exits: " << exits;
  for (int k = 0; k < 4; ++k)
    out << (k ? ", " : " (") << trace_exit_kind_name(static_cast<TraceExitKind>(k)) << " " << exit_counts[static_cast<size_t>(k)];
  out << ")\n";
  out << fmt::format("guest duration: {:.6f} s (last clock reading)\n", static_cast<double>(last_ns) / 1e9);
  out << "file size: " << reader.file_size() << " bytes; Cap'n Proto messages before LZ4: " << reader.uncompressed_bytes()
      << " bytes\n";
  if (exits > 0)
    out << fmt::format("bytes per exit: {:.3f}\n", static_cast<double>(reader.file_size()) / static_cast<double>(exits));
  const TraceStatus& st = reader.status();
  out << "status: " << trace_completeness_name(st.state);
  if (st.state != TraceCompleteness::Complete)
    out << " (" << st.readable_events << " events in " << st.readable_frames << " whole frames, " << st.readable_bytes
        << " bytes readable): " << st.detail;
  else if (!st.footer_used)
    out << " (" << st.detail << ")";
  out << "\n";
  if (damage) out << "damaged: " << *damage << "\n";
  if (const auto& end = reader.end()) {
    out << "end: " << stop_reason_name(end->reason) << ", exit status " << end->exit_status;
    if (!end->message.empty()) out << ", \"" << end->message << "\"";
    out << ", " << end->exit_count << " exits";
    if (end->instruction_count) out << ", " << *end->instruction_count << " instructions";
    if (end->record_wall_ns) out << fmt::format(", recorded in {:.3f} s", double(end->record_wall_ns) / 1e9);
    out << ", RAM sha256 " << to_hex(end->ram_sha256) << "\n";
  }
}

}  // namespace rrvm
