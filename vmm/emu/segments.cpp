#include "vmm/emu/segments.h"

namespace rrvm {

Segment real_mode_segment(uint16_t selector, bool code) {
  Segment s;
  s.selector = selector;
  s.base = static_cast<uint64_t>(selector) << 4;
  s.limit = 0xFFFF;
  s.type = code ? 0xB : 0x3;
  return s;
}

Segment decode_descriptor(uint16_t selector, uint64_t d) {
  Segment s;
  s.selector = selector;
  s.base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
  uint32_t limit = static_cast<uint32_t>((d & 0xFFFF) | (((d >> 48) & 0xF) << 16));
  s.type = (d >> 40) & 0xF;
  s.s = (d >> 44) & 1;
  s.dpl = (d >> 45) & 3;
  s.present = (d >> 47) & 1;
  s.avl = (d >> 52) & 1;
  s.l = (d >> 53) & 1;
  s.db = (d >> 54) & 1;
  s.g = (d >> 55) & 1;
  s.limit = s.g ? (limit << 12) | 0xFFF : limit;
  return s;
}

std::optional<uint64_t> read_descriptor(const GuestMemory& memory, const DescriptorTable& gdt,
                                        const Segment& ldt, uint16_t selector) {
  const bool in_ldt = (selector & 4) != 0;
  const uint64_t table_base = in_ldt ? ldt.base : gdt.base;
  const uint64_t table_limit = in_ldt ? ldt.limit : gdt.limit;
  const uint64_t offset = selector & ~7u;
  if (offset + 7 > table_limit) return std::nullopt;
  uint8_t bytes[8];
  if (!memory.read(table_base + offset, bytes, sizeof bytes)) return std::nullopt;
  uint64_t d = 0;
  for (int i = 7; i >= 0; --i) d = (d << 8) | bytes[i];
  return d;
}

Segment protected_mode_segment(const GuestMemory& memory, const DescriptorTable& gdt,
                               const Segment& ldt, uint16_t selector) {
  Segment unusable{.selector = selector, .base = 0, .limit = 0, .type = 0, .present = 0, .s = 0};
  if ((selector & ~3u) == 0) return unusable;
  auto d = read_descriptor(memory, gdt, ldt, selector);
  if (!d) return unusable;
  return decode_descriptor(selector, *d);
}

uint32_t segment_to_qemu_flags(const Segment& s) {
  return (uint32_t{s.type} & 0xF) << 8 | (uint32_t{s.s} & 1) << 12 | (uint32_t{s.dpl} & 3) << 13 |
         (uint32_t{s.present} & 1) << 15 | (uint32_t{s.avl} & 1) << 20 | (uint32_t{s.l} & 1) << 21 |
         (uint32_t{s.db} & 1) << 22 | (uint32_t{s.g} & 1) << 23;
}

void segment_from_qemu_flags(uint32_t f, Segment* s) {
  s->type = (f >> 8) & 0xF;
  s->s = (f >> 12) & 1;
  s->dpl = (f >> 13) & 3;
  s->present = (f >> 15) & 1;
  s->avl = (f >> 20) & 1;
  s->l = (f >> 21) & 1;
  s->db = (f >> 22) & 1;
  s->g = (f >> 23) & 1;
}

}  // namespace rrvm
