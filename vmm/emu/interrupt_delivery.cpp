#include "vmm/emu/interrupt_delivery.h"

#include "vmm/emu/segments.h"
#include "vmm/format.h"

namespace rrvm {
namespace {

constexpr uint32_t kFlagTF = 1u << 8, kFlagIF = 1u << 9, kFlagNT = 1u << 14, kFlagRF = 1u << 16,
                   kFlagVM = 1u << 17, kFlagAC = 1u << 18;

uint32_t reg(uc_engine* uc, int id) {
  uint32_t v = 0;
  uc_reg_read(uc, id, &v);
  return v;
}

DescriptorTable table(uc_engine* uc, int id) {
  uc_x86_mmr mmr{};
  uc_reg_read(uc, id, &mmr);
  return DescriptorTable{mmr.base, static_cast<uint16_t>(mmr.limit)};
}

DeliveryResult fault(std::string why) { return {DeliveryResult::Fault, std::move(why)}; }

// Pushes `values` (each `width` bytes) onto the stack; nothing is written
// unless every slot lies in RAM.
bool push_all(GuestMemory& memory, uint64_t ss_base, uint32_t* sp, bool sp32, unsigned width,
              const uint32_t* values, int n) {
  const uint32_t mask = sp32 ? 0xFFFFFFFFu : 0xFFFFu;
  uint32_t cur = *sp;
  uint64_t addrs[6];
  for (int i = 0; i < n; ++i) {
    cur = (cur - width) & mask;
    addrs[i] = ss_base + cur;
    if (!memory.host_ptr(addrs[i], width)) return false;
  }
  for (int i = 0; i < n; ++i) {
    uint8_t b[4];
    for (unsigned k = 0; k < width; ++k) b[k] = static_cast<uint8_t>(values[i] >> (8 * k));
    memory.write(addrs[i], b, width);
  }
  *sp = (*sp & ~mask) | cur;
  return true;
}

DeliveryResult deliver_real_mode(uc_engine* uc, GuestMemory& memory, uint8_t vector) {
  const DescriptorTable idt = table(uc, UC_X86_REG_IDTR);
  const uint64_t entry = uint64_t{vector} * 4;
  if (entry + 3 > idt.limit) return fault("IVT entry " + std::to_string(vector) + " beyond IDT limit " + hex(idt.limit));
  uint8_t e[4];
  if (!memory.read(idt.base + entry, e, 4)) return fault("IVT entry " + std::to_string(vector) + " not in RAM");
  const uint32_t new_ip = e[0] | e[1] << 8, new_cs = e[2] | e[3] << 8;
  const uint32_t flags = reg(uc, UC_X86_REG_EFLAGS), cs = reg(uc, UC_X86_REG_CS) & 0xFFFF,
                 ip = reg(uc, UC_X86_REG_EIP) & 0xFFFF, ss = reg(uc, UC_X86_REG_SS) & 0xFFFF;
  uint32_t esp = reg(uc, UC_X86_REG_ESP);
  const uint32_t frame[3] = {flags & 0xFFFF, cs, ip};
  if (!push_all(memory, uint64_t{ss} << 4, &esp, false, 2, frame, 3))
    return fault("real-mode stack " + hex(ss) + ":" + hex(esp & 0xFFFF) + " not in RAM");
  const uint32_t new_flags = flags & ~(kFlagIF | kFlagTF | kFlagAC);
  uc_reg_write(uc, UC_X86_REG_ESP, &esp);
  uc_reg_write(uc, UC_X86_REG_EFLAGS, &new_flags);
  uc_reg_write(uc, UC_X86_REG_CS, &new_cs);
  uc_reg_write(uc, UC_X86_REG_EIP, &new_ip);
  return {};
}

DeliveryResult deliver_protected_mode(uc_engine* uc, GuestMemory& memory, uint8_t vector,
                                      bool push_error_code, uint32_t error_code, bool fault_rf) {
  const uint32_t flags = reg(uc, UC_X86_REG_EFLAGS);
  if (flags & kFlagVM)
    return {DeliveryResult::Unsupported, "virtual-8086 mode is not supported by the emu backend"};
  const DescriptorTable idt = table(uc, UC_X86_REG_IDTR);
  const uint64_t entry = uint64_t{vector} * 8;
  if (entry + 7 > idt.limit)
    return fault("IDT entry " + std::to_string(vector) + " beyond IDT limit " + hex(idt.limit));
  uint8_t g[8];
  if (!memory.read(idt.base + entry, g, 8)) return fault("IDT entry " + std::to_string(vector) + " not in RAM");
  const uint32_t lo = g[0] | g[1] << 8 | g[2] << 16 | uint32_t{g[3]} << 24;
  const uint32_t hi = g[4] | g[5] << 8 | g[6] << 16 | uint32_t{g[7]} << 24;
  const unsigned type = (hi >> 8) & 0x1F;
  if (!(hi & 0x8000)) return fault("IDT entry " + std::to_string(vector) + " not present");
  if (type == 0x05)
    return {DeliveryResult::Unsupported, "task gates (IDT entry " + std::to_string(vector) + ") are not supported by the emu backend"};
  const bool gate32 = type == 0x0E || type == 0x0F;
  const bool trap_gate = type == 0x0F || type == 0x07;
  if (!gate32 && type != 0x06 && type != 0x07)
    return fault("IDT entry " + std::to_string(vector) + " has invalid gate type " + hex(type));
  const uint16_t selector = lo >> 16;
  const uint32_t offset = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF0000) : 0);

  Segment ldt;
  uc_x86_mmr ldtr{};
  uc_reg_read(uc, UC_X86_REG_LDTR, &ldtr);
  ldt.base = ldtr.base;
  ldt.limit = ldtr.limit;
  const DescriptorTable gdt = table(uc, UC_X86_REG_GDTR);
  if ((selector & ~3u) == 0) return fault("IDT entry " + std::to_string(vector) + " has a null selector");
  auto desc = read_descriptor(memory, gdt, ldt, selector);
  if (!desc) return fault("IDT entry " + std::to_string(vector) + " selector " + hex(selector) + " outside the GDT");
  const Segment target = decode_descriptor(selector, *desc);
  if (!target.present || !target.s || !(target.type & 0x8))
    return fault("IDT entry " + std::to_string(vector) + " selector " + hex(selector) + " is not a present code segment");
  const uint32_t cs = reg(uc, UC_X86_REG_CS) & 0xFFFF;
  const unsigned cpl = cs & 3;
  const bool conforming = (target.type & 0x4) != 0;
  if (!conforming && target.dpl != cpl)
    return {DeliveryResult::Unsupported,
            "interrupt " + std::to_string(vector) + " needs a privilege change (CPL " + std::to_string(cpl) +
                " -> " + std::to_string(target.dpl) + "), which Unicorn 2.0.1 cannot do: use the kvm backend"};

  const uint16_t ss_sel = reg(uc, UC_X86_REG_SS) & 0xFFFF;
  const Segment ss = protected_mode_segment(memory, gdt, ldt, ss_sel);
  uint32_t esp = reg(uc, UC_X86_REG_ESP);
  const uint32_t eip = reg(uc, UC_X86_REG_EIP);
  uint32_t frame[4] = {fault_rf ? flags | kFlagRF : flags, cs, eip, error_code};
  const int n = push_error_code ? 4 : 3;
  if (!push_all(memory, ss.base, &esp, ss.db != 0, gate32 ? 4 : 2, frame, n))
    return fault("stack " + hex(ss_sel) + ":" + hex(esp) + " not in RAM");
  uint32_t new_flags = flags & ~(kFlagTF | kFlagNT | kFlagRF | kFlagVM);
  if (!trap_gate) new_flags &= ~kFlagIF;
  const uint32_t new_cs = selector;
  uc_reg_write(uc, UC_X86_REG_ESP, &esp);
  uc_reg_write(uc, UC_X86_REG_EFLAGS, &new_flags);
  if (uc_reg_write(uc, UC_X86_REG_CS, &new_cs) != UC_ERR_OK)
    return {DeliveryResult::Unsupported, "Unicorn refused to load CS " + hex(new_cs) + " for interrupt " + std::to_string(vector)};
  uc_reg_write(uc, UC_X86_REG_EIP, &offset);
  return {};
}

}  // namespace

bool exception_has_error_code(uint8_t v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

bool exception_is_fault(uint8_t v) {
  return v == 0 || v == 5 || v == 6 || v == 7 || (v >= 10 && v <= 14) || v == 16 || v == 17 || v == 19 ||
         v == 20 || v == 21;
}

DeliveryResult deliver_interrupt(uc_engine* uc, GuestMemory& memory, uint8_t vector,
                                 bool push_error_code, uint32_t error_code, bool fault_rf) {
  uint64_t cr0 = 0;
  uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
  if (cr0 & 1) return deliver_protected_mode(uc, memory, vector, push_error_code, error_code, fault_rf);
  return deliver_real_mode(uc, memory, vector);
}

}  // namespace rrvm
