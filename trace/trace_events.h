// The trace's content as plain C++ values. The recorder fills these, the
// replayer and the inspection tools read them; only the trace library itself
// knows Cap'n Proto (trace/trace.capnp documents every field's units and
// invariants; the structs below mirror it).
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "vmm/cpu_snapshot.h"
#include "vmm/cpuid.h"
#include "vmm/registers.h"
#include "vmm/run_tap.h"
#include "vmm/sha256.h"

namespace rrvm {

// Version of the file format this library writes. Readers accept every
// version from kTraceMinReadableVersion to this one (fixtures in traces/).
// 2: service points; 3: typed machine options (load address, entry,
// instruction limit) instead of text options an older reader would need;
// 4: firmware machines (image roles, the boot device), which an older
// reader would replay as a raw guest; 5: asynchronous points by pc and a
// 64-bit state hash (full registers only at some), service points and
// asynchronous points in columns, kvm's changed-pages digest cut to 64 bits;
// 6: points on a rep string instruction keep rCX instead of the full
// registers, and frames may be LZ4-compressed against the preset dictionary
// (trace/trace_dictionary.h); 7: TSC reads (a patched rdtsc/rdtscp's value),
// an event kind an older reader does not know; 8: kvm's changed-pages digest
// at an asynchronous point covers the status flags too (kvm_point_digest).
constexpr uint32_t kTraceFormatVersion = 8;
constexpr uint32_t kTraceMinReadableVersion = 1;

// Every trace problem: one line naming the file, the byte offset, what is
// wrong and what to do.
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The trace file could not be written (disk full, permissions, a closed
// descriptor): an I/O failure (kExitIoError), not bad input.
class TraceWriteError : public TraceError {
 public:
  using TraceError::TraceError;
};

// ---- header ---------------------------------------------------------------

struct TraceMemorySlot {
  std::string name;    // "ram", "vram", ...
  uint64_t base = 0;   // guest-physical bytes, page aligned
  uint64_t size = 0;   // bytes, page aligned
  bool log_dirty = false;
  bool mapped = true;
  bool operator==(const TraceMemorySlot&) const = default;
};

struct TraceDevice {
  std::string name;    // "serial0", "pit", "cirrus", ...
  std::string config;  // device-defined text, e.g. "port=0x3f8 irq=4"
  bool operator==(const TraceDevice&) const = default;
};

struct TraceImage {
  std::string path;
  Sha256Digest sha256{};
  uint64_t size = 0;  // bytes
  bool elf = false;
  std::string role = "guest";  // "guest", "bios", "vga-bios", "floppy", "disk", "kernel", "initrd"
  bool operator==(const TraceImage&) const = default;
};

struct TraceOption {
  std::string key, value;
  bool operator==(const TraceOption&) const = default;
};

struct TraceMachineConfig {
  uint64_t memory_size = 0;                 // guest RAM bytes
  std::optional<int64_t> rtc_base_seconds;  // CMOS clock start, Unix seconds
  bool serial_input = false;                // the recording fed serial input
  std::optional<uint64_t> load_address;     // raw image load address (--load-addr)
  std::optional<uint64_t> entry;            // entry point (--entry)
  std::optional<uint64_t> max_instructions;  // --max-instructions
  bool firmware = false;                    // booted the "bios" image (format version 4)
  std::string boot_device;                  // firmware: "floppy" or "disk"
  bool patch_tsc = false;                   // format version 7: TSC reads patched into exits
  bool linux_boot = false;                  // booted the "kernel" image (vmm/linux_loader.h)
  std::string kernel_command_line;          // linux machines
  std::vector<TraceOption> options;         // anything else, in order (informational)
  bool operator==(const TraceMachineConfig&) const = default;
};

struct TraceHeader {
  uint32_t format_version = kTraceFormatVersion;  // set by the writer
  std::string rrvm_version;
  std::string backend;  // "emu" or "kvm"
  TraceMachineConfig machine;
  std::vector<TraceMemorySlot> memory_map;
  std::vector<TraceDevice> devices;
  std::vector<CpuidEntry> cpuid;
  std::vector<TraceImage> images;
  Registers initial_registers;
  std::vector<std::string> command_line;
  bool operator==(const TraceHeader&) const = default;
};

// ---- events ---------------------------------------------------------------

enum class TraceEventKind : uint8_t {
  Exit = 0,
  Interrupt = 1,
  ClockSample = 2,
  SerialInput = 3,
  CpuChecksum = 4,
  DisplayFrame = 5,
  ServicePoint = 6,
  TscRead = 7,  // format version 7
};
constexpr int kTraceEventKindCount = 8;
const char* trace_event_kind_name(TraceEventKind kind);
std::optional<TraceEventKind> trace_event_kind_from_name(const std::string& name);

enum class TraceExitKind : uint8_t { PortIo = 0, Mmio = 1, Halt = 2, IrqWindow = 3 };
const char* trace_exit_kind_name(TraceExitKind kind);
// The trace kind of a guest-caused exit (port I/O, MMIO, HLT, IRQ window).
TraceExitKind trace_exit_kind(ExitKind kind);

// An exit that carried information: for reads, `data` is what the guest
// received; for writes, what it wrote. Halt / IrqWindow carry no address/data.
struct ExitEvent {
  TraceExitKind kind = TraceExitKind::PortIo;
  bool is_write = false;
  uint8_t size = 0;      // bytes: 1, 2, 4 (8 for MMIO); 0 for Halt/IrqWindow
  uint64_t address = 0;  // port or guest-physical address
  uint64_t data = 0;
  bool operator==(const ExitEvent&) const = default;
};

// A point inside guest execution (a kvm kick, an emu deadline): what a
// replay without an instruction count needs to find it again.
struct KickState {
  uint64_t pc = 0;          // linear address of the next instruction (cs.base + rip)
  uint64_t state_hash = 0;  // execution_point_hash() of the registers there
  // The registers themselves, where the trace keeps them (always before
  // format version 5; since, at the first and every
  // kTraceFullRegistersEvery-th point, and in version 5 also at points on a
  // rep string instruction): a breakpoint hint and the detail of a
  // divergence report.
  std::optional<Registers> registers;
  // Format version 6: rCX (all 64 bits) at a point on a rep string
  // instruction that has no full registers, the count a search inside the
  // rep needs (Machine::rep_search_step). Part of the hashed state already.
  std::optional<uint64_t> rep_rcx;
  // rCX where the point has it (from the full registers or rep_rcx).
  std::optional<uint64_t> rcx() const { return registers ? std::optional(registers->rcx) : rep_rcx; }
  // kvm: the first 8 bytes (little endian) of the changed-pages SHA-256
  // (trace/changed_pages_digest.h) since the previous async point; 0: none.
  uint64_t dirty_pages_digest = 0;

  // A point with these registers, stored in full or not.
  static KickState at(const Registers& regs, bool keep_registers = true);
  bool operator==(const KickState&) const = default;
};

// The recorder keeps full registers at the first asynchronous point and
// then at every this many (the others: pc and hash).
constexpr uint64_t kTraceFullRegistersEvery = 1024;

// The 64-bit prefix of a SHA-256 as KickState stores it.
uint64_t digest_prefix(const Sha256Digest& d);

// The status flags (CF, PF, ZF, SF, OF) a kvm point's digest covers since
// format version 8. The state hash leaves every arithmetic flag out (Unicorn
// computes them lazily, and backends differ on undefined ones), but two
// passes of a wait loop can differ in nothing else (its first arrival, with
// the flags of the code before it, and the passes after its compare), and
// an interrupt taken at the wrong one pushes other flags: memory differs
// from then on. AF is left out, undefined after logic instructions.
constexpr uint64_t kPointStatusFlags = (1u << 0) | (1u << 2) | (1u << 6) | (1u << 7) | (1u << 11);
// A kvm asynchronous point's KickState::dirty_pages_digest: the first 8
// bytes of the changed-pages SHA-256, and from format version 8 of the
// SHA-256 of those 32 bytes and the status flags.
uint64_t kvm_point_digest(const Sha256Digest& changed_pages, uint64_t rflags, uint32_t format_version);

struct InterruptEvent {
  uint8_t vector = 0;
  uint64_t exit_ordinal = 0;       // exits handled before the injection
  std::optional<uint64_t> icount;  // instructions retired (emu)
  std::optional<KickState> kicked;
  bool operator==(const InterruptEvent&) const = default;
};

struct ClockSampleEvent {
  uint64_t ns = 0;  // guest clock nanoseconds a device consumed
  bool operator==(const ClockSampleEvent&) const = default;
};

struct SerialInputEvent {
  uint8_t byte = 0;
  bool operator==(const SerialInputEvent&) const = default;
};

struct CpuChecksumEvent {
  uint64_t exit_ordinal = 0;
  std::optional<uint64_t> icount;
  uint64_t register_hash = 0;  // register_state_hash()
  bool operator==(const CpuChecksumEvent&) const = default;
};

struct VramPage {
  uint32_t index = 0;          // page number within the "vram" slot
  std::vector<uint8_t> bytes;  // the page's full new content (kPageSize bytes)
  bool operator==(const VramPage&) const = default;
};

// The display at one point: changed VRAM pages (full content here; the file
// stores them XOR-delta coded) and the display module's opaque registers.
struct DisplayFrameEvent {
  uint64_t guest_ns = 0;
  std::vector<uint8_t> display_registers;
  std::vector<VramPage> pages;
  bool operator==(const DisplayFrameEvent&) const = default;
};

// Timed devices were brought up to guest time `ns` at this point (see
// trace/trace.capnp ServicePoint).
struct ServicePointEvent {
  uint64_t ns = 0;
  uint64_t exit_ordinal = 0;
  std::optional<uint64_t> icount;   // async points on emu
  std::optional<KickState> async;   // set when inside guest execution
  bool operator==(const ServicePointEvent&) const = default;
};

// A patched rdtsc/rdtscp (vmm/tsc_sites.h) read the TSC: `value` is what the
// guest received in EDX:EAX, in guest-clock nanoseconds (trace.capnp
// EventBatch.tscReads). It follows the port-io write exit of the out that
// replaced the instruction.
struct TscReadEvent {
  uint64_t value = 0;
  bool operator==(const TscReadEvent&) const = default;
};

using TraceEventBody = std::variant<ExitEvent, InterruptEvent, ClockSampleEvent, SerialInputEvent,
                                    CpuChecksumEvent, DisplayFrameEvent, ServicePointEvent, TscReadEvent>;

struct TraceEvent {
  TraceEventBody body;
  TraceEventKind kind() const { return static_cast<TraceEventKind>(body.index()); }
  bool operator==(const TraceEvent&) const = default;
};

// ---- keyframes, end -------------------------------------------------------

// One 4096-byte page of a keyframe (index within its slot).
struct KeyframePage {
  uint32_t index = 0;
  std::vector<uint8_t> bytes;  // kPageSize bytes
  bool operator==(const KeyframePage&) const = default;
};

struct KeyframeSlot {
  std::string name;
  uint64_t base = 0;           // guest-physical
  std::vector<uint8_t> bytes;  // full keyframes: whole slot content (size = bytes.size())
  // Incremental keyframes: the slot's size and the pages that changed since
  // the previous keyframe (ascending, zero pages included); `bytes` is empty.
  uint64_t size = 0;
  std::vector<KeyframePage> pages;
  bool operator==(const KeyframeSlot&) const = default;
};

// The picture `rrvm frames` had drawn at the keyframe (trace.capnp
// KeyframeDisplay); filled in by the TraceWriter.
struct KeyframeDisplay {
  uint64_t frames = 0;                 // display-frame events before the keyframe
  std::vector<uint8_t> registers;      // last non-empty display registers
  std::vector<KeyframePage> pages;     // VRAM pages whose shown content changed since the previous keyframe
  bool operator==(const KeyframeDisplay&) const = default;
};

// One device's saved state in a keyframe (vmm/device_state.h makes it).
struct KeyframeDevice {
  std::string name;
  std::vector<uint8_t> state;  // device-defined serialization
  bool operator==(const KeyframeDevice&) const = default;
};

// A full machine snapshot; replay can start here instead of at the beginning.
struct Keyframe {
  uint64_t event_ordinal = 0;  // events written before the snapshot (set by the writer)
  uint64_t exit_ordinal = 0;
  std::optional<uint64_t> icount;
  Registers registers;
  std::vector<KeyframeSlot> memory;
  std::vector<KeyframeDevice> devices;
  // Incremental keyframes (what the recorder writes) carry the whole machine;
  // the fields below are meaningful only then (trace.capnp Keyframe).
  bool incremental = false;
  FpuState fpu;
  bool interrupt_shadow = false;
  uint64_t interrupts = 0;
  bool async = false;
  uint64_t clock_last_ns = 0;
  uint64_t clock_skipped_ns = 0;
  uint64_t replay_clock_ns = 0;
  KeyframeDisplay display;
  // Recordings without an instruction count (kvm): the changed-pages
  // digest's reference pages that differ from RAM at the keyframe, with the
  // reference's content (trace.capnp Keyframe.digestReference); slots as in
  // `memory`, incremental form. nullopt in keyframes made with a count.
  std::optional<std::vector<KeyframeSlot>> digest_reference;
  bool operator==(const Keyframe&) const = default;
};

struct TraceEnd {
  StopReason reason = StopReason::BackendError;
  int32_t exit_status = 0;
  std::string message;
  Registers final_registers;
  Sha256Digest ram_sha256{};
  std::optional<uint64_t> instruction_count;
  uint64_t exit_count = 0;
  uint64_t record_wall_ns = 0;  // host wall time of the recording's run; 0: unknown
  bool operator==(const TraceEnd&) const = default;
};

// A stable 64-bit hash of every Registers field (first 8 bytes, little
// endian, of SHA-256 over a fixed little-endian field layout), for
// CpuChecksumEvent: recorder and replayer compute it the same way.
uint64_t register_state_hash(const Registers& r);

}  // namespace rrvm
