#include "trace/trace_events.h"

#include "vmm/cpu_state.h"

#include "trace/trace_frame.h"

namespace rrvm {

const char* trace_event_kind_name(TraceEventKind kind) {
  switch (kind) {
    case TraceEventKind::Exit: return "exit";
    case TraceEventKind::Interrupt: return "interrupt";
    case TraceEventKind::ClockSample: return "clock";
    case TraceEventKind::SerialInput: return "serial-input";
    case TraceEventKind::CpuChecksum: return "cpu-checksum";
    case TraceEventKind::DisplayFrame: return "display-frame";
    case TraceEventKind::ServicePoint: return "service";
    case TraceEventKind::TscRead: return "tsc";
  }
  return "unknown";
}

std::optional<TraceEventKind> trace_event_kind_from_name(const std::string& name) {
  for (int i = 0; i < kTraceEventKindCount; ++i) {
    auto kind = static_cast<TraceEventKind>(i);
    if (name == trace_event_kind_name(kind)) return kind;
  }
  return std::nullopt;
}

TraceExitKind trace_exit_kind(ExitKind k) {
  switch (k) {
    case ExitKind::PortIo: return TraceExitKind::PortIo;
    case ExitKind::Mmio: return TraceExitKind::Mmio;
    case ExitKind::Halt: return TraceExitKind::Halt;
    default: return TraceExitKind::IrqWindow;
  }
}

const char* trace_exit_kind_name(TraceExitKind kind) {
  switch (kind) {
    case TraceExitKind::PortIo: return "port-io";
    case TraceExitKind::Mmio: return "mmio";
    case TraceExitKind::Halt: return "halt";
    case TraceExitKind::IrqWindow: return "irq-window";
  }
  return "unknown";
}

namespace {
void put_segment(Sha256& h, const Segment& s) {
  uint8_t b[24] = {};
  b[0] = static_cast<uint8_t>(s.selector);
  b[1] = static_cast<uint8_t>(s.selector >> 8);
  put_u64(b + 2, s.base);
  put_u32(b + 10, s.limit);
  b[14] = s.type;
  b[15] = s.present;
  b[16] = s.dpl;
  b[17] = s.db;
  b[18] = s.s;
  b[19] = s.l;
  b[20] = s.g;
  b[21] = s.avl;
  h.update(b, sizeof b);
}
void put_value(Sha256& h, uint64_t v) {
  uint8_t b[8];
  put_u64(b, v);
  h.update(b, sizeof b);
}
}  // namespace

uint64_t register_state_hash(const Registers& r) {
  Sha256 h;
  for (uint64_t v : {r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9, r.r10, r.r11,
                     r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags})
    put_value(h, v);
  for (const Segment* s : {&r.cs, &r.ds, &r.es, &r.fs, &r.gs, &r.ss, &r.tr, &r.ldt}) put_segment(h, *s);
  for (const DescriptorTable* t : {&r.gdt, &r.idt}) {
    put_value(h, t->base);
    put_value(h, t->limit);
  }
  for (uint64_t v : {r.cr0, r.cr2, r.cr3, r.cr4, r.efer}) put_value(h, v);
  Sha256Digest d = h.finish();
  return get_u64(d.data());
}

KickState KickState::at(const Registers& regs, bool keep_registers) {
  KickState k;
  k.pc = regs.pc_linear();
  k.state_hash = execution_point_hash(regs);
  if (keep_registers) k.registers = regs;
  return k;
}

uint64_t digest_prefix(const Sha256Digest& d) { return get_u64(d.data()); }

uint64_t kvm_point_digest(const Sha256Digest& changed_pages, uint64_t rflags, uint32_t format_version) {
  if (format_version < 8) return digest_prefix(changed_pages);
  const uint16_t flags = uint16_t(rflags & kPointStatusFlags);
  Sha256 h;
  h.update(changed_pages.data(), changed_pages.size());
  h.update(&flags, sizeof flags);
  return digest_prefix(h.finish());
}

}  // namespace rrvm
