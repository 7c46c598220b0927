# rrvm trace schema, format version 7 (1 to 6 still read).
#
# A trace is one file:
#
#   file header   16 bytes: magic "RRVMTRC\0", u32 LE format version, u32 LE 0
#   frames        each: a 32-byte frame header (trace/trace_frame.h) and a
#                 payload; the payload is one Cap'n Proto message in flat-array
#                 form (segment table + segments, capnp::messageToFlatArray),
#                 LZ4-block compressed when the frame header's flag says so.
#   trailer       on clean close only, 16 bytes: u64 LE offset of the footer
#                 frame, magic "RRVMEND\0".
#
# Frame kinds and the root struct of their message:
#   1 header    TraceHeader   always the first frame, exactly once
#   2 events    EventBatch    in order; event ordinals are contiguous
#   3 keyframe  Keyframe      between event frames
#   4 end       TraceEnd      once, after the last event frame (clean stop)
#   5 footer    Footer        last frame, then the trailer
#
# Invariants every reader may rely on and must check:
#  - "Event ordinal" N means the N-th event of the trace (0-based), counting
#    events of every kind. Frame headers carry the first ordinal and count.
#  - "Exit ordinal" N means N exits had been handled before (the run loop's
#    Position::exit_ordinal); exits are counted by Exit events only.
#  - Integers are unsigned unless named otherwise; times are nanoseconds of
#    guest clock; sizes are bytes; addresses are guest-physical unless said.
#  - Compatibility: fields are only ever added (new ordinals) and old files in
#    traces/ must keep reading. A change in meaning bumps the format version.

@0xd6901b6346b58fa1;

$import "/capnp/c++.capnp".namespace("rrvm::schema");

# ---------------------------------------------------------------- CPU state

struct Segment {
  selector @0 :UInt16;
  base @1 :UInt64;      # linear address of offset 0
  limit @2 :UInt32;     # byte-granular limit (already scaled when g = 1)
  type @3 :UInt8;       # access rights in KVM's decoded form
  present @4 :UInt8;
  dpl @5 :UInt8;
  db @6 :UInt8;
  s @7 :UInt8;
  l @8 :UInt8;
  g @9 :UInt8;
  avl @10 :UInt8;
}

struct DescriptorTable {
  base @0 :UInt64;
  limit @1 :UInt16;
}

# Every field of vmm/registers.h Registers.
struct Registers {
  rax @0 :UInt64;  rbx @1 :UInt64;  rcx @2 :UInt64;  rdx @3 :UInt64;
  rsi @4 :UInt64;  rdi @5 :UInt64;  rsp @6 :UInt64;  rbp @7 :UInt64;
  r8 @8 :UInt64;   r9 @9 :UInt64;   r10 @10 :UInt64; r11 @11 :UInt64;
  r12 @12 :UInt64; r13 @13 :UInt64; r14 @14 :UInt64; r15 @15 :UInt64;
  rip @16 :UInt64;
  rflags @17 :UInt64;
  cs @18 :Segment;  ds @19 :Segment;  es @20 :Segment;  fs @21 :Segment;
  gs @22 :Segment;  ss @23 :Segment;  tr @24 :Segment;  ldt @25 :Segment;
  gdt @26 :DescriptorTable;
  idt @27 :DescriptorTable;
  cr0 @28 :UInt64; cr2 @29 :UInt64; cr3 @30 :UInt64; cr4 @31 :UInt64;
  efer @32 :UInt64;
}

# ------------------------------------------------------------------- header

struct MemorySlot {
  name @0 :Text;       # "ram", "vram", ...
  base @1 :UInt64;     # guest-physical, page aligned (4096)
  size @2 :UInt64;     # bytes, page aligned
  logDirty @3 :Bool;   # dirty-page tracking on (VRAM)
  mapped @4 :Bool;     # visible to the guest when recording started
}

struct Device {
  name @0 :Text;
  config @1 :Text;     # device-defined, human readable
}

struct CpuidEntry {
  function @0 :UInt32;   # EAX input
  index @1 :UInt32;      # ECX input (sub-leaf)
  eax @2 :UInt32; ebx @3 :UInt32; ecx @4 :UInt32; edx @5 :UInt32;
}

struct Image {
  path @0 :Text;       # as given on the command line
  sha256 @1 :Data;     # 32 bytes, of the file's content
  size @2 :UInt64;     # file size in bytes
  elf @3 :Bool;        # loaded as ELF32 (else raw boot image)
  role @4 :Text;       # format version 4: what the machine did with it:
                       # "guest" (loaded at 0x7C00 or by its ELF headers),
                       # "bios" (ROM ending at 4 GiB), "vga-bios" (the Cirrus
                       # option ROM), "floppy" (drive A:), "disk" (primary
                       # master). Empty in versions 1-3: the one image, a guest.
                       # Invariant: a firmware machine has exactly one "bios"
                       # and one "vga-bios", at most one "floppy" and one
                       # "disk", and no "guest"; a linux machine exactly one
                       # "kernel", at most one "initrd", and nothing else.
}

struct Option {
  key @0 :Text;
  value @1 :Text;
}

struct MachineConfig {
  memorySize @0 :UInt64;        # guest RAM bytes
  hasRtcBase @1 :Bool;
  rtcBaseSeconds @2 :Int64;     # CMOS clock start, Unix seconds; valid if hasRtcBase
  serialInput @3 :Bool;         # SerialInput events may appear
  options @4 :List(Option);     # informational only (format version 3); in
                                # versions 1-2 also "load-addr", "entry" and
                                # "max-instructions" as decimal text
  hasLoadAddress @5 :Bool;      # format version 3:
  loadAddress @6 :UInt64;       #   raw image load address (guest-physical)
  hasEntry @7 :Bool;
  entry @8 :UInt64;             #   entry point (real-mode offset or EIP)
  hasMaxInstructions @9 :Bool;
  maxInstructions @10 :UInt64;  #   the recording stopped after this many
  firmware @11 :Bool;           # format version 4: the machine booted its
                                # "bios" image from the reset vector (the PC
                                # platform for real firmware); else it ran a
                                # "guest" image directly
  bootDevice @12 :Text;         # firmware machines: "floppy" or "disk", the
                                # first device in the BIOS's boot order
  patchTscReads @13 :Bool;      # format version 7: the guest image's rdtsc and
                                # rdtscp were patched into exits after loading
                                # (vmm/tsc_sites.h, the same sites from the same
                                # image) and the TSC ports answer them: the
                                # trace has a TSC read event per read
  linuxBoot @14 :Bool;          # the machine booted its "kernel" image (and
                                # its "initrd" image, if any) by the Linux
                                # boot protocol's 64-bit entry
                                # (vmm/linux_loader.h); not with firmware
  kernelCommandLine @15 :Text;  # linux machines: the command line it got
}

struct TraceHeader {
  formatVersion @0 :UInt32;     # equals the file header's version
  rrvmVersion @1 :Text;         # e.g. "0.1.0"
  backend @2 :Text;             # "emu" or "kvm"
  machine @3 :MachineConfig;
  memoryMap @4 :List(MemorySlot);
  devices @5 :List(Device);
  cpuid @6 :List(CpuidEntry);   # the exact table the guest saw
  images @7 :List(Image);       # loaded in this order
  initialRegisters @8 :Registers;
  commandLine @9 :List(Text);   # argv of the recording rrvm
}

# ------------------------------------------------------------------- events

# A batch of events stored column-wise (struct of arrays) so LZ4 sees long
# repeats: a guest's exit pattern repeats, so each column repeats.
#
# Varint columns hold unsigned LEB128 values; "zigzag" ones map a signed
# delta d to (d << 1) ^ (d >> 63) first. All delta state starts from zero at
# the start of each batch, so every frame decodes on its own (VRAM pages
# excepted, see DisplayFrame).
struct EventBatch {
  # One byte per event, in order: 0 exit, 1 interrupt, 2 clock sample,
  # 3 serial input, 4 cpu checksum, 5 display frame, 6 service point
  # (format version 2), 7 TSC read (format version 7). Its length is the
  # frame's event count. The k-th event of a kind takes the k-th entry of
  # that kind's columns.
  kinds @0 :Data;

  # --- exits (one entry per exit event)
  # One byte per exit: bits 0-1 kind (0 port-io, 1 mmio, 2 halt,
  # 3 irq-window), bit 2 isWrite, bits 3-6 size in bytes (0-8), bit 7 zero.
  exitFlags @1 :Data;
  # Port-io and mmio exits only: zigzag varint of (address - previous
  # port-io/mmio address in this batch), the first against 0.
  exitAddresses @2 :Data;
  # Port-io and mmio exits only: zigzag varint of (data - previous data of
  # the same (kind, isWrite, address) in this batch, or 0). Reads: value the
  # guest received; writes: value written. Guest counters and status
  # polls thus become small repeating numbers.
  exitData @3 :Data;

  # --- interrupts
  interruptVectors @4 :Data;        # one byte per interrupt
  # One byte per interrupt: bit 0 has icount, bit 1 kicked (takes the next
  # kicks entry).
  interruptFlags @5 :Data;
  # Varint of (exit ordinal - previous interrupt's exit ordinal in this
  # batch, the first against 0); exit ordinals never decrease.
  interruptExitOrdinals @6 :Data;
  # Interrupts with an icount only: zigzag varint of (icount - previous
  # icount in this column, the first against 0).
  interruptIcounts @7 :Data;
  kicks @8 :List(Kick);

  # --- clock samples: zigzag varint of (ns - previous sample in this batch).
  clockSamples @9 :Data;

  # --- serial input: one byte per event, the byte the guest was fed.
  serialInput @10 :Data;

  cpuChecksums @11 :List(CpuChecksum);
  displayFrames @12 :List(DisplayFrame);
  servicePoints @13 :List(ServicePoint);   # format version 2 to 4

  # --- format version 5 (columns 1): service points and asynchronous points
  # in columns; servicePoints, kicks and interruptIcounts stay empty, and an
  # interrupt's kicked flag takes the next asynchronous point instead of a
  # kicks entry. 0: the lists above (versions 1-4).
  layout @14 :UInt8;
  # One byte per service point: bit 0 has icount, bit 1 async (takes the
  # next asynchronous point).
  serviceFlags @15 :Data;
  serviceNs @16 :Data;            # zigzag varint of (ns - previous service point's ns)
  serviceExitOrdinals @17 :Data;  # zigzag varint of (exit ordinal - previous service point's)
  # Every icount of a service point or interrupt, in event order. Service
  # points: zigzag varint of (icount - the point's ns), which emu's
  # instruction clock keeps constant; interrupts: zigzag varint of (icount -
  # the previous entry's icount, the first against 0), so one right after a
  # service point at the same place is a 0.
  icounts @18 :Data;
  # One byte per asynchronous point (async service points and kicked
  # interrupts, in event order): bit 0 same place as the previous
  # asynchronous point in this batch (pc, hash, registers and rCX repeat;
  # nothing else of this entry is stored but its digest), bit 1 full
  # registers (the next asyncRegisters entry; pc and hash follow from them),
  # bit 2 has a changed-pages digest (the next 8 bytes of asyncDigests),
  # bit 3 (format version 6) has rCX (the next asyncRcx entry; only with
  # bits 0 and 1 clear). Bits 4-7 zero.
  asyncFlags @19 :Data;
  # Neither same nor full registers: zigzag varint of (pc - previous
  # asynchronous point's pc), pc linear (cs.base + rip) ...
  asyncPcs @20 :Data;
  # ... and 8 bytes little endian: vmm/cpu_state.h execution_point_hash()
  # of the registers (general registers, rip, IF/DF, selectors, cs.base).
  asyncHashes @21 :Data;
  asyncRegisters @22 :List(Registers);
  # 8 bytes little endian each: the first 8 bytes of the changed-pages
  # SHA-256 (kvm recordings; emu ones count instructions and have none).
  # Format version 8: the first 8 bytes of the SHA-256 of that SHA-256 (32
  # bytes) and the point's status flags (rflags & CF|PF|ZF|SF|OF, 2 bytes
  # little endian), which the state hash leaves out (trace_events.h
  # kvm_point_digest).
  asyncDigests @23 :Data;
  # Format version 6: unsigned varint of rCX, all 64 bits (not a delta), per
  # asynchronous point with asyncFlags bit 3: a point on a rep string
  # instruction (movs, cmps, stos, lods, scas, ins, outs with rep/repe/repne,
  # any address size) that has no full registers. The recorder sets it at
  # every such point; a replay without instruction counts reaches the point
  # from it in two stops (vmm/rep_string.h). Redundant with the hash, which
  # covers rCX: a value that disagrees with the state is a divergence there.
  # Version 5 kept the full registers at these points instead.
  asyncRcx @24 :Data;

  # --- format version 7: TSC reads. A patched rdtsc/rdtscp in the guest
  # (vmm/tsc_sites.h: `out 0xE2, al` / `out 0xE3, al; nop`) is a port-io
  # write exit like any other, and right after that exit's event comes a
  # TSC read event: the value the guest received in EDX:EAX. Unit: TSC
  # ticks, which rrvm defines as guest-clock nanoseconds (a 1 GHz TSC): on
  # emu the instruction clock, on kvm host monotonic time since the run
  # started, exactly what a device's clock read gives at that point.
  # Invariants the recorder keeps and the replayer checks at the event
  # (replay/replayer.cpp): a value is at least the previous TSC read's and
  # at least the latest service point's or clock sample's ns before it, and
  # at most the ns of the next TSC read, service point or clock sample in
  # the same batch. Zigzag varint of (value - previous TSC read's value in
  # this batch, the first against 0): successive reads on kvm are a few
  # microseconds apart, 2-3 bytes.
  tscReads @25 :Data;
}

# The run loop brought the timed devices (PIT, RTC, UART input) up to guest
# time `ns` here. Replay services them at the same point with the same time,
# which is what makes their interrupts and counters replay exactly.
struct ServicePoint {
  ns @0 :UInt64;               # guest clock, nanoseconds; never decreases
  exitOrdinal @1 :UInt64;      # exits handled before this point
  hasIcount @2 :Bool;
  icount @3 :UInt64;           # instructions retired (emu, async points only)
  # Inside guest execution (not at an exit): the CPU state there, and on kvm
  # a digest of the RAM pages dirtied since the previous async point (all
  # zero when the recording backend counted instructions instead).
  hasAsync @4 :Bool;
  async @5 :Kick;
}

# Where a kvm kick stopped a guest that computed without exiting (format
# versions 1-4; version 5 stores these in EventBatch's async columns).
struct Kick {
  registers @0 :Registers;
  dirtyPagesSha256 @1 :Data;   # 32 bytes: SHA-256 over the pages dirtied
                               # since the last exit, in address order
}

struct CpuChecksum {
  exitOrdinal @0 :UInt64;
  hasIcount @1 :Bool;
  icount @2 :UInt64;           # instructions retired; valid if hasIcount
  registerHash @3 :UInt64;     # register_state_hash(): SHA-256 prefix, LE
}

struct VramPage {
  index @0 :UInt32;            # page number (4096 bytes) in the "vram" slot
  # 4096 bytes: the new content XOR the previous content of this page, where
  # "previous" is the last DisplayFrame page with this index since the last
  # keyframe frame (or the trace start); zeros if there is none. Unchanged
  # bytes become zero runs that LZ4 removes.
  xorDelta @1 :Data;
}

struct DisplayFrame {
  guestNs @0 :UInt64;              # guest clock at the frame point
  displayRegisters @1 :Data;       # opaque, serialized by the display module
  pages @2 :List(VramPage);        # pages changed since the previous frame
}

# ---------------------------------------------------------------- snapshots

struct RamPage {
  index @0 :UInt32;      # page number within the slot
  lz4 @1 :Data;          # LZ4 block of the 4096-byte page
}

struct KeyframeSlot {
  name @0 :Text;         # the memory slot's name ("ram", "vram", ...): slots
                         # are matched by name, their base may move (PCI BARs)
  base @1 :UInt64;       # guest-physical, where the slot was mapped
  size @2 :UInt64;       # bytes, multiple of 4096
  # Indexes ascending. Full keyframe (Keyframe.incremental false): every page
  # not all zero; an omitted page is zeros. Incremental keyframe: exactly the
  # pages whose content differs from the previous keyframe's (from the
  # machine as built from the header and image for the first one), zero
  # pages included; an omitted page is the previous keyframe's.
  pages @3 :List(RamPage);
}

# x87/SSE state in FXSAVE's terms (vmm/cpu_snapshot.h FpuState).
struct Fpu {
  fcw @0 :UInt16;        # control word
  fsw @1 :UInt16;        # status word, TOP in bits 13:11
  ftw @2 :UInt8;         # abridged tag: bit i set = physical register i valid
  fop @3 :UInt16;
  fip @4 :UInt64;        # last instruction pointer
  fdp @5 :UInt64;        # last data pointer
  st @6 :List(Data);     # 8 entries, ST(0)..ST(7), 16 bytes each (10 used)
  xmm @7 :List(Data);    # 16 entries, XMM0..XMM15, 16 bytes each
  mxcsr @8 :UInt32;
}

# What `rrvm frames` needs to start drawing at a keyframe: the picture the
# display frames before it built (not the live VRAM: pages written since the
# last display frame still show their older content there).
struct KeyframeDisplay {
  frames @0 :UInt64;         # display-frame events before the keyframe
  registers @1 :Data;        # the last non-empty displayRegisters before it; empty if none
  # VRAM pages (index in the "vram" slot) whose shown content differs from
  # the previous keyframe's (all zero at the trace start), full content.
  pages @2 :List(RamPage);
}

struct KeyframeDevice {
  name @0 :Text;
  state @1 :Data;        # the device's own serialization
}

# A machine snapshot taken between two events. The frame holding it is
# stored uncompressed (its pages are compressed one by one).
#
# The recorder writes incremental keyframes: on backends that count
# instructions (emu) at the first instruction boundary at or after every N
# instructions (rrvm record --keyframe-every N); on kvm right after the first
# guest-caused exit at least M ms of host time after the previous keyframe
# (--keyframe-ms M), the instruction that exited completed. Restoring one: build the machine from
# the header and image, start its time, apply the memory pages of every
# keyframe up to this one in file order, then this one's devices, CPU and run
# loop counters; the replayer resumes at eventOrdinal. Replay from there
# gives the same events and end as a replay from the start. Keyframes with
# incremental false (written before these fields existed) carry no machine
# state to restore; readers skip them as starting points.
struct Keyframe {
  eventOrdinal @0 :UInt64;   # events before the snapshot
  exitOrdinal @1 :UInt64;    # exits handled before the snapshot
  hasIcount @2 :Bool;
  icount @3 :UInt64;         # instructions retired at the snapshot
  registers @4 :Registers;
  memory @5 :List(KeyframeSlot);
  devices @6 :List(KeyframeDevice);   # every device registered with the machine, by stable name
  incremental @7 :Bool;      # memory holds the pages changed since the previous keyframe
  fpu @8 :Fpu;
  interruptShadow @9 :Bool;  # the last instruction was sti (IF 0->1), mov ss or pop ss
  interrupts @10 :UInt64;    # interrupts injected before the snapshot
  async @11 :Bool;           # taken inside guest execution (a pause at an icount), not right after an exit
  clockLastNs @12 :UInt64;   # the latest guest time a device read (the machine clock never goes back)
  clockSkippedNs @13 :UInt64;    # halted time the instruction clock skipped (emu), ns
  replayClockNs @14 :UInt64; # the latest service-point or clock-sample time before the snapshot
  display @15 :KeyframeDisplay;
  # Recordings without instruction counts (kvm) check each asynchronous
  # point's changed-pages digest (trace/changed_pages_digest.h): SHA-256
  # over the RAM pages that differ from RAM at the previous point. A replay
  # starting here needs that reference: RAM at the keyframe, with these
  # pages (the ones whose content at the latest asynchronous point before
  # the keyframe, or in the machine as built before the first, differs from
  # their content at the keyframe) put back as they were there. Slots in
  # the incremental form (size and pages). hasDigestReference false in
  # keyframes taken where the backend counts instructions (no digests).
  hasDigestReference @16 :Bool;
  digestReference @17 :List(KeyframeSlot);
}

# ----------------------------------------------------------------- the end

struct TraceEnd {
  # vmm/run_tap.h StopReason: 0 debug-exit, 1 shutdown, 2 instruction-limit,
  # 3 halted-forever, 4 backend-error, 5 tap-request, 6 interrupted (SIGINT,
  # at an exit boundary; replay ends after the same exit).
  reason @0 :UInt8;
  exitStatus @1 :Int32;       # rrvm's process exit status
  message @2 :Text;           # one line for the user
  finalRegisters @3 :Registers;
  ramSha256 @4 :Data;         # 32 bytes: SHA-256 of all RAM slots, slot order
  hasInstructionCount @5 :Bool;
  instructionCount @6 :UInt64;
  exitCount @7 :UInt64;       # exits handled in the whole run
  # Host wall time of the recording's run loop, nanoseconds (steady clock,
  # from the start of the run to the stop); 0 when unknown (traces written
  # before this field existed). Replay compares its own run time with it.
  recordWallNs @8 :UInt64;
}

# Index of every frame before the footer, so readers seek without scanning.
struct FrameIndexEntry {
  offset @0 :UInt64;             # file offset of the frame header
  kind @1 :UInt8;                # frame kind (see top)
  firstEventOrdinal @2 :UInt64;  # events before this frame
  eventCount @3 :UInt32;
  hasIcount @4 :Bool;
  icount @5 :UInt64;             # smallest icount an event/keyframe of the frame carries
}

struct Footer {
  frames @0 :List(FrameIndexEntry);  # every frame in file order, header first
  totalEvents @1 :UInt64;
  totalExits @2 :UInt64;
  eventCountsByKind @3 :List(UInt64);  # indexed by event kind byte
  uncompressedBytes @4 :UInt64;      # sum of payload sizes before LZ4
  lastGuestNs @5 :UInt64;            # largest guest ns seen in events
}
