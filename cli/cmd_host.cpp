// `rrvm host`: what this host gives rrvm: which KVM /dev/kvm is, whether the
// kvm backend may use it, and whether a PMU counts instructions. With
// --kvm-usable it is the test suite's one rule for "run kvm tests directly"
// (tests/nested/run_nested.sh): exit 0 when the kvm backend can run here.
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "cli/commands.h"
#include "vmm/kvm/kvm_vcpu.h"
#include "vmm/machine.h"

namespace rrvm::cli {

namespace {

// A hardware instruction counter for this process (user space only).
bool host_has_pmu() {
  perf_event_attr attr{};
  attr.type = PERF_TYPE_HARDWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_HW_INSTRUCTIONS;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return false;
  close(int(fd));
  return true;
}

int host(bool kvm_usable_only) {
  KvmAvailability kvm = kvm_availability(unsupported_kvm_allowed());
  const char* label = !kvm.usable ? "not usable" : kvm.hardware ? "usable" : "usable, UNSUPPORTED (opt-in)";
  if (kvm_usable_only) {
    std::printf("kvm: %s: %s\n", label, kvm.detail.c_str());
    return kvm.usable ? kExitOk : kExitBackendUnavailable;
  }
  std::printf("kvm host: %s (%s)\n", kvm_host_kind_name(kvm.kind), kvm.detail.c_str());
  std::printf("backend kvm: %s%s\n", label,
              kvm.usable ? "" : "; rrvm runs on emu here, and the kvm tests boot the nested-KVM harness");
  std::printf("backend emu: usable (Unicorn, instruction-exact)\n");
  std::printf("backend auto: %s\n", kvm.usable && kvm.hardware ? "kvm" : "emu");
  std::printf("pmu: %s\n", host_has_pmu() ? "yes (hardware instruction counter)" : "no");
  return kExitOk;
}
}  // namespace

Command add_host_command(CLI::App& app) {
  auto kvm_usable_only = std::make_shared<bool>(false);
  auto* cmd =
      app.add_subcommand("host", "Describe what this host gives rrvm: the kind of /dev/kvm, usable backends, PMU");
  cmd->add_flag("--kvm-usable", *kvm_usable_only,
                "print one line and exit 0 when the kvm backend can run here, " +
                    std::to_string(kExitBackendUnavailable) + " when it cannot");
  return {cmd, [kvm_usable_only] { return host(*kvm_usable_only); }};
}

}  // namespace rrvm::cli
