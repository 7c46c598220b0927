#include "vmm/tsc_sites.h"

#include <capstone/capstone.h>

#include <cstring>
#include <stdexcept>

namespace rrvm {

namespace {

constexpr uint32_t kShtProgbits = 1;
constexpr uint64_t kShfExecinstr = 0x4;
constexpr uint32_t kPtLoad = 1;

uint64_t get(std::span<const uint8_t> b, uint64_t off, unsigned size) {
  if (off > b.size() || size > b.size() - off) throw std::invalid_argument("ELF: a header lies past the end of the file");
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint64_t(b[off + i]) << (8 * i);
  return v;
}

struct Section {
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0, addr = 0, offset = 0, size = 0;
};

struct Segment {
  uint64_t vaddr = 0, paddr = 0, filesz = 0;
};

// Capstone handle, closed on every path.
struct Capstone {
  csh h = 0;
  explicit Capstone(bool x64) {
    if (cs_open(CS_ARCH_X86, x64 ? CS_MODE_64 : CS_MODE_32, &h) != CS_ERR_OK)
      throw std::runtime_error("capstone: cs_open failed");
  }
  ~Capstone() { cs_close(&h); }
  Capstone(const Capstone&) = delete;
  Capstone& operator=(const Capstone&) = delete;
};

}  // namespace

TscScan find_tsc_reads(std::span<const uint8_t> elf) {
  if (elf.size() < 52 || std::memcmp(elf.data(), "\x7f" "ELF", 4) != 0)
    throw std::invalid_argument("ELF: no ELF magic");
  const uint8_t cls = elf[4];
  if (cls != 1 && cls != 2) throw std::invalid_argument("ELF: class is neither ELF32 nor ELF64");
  if (elf[5] != 1) throw std::invalid_argument("ELF: not little endian");
  const bool x64 = cls == 2;
  const uint64_t machine = get(elf, 18, 2);
  if (machine != (x64 ? 62u : 3u)) throw std::invalid_argument("ELF: not an x86 image (e_machine)");
  const unsigned w = x64 ? 8 : 4;
  const uint64_t phoff = get(elf, x64 ? 32 : 28, w);
  const uint64_t shoff = get(elf, x64 ? 40 : 32, w);
  const uint64_t phentsize = get(elf, x64 ? 54 : 42, 2), phnum = get(elf, x64 ? 56 : 44, 2);
  const uint64_t shentsize = get(elf, x64 ? 58 : 46, 2), shnum = get(elf, x64 ? 60 : 48, 2);
  const uint64_t shstrndx = get(elf, x64 ? 62 : 50, 2);
  if (!shoff || !shnum) throw std::invalid_argument("ELF: no section headers");
  if (shstrndx >= shnum) throw std::invalid_argument("ELF: section name table index out of range");

  std::vector<Section> sections(shnum);
  for (uint64_t i = 0; i < shnum; ++i) {
    const uint64_t o = shoff + i * shentsize;
    Section& s = sections[i];
    s.name = std::to_string(get(elf, o, 4));  // offset into the name table for now
    s.type = static_cast<uint32_t>(get(elf, o + 4, 4));
    s.flags = get(elf, o + 8, w);
    s.addr = get(elf, o + 8 + w, w);
    s.offset = get(elf, o + 8 + 2 * w, w);
    s.size = get(elf, o + 8 + 3 * w, w);
  }
  const Section& names = sections[shstrndx];
  for (Section& s : sections) {
    uint64_t at = names.offset + std::stoull(s.name);
    s.name.clear();
    while (at < elf.size() && at < names.offset + names.size && elf[at]) s.name += static_cast<char>(elf[at++]);
  }
  std::vector<Segment> loads;
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t o = phoff + i * phentsize;
    if (get(elf, o, 4) != kPtLoad) continue;
    Segment g;
    g.vaddr = get(elf, o + (x64 ? 16 : 8), w);
    g.paddr = get(elf, o + (x64 ? 24 : 12), w);
    g.filesz = get(elf, o + (x64 ? 32 : 16), w);
    loads.push_back(g);
  }
  auto physical = [&](uint64_t vaddr, uint64_t len) -> std::optional<uint64_t> {
    for (const Segment& g : loads)
      if (vaddr >= g.vaddr && len <= g.filesz && vaddr - g.vaddr <= g.filesz - len) return g.paddr + (vaddr - g.vaddr);
    return std::nullopt;
  };

  TscScan scan;
  scan.elf64 = x64;
  Capstone cs(x64);
  cs_insn* insn = cs_malloc(cs.h);
  for (const Section& s : sections) {
    if (s.type != kShtProgbits || !(s.flags & kShfExecinstr)) continue;
    if (s.offset > elf.size() || s.size > elf.size() - s.offset)
      throw std::invalid_argument("ELF: section " + s.name + " lies past the end of the file");
    TscSectionStats st;
    st.name = s.name;
    st.size = s.size;
    const uint8_t* code = elf.data() + s.offset;
    size_t left = s.size;
    uint64_t address = s.addr;
    while (left) {
      const uint8_t* at = code;
      const uint64_t start = address;
      if (!cs_disasm_iter(cs.h, &code, &left, &address, insn)) {
        // Not an instruction here (data, padding): step over one byte.
        code = at + 1;
        --left;
        address = start + 1;
        ++st.undecodable;
        continue;
      }
      if (insn->id != X86_INS_RDTSC && insn->id != X86_INS_RDTSCP) continue;
      TscSite site;
      site.vaddr = start;
      site.kind = insn->id == X86_INS_RDTSC ? TscReadKind::Rdtsc : TscReadKind::Rdtscp;
      site.length = static_cast<uint8_t>(insn->size);
      site.paddr = physical(start, site.length);
      site.section = s.name;
      // Only the plain encodings (a prefix would make the patch longer or
      // shorter than the instruction; none is seen in practice).
      const size_t plain = site.kind == TscReadKind::Rdtsc ? 2 : 3;
      if (site.length != plain) {
        ++st.undecodable;
        continue;
      }
      (site.kind == TscReadKind::Rdtsc ? st.rdtsc : st.rdtscp)++;
      scan.sites.push_back(std::move(site));
    }
    scan.sections.push_back(std::move(st));
  }
  cs_free(insn, 1);
  return scan;
}

std::vector<uint8_t> tsc_patch_bytes(TscReadKind kind) {
  if (kind == TscReadKind::Rdtsc) return {0xE6, static_cast<uint8_t>(kTscReadPort)};
  return {0xE6, static_cast<uint8_t>(kTscReadAuxPort), 0x90};
}

TscPatchResult patch_tsc_reads(GuestMemory& memory, std::span<const TscSite> sites) {
  TscPatchResult r;
  for (const TscSite& s : sites) {
    const std::vector<uint8_t> original = s.kind == TscReadKind::Rdtsc ? std::vector<uint8_t>{0x0F, 0x31}
                                                                       : std::vector<uint8_t>{0x0F, 0x01, 0xF9};
    std::vector<uint8_t> now(original.size());
    if (!s.paddr || !memory.read(*s.paddr, now.data(), now.size()) || now != original) {
      ++r.skipped;
      continue;
    }
    const std::vector<uint8_t> patch = tsc_patch_bytes(s.kind);
    memory.write(*s.paddr, patch.data(), patch.size());
    ++r.patched;
  }
  return r;
}

}  // namespace rrvm
