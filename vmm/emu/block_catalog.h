// The translated blocks Unicorn runs, as rrvm counts them: each block's
// instruction count (QEMU's own, reported when the block is translated) and
// its instructions decoded once with Capstone, with the ones the emu backend
// must see one at a time (port I/O, RDTSC, CR writes...) marked. A block is
// decoded again whenever Unicorn translates it again (self-modifying code,
// invalidated code), so a count is never stale.
#pragma once
#include <capstone/capstone.h>

#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace rrvm {

enum class InsnKind : uint8_t {
  Plain,
  Io,           // in/out/ins/outs: exact registers at the exit, a stop right after
  Sti,          // opens the interrupt shadow when IF was 0
  ShadowSs,     // mov ss / pop ss: opens the interrupt shadow
  Rdtsc,        // emulated: the instruction count
  Undefined,    // not advertised by rrvm's CPUID (rdtscp): #UD
  Smsw32,       // smsw r32: Unicorn writes 16 bits, hardware 32
  CrWrite,      // mov crN, r32: checked (reserved bits #GP, paging refused)
  Wrmsr,        // checked for EFER
  Pushfd,       // pushfd: the pushed image must have RF clear
  FarTransfer,  // iret / retf / far jmp or call with an immediate selector
  SoftInt,      // int n / int3 / into / int1 (never seen one by one)
  Memory,       // reads or writes memory: MMIO may answer it (see below)
};

// Whether the backend must see this instruction one at a time. Memory
// accesses are among them: an MMIO callback in the middle of a block cannot
// stop Unicorn before the block's end (2.0.1 checks for a stop only at block
// starts and code hooks), and what follows an MMIO exit (an interrupt, a
// remap, a pause) must happen right after that instruction, as on kvm.
constexpr bool needs_precise(InsnKind k) { return k != InsnKind::Plain && k != InsnKind::SoftInt; }

struct DecodedInsn {
  uint16_t offset = 0;  // from the block's first byte
  uint8_t length = 0;
  InsnKind kind = InsnKind::Plain;
  uint8_t reg = 0;          // GPR operand (0..7: eax ecx edx ebx esp ebp esi edi)
  uint8_t cr = 0;           // CrWrite: which control register
  uint8_t soft_vector = 0;  // SoftInt: the vector it raises
  uint8_t far_imm = 0;      // FarTransfer: 1 when the selector is an immediate
  bool may_change_mode = false;  // far jmp/call/ret, iret, mov crN: CS.D or CR0.PE may differ after it
  uint16_t far_selector = 0;
  // A rep string instruction: the width of its count register (2: CX, 4:
  // ECX, by address size); 0 for every other instruction.
  uint8_t rep_count_bytes = 0;
  bool rep_io = false;  // rep ins / rep outs (KVM emulates them: see EmuVcpu::rep_final_check)
};

struct Block {
  uint64_t pc = 0;       // linear address of the first byte
  uint32_t size = 0;     // bytes
  uint32_t icount = 0;   // instructions (Unicorn's count for the translated block)
  bool code32 = false;
  bool needs_precise = false;  // holds an instruction the backend must see one at a time
  bool decoded_all = false;    // Capstone decoded exactly `icount` instructions
  bool hooked = false;         // the backend's code hook covers it (set by the backend)
  std::vector<DecodedInsn> insns;

  // Index of the instruction starting at linear address `a`, or -1.
  int index_at(uint64_t a) const;
  // Index of the instruction ending at `a` (its successor starts there), or -1.
  int index_ending_at(uint64_t a) const;
};

class BlockCatalog {
 public:
  BlockCatalog();
  ~BlockCatalog();
  BlockCatalog(const BlockCatalog&) = delete;
  BlockCatalog& operator=(const BlockCatalog&) = delete;

  // Hot path (every executed block): the entry for a translated block, or
  // nullptr when it was never recorded. The same bytes at the same address
  // are another block in the other code size (Unicorn keeps both).
  Block* find(uint64_t pc, uint32_t size, bool code32) {
    const uint64_t k = key(pc, size, code32);
    Hot& h = hot_[slot(k)];
    if (h.key == k) return h.block;
    return find_cold(k);
  }
  // A block was (re)translated: decodes `code` (the block's bytes, nullptr
  // when they are not in RAM) and records `icount`, replacing any entry.
  Block& record(uint64_t pc, uint32_t size, uint32_t icount, const uint8_t* code, bool code32);
  // Forgets every entry (the CPU mode changed; set_registers).
  void clear();
  size_t size() const { return blocks_.size(); }

 private:
  struct Hot {
    uint64_t key = ~0ull;
    Block* block = nullptr;
  };
  static constexpr size_t kHotSlots = 1 << 14;
  static uint64_t key(uint64_t pc, uint32_t size, bool code32) {
    return (pc & 0xFFFFFFFFFFull) | uint64_t{size & 0x7FFFFF} << 40 | uint64_t{code32} << 63;
  }
  static size_t slot(uint64_t k) { return (k ^ (k >> 14) ^ (k >> 40)) & (kHotSlots - 1); }
  Block* find_cold(uint64_t k);
  void decode(Block& b, const uint8_t* code);

  std::unordered_map<uint64_t, Block> blocks_;  // node-based: Block pointers stay valid
  std::unique_ptr<std::array<Hot, kHotSlots>> hot_table_;
  Hot* hot_ = nullptr;
  csh cs16_ = 0, cs32_ = 0;
  cs_insn* scratch_ = nullptr;
};

}  // namespace rrvm
