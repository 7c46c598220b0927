// What kind of KVM this host offers, and whether rrvm's kvm backend may use
// it. One rule, used by the backend choice (`--backend kvm|auto`), by
// `rrvm host`, by the kvm tests and by tests/nested/run_nested.sh (through
// `rrvm host --kvm-usable`).
//
// The signal: which vendor module implements /dev/kvm, as the kernel lists
// it under /sys/module (built-in modules with parameters are listed too;
// kvm_intel and kvm_amd always have some), cross-checked against the CPU
// flag of its hardware extension (vmx / svm in /proc/cpuinfo). The vendor
// module is what decides KVM's semantics (exits, interrupt windows, shutdown),
// and a capability check cannot tell them apart: PVM (kvm_pvm) answers the
// same KVM_CHECK_EXTENSION queries as kvm_amd while running guests without
// hardware virtualisation. Anything that is not kvm_intel + vmx or
// kvm_amd + svm is not hardware KVM: PVM, or an unknown kind.
#pragma once
#include <string>
#include <vector>

namespace rrvm {

enum class KvmHostKind {
  None,     // /dev/kvm missing or cannot be opened
  Intel,    // kvm_intel with VT-x (vmx)
  Amd,      // kvm_amd with AMD-V (svm)
  Pvm,      // kvm_pvm: paravirtual KVM, no hardware virtualisation
  Unknown,  // /dev/kvm opens but no known vendor module backs it
};

const char* kvm_host_kind_name(KvmHostKind kind);

// What the kernel reports, gathered by probe_kvm_host() or made up by tests.
struct KvmHostFacts {
  bool device_opens = false;
  std::string open_error;                // why /dev/kvm did not open
  std::vector<std::string> kvm_modules;  // names under /sys/module starting "kvm"
  bool cpu_vmx = false, cpu_svm = false;  // flags of the first CPU in /proc/cpuinfo
};

struct KvmHostVerdict {
  KvmHostKind kind = KvmHostKind::None;
  bool hardware = false;  // kvm_intel or kvm_amd with its CPU flag
  // One clause for messages: what was found, e.g. "kvm_pvm (PVM: paravirtual
  // KVM without VT-x/AMD-V; no vmx/svm CPU flag)".
  std::string description;
};

// Reads the facts from /dev/kvm, `sys_module_dir` and `cpuinfo_path`.
KvmHostFacts probe_kvm_host(const std::string& sys_module_dir = "/sys/module",
                            const std::string& cpuinfo_path = "/proc/cpuinfo");

// The rule (a pure function: unit-tested with made-up facts).
KvmHostVerdict classify_kvm_host(const KvmHostFacts& facts);

// Environment variable that lets `--backend kvm` use a KVM that is not
// hardware KVM (PVM, unknown), for experiments: such runs are labelled
// unsupported, and `auto` still never picks it.
constexpr const char* kAllowUnsupportedKvmEnv = "RRVM_ALLOW_UNSUPPORTED_KVM";
bool unsupported_kvm_allowed();

}  // namespace rrvm
