#include "system/record_session.h"

#include <chrono>
#include <cstdio>
#include <memory>

#include "record/recorder.h"
#include "trace/trace_writer.h"
#include "system/display_sampler.h"
#include "system/input_files.h"
#include "vmm/version.h"

namespace rrvm {

namespace {
TraceHeader make_header(PcSystem& sys, const std::vector<std::string>& command_line) {
  const SystemConfig& c = sys.config();
  TraceHeader h;
  h.rrvm_version = kRrvmVersion;
  h.backend = sys.backend();
  h.machine.memory_size = c.mem_bytes;
  h.machine.rtc_base_seconds = c.rtc_base;
  h.machine.serial_input = c.serial_in_path.has_value();
  h.machine.load_address = c.load.load_address;
  h.machine.entry = c.load.entry;
  h.machine.max_instructions = c.max_instructions;
  h.machine.patch_tsc = c.patch_tsc || c.linux_boot.has_value();
  for (const auto& s : sys.machine().memory().slots())
    h.memory_map.push_back({s.name, s.guest_base, s.size, s.log_dirty, s.mapped});
  for (const auto& d : sys.device_descriptions()) h.devices.push_back({d.first, d.second});
  if (c.firmware) {
    h.machine.firmware = true;
    h.machine.boot_device = c.firmware->boot;
  }
  if (c.linux_boot) {
    h.machine.linux_boot = true;
    h.machine.kernel_command_line = c.linux_boot->command_line;
  }
  h.cpuid = sys.cpuid();
  for (const SystemImage& i : sys.images()) h.images.push_back({i.path, i.sha256, i.size, i.elf, i.role});
  h.initial_registers = sys.image().initial;
  h.command_line = command_line;
  return h;
}
}  // namespace

RecordOutcome record_to_trace(const SystemConfig& config_in, const std::string& trace_path,
                              const std::vector<std::string>& command_line, bool announce,
                              FrameObserver on_frame, uint64_t keyframe_interval,
                              const std::atomic<bool>* interrupt, uint64_t keyframe_interval_ms,
                              bool keyframe_spacing_adapts) {
  refuse_output_over_input(input_files(config_in), trace_path, "-o");
  SystemConfig config = config_in;
  config.log_ram_dirty = true;  // kvm kick points carry a digest of dirtied RAM
  auto sys = PcSystem::create(config);
  if (announce) std::fprintf(stderr, "rrvm: backend %s (%s)\n", sys->backend().c_str(), sys->backend_reason().c_str());

  TraceWriter writer(trace_path, make_header(*sys, command_line));
  RecorderOptions recorder_options;
  recorder_options.keyframe_interval = keyframe_interval;
  recorder_options.keyframe_interval_ms = keyframe_interval_ms;
  recorder_options.keyframe_spacing_adapts = keyframe_spacing_adapts;
  recorder_options.interrupt = interrupt;
  Recorder recorder(writer, sys->machine(), recorder_options);
  sys->machine().add_tap(&recorder);
  DisplaySampler sampler(sys->machine().memory(), sys->vga(),
                         [&](const DisplayFrameEvent& e, const Frame& f) {
                           recorder.append(TraceEvent{e});
                           if (on_frame) on_frame(e, f);
                         });
  sys->machine().add_timed_device(&sampler);
  // Keyframes carry the sampler too: a replay that writes frames from one
  // goes on with the frames the recording had.
  sys->machine().add_device_state("display-sampler", &sampler);
  // Before the recorder, so a frame taken at the end lands before the end record.
  sys->machine().add_tap_front(&sampler);

  auto start = std::chrono::steady_clock::now();
  recorder.mark_run_start();
  RecordOutcome out;
  out.result = sys->run();
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.backend = sys->backend();
  out.events = writer.events_written();
  out.tsc_sites = sys->tsc_scan().sites.size();
  out.tsc_patched = sys->tsc_patch().patched;
  out.tsc_reads = sys->machine().tsc_reads();
  out.trace_bytes = writer.bytes_written();
  out.frames = sampler.frames();
  out.keyframes = recorder.keyframes_written();
  out.keyframe_seconds = recorder.keyframe_seconds();
  out.keyframes_on = recorder.writes_keyframes() || recorder.keyframe_error();
  out.keyframe_error = recorder.keyframe_error();
  out.write_error = recorder.write_error();
  return out;
}

}  // namespace rrvm
