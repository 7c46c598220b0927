// Exit handling notes:
//  - KVM finishes an I/O or MMIO instruction only on the next KVM_RUN, so at a
//    PortIo/Mmio exit the registers still show the instruction (RIP at it).
//  - A string I/O exit carries up to a page of elements; they are handed out
//    one per run() without re-entering KVM, and `in` values are written back
//    into kvm_run's data area, which KVM copies to guest memory on re-entry.
//    No interrupt can be injected before the last of them (rep ins: KVM
//    enters the guest only after the batch; rep outs exits once per element).
//  - A kick that lands while an instruction awaits completion re-enters KVM
//    with immediate_exit set: KVM completes the instruction and returns EINTR
//    without running guest code, so the state at Kicked is exact.
#include "vmm/kvm/kvm_vcpu.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <utility>

#include "vmm/clock.h"
#include "vmm/kvm/kvm_exit.h"
#include "vmm/kvm/kvm_fd.h"
#include "vmm/kvm/kvm_kick.h"
#include "vmm/kvm/kvm_state.h"
#include "vmm/kvm/kvm_vm.h"

namespace rrvm {

namespace {

using kvm::fail;
using kvm::ioctl_retry;

// struct kvm_cpuid2 as the kernel sees it. The uapi header declares its
// flexible array with __DECLARE_FLEX_ARRAY, which in C++ adds an empty
// struct of size 1 and moves the array to offset 12 (and changes the ioctl
// number), so the layout is spelled out here.
struct CpuidHeader {
  uint32_t nent;
  uint32_t padding;
};
static_assert(sizeof(kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2 layout");
constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
static_assert(kSetCpuid2 == 0x4008AE90, "KVM_SET_CPUID2 as the kernel defines it");

// How long a guest with a freshly injected interrupt runs before a pending
// stop may take it out again (it needs one VM entry; nested entries are slow).
constexpr uint64_t kDeliverySliceNs = 50'000;

[[noreturn]] void backend_failure(const std::string& message) { throw VcpuError("kvm: " + message); }

class KvmVcpu final : public Vcpu {
 public:
  KvmVcpu(GuestMemory& memory, const std::vector<CpuidEntry>& cpuid);
  ~KvmVcpu() override;

  const char* backend_name() const override { return "kvm"; }
  Exit run(const RunLimits& limits) override;
  void complete_read(uint64_t value) override;
  Registers get_registers() override;
  void set_registers(const Registers& regs) override;
  void set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) override;
  bool can_inject_interrupt() override;
  void inject_interrupt(uint8_t vector) override;
  void request_interrupt_window(bool enable) override;
  std::optional<uint64_t> instruction_count() const override { return std::nullopt; }
  std::optional<uint64_t> translate(uint64_t linear) override;
  void invalidate_code(uint64_t, uint64_t) override {}  // KVM executes guest memory directly
  void sync_memory_map() override { vm_.sync_memory_map(); }
  void kick() override;
  bool set_breakpoint(std::optional<uint64_t> rip) override;
  bool set_single_step(bool enable) override;
  void hide_breakpoints(bool hidden) override;
  bool at_instruction_boundary() const override;
  bool inside_string_batch() const override { return io_.active && io_.is_in && io_.next < io_.count; }
  bool finish_instruction() override;
  CpuSnapshot save_cpu() override;
  void restore_cpu(const CpuSnapshot& snapshot) override;

 private:
  // The I/O exit being handed out element by element.
  struct PendingIo {
    bool active = false;
    bool is_in = false;
    uint16_t port = 0;
    uint8_t size = 0;
    uint32_t count = 0;
    uint32_t next = 0;  // index of the next element to hand out
    uint64_t data_offset = 0;
  };
  enum class AwaitingRead { None, Port, Mmio };

  void set_cpuid(const std::vector<CpuidEntry>& cpuid);
  void apply_guest_debug();
  bool interrupt_still_queued();
  void match_apic_to_cpuid(const std::vector<CpuidEntry>& cpuid);
  Exit next_io_element();
  Exit act_on_exit();
  std::string where();

  kvm::KvmVm vm_;
  kvm::Fd vcpu_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  kvm::DeadlineTimer deadline_timer_;

  PendingIo io_;
  AwaitingRead awaiting_ = AwaitingRead::None;
  uint8_t* awaiting_port_slot_ = nullptr;
  bool completion_pending_ = false;  // KVM must re-enter to finish an instruction
  bool exit_state_fresh_ = false;    // kvm_run's if_flag / ready flags describe the vCPU
  bool injected_since_exit_ = false;
  bool stopped_at_breakpoint_ = false;  // the last exit was the replay breakpoint's hlt

  // Replay breakpoint: a hlt written over the instruction's first byte; the
  // HLT exit at the byte after it is the hit. Hardware breakpoints and int3
  // are the usual tools, but nested SVM under QEMU's TCG fires neither (DR7
  // is ignored; int3 is checked against the software-interrupt intercept, not
  // the #BP one), while hlt exits everywhere. Single step works there.
  struct SoftBreakpoint {
    uint64_t linear = 0;
    uint8_t* host = nullptr;
    uint8_t original = 0;
  };
  std::optional<SoftBreakpoint> breakpoint_;
  bool breakpoints_hidden_ = false;  // original bytes back in memory for a while
  bool single_step_ = false;
  GuestMemory& memory_;
  void remove_breakpoint();

  std::atomic<bool> kick_pending_{false};
  std::atomic<pid_t> running_tid_{0};
};

KvmVcpu::KvmVcpu(GuestMemory& memory, const std::vector<CpuidEntry>& cpuid) : vm_(memory), memory_(memory) {
  kvm::kick_signal();  // install the handler before any kick can be sent
  vcpu_ = kvm::Fd(ioctl_retry(vm_.vm_fd(), KVM_CREATE_VCPU, 0ul));
  if (!vcpu_) fail("KVM_CREATE_VCPU");
  int size = ioctl_retry(vm_.system_fd(), KVM_GET_VCPU_MMAP_SIZE, 0ul);
  if (size < int(sizeof(kvm_run))) fail("KVM_GET_VCPU_MMAP_SIZE");
  void* p = mmap(nullptr, size_t(size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_.get(), 0);
  if (p == MAP_FAILED) fail("mmap of the vCPU's kvm_run area");
  run_ = static_cast<kvm_run*>(p);
  run_size_ = size_t(size);
  set_cpuid(cpuid);
  match_apic_to_cpuid(cpuid);
}

void KvmVcpu::match_apic_to_cpuid(const std::vector<CpuidEntry>& cpuid) {
  // KVM derives CPUID.1:EDX.APIC from the APIC base MSR, which it resets to
  // "enabled" even without an in-kernel APIC. rrvm's APIC (if any) lives in
  // userspace, so the MSR follows the table: the guest sees exactly its bit.
  constexpr uint64_t kApicEnable = 1u << 11, kApicBsp = 1u << 8, kApicDefaultBase = 0xFEE00000;
  CpuidEntry leaf1 = cpuid_lookup(cpuid, 1, 0);
  bool want_apic = leaf1.edx & (1u << 9);
  kvm_sregs sregs{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
  sregs.apic_base = kApicDefaultBase | kApicBsp | (want_apic ? kApicEnable : 0);
  if (ioctl_retry(vcpu_.get(), KVM_SET_SREGS, &sregs) < 0) fail("KVM_SET_SREGS (APIC base)");
}

KvmVcpu::~KvmVcpu() {
  remove_breakpoint();
  if (run_) munmap(run_, run_size_);
}

void KvmVcpu::set_cpuid(const std::vector<CpuidEntry>& cpuid) {
  constexpr size_t kMaxEntries = 256;  // KVM_MAX_CPUID_ENTRIES in 6.x
  if (cpuid.size() > kMaxEntries)
    backend_failure("CPUID table has " + std::to_string(cpuid.size()) + " entries, KVM accepts at most " +
                    std::to_string(kMaxEntries));
  std::vector<uint8_t> buf(sizeof(CpuidHeader) + cpuid.size() * sizeof(kvm_cpuid_entry2), 0);
  auto* header = reinterpret_cast<CpuidHeader*>(buf.data());
  auto* entries = reinterpret_cast<kvm_cpuid_entry2*>(buf.data() + sizeof(CpuidHeader));
  header->nent = uint32_t(cpuid.size());
  for (size_t i = 0; i < cpuid.size(); ++i) {
    const CpuidEntry& c = cpuid[i];
    kvm_cpuid_entry2& k = entries[i];
    k.function = c.function;
    k.index = c.index;
    k.flags = cpuid_leaf_has_subleaves(c.function) ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    k.eax = c.eax;
    k.ebx = c.ebx;
    k.ecx = c.ecx;
    k.edx = c.edx;
  }
  if (ioctl_retry(vcpu_.get(), kSetCpuid2, buf.data()) < 0) fail("KVM_SET_CPUID2");
}

std::string KvmVcpu::where() {
  try {
    return "(" + format_registers(get_registers()) + ")";
  } catch (const std::exception&) {
    return "(registers unavailable)";
  }
}

Exit KvmVcpu::run(const RunLimits& limits) {
  // The rest of a string I/O instruction: its instruction is mid-flight, so
  // kicks wait until KVM has been re-entered.
  if (io_.active && io_.next < io_.count) return next_io_element();
  io_ = PendingIo{};
  awaiting_ = AwaitingRead::None;
  vm_.sync_memory_map();

  kvm::RunningOnThisThread running(run_);
  // An interrupt injected since the last exit is only queued; KVM delivers it
  // on the next VM entry. Nothing may stop the vCPU between, or the state
  // seen at that stop would be "interrupt pending", which no other backend has.
  const bool delivering = injected_since_exit_;
  run_->immediate_exit = 0;
  // Stopping at the boundary is a kick: KVM completes the instruction under
  // way and runs nothing more.
  bool kick_now = kick_pending_.load() || limits.stop_at_boundary;
  if (!kick_now && limits.deadline_host_ns)
    kick_now = HostClock::host_monotonic_ns() >= *limits.deadline_host_ns;
  if (delivering) {
    if (kick_now || limits.deadline_host_ns) {
      // Let the guest enter first; the stop comes a little later.
      uint64_t earliest = HostClock::host_monotonic_ns() + kDeliverySliceNs;
      deadline_timer_.arm(limits.deadline_host_ns ? std::max(*limits.deadline_host_ns, earliest) : earliest);
    }
  } else if (kick_now) {
    // A deadline already past needs no entry. A guest starved this way by
    // a timer faster than the exits is what the live authority's
    // ServiceSpacing prevents (vmm/service_spacing.h).
    if (!completion_pending_) {
      kick_pending_.store(false);
      Exit e;
      e.kind = ExitKind::Kicked;
      return e;
    }
    run_->immediate_exit = 1;  // finish the pending instruction, run nothing more
  } else if (limits.deadline_host_ns) {
    deadline_timer_.arm(*limits.deadline_host_ns);
  }

  running_tid_.store(gettid());
  stopped_at_breakpoint_ = false;
  int r = ioctl(vcpu_.get(), KVM_RUN, 0);
  int err = errno;
  // A kick that beat the VM entry leaves the interrupt queued: enter again,
  // giving the guest a longer slice each time.
  for (uint64_t slice = kDeliverySliceNs; delivering && r < 0 && (err == EINTR || err == EAGAIN) &&
                                          interrupt_still_queued();
       slice *= 2) {
    run_->immediate_exit = 0;
    deadline_timer_.arm(HostClock::host_monotonic_ns() + slice);
    r = ioctl(vcpu_.get(), KVM_RUN, 0);
    err = errno;
  }
  deadline_timer_.disarm();
  running_tid_.store(0);
  run_->immediate_exit = 0;
  completion_pending_ = false;
  exit_state_fresh_ = true;
  injected_since_exit_ = false;

  if (r < 0) {
    if (err == EINTR || err == EAGAIN) {
      kick_pending_.store(false);
      Exit e;
      e.kind = ExitKind::Kicked;
      return e;
    }
    backend_failure(std::string("KVM_RUN failed: ") + std::strerror(err) + " " + where());
  }
  return act_on_exit();
}

Exit KvmVcpu::act_on_exit() {
  using Kind = kvm::DecodedExit::Kind;
  const kvm::DecodedExit d = kvm::decode_kvm_exit(*run_, run_size_);
  Exit e;
  switch (d.kind) {
    case Kind::PortIo:
      io_ = PendingIo{true, !d.is_write, d.port, d.size, d.count, 0, d.data_offset};
      completion_pending_ = true;
      return next_io_element();
    case Kind::Mmio:
      e.kind = ExitKind::Mmio;
      e.is_write = d.is_write;
      e.size = d.size;
      e.address = d.address;
      e.data = d.data;
      if (!d.is_write) {
        std::memset(run_->mmio.data, 0, sizeof run_->mmio.data);
        awaiting_ = AwaitingRead::Mmio;
      }
      completion_pending_ = true;
      return e;
    case Kind::Halt:
      e.kind = ExitKind::Halt;
      if (breakpoint_) {
        // KVM has stepped past the hlt. Ours: put the guest back before it.
        Registers r = get_registers();
        if (r.pc_linear() == breakpoint_->linear + 1) {
          r.rip -= 1;
          set_registers(r);
          e.kind = ExitKind::Debug;
          e.address = breakpoint_->linear;
          stopped_at_breakpoint_ = true;
        }
      }
      return e;
    case Kind::IrqWindowOpen:
      e.kind = ExitKind::IrqWindowOpen;
      return e;
    case Kind::Interrupted:
      e.kind = ExitKind::Kicked;
      return e;
    case Kind::Debug:
      e.kind = ExitKind::Debug;
      return e;
    case Kind::Shutdown:
      e.kind = ExitKind::Shutdown;
      e.message = d.message + " " + where();
      return e;
    case Kind::Failure:
      break;
  }
  backend_failure(d.message + " " + where());
}

Exit KvmVcpu::next_io_element() {
  uint8_t* slot = reinterpret_cast<uint8_t*>(run_) + io_.data_offset + uint64_t(io_.next) * io_.size;
  ++io_.next;
  Exit e;
  e.kind = ExitKind::PortIo;
  e.is_write = !io_.is_in;
  e.size = io_.size;
  e.address = io_.port;
  if (io_.is_in) {
    std::memset(slot, 0, io_.size);  // a read nobody completes reads as 0
    awaiting_ = AwaitingRead::Port;
    awaiting_port_slot_ = slot;
  } else {
    std::memcpy(&e.data, slot, io_.size);
    awaiting_ = AwaitingRead::None;
  }
  return e;
}

void KvmVcpu::complete_read(uint64_t value) {
  switch (awaiting_) {
    case AwaitingRead::Port:
      std::memcpy(awaiting_port_slot_, &value, io_.size);
      break;
    case AwaitingRead::Mmio:
      std::memcpy(run_->mmio.data, &value, std::min<size_t>(run_->mmio.len, sizeof value));
      break;
    case AwaitingRead::None:
      break;
  }
  awaiting_ = AwaitingRead::None;
}

Registers KvmVcpu::get_registers() {
  kvm_regs regs{};
  kvm_sregs sregs{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_REGS, &regs) < 0) fail("KVM_GET_REGS");
  if (ioctl_retry(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
  return kvm::registers_from_kvm(regs, sregs);
}

void KvmVcpu::set_registers(const Registers& in) {
  kvm_regs regs{};
  kvm_sregs sregs{};
  // Start from KVM's sregs so the fields Registers does not cover (APIC base,
  // CR8, the queued-interrupt bitmap) keep their values.
  if (ioctl_retry(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
  kvm::registers_to_kvm(in, &regs, &sregs);
  if (ioctl_retry(vcpu_.get(), KVM_SET_SREGS, &sregs) < 0)
    backend_failure(std::string("KVM_SET_SREGS rejected the state: ") + std::strerror(errno) + " (" +
                    format_registers(in) + ")");
  if (ioctl_retry(vcpu_.get(), KVM_SET_REGS, &regs) < 0) fail("KVM_SET_REGS");
  exit_state_fresh_ = false;
}

// The general registers only (no KVM_SET_SREGS: nothing but rAX, rDX, rCX
// changes), RIP still on the out, which KVM's completion of the exit skips.
void KvmVcpu::set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx) {
  kvm_regs regs{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_REGS, &regs) < 0) fail("KVM_GET_REGS");
  regs.rax = eax;
  regs.rdx = edx;
  if (ecx) regs.rcx = *ecx;
  if (ioctl_retry(vcpu_.get(), KVM_SET_REGS, &regs) < 0) fail("KVM_SET_REGS");
  exit_state_fresh_ = false;  // as after set_registers: ask KVM before the next injection
}

bool KvmVcpu::can_inject_interrupt() {
  if (injected_since_exit_) return false;
  // Inside a rep ins batch (elements of this exit still to hand out) KVM
  // enters the guest only after the batch: an interrupt injected here would
  // enter there, elements later than recorded. The window a caller asks for
  // instead opens at the batch's end (vmm/rep_string.h).
  if (inside_string_batch()) return false;
  if (exit_state_fresh_) return run_->ready_for_interrupt_injection && run_->if_flag;
  // Registers were set since the last exit (or nothing ran yet): ask KVM.
  kvm_vcpu_events ev{};
  kvm_regs regs{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_VCPU_EVENTS, &ev) < 0) fail("KVM_GET_VCPU_EVENTS");
  if (ioctl_retry(vcpu_.get(), KVM_GET_REGS, &regs) < 0) fail("KVM_GET_REGS");
  return (regs.rflags & Registers::kFlagIF) && !ev.interrupt.injected && !ev.interrupt.shadow &&
         !ev.nmi.injected && !ev.exception.injected;
}

void KvmVcpu::inject_interrupt(uint8_t vector) {
  kvm_interrupt irq{};
  irq.irq = vector;
  if (ioctl_retry(vcpu_.get(), KVM_INTERRUPT, &irq) < 0)
    backend_failure("KVM_INTERRUPT of vector " + std::to_string(vector) + " failed: " + std::strerror(errno) +
                    " (inject only when can_inject_interrupt())");
  injected_since_exit_ = true;
}

void KvmVcpu::kick() {
  kick_pending_.store(true);
  __atomic_store_n(&run_->immediate_exit, 1, __ATOMIC_RELAXED);
  if (pid_t tid = running_tid_.load()) kvm::send_kick(tid);
}

bool KvmVcpu::interrupt_still_queued() {
  kvm_vcpu_events ev{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_VCPU_EVENTS, &ev) < 0) return false;
  return ev.interrupt.injected;
}

// KVM's single step (the trap flag, hidden from the guest).
void KvmVcpu::apply_guest_debug() {
  kvm_guest_debug dbg{};
  if (single_step_) dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
  if (ioctl_retry(vcpu_.get(), KVM_SET_GUEST_DEBUG, &dbg) < 0) fail("KVM_SET_GUEST_DEBUG");
}

std::optional<uint64_t> KvmVcpu::translate(uint64_t linear) {
  kvm_translation t{};
  t.linear_address = linear;
  if (ioctl_retry(vcpu_.get(), KVM_TRANSLATE, &t) < 0 || !t.valid) return std::nullopt;
  return t.physical_address;
}

void KvmVcpu::remove_breakpoint() {
  if (breakpoint_ && breakpoint_->host) *breakpoint_->host = breakpoint_->original;
  breakpoint_.reset();
}

bool KvmVcpu::set_breakpoint(std::optional<uint64_t> rip) {
  remove_breakpoint();
  if (!rip) return true;
  // Host writes do not reach KVM's dirty log, so the patch is invisible to
  // the memory digests; replay undoes it before it compares memory.
  auto gpa = translate(*rip);
  uint8_t* host = gpa ? memory_.host_ptr(*gpa, 1) : nullptr;
  if (!host) return false;  // not in RAM: nothing to patch
  breakpoint_ = SoftBreakpoint{*rip, host, *host};
  if (!breakpoints_hidden_) *host = 0xF4;
  return true;
}

bool KvmVcpu::set_single_step(bool enable) {
  single_step_ = enable;
  apply_guest_debug();
  return true;
}

void KvmVcpu::hide_breakpoints(bool hidden) {
  if (hidden == breakpoints_hidden_) return;
  breakpoints_hidden_ = hidden;
  if (breakpoint_ && breakpoint_->host) *breakpoint_->host = hidden ? breakpoint_->original : 0xF4;
}

// A window asked for where the CPU could take the interrupt at once: only a
// replay does that, at a point whose recording was in an interrupt shadow
// (sti, mov ss) with an interrupt waiting. Stopped there by the breakpoint,
// the shadow is gone: KVM ended it when it stepped over the hlt. Put it back,
// so the window opens after the next instruction, as it did recorded.
void KvmVcpu::request_interrupt_window(bool enable) {
  run_->request_interrupt_window = enable;
  if (!enable || !stopped_at_breakpoint_ || !can_inject_interrupt()) return;
  kvm_vcpu_events events{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_VCPU_EVENTS, &events) < 0) fail("KVM_GET_VCPU_EVENTS");
  events.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
  events.flags |= KVM_VCPUEVENT_VALID_SHADOW;
  if (ioctl_retry(vcpu_.get(), KVM_SET_VCPU_EVENTS, &events) < 0) fail("KVM_SET_VCPU_EVENTS (interrupt shadow)");
  exit_state_fresh_ = false;
}

bool KvmVcpu::at_instruction_boundary() const {
  return !completion_pending_ && !(io_.active && io_.next < io_.count) && !injected_since_exit_;
}

namespace {
// Whether `code` starts with a plain in or out (prefixes allowed), not a
// string instruction.
bool plain_port_io(std::span<const uint8_t> code) {
  for (uint8_t b : code) {
    switch (b) {
      case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
      case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
        continue;  // a prefix
      case 0xE4: case 0xE5: case 0xE6: case 0xE7: case 0xEC: case 0xED: case 0xEE: case 0xEF:
        return true;
      default:
        return false;
    }
  }
  return false;
}
}  // namespace

bool KvmVcpu::finish_instruction() {
  if (at_instruction_boundary()) return true;
  if (injected_since_exit_ || !completion_pending_ || !io_.active || io_.count != 1 || io_.next != io_.count ||
      awaiting_ != AwaitingRead::None || !exit_state_fresh_ || breakpoint_ || single_step_)
    return false;
  // IF=1 but no injection possible: a shadow (sti right before) or an event
  // under way, which completing the access would change.
  if (run_->if_flag && !run_->ready_for_interrupt_injection) return false;
  std::array<uint8_t, 15> code{};
  const size_t n = read_linear(*this, memory_, get_registers().pc_linear(), code);
  if (!plain_port_io(std::span<const uint8_t>(code.data(), n))) return false;
  vm_.sync_memory_map();
  run_->immediate_exit = 1;
  const int r = ioctl(vcpu_.get(), KVM_RUN, 0);
  const int err = errno;
  run_->immediate_exit = 0;
  if (r >= 0 || (err != EINTR && err != EAGAIN))
    backend_failure(std::string("finishing a port access: KVM_RUN ") +
                    (r < 0 ? std::strerror(err) : "exited (reason " + std::to_string(run_->exit_reason) + ")") +
                    " instead of returning after the completion " + where());
  io_ = PendingIo{};
  completion_pending_ = false;
  exit_state_fresh_ = false;  // ask KVM, as after a restore
  return true;
}

namespace {
// MSRs a snapshot keeps besides what KVM_GET_SREGS holds (EFER, APIC base):
// the ones a 32- or 64-bit kernel programs once and relies on later.
constexpr uint32_t kSnapshotMsrs[] = {0x174,      0x175,      0x176,      0x277,      0xC0000081, 0xC0000082,
                                      0xC0000083, 0xC0000084, 0xC0000102, 0xC0000103};
// struct kvm_msrs with room for the list, spelled out for the reason
// CpuidHeader is (its flexible array in C++).
struct MsrHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
struct MsrList {
  MsrHeader header;
  kvm_msr_entry entries[std::size(kSnapshotMsrs)];
};
constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrHeader);
constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrHeader);
static_assert(kGetMsrs == 0xC008AE88 && kSetMsrs == 0x4008AE89, "KVM_GET/SET_MSRS as the kernel defines them");

void fpu_from_kvm(const kvm_fpu& k, FpuState* f) {
  f->fcw = k.fcw;
  f->fsw = k.fsw;
  f->ftw = k.ftwx;
  f->fop = k.last_opcode;
  f->fip = k.last_ip;
  f->fdp = k.last_dp;
  for (int i = 0; i < 8; ++i) std::memcpy(f->st[i].data(), k.fpr[i], 16);
  for (int i = 0; i < 16; ++i) std::memcpy(f->xmm[i].data(), k.xmm[i], 16);
  f->mxcsr = k.mxcsr;
}

void fpu_to_kvm(const FpuState& f, kvm_fpu* k) {
  *k = kvm_fpu{};
  k->fcw = f.fcw;
  k->fsw = f.fsw;
  k->ftwx = f.ftw;
  k->last_opcode = f.fop;
  k->last_ip = f.fip;
  k->last_dp = f.fdp;
  for (int i = 0; i < 8; ++i) std::memcpy(k->fpr[i], f.st[i].data(), 16);
  for (int i = 0; i < 16; ++i) std::memcpy(k->xmm[i], f.xmm[i].data(), 16);
  k->mxcsr = f.mxcsr;
}

template <typename T>
void put_raw(std::vector<uint8_t>& out, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}
template <typename T>
void get_raw(const std::vector<uint8_t>& in, size_t* pos, T* v) {
  if (in.size() - *pos < sizeof *v) backend_failure("a kvm CPU snapshot is truncated");
  std::memcpy(v, in.data() + *pos, sizeof *v);
  *pos += sizeof *v;
}
}  // namespace

CpuSnapshot KvmVcpu::save_cpu() {
  if (!at_instruction_boundary()) backend_failure("save_cpu() while an instruction is half done");
  CpuSnapshot c;
  c.backend = "kvm";
  kvm_regs regs{};
  kvm_sregs sregs{};
  kvm_fpu fpu{};
  kvm_vcpu_events events{};
  kvm_debugregs debug{};
  MsrList msrs{};
  msrs.header.nmsrs = std::size(kSnapshotMsrs);
  for (size_t i = 0; i < std::size(kSnapshotMsrs); ++i) msrs.entries[i].index = kSnapshotMsrs[i];
  if (ioctl_retry(vcpu_.get(), KVM_GET_REGS, &regs) < 0) fail("KVM_GET_REGS");
  if (ioctl_retry(vcpu_.get(), KVM_GET_SREGS, &sregs) < 0) fail("KVM_GET_SREGS");
  if (ioctl_retry(vcpu_.get(), KVM_GET_FPU, &fpu) < 0) fail("KVM_GET_FPU");
  if (ioctl_retry(vcpu_.get(), KVM_GET_VCPU_EVENTS, &events) < 0) fail("KVM_GET_VCPU_EVENTS");
  if (ioctl_retry(vcpu_.get(), KVM_GET_DEBUGREGS, &debug) < 0) fail("KVM_GET_DEBUGREGS");
  int n = ioctl_retry(vcpu_.get(), kGetMsrs, &msrs);
  if (n < 0) fail("KVM_GET_MSRS");
  msrs.header.nmsrs = uint32_t(n);  // the ones this KVM knows, in list order
  c.regs = kvm::registers_from_kvm(regs, sregs);
  fpu_from_kvm(fpu, &c.fpu);
  c.interrupt_shadow = events.interrupt.shadow != 0;
  put_raw(c.exact, regs);
  put_raw(c.exact, sregs);
  put_raw(c.exact, fpu);
  put_raw(c.exact, events);
  put_raw(c.exact, debug);
  put_raw(c.exact, msrs);
  return c;
}

void KvmVcpu::restore_cpu(const CpuSnapshot& c) {
  remove_breakpoint();
  io_ = PendingIo{};
  awaiting_ = AwaitingRead::None;
  completion_pending_ = false;
  injected_since_exit_ = false;
  exit_state_fresh_ = false;
  if (c.backend == "kvm" && !c.exact.empty()) {
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_fpu fpu{};
    kvm_vcpu_events events{};
    kvm_debugregs debug{};
    MsrList msrs{};
    size_t pos = 0;
    get_raw(c.exact, &pos, &regs);
    get_raw(c.exact, &pos, &sregs);
    get_raw(c.exact, &pos, &fpu);
    get_raw(c.exact, &pos, &events);
    get_raw(c.exact, &pos, &debug);
    get_raw(c.exact, &pos, &msrs);
    if (ioctl_retry(vcpu_.get(), KVM_SET_SREGS, &sregs) < 0) fail("KVM_SET_SREGS");
    if (ioctl_retry(vcpu_.get(), KVM_SET_REGS, &regs) < 0) fail("KVM_SET_REGS");
    if (ioctl_retry(vcpu_.get(), KVM_SET_FPU, &fpu) < 0) fail("KVM_SET_FPU");
    if (ioctl_retry(vcpu_.get(), KVM_SET_DEBUGREGS, &debug) < 0) fail("KVM_SET_DEBUGREGS");
    if (msrs.header.nmsrs && ioctl_retry(vcpu_.get(), kSetMsrs, &msrs) < 0) fail("KVM_SET_MSRS");
    if (ioctl_retry(vcpu_.get(), KVM_SET_VCPU_EVENTS, &events) < 0) fail("KVM_SET_VCPU_EVENTS");
    return;
  }
  set_registers(c.regs);
  kvm_fpu fpu{};
  fpu_to_kvm(c.fpu, &fpu);
  if (ioctl_retry(vcpu_.get(), KVM_SET_FPU, &fpu) < 0) fail("KVM_SET_FPU");
  kvm_vcpu_events events{};
  if (ioctl_retry(vcpu_.get(), KVM_GET_VCPU_EVENTS, &events) < 0) fail("KVM_GET_VCPU_EVENTS");
  events.interrupt.shadow = c.interrupt_shadow ? KVM_X86_SHADOW_INT_STI : 0;
  events.flags |= KVM_VCPUEVENT_VALID_SHADOW;
  if (ioctl_retry(vcpu_.get(), KVM_SET_VCPU_EVENTS, &events) < 0) fail("KVM_SET_VCPU_EVENTS");
}

}  // namespace

KvmAvailability kvm_availability(bool allow_unsupported) {
  KvmAvailability a;
  KvmHostVerdict host = classify_kvm_host(probe_kvm_host());
  a.kind = host.kind;
  a.hardware = host.hardware;
  a.detail = host.description;
  std::string why;
  if (!kvm::open_kvm_system(host, allow_unsupported, &why)) {
    a.detail = why;
    return a;
  }
  a.usable = true;
  return a;
}

bool kvm_available(std::string* why_not) {
  KvmAvailability a = kvm_availability(unsupported_kvm_allowed());
  if (!a.usable && why_not) *why_not = a.detail;
  return a.usable;
}

std::unique_ptr<Vcpu> create_kvm_vcpu(GuestMemory& memory, const std::vector<CpuidEntry>& cpuid) {
  return std::make_unique<KvmVcpu>(memory, cpuid);
}

}  // namespace rrvm
