// The emu backend. Unicorn runs on a fiber: its synchronous callbacks (port
// I/O, MMIO) switch back to run() with an Exit and resume with the answer.
// Every other stop (count reached, kick, breakpoint, interrupt window, CPU
// exception, RDTSC) is decided in the per-instruction code hook, before the
// instruction runs, by stopping the engine; the fiber's loop then handles it
// outside uc_emu_start, where registers can be rewritten safely.
#include "vmm/emu/emu_vcpu.h"

#include <fmt/format.h>
#include <unicorn/unicorn.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "vmm/emu/exception_state.h"
#include "vmm/emu/fiber.h"
#include "vmm/emu/interrupt_delivery.h"
#include "vmm/emu/segments.h"
#include "vmm/image_loader.h"
#include "vmm/page_walk.h"

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
constexpr uint32_t kFlagIF = 1u << 9;
constexpr uint8_t kVectorUD = 6, kVectorDF = 8;

uint64_t size_mask(unsigned size) { return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1; }

class EmuVcpu;

struct MmioHole {
  EmuVcpu* vcpu;
  uint64_t base;
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
  bool can_inject_interrupt() override;
  void inject_interrupt(uint8_t vector) override;
  void request_interrupt_window(bool enable) override {
    window_requested_ = enable;
    update_attention();
  }
  std::optional<uint64_t> instruction_count() const override { return icount_; }
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
  bool set_single_step(bool enable) override {
    single_step_ = enable;
    update_attention();
    return true;
  }
  void kick() override { kicked_.store(true, std::memory_order_relaxed); }
  bool at_instruction_boundary() const override {
    return !mid_instruction_ && !pending_registers_ && !pending_injection_ && !pending_guest_exit_;
  }
  CpuSnapshot save_cpu() override;
  void restore_cpu(const CpuSnapshot& snapshot) override;

  // Unicorn callbacks (forwarded from static trampolines).
  void on_code(uint64_t address, uint32_t size);
  uint32_t on_in(uint32_t port, int size);
  void on_out(uint32_t port, int size, uint32_t value);
  uint64_t on_mmio_read(uint64_t gpa, unsigned size);
  void on_mmio_write(uint64_t gpa, unsigned size, uint64_t value);
  void on_cpuid();
  void on_intr(uint32_t vector);
  void on_dirty_write(const DirtyRange& range, uint64_t address, int size);
  void on_unmapped(uc_mem_type type, uint64_t address, int size);
  void on_write_protected(uint64_t address, int size, uint64_t value);

 private:
  // Why the code hook stopped the engine.
  enum class Stop { None, Report, Exception, Rdtsc, Internal };

  void fiber_main();
  void capture_mode_templates();
  void post(Exit exit) {
    pending_exit_ = std::move(exit);
    fiber_->yield();
  }
  // An exit in the middle of an instruction (I/O callbacks).
  void post_mid_instruction(Exit exit);
  bool boundary_stop(uint64_t address);
  void report(Exit exit) {
    report_exit_ = std::move(exit);
    stop_ = Stop::Report;
  }
  void update_attention() {
    attention_ = stop_at_.has_value() || single_step_ || breakpoint_.has_value() || window_requested_ ||
                 internal_pending();
  }
  bool internal_pending() const {
    return pending_injection_.has_value() || pending_registers_.has_value() ||
           memory_.generation() != mapped_generation_;
  }
  bool interrupts_enabled();
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
  void emulate_rdtsc();
  // "emu: <what> at CS:EIP ..." (one line for VcpuError).
  std::string failure_text(const std::string& what);
  // Inside the fiber: the backend cannot go on; run() throws it.
  void post_failure(std::string text) {
    fiber_failure_ = std::move(text);
    fiber_->yield();
  }
  std::optional<std::string> check_unsupported_mode();
  // Applies `regs` to Unicorn; the failure text, if the engine rejects them.
  std::string apply_registers(const Registers& regs);
  const uint8_t* code_bytes(uint64_t address, uint32_t size);
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
    bool same_mapping(const Region& o) const {
      return base == o.base && size == o.size && host == o.host && read_only == o.read_only &&
             log_dirty == o.log_dirty && (host == nullptr || slot_id == o.slot_id);
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
  const MemorySlot* code_slot_ = nullptr;  // last slot code was fetched from

  // Counting and stop conditions.
  uint64_t icount_ = 0;
  uint64_t executed_since_run_ = 0;
  std::optional<uint64_t> stop_at_;
  std::optional<uint64_t> breakpoint_;
  std::optional<Registers> breakpoint_regs_;
  bool breakpoint_registers_match();
  bool skip_breakpoint_ = false;
  // The linear address of the instruction a code hook stopped before: after
  // such a stop in real mode Unicorn leaves EIP holding the linear address
  // (CS base added), which fix_eip_after_hook_stop() undoes.
  std::optional<uint64_t> hook_stop_linear_;
  void fix_eip_after_hook_stop();
  bool single_step_ = false;
  bool window_requested_ = false;
  bool attention_ = true;
  std::atomic<bool> kicked_{false};

  // Interrupt shadow: the last executed instruction was sti (IF 0->1),
  // mov ss or pop ss.
  bool shadow_ = false;
  // The last executed instruction, to tell `int n` from a CPU exception.
  uint64_t last_address_ = 0;
  uint32_t last_size_ = 0;
  uint8_t last_op0_ = 0, last_op1_ = 0;

  // Fiber hand-over.
  Stop stop_ = Stop::None;
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

void cb_code(uc_engine*, uint64_t address, uint32_t size, void* self) {
  static_cast<EmuVcpu*>(self)->on_code(address, size);
}
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
  return h->vcpu->on_mmio_read(h->base + offset, size);
}
void cb_mmio_write(uc_engine*, uint64_t offset, unsigned size, uint64_t value, void* hole) {
  auto* h = static_cast<MmioHole*>(hole);
  h->vcpu->on_mmio_write(h->base + offset, size, value);
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
  bool ok = uc_hook_add(uc_, &h, UC_HOOK_CODE, reinterpret_cast<void*>(&cb_code), this, 1, 0) == UC_ERR_OK &&
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
  // Reset state (real mode at 0000:0000): 32-bit engine, CR0=0, IDT limit 0xFFFF.
  set_registers(real_mode_state(0, 0));
  fiber_ = std::make_unique<Fiber>([this] { fiber_main(); }, kFiberStackSize);
}

EmuVcpu::~EmuVcpu() {
  memory_.set_dirty_source(nullptr);
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
  auto hole = [&](uint64_t base, uint64_t end) {
    if (end > base) out.push_back(Region{base, end - base});
  };
  for (const MemorySlot* s : ram) {
    if (s->guest_base < k4GiB) hole(cursor, std::min(s->guest_base, k4GiB));
    out.push_back(Region{s->guest_base, s->size, s->host, s->read_only, s->log_dirty, s->id});
    cursor = std::max(cursor, s->guest_base + s->size);
  }
  if (cursor < k4GiB) hole(cursor, k4GiB);
  return out;
}

void EmuVcpu::map_region(const Region& r) {
  MappedRegion m;
  m.region = r;
  if (!r.host) {
    m.hole = std::make_unique<MmioHole>(MmioHole{this, r.base});
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
  code_slot_ = nullptr;
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

void EmuVcpu::invalidate_code(uint64_t gpa, uint64_t size) {
  if (size == 0) return;
  uc_ctl_remove_cache(uc_, gpa, gpa + size);
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

const uint8_t* EmuVcpu::code_bytes(uint64_t address, uint32_t size) {
  if (code_slot_ && code_slot_->contains(address, size)) return code_slot_->host + (address - code_slot_->guest_base);
  const MemorySlot* s = memory_.find_slot(address);
  if (!s || !s->mapped || !s->contains(address, size)) return nullptr;
  code_slot_ = s;
  return s->host + (address - s->guest_base);
}

// ---- the per-instruction hook ------------------------------------------------

bool EmuVcpu::interrupts_enabled() { return (read32(UC_X86_REG_EFLAGS) & kFlagIF) != 0; }

bool EmuVcpu::boundary_stop(uint64_t address) {
  if (closing_ || internal_pending()) {
    stop_ = Stop::Internal;
    return true;
  }
  if (stop_at_ && icount_ >= *stop_at_) {
    report(Exit{.kind = ExitKind::StopAtPosition});
    return true;
  }
  if (kicked_.exchange(false, std::memory_order_relaxed)) {
    report(Exit{.kind = ExitKind::Kicked});
    return true;
  }
  if (single_step_ && executed_since_run_ > 0) {
    report(Exit{.kind = ExitKind::Debug, .address = address});
    return true;
  }
  if (breakpoint_ && *breakpoint_ == address && !skip_breakpoint_ && breakpoint_registers_match()) {
    skip_breakpoint_ = true;  // the next run() executes this instruction
    report(Exit{.kind = ExitKind::Debug, .address = address});
    return true;
  }
  if (window_requested_ && !shadow_ && interrupts_enabled()) {
    report(Exit{.kind = ExitKind::IrqWindowOpen});
    return true;
  }
  return false;
}

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

void EmuVcpu::on_code(uint64_t address, uint32_t size) {
  if (attention_ || kicked_.load(std::memory_order_relaxed) || closing_) {
    if (boundary_stop(address)) {
      // Stopping in a code hook keeps this instruction from running.
      hook_stop_linear_ = address;
      uc_emu_stop(uc_);
      return;
    }
  }
  ++icount_;
  ++executed_since_run_;
  skip_breakpoint_ = false;
  const uint8_t* code = code_bytes(address, std::min<uint32_t>(size, 2));
  const uint8_t op0 = code ? code[0] : 0, op1 = code && size > 1 ? code[1] : 0;
  bool shadow = false;
  if (op0 == 0xFB) shadow = !interrupts_enabled();  // sti opens the shadow only when IF was 0
  else if (op0 == 0x17) shadow = true;                  // pop ss
  else if (op0 == 0x8E && ((op1 >> 3) & 7) == 2) shadow = true;  // mov ss, r/m16
  shadow_ = shadow;
  last_address_ = address;
  last_size_ = size;
  last_op0_ = op0;
  last_op1_ = op1;
  if (op0 == 0x0F && op1 == 0x31) {
    // RDTSC would read the host TSC: stop before it and emulate it.
    stop_ = Stop::Rdtsc;
    hook_stop_linear_ = address;
    uc_emu_stop(uc_);
  }
}

// ---- I/O callbacks -----------------------------------------------------------

void EmuVcpu::post_mid_instruction(Exit exit) {
  mid_instruction_ = true;
  post(std::move(exit));
  mid_instruction_ = false;
}

uint32_t EmuVcpu::on_in(uint32_t port, int size) {
  if (closing_) return 0;
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

uint64_t EmuVcpu::on_mmio_read(uint64_t gpa, unsigned size) {
  if (closing_) return 0;
  awaiting_read_ = true;
  post_mid_instruction(Exit{.kind = ExitKind::Mmio, .size = static_cast<uint8_t>(size), .address = gpa});
  if (closing_) return 0;
  return read_value_ & size_mask(size);
}

void EmuVcpu::on_mmio_write(uint64_t gpa, unsigned size, uint64_t value) {
  if (closing_) return;
  post_mid_instruction(Exit{.kind = ExitKind::Mmio, .is_write = true, .size = static_cast<uint8_t>(size),
                            .address = gpa, .data = value & size_mask(size)});
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

std::optional<std::string> EmuVcpu::check_unsupported_mode() {
  uint64_t cr0 = 0;
  uc_reg_read(uc_, UC_X86_REG_CR0, &cr0);
  if (cr0 & (1ull << 31))
    return failure_text("guest enabled paging, which Unicorn 2.0.1 translates wrongly; use the kvm backend");
  return std::nullopt;
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
  // error code; CPU exceptions leave EIP on the faulting instruction.
  const uint64_t next = last_address_ + last_size_;
  const uint32_t cs_base = (read32(UC_X86_REG_CR0) & 1) ? 0 : (read32(UC_X86_REG_CS) & 0xFFFF) << 4;
  const uint64_t pc = cs_base + uint64_t{read32(UC_X86_REG_EIP)};
  const bool software = pc == next && (last_op0_ == 0xCD || last_op0_ == 0xCC || last_op0_ == 0xCE ||
                                       last_op0_ == 0xF1);
  post_delivery(deliver(vector, !software && exception_has_error_code(vector), !software && exception_is_fault(vector)));
}

void EmuVcpu::emulate_rdtsc() {
  // One tick per retired instruction: deterministic and monotonic.
  const uint64_t tsc = icount_;
  const uint32_t lo = static_cast<uint32_t>(tsc), hi = static_cast<uint32_t>(tsc >> 32);
  const uint32_t eip = read32(UC_X86_REG_EIP) + 2;
  uc_reg_write(uc_, UC_X86_REG_EAX, &lo);
  uc_reg_write(uc_, UC_X86_REG_EDX, &hi);
  uc_reg_write(uc_, UC_X86_REG_EIP, &eip);
}

// Real mode with a non-zero CS base (the VGA BIOS at C000:xxxx): resuming
// there from EIP = linear address ran the code at CS base + linear instead
// (seen as a kvm recording's kick point at C000:002F never reached on emu).
void EmuVcpu::fix_eip_after_hook_stop() {
  if (!hook_stop_linear_) return;
  const uint64_t linear = *std::exchange(hook_stop_linear_, std::nullopt);
  if (read32(UC_X86_REG_CR0) & 1) return;  // protected mode: rrvm's flat segments have base 0
  const uint32_t cs_base = (read32(UC_X86_REG_CS) & 0xFFFF) << 4;
  if (cs_base == 0 || read32(UC_X86_REG_EIP) != linear) return;
  const uint32_t eip = static_cast<uint32_t>(linear - cs_base);
  uc_reg_write(uc_, UC_X86_REG_EIP, &eip);
}

void EmuVcpu::fiber_main() {
  while (!closing_) {
    apply_boundary_work();
    if (closing_) break;
    if (auto failure = check_unsupported_mode()) {
      post_failure(std::move(*failure));
      continue;
    }
    stop_ = Stop::None;
    unmapped_detail_.clear();
    const uint32_t eip = read32(UC_X86_REG_EIP);
    const uc_err err = uc_emu_start(uc_, eip, UINT64_MAX, 0, 0);
    fix_eip_after_hook_stop();
    if (closing_) break;
    switch (stop_) {
      case Stop::Report:
        post(std::move(report_exit_));
        continue;
      case Stop::Exception:
        handle_exception();
        continue;
      case Stop::Rdtsc:
        emulate_rdtsc();
        continue;
      case Stop::Internal:
        continue;
      case Stop::None:
        break;
    }
    if (err == UC_ERR_OK) {
      post(Exit{.kind = ExitKind::Halt});  // hlt: EIP is already past it
    } else if (err == UC_ERR_INSN_INVALID) {
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
  if (limits.stop_at_boundary && mid_instruction_) stop_at_ = std::min(stop_at_.value_or(UINT64_MAX), icount_);
  // Resuming inside an I/O callback finishes that instruction: it counts as
  // the step single-stepping waits for.
  executed_since_run_ = mid_instruction_ ? 1 : 0;
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
  return !pending_injection_ && !shadow_ && interrupts_enabled();
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
  return r;
}

void EmuVcpu::set_registers(const Registers& regs) {
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
  // parts from the descriptors.
  const std::pair<int, const Segment*> segs[] = {{UC_X86_REG_CS, &r.cs}, {UC_X86_REG_SS, &r.ss}, {UC_X86_REG_DS, &r.ds},
                                                 {UC_X86_REG_ES, &r.es}, {UC_X86_REG_FS, &r.fs}, {UC_X86_REG_GS, &r.gs}};
  for (auto [id, seg] : segs) {
    const uint32_t sel = seg->selector;
    if (uc_reg_write(uc_, id, &sel) != UC_ERR_OK && problem.empty())
      problem = fmt::format("emu: Unicorn rejected segment selector {:#x} (check the GDT in guest memory)", sel);
  }
  const uint32_t eip = static_cast<uint32_t>(r.rip);
  w(UC_X86_REG_EIP, &eip, "EIP");
  shadow_ = false;
  return problem;
}

// ---- snapshots --------------------------------------------------------------

namespace {
// The exact part: Unicorn's whole CPU context (a flat buffer of
// uc_context_size bytes) and this backend's own counters, valid only for
// the engine that took it.
struct EmuExact {
  const void* engine;
  uint64_t icount;
  uint64_t last_address;
  uint32_t last_size;
  uint8_t last_op0, last_op1;
  bool shadow;
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
  c.icount = icount_;
  if (!snapshot_context_ && uc_context_alloc(uc_, &snapshot_context_) != UC_ERR_OK)
    throw VcpuError("emu: cannot allocate a Unicorn context");
  if (uc_context_save(uc_, snapshot_context_) != UC_ERR_OK) throw VcpuError("emu: uc_context_save failed");
  const size_t size = uc_context_size(uc_);
  const EmuExact mine{this, icount_, last_address_, last_size_, last_op0_, last_op1_, shadow_};
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
    last_address_ = mine.last_address;
    last_size_ = mine.last_size;
    last_op0_ = mine.last_op0;
    last_op1_ = mine.last_op1;
    shadow_ = mine.shadow;
  } else {
    set_registers(c.regs);
    write_fpu(c.fpu);
    shadow_ = c.interrupt_shadow;
    if (c.icount) icount_ = *c.icount;
    last_address_ = 0;
    last_size_ = 0;
    last_op0_ = last_op1_ = 0;
  }
  update_attention();
}

}  // namespace

std::unique_ptr<Vcpu> create_emu_vcpu(GuestMemory& memory, std::vector<CpuidEntry> cpuid) {
  return std::make_unique<EmuVcpu>(memory, std::move(cpuid));
}

}  // namespace rrvm
