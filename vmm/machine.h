// A machine: guest memory, one vCPU, the port and MMIO buses, the interrupt
// controller, timed devices and the clock, and the run loop that ties them
// together (kvmtool's kvm-cpu.c exit loop is the model).
//
// One algorithm: everything that enters the guest is asked of one
// InputAuthority (vmm/input_authority.h): LiveInputs by default (devices,
// the time source, the user's serial input), the Replayer when replaying.
// Taps observe every answer (the recorder logs them). Devices read time
// through a MachineClock, which asks the same authority.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vmm/byte_source.h"
#include "vmm/clock.h"
#include "vmm/device_state.h"
#include "vmm/exit_status.h"
#include "vmm/guest_memory.h"
#include "vmm/input_authority.h"
#include "vmm/interrupts.h"
#include "vmm/io_bus.h"
#include "vmm/live_inputs.h"
#include "vmm/machine_snapshot.h"
#include "vmm/run_tap.h"
#include "vmm/vcpu.h"

namespace rrvm {


class Machine;

// The clock devices see (see the file comment).
class MachineClock final : public Clock {
 public:
  explicit MachineClock(Machine& m) : machine_(m) {}
  uint64_t now_ns() override;

 private:
  friend class Machine;
  Machine& machine_;
  std::optional<uint64_t> fixed_;  // set while servicing timed devices
  uint64_t last_ = 0;              // never go backwards
};

class Machine {
 public:
  Machine(std::unique_ptr<GuestMemory> memory, std::unique_ptr<Vcpu> vcpu);
  ~Machine();

  GuestMemory& memory() { return *memory_; }
  Vcpu& vcpu() { return *vcpu_; }
  IoBus& ports() { return ports_; }
  IoBus& mmio() { return mmio_; }
  Clock& clock() { return clock_; }
  // The raw time source: instruction clock (emu) or host clock (kvm).
  InstructionClock* instruction_clock() { return instruction_clock_; }

  void set_interrupt_controller(InterruptController* pic) { pic_ = pic; }
  void add_timed_device(TimedDevice* d) { timed_.push_back(d); }
  void add_tap(RunTap* tap) { taps_.push_back(tap); }
  void add_tap_front(RunTap* tap) { taps_.insert(taps_.begin(), tap); }
  // The authority of a live run; replaced by set_input_authority (replay).
  LiveInputs& live_inputs() { return live_; }
  void set_input_authority(InputAuthority& a) { authority_ = &a; }
  // The UART's input: bytes from the authority, each reported to the taps.
  ByteSource& serial_input() { return serial_input_; }
  void set_instruction_limit(std::optional<uint64_t> n) { instruction_limit_ = n; }
  // The guest's TSC reads were patched into exits (vmm/tsc_sites.h): a
  // one-byte write to kTscReadPort or kTscReadAuxPort is a TSC read, whose
  // value the input authority gives (EDX:EAX, and ECX = kTscAux for the
  // second port), whatever instruction wrote it. Off: those ports are as
  // unassigned as any other.
  void set_tsc_ports(bool on) { tsc_ports_ = on; }
  bool tsc_ports() const { return tsc_ports_; }
  uint64_t tsc_reads() const { return tsc_reads_; }

  // Called by the debug-exit device: ends the run with `status`.
  void request_exit(int status);
  // Called by a device that resets the machine (i8042 reset line, port 0x92,
  // the 0xCF9 reset control): rrvm models no warm reset, so the run ends as
  // a triple fault does (StopReason::Shutdown), after the current exit.
  // `source` names the device in the message.
  void request_reset(const std::string& source);

  // Runs until the guest stops. Never throws for guest behaviour; a backend
  // failure (VcpuError) ends the run as BackendError. Taps' pauses are not
  // honoured (a plain run has no one to hand control to).
  RunResult run();
  // The same, but a tap's on_boundary() may pause it: nullopt then, and the
  // next call goes on from the same point. After the result, the run is over.
  std::optional<RunResult> run_until_pause();
  // Get the vCPU to an instruction boundary soon (the next stop completes
  // the instruction under way), so that on_boundary() is called.
  void request_boundary() { boundary_wanted_ = true; }
  // At the next exit boundary, have the vCPU complete the instruction the
  // exit left half done where it can without running on
  // (Vcpu::finish_instruction), so that on_boundary() is called right after
  // that exit, a point a replay reaches exactly on every backend (kvm
  // keyframes). Not where the run then ends (a debug-exit write, a reset):
  // the end record's registers are those at the exit. Stays requested until
  // an exit boundary is an instruction boundary.
  void request_exit_boundary() { exit_boundary_wanted_ = true; }
  // (Backends that count instructions.) The vCPU stops once this many
  // instructions have retired, and on_boundary() is called there: a debugger
  // pauses at any instruction this way. Not an end of the run.
  void set_pause_icount(std::optional<uint64_t> icount) { pause_icount_ = icount; }
  // Time starts: timed devices are started (TimedDevice::start), then device
  // clock reads follow the input authority. run() calls it (once matters);
  // code that drives devices without running the CPU calls it itself. Before
  // it, reads return 0 on every backend (construction and reset happen before
  // any tap can log them, and before a replay's authority is installed).
  void start_time();

  Position position() const;
  // The vCPU's last stop was a guest-caused exit (port I/O, MMIO, hlt, IRQ
  // window), not a stop inside guest execution: a point every backend meets
  // again after the same exit.
  bool at_exit_boundary() const { return at_exit_; }
  uint64_t exits_handled() const { return exits_; }

  // Replay without an instruction count: what finding the recorded points
  // inside guest execution cost (breakpoint hits, single steps).
  struct SearchStats {
    uint64_t points = 0;       // points found
    uint64_t hits = 0;         // breakpoint stops at the recorded RIP
    uint64_t steps = 0;        // single steps past a wrong hit
    uint64_t max_stops = 0;    // most stops one point took
    uint64_t loop_jumps = 0;   // counted-loop passes skipped, to a point or to the loop's end (vmm/counted_loop.h)
  };
  const SearchStats& search_stats() const { return search_stats_; }
  // Called as each such point is found, with its linear pc and the stops it
  // took (replay --search-log: where the search's time goes).
  void set_search_observer(std::function<void(uint64_t pc, uint64_t stops)> f) { search_observer_ = std::move(f); }

  // Snapshots. Every device with state registers here under a stable name
  // (the same names in every machine built from the same configuration).
  void add_device_state(std::string name, DeviceState* device);
  // Whether a snapshot can be taken now: the vCPU is at an instruction
  // boundary outside a rep ins batch (Vcpu::inside_string_batch) and the
  // run has not ended.
  bool can_snapshot() const;
  // The machine now; pages equal to `previous`'s are shared with it.
  // Throws VcpuError (or std::logic_error when !can_snapshot()).
  MachineSnapshot snapshot(const MachineSnapshot* previous = nullptr);
  // Puts the machine back where `s` was taken; the next run() goes on from
  // there. A snapshot without the backend's exact CPU state (one rebuilt from
  // a trace keyframe) restores the CPU through its portable state. Throws
  // std::runtime_error (a device state from another build), VcpuError.
  void restore(const MachineSnapshot& s);

  // The time source's now (what a live clock read returns).
  uint64_t source_now_ns();
  // The earliest deadline; only of devices that may stop the guest unless
  // `observers` is set.
  std::optional<uint64_t> next_deadline_ns(bool observers);

 private:
  friend class MachineClock;
  // ByteSource over the authority's serial input.
  class SerialInput final : public ByteSource {
   public:
    explicit SerialInput(Machine& m) : machine_(m) {}
    std::optional<uint8_t> next_byte() override;
    bool at_end() override { return machine_.authority_->serial_at_end(); }

   private:
    Machine& machine_;
  };

  std::optional<RunResult> run_loop(bool honour_pause);
  // True when paused at a boundary, false when the run ended (result filled).
  bool run_until_stop(RunResult* result, bool honour_pause);
  void service_point();
  void service_devices(uint64_t now_ns);
  void deliver_interrupt();
  const Registers* async_registers();
  bool handle_halt(RunResult* result);
  bool taps_want_stop(RunResult* result);
  void dispatch(const Exit& exit);
  void read_tsc(bool aux);
  bool reached_async_target();
  // The breakpoint search inside a rep string instruction (kvm): the hit at
  // the instruction's RIP is not the point; run straight to the iteration
  // the point is at, or out of the instruction. Armed: true (the vCPU runs
  // on to a breakpoint after the instruction).
  bool rep_search_step(const Registers& now);
  // The breakpoint after the instruction fired: the state the iterations
  // left, with the count register as the guest has it.
  void rep_search_landed();
  void plan_limits(RunLimits* limits);

  std::unique_ptr<GuestMemory> memory_;
  std::unique_ptr<Vcpu> vcpu_;
  std::unique_ptr<Clock> source_;
  InstructionClock* instruction_clock_ = nullptr;
  MachineClock clock_{*this};
  IoBus ports_{"port"};
  IoBus mmio_{"mmio"};
  InterruptController* pic_ = nullptr;
  std::vector<TimedDevice*> timed_;
  std::vector<RunTap*> taps_;
  std::vector<std::pair<std::string, DeviceState*>> device_states_;
  LiveInputs live_{*this};
  InputAuthority* authority_ = &live_;
  SerialInput serial_input_{*this};
  std::optional<uint64_t> instruction_limit_;
  std::optional<uint64_t> pause_icount_;
  std::optional<int> exit_request_;
  std::optional<std::string> reset_request_;
  uint64_t exits_ = 0;
  uint64_t interrupts_ = 0;
  bool tsc_ports_ = false;
  uint64_t tsc_reads_ = 0;
  bool in_async_ = false;                 // stopped inside guest execution since the last exit
  bool at_exit_ = false;                  // the vCPU's last stop was a guest-caused exit
  bool started_ = false;  // see start_time()
  bool boundary_wanted_ = false;
  bool exit_boundary_wanted_ = false;  // see request_exit_boundary()
  bool resume_after_interrupt_ = false;  // paused at on_interrupt_boundary: go on from there
  std::optional<Registers> async_regs_;   // cached CPU state at that point
  std::optional<AsyncTarget> bp_target_;  // replay: breakpoint armed for this point
  // rep_search_step's run in progress: the count register holds only the
  // iterations to run (the point's count is added back when it lands), or
  // the rest of an instance that cannot hold the point runs out.
  struct RepSearch {
    uint64_t rep_linear = 0;
    uint8_t length = 0;
    uint64_t count_mask = 0;
    uint64_t added_back = 0;  // the point's count (0: running out)
    bool forward = false;     // iterations to the point, not out
    bool continues_while_zf = false, conditional = false;
  };
  std::optional<RepSearch> rep_search_;
  bool rep_search_ok_ = true;
  bool loop_search_ok_ = true;
  void counted_loop_jump(const Registers& now);
  bool search_like_kvm_ = false;
  SearchStats search_stats_;
  std::function<void(uint64_t, uint64_t)> search_observer_;
  static constexpr uint64_t kMaskedKickRecheckNs = 1'000'000;
  void defer_kick_while_masked(RunLimits* limits);
  uint64_t search_stops_ = 0;  // stops for the point armed now
  bool search_stepping_ = false;
  void count_search_stop(bool at_pc, bool found);
};

}  // namespace rrvm
