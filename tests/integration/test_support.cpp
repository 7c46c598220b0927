#include "tests/integration/test_support.h"

#include <unistd.h>

#include <stdexcept>

#include "vmm/kvm/kvm_vcpu.h"

namespace rrvm::test {

std::vector<std::string> available_backends() {
  std::vector<std::string> b{"emu"};
  std::string why;
  bool kvm = kvm_available(&why);
  const char* require = std::getenv("RRVM_REQUIRE_KVM");
  if (require && std::string(require) == "1" && !kvm)
    throw std::runtime_error("RRVM_REQUIRE_KVM=1 but kvm is unavailable: " + why);
  if (kvm) b.push_back("kvm");
  return b;
}

BackendKind backend_kind(const std::string& name) {
  return name == "kvm" ? BackendKind::Kvm : BackendKind::Emu;
}

std::string temp_path(const std::string& name) {
  static std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rrvm-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    return tmpl;
  }();
  return dir + "/" + name;
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  std::string p = temp_path(name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

SystemConfig guest_config(const guests::GuestSpec& spec, const std::string& backend, GuestRun& run,
                          const std::string& input_file) {
  SystemConfig c;
  c.backend = backend_kind(backend);
  c.image_path = spec.image_path;
  if (!input_file.empty()) c.serial_in_path = input_file;
  c.serial_out = [&run](uint8_t b) { run.serial.push_back(char(b)); };
  c.debug_out = [&run](uint8_t b) { run.debugcon.push_back(char(b)); };
  c.max_instructions = 2'000'000'000ull;  // a runaway guest fails instead of hanging (emu)
  return c;
}

GuestRun run_guest(const guests::GuestSpec& spec, const std::string& backend) {
  GuestRun run;
  std::string input = spec.input.empty() ? "" : write_temp(spec.name + ".input", spec.input);
  auto sys = PcSystem::create(guest_config(spec, backend, run, input));
  run.result = sys->run();
  run.icount = sys->machine().vcpu().instruction_count();
  run.ram = sys->ram_sha256();
  run.regs = sys->machine().vcpu().get_registers();
  return run;
}

ReplayOutcome replay_with_serial(const std::string& trace, const std::string& backend, std::string* serial) {
  ReplaySettings s;
  s.backend = backend_kind(backend);
  s.serial_out = [serial](uint8_t b) { serial->push_back(char(b)); };
  return replay_trace(trace, s);
}

}  // namespace rrvm::test
