#include "system/replay_session.h"

#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "trace/keyframe_chain.h"
#include "trace/trace_reader.h"
#include "system/display_sampler.h"
#include "vmm/cpu_state.h"

namespace rrvm {

namespace {
// Reports replay progress every few thousand exits.
class ProgressTap final : public RunTap {
 public:
  ProgressTap(const Replayer& replayer, uint64_t total, const std::function<void(uint64_t, uint64_t)>& report)
      : replayer_(replayer), total_(total), report_(report) {}
  void on_exit(const Position&, const Exit&) override {
    if (++exits_ % 4096 == 0) report_(replayer_.events_consumed(), total_);
  }
  void on_stop(const Position&, const RunResult&) override { report_(replayer_.events_consumed(), total_); }

 private:
  const Replayer& replayer_;
  uint64_t total_;
  const std::function<void(uint64_t, uint64_t)>& report_;
  uint64_t exits_ = 0;
};

void check_image(const TraceImage& img, const std::string& path) {
  // Kind and size first: /dev/zero or a pipe would be hashed without end.
  const std::string option = img.role == "guest" ? "--image PATH" : "--image " + img.role + "=PATH";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw SystemError(img.role + " image '" + path + "' named by the trace is not a regular file; pass " + option +
                          " to the image file",
                      kExitBadInput);
  if (::stat(path.c_str(), &st) == 0 && img.size && uint64_t(st.st_size) != img.size)
    throw SystemError(img.role + " image '" + path + "' does not match the recording (" + std::to_string(st.st_size) +
                          " bytes, " + std::to_string(img.size) +
                          " expected); replay needs the exact image that was recorded",
                      kExitBadInput);
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw SystemError(img.role + " image '" + path + "' named by the trace cannot be opened; pass " + option +
                          " to the same file",
                      kExitBadInput);
  Sha256 h;
  char buf[1 << 16];
  while (f) {
    f.read(buf, sizeof buf);
    h.update(buf, size_t(f.gcount()));
  }
  if (h.finish() != img.sha256)
    throw SystemError(img.role + " image '" + path + "' does not match the recording (SHA-256 " +
                          to_hex(img.sha256) + " expected); replay needs the exact image that was recorded",
                      kExitBadInput);
}

// The path each recorded image is read from now: the recorded one, unless
// the user named another for its role.
std::string image_path(const TraceImage& img, const ReplaySettings& s) {
  for (const auto& [role, path] : s.image_overrides)
    if (role == img.role) return path;
  if (img.role == "guest" && s.image_override) return *s.image_override;
  return img.path;
}

// Rebuilds the firmware machine's configuration from the header: every
// image by role, checked against its recorded SHA-256 first.
FirmwareConfig firmware_from_header(const TraceHeader& h, const ReplaySettings& settings,
                                           const std::string& trace_path) {
  FirmwareConfig fw;
  bool bios = false, vga = false;
  for (const TraceImage& img : h.images) {
    const std::string path = image_path(img, settings);
    check_image(img, path);
    if (img.role == "bios") fw.bios_path = path, bios = true;
    else if (img.role == "vga-bios") fw.vga_bios_path = path, vga = true;
    else if (img.role == "floppy") fw.floppy_path = path;
    else if (img.role == "disk") fw.disk_path = path;
    else
      throw SystemError(trace_path + ": a firmware machine with a '" + img.role + "' image; the trace is corrupt",
                        kExitBadInput);
  }
  if (!bios || !vga) throw SystemError(trace_path + ": the firmware machine names no BIOS or VGA BIOS image", kExitBadInput);
  if (h.machine.boot_device != "floppy" && h.machine.boot_device != "disk")
    throw SystemError(trace_path + ": unknown boot device '" + h.machine.boot_device + "'", kExitBadInput);
  fw.boot = h.machine.boot_device;
  fw.bios_log = settings.bios_log;
  return fw;
}
// The same for a Linux machine: its kernel and initrd.
LinuxConfig linux_from_header(const TraceHeader& h, const ReplaySettings& settings, const std::string& trace_path) {
  LinuxConfig lc;
  bool kernel = false;
  for (const TraceImage& img : h.images) {
    const std::string path = image_path(img, settings);
    check_image(img, path);
    if (img.role == "kernel" && !kernel) lc.kernel_path = path, kernel = true;
    else if (img.role == "initrd" && !lc.initrd_path) lc.initrd_path = path;
    else
      throw SystemError(trace_path + ": a linux machine with a second or '" + img.role + "' image; the trace is corrupt",
                        kExitBadInput);
  }
  if (!kernel) throw SystemError(trace_path + ": the linux machine names no kernel image", kExitBadInput);
  lc.command_line = h.machine.kernel_command_line;
  lc.after_load = settings.kernel_after_load;
  return lc;
}
}  // namespace

std::vector<InputFile> replay_input_files(const TraceReader& reader, const ReplaySettings& settings) {
  std::vector<InputFile> inputs{{reader.path(), "the trace being replayed"}};
  for (const TraceImage& img : reader.header().images)
    inputs.push_back({image_path(img, settings), "the " + (img.role.empty() ? std::string("guest") : img.role) + " image"});
  return inputs;
}

std::unique_ptr<TraceReader> open_replay_trace(const std::string& trace_path) {
  try {
    return std::make_unique<TraceReader>(trace_path);
  } catch (const TraceError& e) {
    throw SystemError(e.what(), kExitBadInput);
  }
}

std::unique_ptr<PcSystem> replay_system(const TraceReader& reader, const ReplaySettings& settings) {
  const TraceHeader& h = reader.header();
  const std::string& trace_path = reader.path();
  if (h.images.empty()) throw SystemError(trace_path + ": the trace names no guest image", kExitBadInput);

  SystemConfig config;
  if (h.machine.firmware) {
    config.firmware = firmware_from_header(h, settings, trace_path);
  } else if (h.machine.linux_boot) {
    config.linux_boot = linux_from_header(h, settings, trace_path);
  } else {
    std::string image = image_path(h.images[0], settings);
    check_image(h.images[0], image);
    config.image_path = image;
  }
  config.backend = settings.backend;
  config.count_by_stepping = settings.count_by_stepping;
  config.mem_bytes = h.machine.memory_size;
  if (!h.cpuid.empty()) config.cpuid = h.cpuid;  // the table the guest saw
  config.load.load_address = h.machine.load_address;
  config.load.entry = h.machine.entry;
  config.rtc_base = h.machine.rtc_base_seconds.value_or(kDefaultRtcBase);
  config.serial_out = settings.serial_out;
  config.debug_out = settings.debug_out;
  config.log_ram_dirty = true;
  config.serial_from_trace = h.machine.serial_input;
  // The recording's --max-instructions ends the replay at the same count
  // (backends that count instructions: emu).
  config.max_instructions = h.machine.max_instructions;
  config.patch_tsc = h.machine.patch_tsc;
  return PcSystem::create(config);
}

ReplayStart restore_keyframe(const TraceReader& reader, size_t index, PcSystem& sys, Replayer& replayer) {
  Machine& m = sys.machine();
  GuestMemory& memory = m.memory();
  MachineSnapshot snap;
  // The machine as built (image loaded), then every keyframe's changed pages.
  snap.memory = RamImage::capture(memory, [](const MemorySlot&) { return true; });
  Keyframe last;
  auto apply = [&](const Keyframe& k) {
    for (const KeyframeSlot& ks : k.memory) {
      const MemorySlot* slot = memory.slot_by_name(ks.name);
      if (!slot || slot->size != ks.size)
        throw SystemError(reader.path() + ": keyframe at event " + std::to_string(k.event_ordinal) +
                              ": memory slot '" + ks.name + "' (" + std::to_string(ks.size) +
                              " bytes) is not this machine's",
                          kExitBadInput);
      for (const KeyframePage& p : ks.pages) snap.memory.set_page(slot->id, p.index, p.bytes.data());
    }
  };
  try {
    read_keyframe_chain(reader, index, [&](const Keyframe& k) {
      apply(k);
      last = k;  // in the end, the devices, CPU and counters of the one wanted
    });
  } catch (const TraceError& e) {
    throw SystemError(e.what(), kExitBadInput);
  }
  // A keyframe of a recording that counts instructions may stand inside
  // guest execution, where only a count finds it again: restored on emu.
  if (last.icount && !m.vcpu().instruction_count())
    throw SystemError(reader.path() + ": keyframe at event " + std::to_string(last.event_ordinal) +
                          " is of a recording that counts instructions (" + reader.header().backend +
                          "); restore it with --backend emu, or replay from the start",
                      kExitBadInput);
  snap.cpu.regs = last.registers;
  snap.cpu.fpu = last.fpu;
  snap.cpu.interrupt_shadow = last.interrupt_shadow;
  snap.cpu.icount = last.icount;
  snap.exits = last.exit_ordinal;
  snap.interrupts = last.interrupts;
  snap.async = last.async;
  snap.clock_last_ns = last.clock_last_ns;
  snap.clock_skipped_ns = last.clock_skipped_ns;
  for (const KeyframeDevice& d : last.devices) snap.devices.emplace_back(d.name, d.state);
  m.start_time();  // timed devices start first; their restored state replaces what start() set
  try {
    m.restore(snap);
  } catch (const std::exception& e) {
    throw SystemError(reader.path() + ": keyframe at event " + std::to_string(last.event_ordinal) +
                          " cannot be restored: " + e.what(),
                      kExitBadInput);
  }
  ReplayerState rs;
  rs.consumed = last.event_ordinal;
  rs.last_clock = last.replay_clock_ns;
  // A backend without a count checks the recorded changed-pages digests
  // from the keyframe's reference on (a recording with counts has none).
  rs.digest_reference.emplace();
  if (!last.digest_reference && !last.icount)
    throw SystemError(reader.path() + ": keyframe at event " + std::to_string(last.event_ordinal) +
                          " has neither an instruction count nor the changed-pages digest's reference",
                      kExitBadInput);
  if (last.digest_reference)
    for (const KeyframeSlot& ks : *last.digest_reference) {
      const MemorySlot* slot = memory.slot_by_name(ks.name);
      if (!slot || slot->size != ks.size)
        throw SystemError(reader.path() + ": keyframe at event " + std::to_string(last.event_ordinal) +
                              ": digest reference slot '" + ks.name + "' is not this machine's",
                          kExitBadInput);
      for (const KeyframePage& p : ks.pages)
        rs.digest_reference->push_back(ChangedPagesDigest::ReferencePage{slot->id, p.index, p.bytes});
    }
  try {
    replayer.restore_state(rs);
  } catch (const std::invalid_argument& e) {
    throw SystemError(reader.path() + ": keyframe at event " + std::to_string(last.event_ordinal) +
                          " cannot be restored: " + e.what(),
                      kExitBadInput);
  }
  ReplayStart start;
  start.from_keyframe = true;
  start.keyframe = index;
  start.event = last.event_ordinal;
  start.icount = last.icount;
  start.display_frames = last.display.frames;
  return start;
}

ReplayOutcome replay_trace(const std::string& trace_path, const ReplaySettings& settings) {
  std::unique_ptr<TraceReader> reader = open_replay_trace(trace_path);
  const TraceHeader& h = reader->header();
  auto sys = replay_system(*reader, settings);
  ReplayOptions options = settings.options;
  options.verify_cpu_checksums = options.verify_cpu_checksums && sys->backend() == h.backend;
  Replayer replayer(*reader, sys->machine(), options);
  sys->machine().add_tap(&replayer);
  sys->machine().set_input_authority(replayer);
  // --until-icount before the recorded limit stops there; at or after it,
  // the recorded limit ends the run as it ended when recorded.
  const std::optional<uint64_t> recorded_limit = h.machine.max_instructions;
  const bool until_icount_first =
      options.until_icount && (!recorded_limit || *options.until_icount < *recorded_limit);
  if (until_icount_first) sys->machine().set_instruction_limit(options.until_icount);
  std::unique_ptr<ProgressTap> progress;
  if (settings.progress) {
    progress = std::make_unique<ProgressTap>(replayer, reader->event_count(), settings.progress);
    sys->machine().add_tap(progress.get());
  }
  std::unique_ptr<DisplaySampler> sampler;
  if (settings.on_frame) {
    sampler = std::make_unique<DisplaySampler>(
        sys->machine().memory(), sys->vga(),
        [&](const DisplayFrameEvent& e, const Frame& f) { settings.on_frame(e.guest_ns, f); });
    sys->machine().add_timed_device(sampler.get());
    sys->machine().add_tap_front(sampler.get());
    sys->machine().add_device_state("display-sampler", sampler.get());  // restored from a keyframe
  }
  ReplayStart start;
  if (settings.from_keyframe) {
    if (*settings.from_keyframe >= reader->keyframes().size())
      throw SystemError("keyframe " + std::to_string(*settings.from_keyframe) + ": '" + trace_path + "' has " +
                            std::to_string(reader->keyframes().size()) + " keyframes",
                        kExitBadInput);
    start = restore_keyframe(*reader, *settings.from_keyframe, *sys, replayer);
    start.note = "starting at keyframe " + std::to_string(start.keyframe) + ": event " + std::to_string(start.event);
  } else if (settings.from_event) {
    const uint64_t from = *settings.from_event;
    if (from > reader->event_count())
      throw SystemError("--from " + std::to_string(from) + ": '" + trace_path + "' has only " +
                            std::to_string(reader->event_count()) + " events",
                        kExitBadInput);
    std::optional<size_t> k = latest_keyframe_at_or_before(*reader, from);
    if (!k) {
      start.note = "no keyframe at or before event " + std::to_string(from) + " (" +
                   std::to_string(reader->keyframes().size()) + " keyframes in the trace); replaying from the start";
    } else {
      try {
        start = restore_keyframe(*reader, *k, *sys, replayer);
        start.note = "starting at keyframe " + std::to_string(*k) + " of " +
                     std::to_string(reader->keyframes().size()) + ": event " + std::to_string(start.event) +
                     (start.icount ? ", icount " + std::to_string(*start.icount) : std::string()) +
                     " (for --from " + std::to_string(from) + ")";
      } catch (const KeyframeUnusable& e) {
        start = ReplayStart{};
        start.note = std::string(e.what()) + "; replaying from the start";
      }
    }
  }
  if (settings.on_start) settings.on_start(start);
  if (settings.on_search_point)
    sys->machine().set_search_observer(
        [&](uint64_t pc, uint64_t stops) { settings.on_search_point(replayer.events_consumed(), pc, stops); });

  auto started = std::chrono::steady_clock::now();
  RunResult r = sys->run();
  ReplayOutcome out;
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.backend = sys->backend();
  out.recorded_backend = h.backend;
  out.events = replayer.events_consumed();
  out.exits = r.exits;
  out.instructions = sys->machine().vcpu().instruction_count();
  out.search = sys->machine().search_stats();
  out.ram_sha256 = sys->ram_sha256();
  out.start = start;
  if (const auto& end = reader->end()) out.record_wall_seconds = double(end->record_wall_ns) / 1e9;
  out.divergence = replayer.divergence();
  out.exit_status = r.exit_status;
  out.message = r.message;
  if (out.divergence) {
    out.exit_status = kExitDivergence;
    return out;
  }
  if (r.reason == StopReason::TapRequest || (until_icount_first && r.reason == StopReason::InstructionLimit)) {
    out.exit_status = kExitOk;
    if (r.reason == StopReason::InstructionLimit) out.message = "stopped at icount " + std::to_string(*options.until_icount);
    return out;
  }
  // The guest ran to its end: it must be the recorded end, exactly.
  const auto& end = reader->end();
  if (!end) {
    out.exit_status = kExitOk;
    out.message = "guest stopped (" + r.message + "); the trace has no end record to compare with";
    return out;
  }
  out.final_state_checked = true;
  auto mismatch = [&](const std::string& what, const std::string& expected, const std::string& actual) {
    DivergenceReport d;
    d.event_ordinal = replayer.events_consumed();
    d.position = sys->machine().position();
    d.what = what;
    d.expected = expected;
    d.actual = actual;
    capture_cpu(d, sys->machine().vcpu(), sys->machine().memory());
    out.divergence = d;
    out.exit_status = kExitDivergence;
    out.message = d.headline();
  };
  if (r.reason != end->reason || r.exit_status != end->exit_status) {
    mismatch("end of run", std::string(stop_reason_name(end->reason)) + " status " + std::to_string(end->exit_status),
             std::string(stop_reason_name(r.reason)) + " status " + std::to_string(r.exit_status));
  } else if (out.ram_sha256 != end->ram_sha256) {
    mismatch("final guest RAM SHA-256", to_hex(end->ram_sha256), to_hex(out.ram_sha256));
  } else if (sys->backend() == h.backend &&
             !same_execution_point(sys->machine().vcpu().get_registers(), end->final_registers)) {
    mismatch("final registers", format_registers(end->final_registers),
             format_registers(sys->machine().vcpu().get_registers()));
  } else if (r.exits != end->exit_count) {
    mismatch("exit count", std::to_string(end->exit_count), std::to_string(r.exits));
  } else {
    out.exit_status = kExitOk;
    out.message = "replayed " + std::to_string(out.events) + " events exactly; guest ended with status " +
                  std::to_string(r.exit_status);
  }
  return out;
}

}  // namespace rrvm
