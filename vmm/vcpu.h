// The vCPU boundary: one interface, two backends (kvm, emu), the same exits.
//
// The machine's run loop calls run(); the backend runs guest code until
// something needs the VMM and describes it in an Exit. Reads (port in, MMIO
// read) are answered with complete_read() before the next run(). Backends
// know nothing about devices, recording or replay.
//
// Errors: one channel. Whatever the guest does is an Exit (a triple fault is
// Shutdown); when the backend itself cannot go on (an ioctl fails, the
// engine rejects a state, a mode it cannot run), the failing call throws
// VcpuError with one line. Work a backend must defer to the next
// instruction boundary (emu: a register write or injection that arrives
// mid-instruction) fails from the next run().
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "vmm/cpu_snapshot.h"
#include "vmm/registers.h"

namespace rrvm {

class GuestMemory;

enum class ExitKind : uint8_t {
  PortIo,          // in/out; one exit per element of rep ins/outs
  Mmio,            // access to guest-physical memory no RAM slot backs
  Halt,            // hlt executed; rip points past it
  IrqWindowOpen,   // the guest can take an interrupt now (requested)
  Shutdown,        // triple fault or equivalent; the machine is dead
  Debug,           // breakpoint or single-step trap requested by the VMM
  StopAtPosition,  // RunLimits::stop_at_icount reached exactly
  Kicked,          // run() interrupted by kick() / a deadline (kvm)
};

// A backend failure (not a guest action): one line, naming the backend.
class VcpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const char* exit_kind_name(ExitKind kind);

struct Exit {
  ExitKind kind = ExitKind::Kicked;
  bool is_write = false;  // PortIo: out; Mmio: write
  uint8_t size = 0;       // access size in bytes: 1, 2, 4 (8 for MMIO)
  uint64_t address = 0;   // port number or guest-physical address
  uint64_t data = 0;      // value written (writes only)
  std::string message;    // Shutdown detail, one line
};

struct RunLimits {
  // Stop with StopAtPosition once exactly this many instructions have retired
  // in total (backends that count instructions only).
  std::optional<uint64_t> stop_at_icount;
  // Return Kicked no later than this host-monotonic time (backends that do not
  // count instructions use this to deliver timer interrupts to a guest that
  // computes without exiting).
  std::optional<uint64_t> deadline_host_ns;
  // Stop as soon as the instruction under way (a port or MMIO access) is
  // complete: StopAtPosition on emu, Debug (one single step) on kvm.
  bool stop_at_boundary = false;
};

class Vcpu {
 public:
  virtual ~Vcpu() = default;

  virtual const char* backend_name() const = 0;

  // Runs guest code until the next exit.
  virtual Exit run(const RunLimits& limits) = 0;

  // Supplies the value of the pending read exit (port in / MMIO read).
  virtual void complete_read(uint64_t value) = 0;

  virtual Registers get_registers() = 0;
  virtual void set_registers(const Registers& regs) = 0;
  // The pending port-out exit's instruction completes with these results
  // in rAX, rDX (and rCX when given), zero-extended as rdtsc writes them:
  // an instruction rrvm emulates behind an out (a patched rdtsc/rdtscp,
  // vmm/tsc_sites.h). Nothing else changes; RIP moves past the out as for
  // any out. The default sets the registers with RIP still on the out (kvm
  // does so with KVM_GET_REGS/KVM_SET_REGS alone), which kvm's completion of
  // the exit then skips (QEMU's VMware backdoor port changes registers
  // during an I/O exit the same way); emu writes them inside the out's
  // callback.
  virtual void set_out_results(uint32_t eax, uint32_t edx, std::optional<uint32_t> ecx);

  // True when an external interrupt can be injected right now: IF=1, no
  // interrupt shadow (sti / mov ss), no injection already pending.
  virtual bool can_inject_interrupt() = 0;
  // Injects external interrupt `vector`; only valid when can_inject_interrupt().
  // A delivery the guest cannot survive (emu: no valid gate, escalating to a
  // triple fault) is the next run()'s Shutdown exit.
  virtual void inject_interrupt(uint8_t vector) = 0;
  // Ask for an IrqWindowOpen exit as soon as the guest can take an interrupt.
  virtual void request_interrupt_window(bool enable) = 0;

  // Instructions retired so far, when the backend knows (emu); nullopt on kvm.
  virtual std::optional<uint64_t> instruction_count() const = 0;
  // Instructions retired as this vCPU counts them for a debugger's timeline:
  // instruction_count() where the backend counts; a stepping vCPU counts its
  // single steps (vmm/stepping_vcpu.h), comparable only with itself. A run
  // stops at RunLimits::stop_at_icount in these terms.
  virtual std::optional<uint64_t> retired_count() const { return instruction_count(); }

  // The guest-physical address of linear address `linear` under the current
  // CPU state (segments already applied: linear = base + offset), through the
  // page tables when paging is on; nullopt when it is not mapped.
  virtual std::optional<uint64_t> translate(uint64_t linear) = 0;

  // The guest wrote to guest memory behind the backend's back (image load,
  // device DMA): drop any cached translation of that range.
  virtual void invalidate_code(uint64_t gpa, uint64_t size) = 0;

  // GuestMemory's slots were added, moved or (un)mapped (see
  // GuestMemory::generation()): bring the backend's view up to date.
  virtual void sync_memory_map() = 0;

  // Execution breakpoint at linear address `rip` (nullopt clears it): run()
  // returns ExitKind::Debug before executing that instruction. Single-step
  // makes run() return Debug after each instruction. Used by replay to reach
  // an asynchronous point; backends that cannot return false.
  virtual bool set_breakpoint(std::optional<uint64_t> /*rip*/) { return false; }
  virtual bool set_single_step(bool /*enable*/) { return false; }
  // A hint for the breakpoint: only a hit where the general registers equal
  // these can be the point looked for. A backend that reads registers cheaply
  // at a hit (emu) skips the others instead of returning Debug for each loop
  // iteration; others ignore it. nullopt clears it.
  virtual void set_breakpoint_registers(const std::optional<Registers>& /*regs*/) {}
  // A debugger's breakpoints (linear addresses, any number; empty clears):
  // run() returns Debug before executing an instruction at one of them (once:
  // the next run() executes it). Independent of set_breakpoint. Returns
  // false where the backend has none.
  virtual bool set_code_breakpoints(std::vector<uint64_t> /*linear*/) { return false; }
  // A debugger's watchpoints: run() returns Debug right after an instruction
  // that read (`reads`) or wrote (`writes`) a byte of [address, address+size)
  // (guest-physical), before any other stop, with Exit::address the first
  // watched byte accessed, size 1 and is_write (a breakpoint's Debug has size
  // 0). Empty clears.
  struct Watchpoint {
    uint64_t address = 0;
    uint64_t size = 1;
    bool reads = false;
    bool writes = true;
  };
  virtual bool set_watchpoints(std::vector<Watchpoint> /*watch*/) { return false; }
  // While hidden, guest memory holds its own bytes where a backend patches
  // breakpoints into it (kvm's hlt): for the VMM to read or write memory as
  // the guest has it (snapshots, reports). Backends that patch nothing
  // ignore it.
  virtual void hide_breakpoints(bool /*hidden*/) {}

  // Makes a run() in progress (or the next one) return Kicked promptly.
  // Safe to call from a signal handler or another thread.
  virtual void kick() = 0;

  // Snapshots. The vCPU is at an instruction boundary when no instruction is
  // half done (after a port or MMIO exit it is not: the instruction finishes
  // on the next run()). save_cpu() is only valid there; restore_cpu() leaves
  // the vCPU there, using the exact state when the snapshot came from this
  // backend in this process, the portable part otherwise. Throws VcpuError.
  virtual bool at_instruction_boundary() const = 0;
  // Completes the instruction the last exit left half done, running nothing
  // after it and making no exit, where the backend can be sure of that: kvm
  // re-enters with immediate_exit after a plain in/out (no string
  // instruction, no MMIO access: their completion re-runs KVM's emulator,
  // which may exit again), when no injection is queued and the CPU could
  // take an interrupt exactly when it could before (no sti shadow over the
  // access). Returns whether the vCPU is now at an instruction boundary.
  virtual bool finish_instruction() { return at_instruction_boundary(); }
  // Inside a batch of rep ins elements that KVM emulates without entering
  // the guest (vmm/rep_string.h): no interrupt can enter, and a snapshot
  // taken here would lose where the batch ends (Machine::can_snapshot).
  virtual bool inside_string_batch() const { return false; }
  virtual CpuSnapshot save_cpu() = 0;
  virtual void restore_cpu(const CpuSnapshot& snapshot) = 0;
};

enum class BackendKind { Auto, Kvm, Emu };

// Guest memory at linear addresses, through `vcpu`'s translation (segments
// already applied; the page tables when paging is on), page by page: how many
// bytes from the start could be read into `out` (the rest is left as it was).
size_t read_linear(Vcpu& vcpu, const GuestMemory& memory, uint64_t linear, std::span<uint8_t> out);

}  // namespace rrvm
