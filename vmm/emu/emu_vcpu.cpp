// The emu backend. Unicorn runs on a fiber: its synchronous callbacks (port
// I/O, MMIO) switch back to run() with an Exit and resume with the answer.
//
// Counting: a block hook adds each translated block's instruction count
// (BlockCatalog: Unicorn's own count, taken when the block is translated)
// as the block starts; nothing runs per instruction in ordinary code. Blocks
// that hold an instruction the backend must see one at a time (port I/O,
// memory accesses, which MMIO may answer, sti / mov ss, RDTSC, CR writes,
// ...) run "precise": a code hook bounded to the block's bytes sees each
// instruction, so exits there have exact registers and a stop can come
// right after them (Unicorn 2.0.1 looks for a stop only at block starts and
// code hooks, so an MMIO exit in an ordinary block could not be followed by
// an interrupt or a pause until the block's end). A stop at a count inside
// an ordinary block makes that block precise until the stop is reached.
// Every stop is decided in a hook, before an instruction runs, by stopping
// the engine; the fiber's loop then handles it outside uc_emu_start, where
// registers can be rewritten safely.
#include "vmm/emu/emu_vcpu.h"

#include <fmt/format.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "vmm/emu/block_catalog.h"
#include "vmm/emu/control_registers.h"
#include "vmm/emu/exception_state.h"
#include "vmm/emu/fiber.h"
#include "vmm/emu/interrupt_delivery.h"
#include "vmm/emu/segments.h"
#include "vmm/image_loader.h"
#include "vmm/page_walk.h"
#include "vmm/rep_string.h"

// Exits are built with designated initializers naming only what matters.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rrvm {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kFiberStackSize = 1024 * 1024;  // ASan frames are larger
#else
constexpr size_t kFiberStackSize = 256 * 1024;
#endif
constexpr uint64_t k4GiB = 1ull << 32;
constexpr uint32_t kFlagIF = 1u << 9, kFlagRF = 1u << 16;
constexpr uint8_t kVectorUD = 6, kVectorDF = 8, kVectorGP = 13;
constexpr uint32_t kMsrEfer = 0xC0000080;

constexpr int kGprIds[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                            UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};

uint64_t size_mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }

class EmuVcpu;

struct MmioHole {
  EmuVcpu* vcpu;
  uint64_t base;   // guest-physical address the hole starts at
  uint64_t alias;  // what the guest sees there (the 4 GiB wrap maps above 4 GiB onto 0)
};

struct DirtyRange {
  EmuVcpu* vcpu;
  uint32_t slot_id;
  uint64_t base;
  uint64_t size;
};

class EmuVcpu final : public Vcpu {
 public:
  EmuVcpu(GuestMemory& memory, std::vector<CpuidEntry> cpuid);
  ~EmuVcpu() override;

  const char* backend_name() const override { return "emu"; }
  Exit run(const RunLimits& limits) override;
  void complete_read(uint64_t value) override;
  Registers get_registers() override;
  void set_registers(const Registers& regs) override;
  void set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) override;
  bool can_inject_interrupt() override;
  void inject_interrupt(uint8_t vector) override;
  void request_interrupt_window(bool enable) override {
    window_requested_ = enable;
    update_attention();
  }
  std::optional<uint64_t> instruction_count() const override { return position(); }
  std::optional<uint64_t> translate(uint64_t linear) override {
    return linear_to_physical(get_registers(), memory_, linear);
  }
  void invalidate_code(uint64_t gpa, uint64_t size) override;
  void sync_memory_map() override;
  bool set_breakpoint(std::optional<uint64_t> rip) override {
    breakpoint_ = rip;
    skip_breakpoint_ = false;
    update_attention();
    return true;
  }
  void set_breakpoint_registers(const std::optional<Registers>& regs) override { breakpoint_regs_ = regs; }
  bool set_code_breakpoints(std::vector<uint64_t> linear) override {
    std::sort(linear.begin(), linear.end());
    code_breakpoints_ = std::move(linear);
    skip_code_breakpoint_ = false;
    update_attention();
    return true;
  }
  bool set_watchpoints(std::vector<Watchpoint> watch) override;
  void on_watched_access(const Watchpoint& w, bool write, uint64_t address, int size);
  // One Unicorn memory hook per watchpoint (with the watchpoint it serves).
  struct WatchHook {
    EmuVcpu* self;
    Watchpoint watch;
    uc_hook hook;
  };
  bool set_single_step(bool enable) override {
    single_step_ = enable;
    update_attention();
    return true;
  }
  void kick() override { kicked_.store(true, std::memory_order_relaxed); }
  bool at_instruction_boundary() const override {
    return !mid_instruction_ && !pending_registers_ && !pending_injection_ && !pending_guest_exit_;
  }
  bool inside_string_batch() const override { return string_batch_left_ > 0; }
  CpuSnapshot save_cpu() override;
  void restore_cpu(const CpuSnapshot& snapshot) override;

  // Unicorn callbacks (forwarded from static trampolines).
  void on_block(uint64_t address, uint32_t size);
  void on_translated(const uc_tb& tb);
  void on_insn(uint64_t address);
  uint32_t on_in(uint32_t port, int size);
  void on_out(uint32_t port, int size, uint32_t value);
  uint64_t on_mmio_read(const MmioHole& hole, uint64_t offset, unsigned size);
  void on_mmio_write(const MmioHole& hole, uint64_t offset, unsigned size, uint64_t value);
  void on_cpuid();
  void on_intr(uint32_t vector);
  void on_dirty_write(const DirtyRange& range, uint64_t address, int size);
  void on_unmapped(uc_mem_type type, uint64_t address, int size);
  void on_write_protected(uint64_t address, int size, uint64_t value);

 private:
  // Why a hook stopped the engine.
  enum class Stop { None, Report, Exception, Internal, MakePrecise, Emulate };
  // A code hook over one block's bytes (see the file comment).
  struct PreciseRange {
    uint64_t begin, end;  // [begin, end)
    uc_hook hook;
    bool temporary;       // for a stop inside an ordinary block: removed after it
  };

  void fiber_main();
  void capture_mode_templates();
  void post(Exit exit) {
    pending_exit_ = std::move(exit);
    fiber_->yield();
  }
  // An exit in the middle of an instruction (I/O callbacks).
  void post_mid_instruction(Exit exit);
  // Stop conditions at a boundary at `pos` instructions, before the
  // instruction at linear `address` (`block_start`: the first of a block).
  bool boundary_stop(uint64_t address, uint64_t pos);
  void report(Exit exit) {
    report_exit_ = std::move(exit);
    stop_ = Stop::Report;
  }
  void update_attention() {
    const bool others = single_step_ || breakpoint_.has_value() || window_requested_ || !code_breakpoints_.empty() ||
                        watch_hit_.has_value() || pushf_fixup_ || internal_pending();
    attention_ = stop_at_.has_value() || others;
    stop_at_only_ = stop_at_.has_value() && !others;
  }
  bool internal_pending() const {
    return pending_injection_.has_value() || pending_registers_.has_value() ||
           memory_.generation() != mapped_generation_;
  }
  bool interrupts_enabled() { return (read32(UC_X86_REG_EFLAGS) & kFlagIF) != 0; }
  // Instructions started so far (see position_).
  uint64_t position() const;
  // Stops the engine before the instruction at linear `address`, `pos`
  // instructions in.
  void stop_before(uint64_t address, uint64_t pos) {
    stop_linear_ = address;
    icount_ = pos;
    stopped_in_block_ = true;
    uc_emu_stop(uc_);
  }
  // EIP after a stop in a hook: Unicorn leaves it wherever it was last synced
  // once any code hook exists, so it is set from the stop address.
  void fix_eip_after_stop();
  // The CS base the CPU uses now. Unicorn 2.0.1 reports only the selector,
  // so the base is taken from the descriptor once per CS load (the first
  // use after mode_dirty_) and kept: a guest may rewrite or remap its GDT
  // afterwards (SeaBIOS's lies in the F segment, which its first PAM write
  // remaps) while the CPU goes on with the base it cached.
  uint64_t cs_base() {
    refresh_code_segment();
    return cs_base_;
  }
  void refresh_code_segment();
  // Base of the segment register `id` (real mode: selector << 4; otherwise
  // from its descriptor in guest memory).
  uint64_t segment_base(int id);
  std::optional<Segment> protected_descriptor(int id);
  Block& block_for(uint64_t pc, uint32_t size);
  bool covered_by_precise(uint64_t begin, uint64_t end) const;
  void make_precise(uint64_t pc, uint32_t size, bool temporary);
  void drop_temporary_precise();
  // Temporary precise blocks serve a breakpoint or single steps while they
  // are armed, and a stop at a count until it is reached.
  bool temporary_precise_needed() const {
    return single_step_ || breakpoint_.has_value() ||
           (stop_at_ && temporary_for_ == stop_at_ && position() < *stop_at_);
  }
  // The instruction being executed (inside an I/O or MMIO callback).
  const DecodedInsn* current_insn() const {
    return cur_block_ && cur_index_ >= 0 && cur_index_ < static_cast<int>(cur_block_->insns.size())
               ? &cur_block_->insns[cur_index_]
               : nullptr;
  }
  bool check_special(const DecodedInsn& d);
  // CS's default operand size now (false in real and vm86 mode).
  bool code_is_32bit();
  void handle_special();
  void apply_pushf_fixup();
  void apply_boundary_work();
  void remap();
  // Delivers `vector`, escalating to #DF and then to shutdown like the CPU:
  // nothing (delivered), a Shutdown exit, or a failure text (a mode Unicorn
  // cannot deliver in).
  struct Delivery {
    std::optional<Exit> shutdown;
    std::string failure;
  };
  Delivery deliver(uint8_t vector, bool push_error_code, bool fault = false);
  // Inside the fiber: hand a Delivery's outcome to run().
  void post_delivery(Delivery d);
  void handle_exception();
  // "emu: <what> at CS:EIP ..." (one line for VcpuError).
  std::string failure_text(const std::string& what);
  // Inside the fiber: the backend cannot go on; run() throws it.
  void post_failure(std::string text) {
    fiber_failure_ = std::move(text);
    fiber_->yield();
  }
  // Applies `regs` to Unicorn; the failure text, if the engine rejects them.
  std::string apply_registers(const Registers& regs);
  uint32_t read32(int id) {
    uint32_t v = 0;
    uc_reg_read(uc_, id, &v);
    return v;
  }

  GuestMemory& memory_;
  std::vector<CpuidEntry> cpuid_;
  uc_engine* uc_ = nullptr;
  std::unique_ptr<Fiber> fiber_;
  ExceptionStateReset exception_reset_;
  BlockCatalog catalog_;
  // Whole-CPU states to start set_registers from: writing CR0 through the
  // API does not update the translator's mode flags in 2.0.1 (a real-mode
  // `mov es, ax` still faulted as if in protected mode), but a guest-side
  // `mov cr0` does, so both modes are captured once and restored first.
  uc_context* real_template_ = nullptr;
  uc_context* protected_template_ = nullptr;
  uc_context* snapshot_context_ = nullptr;  // scratch for save_cpu / restore_cpu
  void read_fpu(FpuState* f);
  void write_fpu(const FpuState& f);

  // Memory map as last applied: one Unicorn region per mapped slot and per
  // hole between them below 4 GiB (MMIO). Changes are applied region by
  // region: unmapping costs Unicorn a TLB flush per page, which for the
  // hole below the BIOS (~4 GiB) is far too slow to redo at every PAM or BAR
  // change.
  struct Region {
    uint64_t base = 0, size = 0;
    uint8_t* host = nullptr;  // null: an MMIO hole
    bool read_only = false;
    bool log_dirty = false;
    uint32_t slot_id = 0;
    uint64_t alias = 0;  // the guest-physical address it shows (the 4 GiB wrap page: 0)
    bool same_mapping(const Region& o) const {
      return base == o.base && size == o.size && host == o.host && read_only == o.read_only &&
             log_dirty == o.log_dirty && alias == o.alias && (host == nullptr || slot_id == o.slot_id);
    }
  };
  struct MappedRegion {
    Region region;
    std::unique_ptr<MmioHole> hole;
    std::unique_ptr<DirtyRange> dirty;
    std::optional<uc_hook> dirty_hook;
  };
  std::vector<Region> wanted_regions() const;
  void map_region(const Region& r);
  void unmap_region(MappedRegion& m);
  uint64_t mapped_generation_ = ~0ull;
  std::vector<MappedRegion> mapped_;
  std::map<uint32_t, DirtyBitmap> dirty_;
  // Pages that ever held translated code (one bit per 4 KiB below 4 GiB):
  // VMM-side writes elsewhere need no invalidation.
  std::vector<uint64_t> code_pages_ = std::vector<uint64_t>((k4GiB / kPageSize) / 64, 0);

  // Precise blocks.
  std::vector<PreciseRange> precise_;
  uint64_t make_precise_pc_ = 0;
  uint32_t make_precise_size_ = 0;
  bool make_precise_temporary_ = false;
  std::optional<uint64_t> temporary_for_;  // the stop_at a temporary block was made for

  // Counting. position_ (instructions started) is block_base_ plus where the
  // current block is: `icount_` holds the whole block once it started, or the
  // exact count after a stop.
  uint64_t icount_ = 0;
  uint64_t block_base_ = 0;
  Block* cur_block_ = nullptr;
  int cur_index_ = -1;             // instruction of cur_block_ being executed, when known
  bool stopped_in_block_ = false;  // icount_ is exact (a hook stopped the engine)
  // The code size blocks are looked up in, recomputed at the next block
  // after anything that may change it (a far transfer, a CR write, an
  // interrupt delivered, registers set or restored).
  bool code32_ = false;
  uint64_t cs_base_ = 0;
  bool mode_dirty_ = true;
  uint64_t run_start_ = 0;         // position() when run() began (single step)
  std::optional<uint64_t> stop_at_;
  std::optional<uint64_t> breakpoint_;
  std::vector<uint64_t> code_breakpoints_;  // sorted
  std::vector<std::unique_ptr<WatchHook>> watch_hooks_;
  struct WatchHit {
    uint64_t address;
    bool write;
  };
  std::optional<WatchHit> watch_hit_;  // reported at the next boundary
  bool skip_code_breakpoint_ = false;
  std::optional<Registers> breakpoint_regs_;
  bool breakpoint_registers_match();
  bool skip_breakpoint_ = false;
  bool single_step_ = false;
  bool window_requested_ = false;
  bool attention_ = true;
  // The only reason for attention is stop_at_: a block that ends before it
  // needs no check (a deadline far ahead, a keyframe pause, costs nothing
  // per block).
  bool stop_at_only_ = false;
  std::atomic<bool> kicked_{false};

  // The rep string instruction whose iteration ran last (set as it starts,
  // cleared at the next block): see rep_final_check().
  std::optional<uint64_t> rep_iterated_at_;
  bool in_rep_final_check_ = false;
  bool rep_final_check(uint64_t pc, const Block& b);

  // Elements of the rep ins batch under way still to come, as KVM batches
  // them (vmm/rep_string.h kvm_ins_batch_elements): until its last element
  // no interrupt can enter and no window opens, as on kvm. Set at a batch's
  // first element exit; 0 again after its last, at a delivery, and when
  // registers are set or restored.
  uint64_t string_batch_left_ = 0;
  void count_string_element(const DecodedInsn& d, unsigned size);

  // Interrupt shadow: the last executed instruction was sti (IF 0->1),
  // mov ss or pop ss.
  bool shadow_ = false;
  // A pushfd just ran: clear RF in the image it pushed (hardware never
  // stores RF; Unicorn does until the end of the block after an iret).
  bool pushf_fixup_ = false;

  // Fiber hand-over.
  Stop stop_ = Stop::None;
  uint64_t stop_linear_ = 0;
  int special_index_ = -1;  // Stop::Emulate: which instruction of cur_block_
  Exit report_exit_;
  Exit pending_exit_;
  bool mid_instruction_ = false;
  bool awaiting_read_ = false;
  uint64_t read_value_ = 0;
  bool closing_ = false;
  uint32_t pending_vector_ = 0;
  std::optional<uint8_t> pending_injection_;
  std::optional<Registers> pending_registers_;
  std::string fiber_failure_;                // set by the fiber, thrown by run()
  std::optional<Exit> pending_guest_exit_;   // a Shutdown an injection caused

  std::string unmapped_detail_;
};

// ---- static trampolines -------------------------------------------------

void cb_block(uc_engine*, uint64_t address, uint32_t size, void* self) {
  static_cast<EmuVcpu*>(self)->on_block(address, size);
}
void cb_translated(uc_engine*, uc_tb* cur, uc_tb*, void* self) { static_cast<EmuVcpu*>(self)->on_translated(*cur); }
void cb_code(uc_engine*, uint64_t address, uint32_t, void* self) { static_cast<EmuVcpu*>(self)->on_insn(address); }
uint32_t cb_in(uc_engine*, uint32_t port, int size, void* self) {
  return static_cast<EmuVcpu*>(self)->on_in(port, size);
}
void cb_out(uc_engine*, uint32_t port, int size, uint32_t value, void* self) {
  static_cast<EmuVcpu*>(self)->on_out(port, size, value);
}
int cb_cpuid(uc_engine*, void* self) {
  static_cast<EmuVcpu*>(self)->on_cpuid();
  return 1;  // we set the registers: skip Unicorn's own CPUID
}
void cb_intr(uc_engine*, uint32_t vector, void* self) { static_cast<EmuVcpu*>(self)->on_intr(vector); }
uint64_t cb_mmio_read(uc_engine*, uint64_t offset, unsigned size, void* hole) {
  auto* h = static_cast<MmioHole*>(hole);
  return h->vcpu->on_mmio_read(*h, offset, size);
}
void cb_mmio_write(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* hole) {
  auto* h = static_cast<MmioHole*>(hole);
  h->vcpu->on_mmio_write(*h, offset, size, value);
}
void cb_dirty(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t, void* range) {
  auto* r = static_cast<DirtyRange*>(range);
  r->vcpu->on_dirty_write(*r, address, size);
}

bool cb_unmapped(uc_engine*, uc_mem_type type, uint64_t address, int size, int64_t, void* self) {
  static_cast<EmuVcpu*>(self)->on_unmapped(type, address, size);
  return false;
}
bool cb_write_protected(uc_engine*, uc_mem_type, uint64_t address, int size, int64_t value, void* self) {
  static_cast<EmuVcpu*>(self)->on_write_protected(address, size, static_cast<uint64_t>(value));
  return true;  // go on: the store itself is discarded (the region is read-only)
}

// ---- construction --------------------------------------------------------

EmuVcpu::EmuVcpu(GuestMemory& memory, std::vector<CpuidEntry> cpuid)
    : memory_(memory), cpuid_(std::move(cpuid)) {
  uc_err err = uc_open(UC_ARCH_X86, UC_MODE_32, &uc_);
  if (err != UC_ERR_OK) throw std::runtime_error(std::string("emu: uc_open failed: ") + uc_strerror(err));
  capture_mode_templates();
  // Hooks first, before anything is translated, so every block counts.
  uc_hook h;
  bool ok = uc_hook_add(uc_, &h, UC_HOOK_BLOCK, reinterpret_cast<void*>(&cb_block), this, 1, 0) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_EDGE_GENERATED, reinterpret_cast<void*>(&cb_translated), this, 1, 0) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&cb_in), this, 1, 0, UC_X86_INS_IN) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&cb_out), this, 1, 0, UC_X86_INS_OUT) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_INSN, reinterpret_cast<void*>(&cb_cpuid), this, 1, 0, UC_X86_INS_CPUID) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_INTR, reinterpret_cast<void*>(&cb_intr), this, 1, 0) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_MEM_UNMAPPED, reinterpret_cast<void*>(&cb_unmapped), this, 1, 0) == UC_ERR_OK &&
            uc_hook_add(uc_, &h, UC_HOOK_MEM_WRITE_PROT, reinterpret_cast<void*>(&cb_write_protected), this, 1, 0) ==
                UC_ERR_OK;
  if (!ok) {
    uc_close(uc_);
    throw std::runtime_error("emu: cannot install Unicorn hooks");
  }
  remap();
  memory_.set_dirty_source([this](const MemorySlot& slot, DirtyBitmap& acc) {
    auto it = dirty_.find(slot.id);
    if (it == dirty_.end()) return;
    if (acc.size() < it->second.size()) acc.resize(it->second.size(), 0);
    for (size_t i = 0; i < it->second.size(); ++i) {
      acc[i] |= it->second[i];
      it->second[i] = 0;
    }
  });
  memory_.set_write_observer([this](uint64_t gpa, uint64_t len) { invalidate_code(gpa, len); });
  // Reset state (real mode at 0000:0000): 32-bit engine, CR0=0, IDT limit 0xFFFF.
  set_registers(real_mode_state(0, 0));
  fiber_ = std::make_unique<Fiber>([this] { fiber_main(); }, kFiberStackSize);
}

EmuVcpu::~EmuVcpu() {
  memory_.set_dirty_source(nullptr);
  memory_.set_write_observer(nullptr);
  // Let a fiber suspended inside Unicorn unwind out of uc_emu_start first.
  closing_ = true;
  if (fiber_ && fiber_->started() && !fiber_->finished()) {
    if (awaiting_read_) awaiting_read_ = false;
    uc_emu_stop(uc_);
    fiber_->resume();
  }
  fiber_.reset();
  uc_context_free(real_template_);
  uc_context_free(protected_template_);
  if (snapshot_context_) uc_context_free(snapshot_context_);
  uc_close(uc_);
}

void EmuVcpu::capture_mode_templates() {
  // Runs before any guest memory or hook exists: `mov cr0, eax; hlt` from a
  // scratch page at 0 that is unmapped again afterwards.
  const uint8_t stub[] = {0x0F, 0x22, 0xC0, 0xF4};
  const uint32_t cr0_real = 0x10;
  bool ok = uc_context_alloc(uc_, &protected_template_) == UC_ERR_OK &&
            uc_context_alloc(uc_, &real_template_) == UC_ERR_OK &&
            uc_context_save(uc_, protected_template_) == UC_ERR_OK &&
            uc_mem_map(uc_, 0, kPageSize, UC_PROT_ALL) == UC_ERR_OK;
  ok = ok && uc_mem_write(uc_, 0, stub, sizeof stub) == UC_ERR_OK &&
       uc_reg_write(uc_, UC_X86_REG_EAX, &cr0_real) == UC_ERR_OK &&
       uc_emu_start(uc_, 0, UINT64_MAX, 0, 0) == UC_ERR_OK && uc_context_save(uc_, real_template_) == UC_ERR_OK;
  // Drop the stub's translation (made without our hooks). Not a full flush:
  // Unicorn 2.0.1 memsets its whole 1 GiB code buffer on every flush, which
  // cost each process ~1 s before anything ran. Real mode: linear = physical.
  uc_ctl_remove_cache(uc_, 0, kPageSize);
  uc_mem_unmap(uc_, 0, kPageSize);
  if (!ok) {
    if (real_template_) uc_context_free(real_template_);
    if (protected_template_) uc_context_free(protected_template_);
    uc_close(uc_);
    throw std::runtime_error("emu: cannot prepare Unicorn's real-mode state");
  }
}

// ---- memory map ------------------------------------------------------------

std::vector<EmuVcpu::Region> EmuVcpu::wanted_regions() const {
  std::vector<const MemorySlot*> ram;
  for (const MemorySlot& s : memory_.slots())
    if (s.mapped && s.size > 0) ram.push_back(&s);
  std::sort(ram.begin(), ram.end(), [](auto* a, auto* b) { return a->guest_base < b->guest_base; });
  std::vector<Region> out;
  uint64_t cursor = 0;
  auto hole = [&](uint64_t base, uint64_t end, uint64_t alias) {
    if (end > base) out.push_back(Region{.base = base, .size = end - base, .alias = alias});
  };
  for (const MemorySlot* s : ram) {
    if (s->guest_base < k4GiB) hole(cursor, std::min(s->guest_base, k4GiB), cursor);
    out.push_back(Region{.base = s->guest_base,
                         .size = s->size,
                         .host = s->host,
                         .read_only = s->read_only,
                         .log_dirty = s->log_dirty,
                         .slot_id = s->id,
                         .alias = s->guest_base});
    cursor = std::max(cursor, s->guest_base + s->size);
  }
  if (cursor < k4GiB) hole(cursor, k4GiB, cursor);
  // In 32-bit mode linear addresses wrap at 4 GiB: an access that starts
  // below and ends above (a dword at 0xFFFFFFFE) continues at 0, as on the
  // CPU. Unicorn's x86-64 core does not wrap, so the page above 4 GiB shows
  // what is at 0 (RAM there: the same host bytes, not dirty-logged; else a
  // hole that reports guest-physical 0).
  const MemorySlot* low = nullptr;
  for (const MemorySlot* s : ram)
    if (s->guest_base == 0 && s->size >= kPageSize) low = s;
  if (low)
    out.push_back(Region{.base = k4GiB, .size = kPageSize, .host = low->host, .read_only = low->read_only,
                         .slot_id = low->id, .alias = 0});
  else
    hole(k4GiB, k4GiB + kPageSize, 0);
  return out;
}

void EmuVcpu::map_region(const Region& r) {
  MappedRegion m;
  m.region = r;
  if (!r.host) {
    m.hole = std::make_unique<MmioHole>(MmioHole{this, r.base, r.alias});
    if (uc_mmio_map(uc_, r.base, r.size, &cb_mmio_read, m.hole.get(), &cb_mmio_write, m.hole.get()) != UC_ERR_OK)
      return;
    mapped_.push_back(std::move(m));
    return;
  }
  if (uc_mem_map_ptr(uc_, r.base, r.size, UC_PROT_ALL, r.host) != UC_ERR_OK) return;
  // Read-only memory: Unicorn discards the store after the write-protection
  // hook (on_write_protected) has turned it into an MMIO write exit.
  if (r.read_only) uc_mem_protect(uc_, r.base, r.size, UC_PROT_READ | UC_PROT_EXEC);
  if (r.log_dirty) {
    m.dirty = std::make_unique<DirtyRange>(DirtyRange{this, r.slot_id, r.base, r.size});
    uc_hook h;
    if (uc_hook_add(uc_, &h, UC_HOOK_MEM_WRITE, reinterpret_cast<void*>(&cb_dirty), m.dirty.get(), r.base,
                    r.base + r.size - 1) == UC_ERR_OK)
      m.dirty_hook = h;
    dirty_[r.slot_id].resize((r.size / kPageSize + 63) / 64, 0);
  }
  mapped_.push_back(std::move(m));
}

void EmuVcpu::unmap_region(MappedRegion& m) {
  if (m.dirty_hook) uc_hook_del(uc_, *m.dirty_hook);
  uc_mem_unmap(uc_, m.region.base, m.region.size);
}

void EmuVcpu::remap() {
  const std::vector<Region> wanted = wanted_regions();
  auto is_wanted = [&](const Region& r) {
    return std::any_of(wanted.begin(), wanted.end(), [&](const Region& w) { return w.same_mapping(r); });
  };
  // Unmap first, so no new region overlaps an old one inside Unicorn.
  std::vector<MappedRegion> kept;
  for (MappedRegion& m : mapped_) {
    if (is_wanted(m.region)) kept.push_back(std::move(m));
    else unmap_region(m);
  }
  mapped_ = std::move(kept);
  for (const Region& w : wanted) {
    bool have = std::any_of(mapped_.begin(), mapped_.end(), [&](const MappedRegion& m) { return m.region.same_mapping(w); });
    if (!have) map_region(w);
  }
  // No flush of translated code: Unicorn 2.0.1 checks memory hooks when a
  // store runs, not when it is translated (EmuVcpu.SlotMappedWhileRunning...
  // shows it), and unmapping drops the unmapped pages' translations itself
  // (translations are keyed by host RAM block, so a region remapped to other
  // memory, as PAM does, never finds the old code). A flush would memset
  // Unicorn's whole 1 GiB code buffer: ~1 s the first time in a process,
  // ~0.1 s after that.
  mapped_generation_ = memory_.generation();
}

void EmuVcpu::sync_memory_map() {
  if (memory_.generation() == mapped_generation_) return;
  // Inside a callback Unicorn is mid-instruction: remap at the next boundary.
  if (mid_instruction_) {
    update_attention();
    return;
  }
  remap();
}

namespace {
void cb_watch(uc_engine*, uc_mem_type type, uint64_t address, int size, int64_t, void* hook) {
  auto* h = static_cast<EmuVcpu::WatchHook*>(hook);
  h->self->on_watched_access(h->watch, type == UC_MEM_WRITE, address, size);
}
}  // namespace

bool EmuVcpu::set_watchpoints(std::vector<Watchpoint> watch) {
  for (auto& h : watch_hooks_) uc_hook_del(uc_, h->hook);
  watch_hooks_.clear();
  watch_hit_.reset();
  for (const Watchpoint& w : watch) {
    if (w.size == 0 || (!w.reads && !w.writes)) continue;
    auto h = std::make_unique<WatchHook>(WatchHook{this, w, 0});
    int types = (w.reads ? UC_HOOK_MEM_READ : 0) | (w.writes ? UC_HOOK_MEM_WRITE : 0);
    // Unicorn matches a hook's range against an access's first byte: start
    // early enough to see an 8-byte access that ends inside the watched range.
    uint64_t begin = w.address >= 7 ? w.address - 7 : 0;
    if (uc_hook_add(uc_, &h->hook, types, reinterpret_cast<void*>(&cb_watch), h.get(), begin,
                    w.address + w.size - 1) != UC_ERR_OK)
      throw VcpuError(fmt::format("Unicorn refused a watchpoint hook at {:#x}", w.address));
    watch_hooks_.push_back(std::move(h));
  }
  update_attention();
  return true;
}

void EmuVcpu::on_watched_access(const Watchpoint& w, bool write, uint64_t address, int size) {
  if (size <= 0 || address + uint64_t(size) <= w.address || address >= w.address + w.size) return;
  if (write ? !w.writes : !w.reads) return;
  if (!watch_hit_) watch_hit_ = WatchHit{std::max(address, w.address), write};
  attention_ = true;
  stop_at_only_ = false;
}

void EmuVcpu::invalidate_code(uint64_t gpa, uint64_t size) {
  if (size == 0 || gpa >= k4GiB) return;
  const uint64_t first = gpa / kPageSize, last = std::min(gpa + size - 1, k4GiB - 1) / kPageSize;
  for (uint64_t p = first; p <= last; ++p) {
    uint64_t& word = code_pages_[p / 64];
    if (!(word & (1ull << (p % 64)))) continue;
    word &= ~(1ull << (p % 64));
    uc_ctl_remove_cache(uc_, p * kPageSize, (p + 1) * kPageSize);
  }
}

void EmuVcpu::on_dirty_write(const DirtyRange& r, uint64_t address, int size) {
  if (size <= 0 || address < r.base) return;
  auto& bits = dirty_[r.slot_id];
  const uint64_t first = (address - r.base) / kPageSize;
  const uint64_t last = std::min((address - r.base + size - 1) / kPageSize, r.size / kPageSize - 1);
  for (uint64_t p = first; p <= last && p / 64 < bits.size(); ++p) bits[p / 64] |= 1ull << (p % 64);
}

void EmuVcpu::on_unmapped(uc_mem_type type, uint64_t address, int size) {
  const char* what = type == UC_MEM_FETCH_UNMAPPED ? "fetch" : type == UC_MEM_WRITE_UNMAPPED ? "write" : "read";
  unmapped_detail_ = fmt::format("{} of {} bytes at {:#x} (beyond 4 GiB or outside every slot)", what, size, address);
}

// ---- blocks and their counts -------------------------------------------------

uint64_t EmuVcpu::position() const {
  if (stopped_in_block_ || !cur_block_) return icount_;
  // Inside a block: an I/O or MMIO callback of a known instruction counts it.
  if (cur_index_ >= 0) return block_base_ + static_cast<uint64_t>(cur_index_) + 1;
  return icount_;
}

// The descriptor a segment register's selector names in protected mode;
// nullopt in real and virtual-8086 mode (base = selector << 4, 16-bit).
std::optional<Segment> EmuVcpu::protected_descriptor(int id) {
  uint64_t cr0 = 0;
  uc_reg_read(uc_, UC_X86_REG_CR0, &cr0);
  if (!(cr0 & 1) || (read32(UC_X86_REG_EFLAGS) & (1u << 17))) return std::nullopt;
  uc_x86_mmr gdtr{}, ldtr{};
  uc_reg_read(uc_, UC_X86_REG_GDTR, &gdtr);
  uc_reg_read(uc_, UC_X86_REG_LDTR, &ldtr);
  Segment ldt;
  ldt.base = ldtr.base;
  ldt.limit = ldtr.limit;
  return protected_mode_segment(memory_, DescriptorTable{gdtr.base, static_cast<uint16_t>(gdtr.limit)}, ldt,
                                read32(id) & 0xFFFF);
}

uint64_t EmuVcpu::segment_base(int id) {
  // Right after CR0.PE is set, until the far jump that follows, CS still
  // holds its real-mode selector and base: a selector that names no present
  // descriptor keeps selector << 4.
  if (auto d = protected_descriptor(id); d && d->present) return d->base;
  return uint64_t{read32(id) & 0xFFFF} << 4;
}

void EmuVcpu::fix_eip_after_stop() {
  const uint32_t eip = static_cast<uint32_t>(stop_linear_ - cs_base());
  uc_reg_write(uc_, UC_X86_REG_EIP, &eip);
}

void EmuVcpu::refresh_code_segment() {
  if (!mode_dirty_) return;
  code32_ = code_is_32bit();
  cs_base_ = segment_base(UC_X86_REG_CS);
  mode_dirty_ = false;
}

Block& EmuVcpu::block_for(uint64_t pc, uint32_t size) {
  refresh_code_segment();
  if (Block* b = catalog_.find(pc, size, code32_)) return *b;
  // Translated before the translation hook could see it (the first block):
  // ask Unicorn for its count.
  uc_tb tb{};
  uint32_t icount = 0xFFFF;  // unknown: as many as Capstone finds in the block's bytes
  if (uc_ctl_request_cache(uc_, pc, &tb) == UC_ERR_OK && tb.pc == pc && tb.size == size) icount = tb.icount;
  const uc_tb fake{pc, static_cast<uint16_t>(icount), static_cast<uint16_t>(size)};
  on_translated(fake);
  Block* b = catalog_.find(pc, size, code32_);
  if (b->icount == 0xFFFF) b->icount = static_cast<uint32_t>(b->insns.size());
  // Its translation may predate the code hooks that cover it now: a stop
  // inside it translates it again first.
  b->hooked = false;
  return *b;
}

bool EmuVcpu::code_is_32bit() {
  auto d = protected_descriptor(UC_X86_REG_CS);
  return d && d->present && d->db;
}

void EmuVcpu::on_translated(const uc_tb& tb) {
  // Translated in the mode the CPU is in now.
  refresh_code_segment();
  const bool code32 = code32_;
  Block& b = catalog_.record(tb.pc, tb.size, tb.icount, memory_.host_ptr(tb.pc, tb.size), code32);
  if (tb.pc < k4GiB)
    for (uint64_t p = tb.pc / kPageSize; p <= std::min<uint64_t>(tb.pc + tb.size, k4GiB - 1) / kPageSize; ++p)
      code_pages_[p / 64] |= 1ull << (p % 64);
  b.hooked = covered_by_precise(b.pc, b.pc + b.size);
}

bool EmuVcpu::covered_by_precise(uint64_t begin, uint64_t end) const {
  for (const PreciseRange& r : precise_)
    if (r.begin <= begin && end <= r.end) return true;
  return false;
}

void EmuVcpu::make_precise(uint64_t pc, uint32_t size, bool temporary) {
  if (!covered_by_precise(pc, pc + size)) {
    if (temporary) temporary_for_ = stop_at_;
    PreciseRange r{pc, pc + size, 0, temporary};
    // Unicorn walks every code hook for each hooked instruction: permanent
    // ranges that overlap or touch become one, and past kMaxPreciseRanges
    // the two closest merge (the code between them is followed one
    // instruction at a time too, which is only slower).
    if (!temporary) {
      constexpr size_t kMaxPreciseRanges = 16;
      auto absorb = [&](auto pred) {
        for (auto it = precise_.begin(); it != precise_.end();) {
          if (it->temporary || !pred(*it)) {
            ++it;
            continue;
          }
          r.begin = std::min(r.begin, it->begin);
          r.end = std::max(r.end, it->end);
          uc_hook_del(uc_, it->hook);
          it = precise_.erase(it);
        }
      };
      absorb([&](const PreciseRange& o) { return o.begin <= r.end && r.begin <= o.end; });
      size_t permanent = 0;
      for (const PreciseRange& o : precise_) permanent += !o.temporary;
      if (permanent >= kMaxPreciseRanges) {
        const PreciseRange* nearest = nullptr;
        uint64_t gap = UINT64_MAX;
        for (const PreciseRange& o : precise_) {
          if (o.temporary) continue;
          const uint64_t g = o.begin > r.end ? o.begin - r.end : r.begin - o.end;
          if (g < gap) gap = g, nearest = &o;
        }
        const uint64_t nb = nearest->begin, ne = nearest->end;
        absorb([&](const PreciseRange& o) { return o.begin == nb && o.end == ne; });
      }
    }
    if (uc_hook_add(uc_, &r.hook, UC_HOOK_CODE, reinterpret_cast<void*>(&cb_code), this, r.begin, r.end - 1) !=
        UC_ERR_OK)
      return;
    precise_.push_back(r);
  }
  // Translated again, now with the code hook.
  uc_ctl_remove_cache(uc_, pc, pc + size);
}

void EmuVcpu::drop_temporary_precise() {
  for (auto it = precise_.begin(); it != precise_.end();) {
    if (!it->temporary) {
      ++it;
      continue;
    }
    uc_hook_del(uc_, it->hook);
    uc_ctl_remove_cache(uc_, it->begin, it->end);
    // Translated again without the hook (the translation hook says so too).
    for (bool code32 : {false, true})
      if (Block* b = catalog_.find(it->begin, static_cast<uint32_t>(it->end - it->begin), code32)) b->hooked = false;
    it = precise_.erase(it);
  }
}

// ---- the hooks ------------------------------------------------------------

bool EmuVcpu::breakpoint_registers_match() {
  if (!breakpoint_regs_) return true;
  const Registers& want = *breakpoint_regs_;
  static constexpr int ids[] = {UC_X86_REG_ECX, UC_X86_REG_EAX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                                UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_ESP, UC_X86_REG_EBP};
  const uint64_t wanted[] = {want.rcx, want.rax, want.rdx, want.rbx, want.rsi, want.rdi, want.rsp, want.rbp};
  for (size_t i = 0; i < std::size(ids); ++i)
    if (read32(ids[i]) != (wanted[i] & 0xFFFFFFFFu)) return false;
  return true;
}

bool EmuVcpu::boundary_stop(uint64_t address, uint64_t pos) {
  if (closing_ || internal_pending()) {
    stop_ = Stop::Internal;
    return true;
  }
  if (pushf_fixup_) apply_pushf_fixup();
  // Right after the instruction that touched a watched byte, before any
  // other stop can come between.
  if (watch_hit_) {
    report(Exit{.kind = ExitKind::Debug, .is_write = watch_hit_->write, .size = 1, .address = watch_hit_->address});
    watch_hit_.reset();
    return true;
  }
  if (stop_at_ && pos >= *stop_at_) {
    report(Exit{.kind = ExitKind::StopAtPosition});
    return true;
  }
  if (kicked_.exchange(false, std::memory_order_relaxed)) {
    report(Exit{.kind = ExitKind::Kicked});
    return true;
  }
  if (single_step_ && pos > run_start_) {
    report(Exit{.kind = ExitKind::Debug, .address = address});
    return true;
  }
  if (!code_breakpoints_.empty() && !skip_code_breakpoint_ &&
      std::binary_search(code_breakpoints_.begin(), code_breakpoints_.end(), address)) {
    skip_code_breakpoint_ = true;  // the next run() executes this instruction
    report(Exit{.kind = ExitKind::Debug, .address = address});
    return true;
  }
  if (breakpoint_ && *breakpoint_ == address && !skip_breakpoint_ && breakpoint_registers_match()) {
    skip_breakpoint_ = true;  // the next run() executes this instruction
    report(Exit{.kind = ExitKind::Debug, .address = address});
    return true;
  }
  if (window_requested_ && !shadow_ && interrupts_enabled() && string_batch_left_ == 0) {
    report(Exit{.kind = ExitKind::IrqWindowOpen});
    return true;
  }
  return false;
}

// QEMU runs a rep string instruction as one block per iteration that jumps
// back to itself, and the block after the last iteration only finds the
// count at 0 and jumps past the instruction. That block is no instruction
// of the CPU's: hardware finishes the instruction with its last iteration,
// so it never shows RIP at the instruction with its count at 0 after
// iterations ran (an interrupt or single step there sees RIP past it). It
// is the block at the rep instruction an iteration of that same
// instruction just jumped back to, with its count register at 0.
// Not for rep ins / rep outs: KVM emulates those, and after their last
// element it leaves RIP on the instruction with the count at 0 (the string
// tail of x86_emulate_insn skips the RIP writeback unless a repe/repne
// condition ended it) and enters the guest there, where an interrupt can
// enter and the CPU then runs the instruction again with no iteration. That
// block is that instruction here: a boundary, counted.
bool EmuVcpu::rep_final_check(uint64_t pc, const Block& b) {
  const std::optional<uint64_t> iterated = std::exchange(rep_iterated_at_, std::nullopt);
  if (!iterated || *iterated != pc || b.insns.empty() || b.insns[0].offset != 0) return false;
  const uint8_t width = b.insns[0].rep_count_bytes;
  if (!width || b.insns[0].rep_io) return false;
  const uint32_t ecx = read32(UC_X86_REG_ECX);
  return (width == 2 ? (ecx & 0xFFFF) : ecx) == 0;
}

void EmuVcpu::on_block(uint64_t pc, uint32_t size) {
  // The running block was abandoned half way, with no fault and no stop, and
  // this block starts at the instruction that was running: QEMU's precise
  // self-modifying code (a store into the running block stops it before the
  // store and runs the storing instruction again, alone). That instruction
  // counts once, here. Stores run only in precise blocks, where the running
  // instruction is known.
  if (const Block* prev = cur_block_; prev && prev->hooked && !stopped_in_block_ && cur_index_ >= 0 &&
      cur_index_ + 1 < static_cast<int>(prev->insns.size()) && pc == prev->pc + prev->insns[cur_index_].offset)
    icount_ = block_base_ + static_cast<uint64_t>(cur_index_);
  Block& b = block_for(pc, size);
  const bool final_check = rep_final_check(pc, b);
  in_rep_final_check_ = final_check;
  if (final_check) {
    // No instruction and no boundary: the count stays, and nothing stops
    // here (a stop at this count stops before the next instruction).
    block_base_ = icount_;
    cur_block_ = &b;
    cur_index_ = -1;
    stopped_in_block_ = false;
    shadow_ = false;
    return;
  }
  const bool stop_far_ahead = stop_at_only_ && icount_ + b.icount <= *stop_at_ && !internal_pending();
  if ((attention_ && !stop_far_ahead) || kicked_.load(std::memory_order_relaxed) || closing_ ||
      (b.needs_precise && !b.hooked)) {
    // Stopping here keeps the block from running; the count is added only
    // when it runs.
    if (boundary_stop(pc, icount_)) {
      stop_before(pc, icount_);
      return;
    }
    bool precise_needed = b.needs_precise;
    if (!b.hooked && b.icount > 1) {
      const uint64_t end = icount_ + b.icount;
      if (stop_at_ && *stop_at_ < end) precise_needed = true;
      if (single_step_) precise_needed = true;
      if (breakpoint_ && *breakpoint_ > pc && *breakpoint_ < pc + size) precise_needed = true;
      // A debugger's breakpoint inside the block: stop before that instruction.
      auto bp = std::upper_bound(code_breakpoints_.begin(), code_breakpoints_.end(), pc);
      if (bp != code_breakpoints_.end() && *bp < pc + size) precise_needed = true;
    }
    if (precise_needed && !b.hooked) {
      // Translated again with the code hook (a range may already cover it,
      // but this translation may predate the range).
      make_precise_pc_ = pc;
      make_precise_size_ = size;
      make_precise_temporary_ = !b.needs_precise;
      stop_ = Stop::MakePrecise;
      stop_before(pc, icount_);
      return;
    }
  }
  block_base_ = icount_;
  icount_ += b.icount;
  cur_block_ = &b;
  cur_index_ = -1;
  stopped_in_block_ = false;
  shadow_ = false;
  skip_breakpoint_ = false;
  skip_code_breakpoint_ = false;
}

void EmuVcpu::on_insn(uint64_t address) {
  // Only precise blocks get here (and, until Unicorn drops it, a block whose
  // temporary hook was removed: harmless).
  Block* b = cur_block_;
  if (!b) return;
  const int i = b->index_at(address);
  if (i < 0 || in_rep_final_check_) return;
  const uint64_t pos = block_base_ + static_cast<uint64_t>(i);
  // The block hook already decided at the block's first instruction.
  if (i > 0 && (attention_ || kicked_.load(std::memory_order_relaxed) || closing_) && boundary_stop(address, pos)) {
    stop_before(address, pos);
    return;
  }
  if (i > 0) {
    skip_breakpoint_ = false;
    skip_code_breakpoint_ = false;
  }
  cur_index_ = i;
  const DecodedInsn& d = b->insns[i];
  if (needs_precise(d.kind) && check_special(d)) {
    special_index_ = i;
    stop_ = Stop::Emulate;
    stop_before(address, pos);
    return;
  }
  shadow_ = (d.kind == InsnKind::Sti && !interrupts_enabled()) || d.kind == InsnKind::ShadowSs;
  if (d.rep_count_bytes) rep_iterated_at_ = address;
  // A CR write changes neither the CS base nor its default size: both stay
  // cached until CS is loaded again (right after CR0.PE is set, CS still
  // holds its real-mode base).
  if (d.may_change_mode && d.kind != InsnKind::CrWrite) mode_dirty_ = true;
}

// The instruction about to run needs the backend: true to stop before it
// (and handle it in handle_special), false to let Unicorn run it.
bool EmuVcpu::check_special(const DecodedInsn& d) {
  switch (d.kind) {
    case InsnKind::Rdtsc:
    case InsnKind::Undefined:
    case InsnKind::Smsw32:
      return true;
    case InsnKind::CrWrite: {
      const uint64_t v = read32(kGprIds[d.reg]);
      if (d.cr == 0) return check_cr0_write(v).verdict != ControlWrite::Ok;
      if (d.cr == 4) return check_cr4_write(v, cpuid_).verdict != ControlWrite::Ok;
      return d.cr != 2 && d.cr != 3;  // CR1, CR5-CR15: #UD
    }
    case InsnKind::Wrmsr: {
      if (read32(UC_X86_REG_ECX) != kMsrEfer) return false;
      const uint64_t v = uint64_t{read32(UC_X86_REG_EDX)} << 32 | read32(UC_X86_REG_EAX);
      return check_efer_write(v, cpuid_).verdict != ControlWrite::Ok;
    }
    case InsnKind::Pushfd:
      pushf_fixup_ = true;
      update_attention();
      return false;
    case InsnKind::FarTransfer: {
      uint64_t cr0 = 0;
      uc_reg_read(uc_, UC_X86_REG_CR0, &cr0);
      if (!(cr0 & 1)) return false;
      const unsigned cpl = read32(UC_X86_REG_CS) & 3;
      uint16_t target = d.far_selector;
      if (!d.far_imm) {
        // iret/retf: the selector is the second stack slot.
        const unsigned width = cur_block_->code32 ? 4 : 2;
        uint16_t sel = 0;
        if (!memory_.read(segment_base(UC_X86_REG_SS) + read32(UC_X86_REG_ESP) + width, &sel, 2)) return false;
        target = sel;
      }
      return (target & 3) != cpl;
    }
    default:
      return false;
  }
}

void EmuVcpu::apply_pushf_fixup() {
  pushf_fixup_ = false;
  update_attention();
  // Behind Unicorn's back on purpose: the stack is data, and a write through
  // GuestMemory would invalidate code on that page while it runs.
  const uint64_t image = segment_base(UC_X86_REG_SS) + read32(UC_X86_REG_ESP);
  if (uint8_t* flags_hi = memory_.host_ptr(image + 2, 1)) *flags_hi &= ~uint8_t{0x3};  // RF, VM
}

// ---- I/O callbacks -----------------------------------------------------------

void EmuVcpu::post_mid_instruction(Exit exit) {
  mid_instruction_ = true;
  post(std::move(exit));
  mid_instruction_ = false;
}

// At an element of a rep ins, with the registers before it (QEMU moves rDI
// and the count after the port access).
void EmuVcpu::count_string_element(const DecodedInsn& d, unsigned size) {
  if (!d.rep_count_bytes) return;  // a plain in
  RepString s;
  s.op = RepString::Op::Ins;
  s.element = static_cast<uint8_t>(size);
  s.address_bytes = d.rep_count_bytes;
  Registers r;
  r.rcx = read32(UC_X86_REG_ECX);
  r.rdi = read32(UC_X86_REG_EDI);
  r.rflags = read32(UC_X86_REG_EFLAGS);
  // This element starts a batch where the last one ended.
  const uint64_t left = string_batch_left_ > 0 ? string_batch_left_ - 1 : kvm_ins_batch_elements(s, r) - 1;
  string_batch_left_ = string_batch_continues(s, left, s.count(r) - 1) ? left : 0;
}

uint32_t EmuVcpu::on_in(uint32_t port, int size) {
  if (closing_) return 0;
  if (const DecodedInsn* d = current_insn()) count_string_element(*d, static_cast<unsigned>(size));
  awaiting_read_ = true;
  post_mid_instruction(Exit{.kind = ExitKind::PortIo, .size = static_cast<uint8_t>(size), .address = port & 0xFFFF});
  if (closing_) return 0;
  return static_cast<uint32_t>(read_value_ & size_mask(size));
}

void EmuVcpu::on_out(uint32_t port, int size, uint32_t value) {
  if (closing_) return;
  post_mid_instruction(Exit{.kind = ExitKind::PortIo, .is_write = true, .size = static_cast<uint8_t>(size),
                            .address = port & 0xFFFF, .data = value & size_mask(size)});
}

uint64_t EmuVcpu::on_mmio_read(const MmioHole& hole, uint64_t offset, unsigned size) {
  if (closing_) return 0;
  if (cur_index_ < 0 && cur_block_) cur_index_ = cur_block_->index_at(read32(UC_X86_REG_EIP));
  awaiting_read_ = true;
  post_mid_instruction(Exit{.kind = ExitKind::Mmio, .size = static_cast<uint8_t>(size), .address = hole.alias + offset});
  if (closing_) return 0;
  return read_value_ & size_mask(size);
}

void EmuVcpu::on_mmio_write(const MmioHole& hole, uint64_t offset, unsigned size, uint64_t value) {
  if (closing_) return;
  if (cur_index_ < 0 && cur_block_) cur_index_ = cur_block_->index_at(read32(UC_X86_REG_EIP));
  post_mid_instruction(Exit{.kind = ExitKind::Mmio, .is_write = true, .size = static_cast<uint8_t>(size),
                            .address = hole.alias + offset, .data = value & size_mask(size)});
}

// A store to read-only memory: the same MMIO write exit KVM gives for a
// KVM_MEM_READONLY slot.
void EmuVcpu::on_write_protected(uint64_t address, int size, uint64_t value) {
  if (closing_ || size <= 0) return;
  const uint8_t bytes = static_cast<uint8_t>(std::min(size, 8));
  post_mid_instruction(
      Exit{.kind = ExitKind::Mmio, .is_write = true, .size = bytes, .address = address, .data = value & size_mask(bytes)});
}

void EmuVcpu::on_cpuid() {
  const CpuidEntry e = cpuid_lookup(cpuid_, read32(UC_X86_REG_EAX), read32(UC_X86_REG_ECX));
  uc_reg_write(uc_, UC_X86_REG_EAX, &e.eax);
  uc_reg_write(uc_, UC_X86_REG_EBX, &e.ebx);
  uc_reg_write(uc_, UC_X86_REG_ECX, &e.ecx);
  uc_reg_write(uc_, UC_X86_REG_EDX, &e.edx);
}

void EmuVcpu::on_intr(uint32_t vector) {
  // Unicorn sets EIP after the hook returns (past `int n`, or on the faulting
  // instruction), so delivery happens once the engine has stopped.
  pending_vector_ = vector;
  stop_ = Stop::Exception;
  uc_emu_stop(uc_);
}

// ---- the fiber's loop ----------------------------------------------------------

std::string EmuVcpu::failure_text(const std::string& what) {
  const uint32_t cs = read32(UC_X86_REG_CS) & 0xFFFF, eip = read32(UC_X86_REG_EIP);
  return fmt::format("emu: {} at CS:EIP {:04x}:{:08x}", what, cs, eip);
}

void EmuVcpu::post_delivery(Delivery d) {
  if (!d.failure.empty()) post_failure(std::move(d.failure));
  else if (d.shutdown) post(std::move(*d.shutdown));
}

void EmuVcpu::apply_boundary_work() {
  if (memory_.generation() != mapped_generation_) remap();
  if (pending_registers_) {
    std::string problem = apply_registers(*pending_registers_);
    pending_registers_.reset();
    if (!problem.empty()) {
      update_attention();
      post_failure(std::move(problem));
    }
  }
  if (pending_injection_) {
    const uint8_t v = *pending_injection_;
    pending_injection_.reset();
    Delivery d = deliver(v, false);
    update_attention();
    post_delivery(std::move(d));
  }
  update_attention();
}

EmuVcpu::Delivery EmuVcpu::deliver(uint8_t vector, bool push_error_code, bool fault) {
  shadow_ = false;
  string_batch_left_ = 0;  // a fault inside the batch ends it
  mode_dirty_ = true;  // a gate may name another code segment
  // Unicorn does not expose the error code of a CPU exception: push 0.
  DeliveryResult r = deliver_interrupt(uc_, memory_, vector, push_error_code, 0, fault);
  if (r.kind == DeliveryResult::Delivered) return {};
  if (r.kind == DeliveryResult::Unsupported) return {std::nullopt, failure_text(r.message)};
  if (vector == kVectorDF)
    return {Exit{.kind = ExitKind::Shutdown, .message = "triple fault: delivering #DF failed: " + r.message}, {}};
  DeliveryResult df = deliver_interrupt(uc_, memory_, kVectorDF, true, 0);
  if (df.kind == DeliveryResult::Delivered) return {};
  if (df.kind == DeliveryResult::Unsupported) return {std::nullopt, failure_text(df.message)};
  return {Exit{.kind = ExitKind::Shutdown,
               .message = "triple fault: vector " + std::to_string(vector) + ": " + r.message + "; then #DF: " + df.message},
          {}};
}

void EmuVcpu::handle_exception() {
  const uint8_t vector = static_cast<uint8_t>(pending_vector_);
  exception_reset_.reset(uc_);
  // `int n`, int3, into and int1 leave EIP just past themselves and push no
  // error code; CPU exceptions leave EIP on the faulting instruction. Either
  // way the instruction counts, and the rest of the block did not run.
  const uint64_t pc = cs_base() + uint64_t{read32(UC_X86_REG_EIP)};
  bool software = false;
  if (Block* b = cur_block_) {
    const int j = b->index_ending_at(pc);
    const int i = b->index_at(pc);
    if (j >= 0 && b->insns[j].kind == InsnKind::SoftInt && b->insns[j].soft_vector == vector) {
      software = true;
      icount_ = block_base_ + j + 1;
    } else if (i >= 0) {
      icount_ = block_base_ + i + 1;
    }
  }
  stopped_in_block_ = true;
  post_delivery(deliver(vector, !software && exception_has_error_code(vector), !software && exception_is_fault(vector)));
}

// Stopped before cur_block_->insns[special_index_] (check_special said so).
void EmuVcpu::handle_special() {
  const DecodedInsn& d = cur_block_->insns[special_index_];
  const uint64_t address = stop_linear_;
  auto retire = [&] {
    ++icount_;
    const uint32_t eip = read32(UC_X86_REG_EIP) + d.length;
    uc_reg_write(uc_, UC_X86_REG_EIP, &eip);
  };
  auto fault = [&](uint8_t vector) {
    ++icount_;  // a faulting instruction counts, as everywhere
    post_delivery(deliver(vector, exception_has_error_code(vector), true));
  };
  switch (d.kind) {
    case InsnKind::Rdtsc: {
      // One tick per instruction started, this one included: deterministic
      // and monotonic.
      retire();
      const uint32_t lo = static_cast<uint32_t>(icount_), hi = static_cast<uint32_t>(icount_ >> 32);
      uc_reg_write(uc_, UC_X86_REG_EAX, &lo);
      uc_reg_write(uc_, UC_X86_REG_EDX, &hi);
      return;
    }
    case InsnKind::Undefined:
      fault(kVectorUD);
      return;
    case InsnKind::Smsw32: {
      // Outside 64-bit mode a 32-bit destination gets all of CR0[31:0] on
      // the CPUs KVM runs on (the SDM leaves bits 31:16 undefined).
      uint64_t cr0 = 0;
      uc_reg_read(uc_, UC_X86_REG_CR0, &cr0);
      const uint32_t v = static_cast<uint32_t>(cr0);
      retire();
      uc_reg_write(uc_, kGprIds[d.reg], &v);
      return;
    }
    case InsnKind::CrWrite:
    case InsnKind::Wrmsr: {
      ControlWrite c;
      if (d.kind == InsnKind::Wrmsr) {
        c = check_efer_write(uint64_t{read32(UC_X86_REG_EDX)} << 32 | read32(UC_X86_REG_EAX), cpuid_);
      } else if (d.cr == 0 || d.cr == 4) {
        const uint64_t v = read32(kGprIds[d.reg]);
        c = d.cr == 0 ? check_cr0_write(v) : check_cr4_write(v, cpuid_);
      } else {
        fault(kVectorUD);
        return;
      }
      if (c.verdict == ControlWrite::GeneralProtection) {
        fault(kVectorGP);
        return;
      }
      post_failure(fmt::format("emu: {} (instruction at linear {:#x})", c.why, address));
      return;
    }
    case InsnKind::FarTransfer:
      post_failure(fmt::format("emu: the guest changes privilege level (far transfer at linear {:#x}), which "
                               "Unicorn 2.0.1 cannot deliver interrupts across; use the kvm backend",
                               address));
      return;
    default:
      return;
  }
}

void EmuVcpu::fiber_main() {
  while (!closing_) {
    apply_boundary_work();
    if (closing_) break;
    if (!temporary_precise_needed()) drop_temporary_precise();
    stop_ = Stop::None;
    unmapped_detail_.clear();
    const uint32_t eip = read32(UC_X86_REG_EIP);
    const uc_err err = uc_emu_start(uc_, eip, UINT64_MAX, 0, 0);
    if (closing_) break;
    cur_index_ = -1;
    switch (stop_) {
      case Stop::Report:
        fix_eip_after_stop();
        post(std::move(report_exit_));
        continue;
      case Stop::Exception:
        handle_exception();
        continue;
      case Stop::Internal:
        fix_eip_after_stop();
        continue;
      case Stop::MakePrecise:
        fix_eip_after_stop();
        make_precise(make_precise_pc_, make_precise_size_, make_precise_temporary_);
        continue;
      case Stop::Emulate:
        fix_eip_after_stop();
        handle_special();
        continue;
      case Stop::None:
        break;
    }
    stopped_in_block_ = true;  // the block ran to its end: icount_ holds it
    if (err == UC_ERR_OK) {
      post(Exit{.kind = ExitKind::Halt});  // hlt: EIP is already past it
    } else if (err == UC_ERR_INSN_INVALID) {
      const uint64_t pc = cs_base() + uint64_t{read32(UC_X86_REG_EIP)};
      if (cur_block_)
        if (int i = cur_block_->index_at(pc); i >= 0) icount_ = block_base_ + i + 1;
      post_delivery(deliver(kVectorUD, false, true));
    } else {
      std::string what = std::string(uc_strerror(err)) + " (Unicorn error " + std::to_string(err) + ")";
      if (!unmapped_detail_.empty()) what += ": " + unmapped_detail_;
      post_failure(failure_text(what));
    }
  }
}

// ---- the Vcpu interface ------------------------------------------------------------

Exit EmuVcpu::run(const RunLimits& limits) {
  if (fiber_->finished()) throw VcpuError("emu: the vCPU was shut down");
  if (awaiting_read_) throw VcpuError("emu: run() called before complete_read() answered the pending read exit");
  if (pending_guest_exit_) return *std::exchange(pending_guest_exit_, std::nullopt);
  stop_at_ = limits.stop_at_icount;
  // Mid-instruction the count already includes the instruction under way:
  // stopping at it stops before the next one.
  if (limits.stop_at_boundary && mid_instruction_) stop_at_ = std::min(stop_at_.value_or(UINT64_MAX), position());
  // Resuming inside an I/O callback finishes that instruction: it counts as
  // the step single-stepping waits for.
  run_start_ = position() - (mid_instruction_ ? 1 : 0);
  update_attention();
  fiber_->resume();
  if (!fiber_failure_.empty()) throw VcpuError(std::exchange(fiber_failure_, {}));
  return pending_exit_;
}

void EmuVcpu::complete_read(uint64_t value) {
  read_value_ = value;
  awaiting_read_ = false;
}

bool EmuVcpu::can_inject_interrupt() {
  return !pending_injection_ && !shadow_ && string_batch_left_ == 0 && interrupts_enabled();
}

void EmuVcpu::inject_interrupt(uint8_t vector) {
  if (mid_instruction_ || !fiber_->started()) {
    pending_injection_ = vector;
    update_attention();
    return;
  }
  Delivery d = deliver(vector, false);
  if (!d.failure.empty()) throw VcpuError(d.failure);
  pending_guest_exit_ = std::move(d.shutdown);  // the next run() reports the triple fault
}

Registers EmuVcpu::get_registers() {
  if (pending_registers_) return *pending_registers_;
  Registers r;
  r.rax = read32(UC_X86_REG_EAX);
  r.rbx = read32(UC_X86_REG_EBX);
  r.rcx = read32(UC_X86_REG_ECX);
  r.rdx = read32(UC_X86_REG_EDX);
  r.rsi = read32(UC_X86_REG_ESI);
  r.rdi = read32(UC_X86_REG_EDI);
  r.rsp = read32(UC_X86_REG_ESP);
  r.rbp = read32(UC_X86_REG_EBP);
  r.rip = read32(UC_X86_REG_EIP);
  r.rflags = read32(UC_X86_REG_EFLAGS);
  uc_reg_read(uc_, UC_X86_REG_CR0, &r.cr0);
  uc_reg_read(uc_, UC_X86_REG_CR2, &r.cr2);
  uc_reg_read(uc_, UC_X86_REG_CR3, &r.cr3);
  uc_reg_read(uc_, UC_X86_REG_CR4, &r.cr4);
  uc_x86_msr efer{0xC0000080, 0};
  if (uc_reg_read(uc_, UC_X86_REG_MSR, &efer) == UC_ERR_OK) r.efer = efer.value;
  uc_x86_mmr mmr{};
  uc_reg_read(uc_, UC_X86_REG_GDTR, &mmr);
  r.gdt = {mmr.base, static_cast<uint16_t>(mmr.limit)};
  uc_reg_read(uc_, UC_X86_REG_IDTR, &mmr);
  r.idt = {mmr.base, static_cast<uint16_t>(mmr.limit)};
  for (auto [id, seg] : {std::pair{UC_X86_REG_TR, &r.tr}, std::pair{UC_X86_REG_LDTR, &r.ldt}}) {
    mmr = {};
    uc_reg_read(uc_, id, &mmr);
    seg->selector = mmr.selector;
    seg->base = mmr.base;
    seg->limit = mmr.limit;
    segment_from_qemu_flags(mmr.flags, seg);
  }
  const bool pm = (r.cr0 & 1) != 0;
  const std::pair<int, Segment*> segs[] = {{UC_X86_REG_CS, &r.cs}, {UC_X86_REG_DS, &r.ds}, {UC_X86_REG_ES, &r.es},
                                           {UC_X86_REG_FS, &r.fs}, {UC_X86_REG_GS, &r.gs}, {UC_X86_REG_SS, &r.ss}};
  for (auto [id, seg] : segs) {
    const uint16_t sel = read32(id) & 0xFFFF;
    *seg = pm ? protected_mode_segment(memory_, r.gdt, r.ldt, sel) : real_mode_segment(sel, id == UC_X86_REG_CS);
  }
  // Inside an I/O or MMIO exit Unicorn's EIP is whatever it last wrote
  // (a linear address, or the block start): the instruction is known.
  if (mid_instruction_)
    if (const DecodedInsn* d = current_insn()) r.rip = static_cast<uint32_t>(cur_block_->pc + d->offset - r.cs.base);
  return r;
}

// Inside the out's I/O callback: the engine's registers are the guest's
// (the instruction writes none of these), and the out then completes.
void EmuVcpu::set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) {
  if (pending_registers_) {  // applied once the out is done
    pending_registers_->rax = eax;
    pending_registers_->rdx = edx;
    if (ecx) pending_registers_->rcx = *ecx;
    return;
  }
  if (!mid_instruction_) {
    Vcpu::set_out_results(eax, edx, ecx);
    return;
  }
  uc_reg_write(uc_, UC_X86_REG_EAX, &eax);
  uc_reg_write(uc_, UC_X86_REG_EDX, &edx);
  if (ecx) uc_reg_write(uc_, UC_X86_REG_ECX, &*ecx);
}

void EmuVcpu::set_registers(const Registers& regs) {
  rep_iterated_at_.reset();
  if (mid_instruction_) {
    pending_registers_ = regs;
    update_attention();
    return;
  }
  std::string problem = apply_registers(regs);
  if (!problem.empty()) throw VcpuError(problem);
}

std::string EmuVcpu::apply_registers(const Registers& r) {
  std::string problem;
  auto w = [&](int id, const void* value, const char* name) {
    if (uc_reg_write(uc_, id, value) != UC_ERR_OK && problem.empty())
      problem = std::string("emu: Unicorn rejected ") + name;
  };
  if (r.cr0 & (1ull << 31)) problem = "emu: paging (CR0.PG) is not supported: Unicorn 2.0.1 translates addresses wrongly; use kvm";
  if (r.efer & (1ull << 8)) problem = "emu: long mode (EFER.LME) is not supported by a 32-bit Unicorn engine; use kvm";
  uc_context_restore(uc_, (r.cr0 & 1) ? protected_template_ : real_template_);
  uc_x86_mmr gdt{0, r.gdt.base, r.gdt.limit, 0}, idt{0, r.idt.base, r.idt.limit, 0};
  w(UC_X86_REG_GDTR, &gdt, "GDTR");
  w(UC_X86_REG_IDTR, &idt, "IDTR");
  uc_x86_mmr ldt{r.ldt.selector, r.ldt.base, r.ldt.limit, segment_to_qemu_flags(r.ldt)};
  uc_x86_mmr tr{r.tr.selector, r.tr.base, r.tr.limit, segment_to_qemu_flags(r.tr)};
  w(UC_X86_REG_LDTR, &ldt, "LDTR");
  w(UC_X86_REG_TR, &tr, "TR");
  w(UC_X86_REG_CR4, &r.cr4, "CR4");
  w(UC_X86_REG_CR3, &r.cr3, "CR3");
  w(UC_X86_REG_CR2, &r.cr2, "CR2");
  const uint64_t cr0 = r.cr0 & ~(1ull << 31);
  w(UC_X86_REG_CR0, &cr0, "CR0");
  uc_x86_msr efer{0xC0000080, r.efer};
  w(UC_X86_REG_MSR, &efer, "EFER");
  const uint32_t flags = static_cast<uint32_t>(r.rflags) | 2;
  w(UC_X86_REG_EFLAGS, &flags, "EFLAGS");
  const std::pair<int, uint64_t> gprs[] = {{UC_X86_REG_EAX, r.rax}, {UC_X86_REG_EBX, r.rbx}, {UC_X86_REG_ECX, r.rcx},
                                           {UC_X86_REG_EDX, r.rdx}, {UC_X86_REG_ESI, r.rsi}, {UC_X86_REG_EDI, r.rdi},
                                           {UC_X86_REG_ESP, r.rsp}, {UC_X86_REG_EBP, r.rbp}};
  for (auto [id, v] : gprs) {
    const uint32_t v32 = static_cast<uint32_t>(v);
    w(id, &v32, "a general register");
  }
  // Selectors after GDT and CR0: in protected mode Unicorn loads the hidden
  // parts from the descriptors, which must be in RAM (a fetch from anywhere
  // else would run guest MMIO inside this call).
  const std::pair<int, const Segment*> segs[] = {{UC_X86_REG_CS, &r.cs}, {UC_X86_REG_SS, &r.ss}, {UC_X86_REG_DS, &r.ds},
                                                 {UC_X86_REG_ES, &r.es}, {UC_X86_REG_FS, &r.fs}, {UC_X86_REG_GS, &r.gs}};
  for (auto [id, seg] : segs) {
    const uint32_t sel = seg->selector;
    if ((r.cr0 & 1) && (sel & ~3u) && !read_descriptor(memory_, r.gdt, r.ldt, static_cast<uint16_t>(sel))) {
      if (problem.empty()) problem = fmt::format("emu: segment selector {:#x} is outside the GDT or RAM", sel);
      continue;
    }
    if (uc_reg_write(uc_, id, &sel) != UC_ERR_OK && problem.empty())
      problem = fmt::format("emu: Unicorn rejected segment selector {:#x} (check the GDT in guest memory)", sel);
  }
  const uint32_t eip = static_cast<uint32_t>(r.rip);
  w(UC_X86_REG_EIP, &eip, "EIP");
  shadow_ = false;
  pushf_fixup_ = false;
  string_batch_left_ = 0;
  // The mode may have changed: blocks are decoded again as they run.
  catalog_.clear();
  mode_dirty_ = true;
  cur_block_ = nullptr;
  cur_index_ = -1;
  stopped_in_block_ = true;
  return problem;
}

// ---- snapshots --------------------------------------------------------------

namespace {
// The exact part: Unicorn's whole CPU context (a flat buffer of
// uc_context_size bytes) and this backend's own counters, valid only for
// the engine that took it.
// At a boundary the block state is derivable: the count is exact
// (stopped_in_block_), and the block catalog stays valid for the same engine
// (RAM restored by Machine::restore invalidates what changed).
struct EmuExact {
  const void* engine;
  uint64_t icount;
  bool shadow;
  bool pushf_fixup;
  bool mode_dirty;
  bool code32;
  uint64_t cs_base;
};
}  // namespace

void EmuVcpu::read_fpu(FpuState* f) {
  uc_reg_read(uc_, UC_X86_REG_FPCW, &f->fcw);
  uc_reg_read(uc_, UC_X86_REG_FPSW, &f->fsw);
  uint16_t tag = 0xFFFF;
  uc_reg_read(uc_, UC_X86_REG_FPTAG, &tag);
  f->ftw = 0;
  for (int i = 0; i < 8; ++i)
    if (((tag >> (2 * i)) & 3) != 3) f->ftw |= uint8_t(1u << i);
  uc_reg_read(uc_, UC_X86_REG_FOP, &f->fop);
  uint32_t fip = 0;
  uc_reg_read(uc_, UC_X86_REG_FIP, &fip);
  f->fip = fip;
  for (int i = 0; i < 8; ++i) uc_reg_read(uc_, UC_X86_REG_ST0 + i, f->st[i].data());
  for (int i = 0; i < 8; ++i) uc_reg_read(uc_, UC_X86_REG_XMM0 + i, f->xmm[i].data());
  uc_reg_read(uc_, UC_X86_REG_MXCSR, &f->mxcsr);
}

void EmuVcpu::write_fpu(const FpuState& f) {
  uc_reg_write(uc_, UC_X86_REG_FPCW, &f.fcw);
  uc_reg_write(uc_, UC_X86_REG_FPSW, &f.fsw);
  uint16_t tag = 0;
  for (int i = 0; i < 8; ++i)
    if (!(f.ftw >> i & 1)) tag |= uint16_t(3u << (2 * i));  // empty; Unicorn keeps only valid/empty
  uc_reg_write(uc_, UC_X86_REG_FPTAG, &tag);
  for (int i = 0; i < 8; ++i) uc_reg_write(uc_, UC_X86_REG_ST0 + i, f.st[i].data());
  for (int i = 0; i < 8; ++i) uc_reg_write(uc_, UC_X86_REG_XMM0 + i, f.xmm[i].data());
  uc_reg_write(uc_, UC_X86_REG_MXCSR, &f.mxcsr);
}

CpuSnapshot EmuVcpu::save_cpu() {
  if (!at_instruction_boundary()) throw VcpuError("emu: save_cpu() while an instruction is half done");
  CpuSnapshot c;
  c.backend = "emu";
  c.regs = get_registers();
  read_fpu(&c.fpu);
  c.interrupt_shadow = shadow_;
  c.icount = position();
  if (!snapshot_context_ && uc_context_alloc(uc_, &snapshot_context_) != UC_ERR_OK)
    throw VcpuError("emu: cannot allocate a Unicorn context");
  if (uc_context_save(uc_, snapshot_context_) != UC_ERR_OK) throw VcpuError("emu: uc_context_save failed");
  const size_t size = uc_context_size(uc_);
  const EmuExact mine{this, position(), shadow_, pushf_fixup_, mode_dirty_, code32_, cs_base_};
  c.exact.resize(sizeof mine + size);
  std::memcpy(c.exact.data(), &mine, sizeof mine);
  std::memcpy(c.exact.data() + sizeof mine, snapshot_context_, size);
  return c;
}

void EmuVcpu::restore_cpu(const CpuSnapshot& c) {
  if (mid_instruction_) throw VcpuError("emu: restore_cpu() while an instruction is half done");
  pending_registers_.reset();
  pending_injection_.reset();
  pending_guest_exit_.reset();
  skip_breakpoint_ = false;
  skip_code_breakpoint_ = false;
  watch_hit_.reset();
  kicked_.store(false, std::memory_order_relaxed);
  EmuExact mine{};
  const size_t size = uc_context_size(uc_);
  if (c.backend == "emu" && c.exact.size() == sizeof mine + size &&
      (std::memcpy(&mine, c.exact.data(), sizeof mine), mine.engine == this)) {
    if (!snapshot_context_ && uc_context_alloc(uc_, &snapshot_context_) != UC_ERR_OK)
      throw VcpuError("emu: cannot allocate a Unicorn context");
    std::memcpy(static_cast<void*>(snapshot_context_), c.exact.data() + sizeof mine, size);
    if (uc_context_restore(uc_, snapshot_context_) != UC_ERR_OK) throw VcpuError("emu: uc_context_restore failed");
    icount_ = mine.icount;
    shadow_ = mine.shadow;
    pushf_fixup_ = mine.pushf_fixup;
    // The CS base cached when it was saved: the GDT may differ now.
    mode_dirty_ = mine.mode_dirty;
    code32_ = mine.code32;
    cs_base_ = mine.cs_base;
  } else {
    set_registers(c.regs);  // marks the code segment for a fresh lookup
    write_fpu(c.fpu);
    shadow_ = c.interrupt_shadow;
    if (c.icount) icount_ = *c.icount;
  }
  // At a boundary, between blocks: the next block hook starts counting anew.
  // Never inside a rep ins batch (Machine::can_snapshot).
  rep_iterated_at_.reset();
  string_batch_left_ = 0;
  cur_block_ = nullptr;
  cur_index_ = -1;
  stopped_in_block_ = true;
  drop_temporary_precise();
  update_attention();
}

}  // namespace

std::unique_ptr<Vcpu> create_emu_vcpu(GuestMemory& memory, std::vector<CpuidEntry> cpuid) {
  return std::make_unique<EmuVcpu>(memory, std::move(cpuid));
}

}  // namespace rrvm
