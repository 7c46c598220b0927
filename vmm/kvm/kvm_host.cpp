#include "vmm/kvm/kvm_host.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rrvm {

const char* kvm_host_kind_name(KvmHostKind kind) {
  switch (kind) {
    case KvmHostKind::None: return "none";
    case KvmHostKind::Intel: return "intel";
    case KvmHostKind::Amd: return "amd";
    case KvmHostKind::Pvm: return "pvm";
    case KvmHostKind::Unknown: return "unknown";
  }
  return "unknown";
}

KvmHostFacts probe_kvm_host(const std::string& sys_module_dir, const std::string& cpuinfo_path) {
  KvmHostFacts f;
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    f.device_opens = true;
    close(fd);
  } else {
    f.open_error = std::strerror(errno);
  }
  if (DIR* d = opendir(sys_module_dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strncmp(e->d_name, "kvm", 3) == 0) f.kvm_modules.emplace_back(e->d_name);
    closedir(d);
    std::sort(f.kvm_modules.begin(), f.kvm_modules.end());
  }
  std::ifstream cpuinfo(cpuinfo_path);
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') == std::string::npos ? line.size() : line.find(':') + 1));
    for (std::string w; words >> w;) {
      if (w == "vmx") f.cpu_vmx = true;
      if (w == "svm") f.cpu_svm = true;
    }
    break;  // the first CPU speaks for all
  }
  return f;
}

KvmHostVerdict classify_kvm_host(const KvmHostFacts& f) {
  auto has = [&](const char* m) {
    return std::find(f.kvm_modules.begin(), f.kvm_modules.end(), m) != f.kvm_modules.end();
  };
  auto flags = [&] {
    std::string s = f.cpu_vmx ? "vmx" : "";
    if (f.cpu_svm) s += s.empty() ? "svm" : " svm";
    return s.empty() ? std::string("no vmx/svm CPU flag") : s + " CPU flag";
  };
  KvmHostVerdict v;
  if (!f.device_opens) {
    v.kind = KvmHostKind::None;
    v.description = "no usable /dev/kvm (cannot open it: " +
                    (f.open_error.empty() ? std::string("unknown error") : f.open_error) + ")";
    return v;
  }
  // kvm_pvm first: with it loaded beside a vendor module nobody can tell
  // which one serves /dev/kvm, so it is never taken for hardware KVM.
  if (has("kvm_pvm")) {
    v.kind = KvmHostKind::Pvm;
    v.description = "/dev/kvm is kvm_pvm (PVM: paravirtual KVM without VT-x/AMD-V; " + flags() + ")";
    return v;
  }
  if (has("kvm_intel") && f.cpu_vmx) {
    v.kind = KvmHostKind::Intel;
    v.hardware = true;
    v.description = "/dev/kvm is kvm_intel (VT-x)";
    return v;
  }
  if (has("kvm_amd") && f.cpu_svm) {
    v.kind = KvmHostKind::Amd;
    v.hardware = true;
    v.description = "/dev/kvm is kvm_amd (AMD-V)";
    return v;
  }
  v.kind = KvmHostKind::Unknown;
  std::string modules;
  for (const auto& m : f.kvm_modules) modules += (modules.empty() ? "" : ", ") + m;
  v.description = "/dev/kvm opens but is not kvm_intel with vmx or kvm_amd with svm (modules: " +
                  (modules.empty() ? std::string("none listed") : modules) + "; " + flags() + ")";
  return v;
}

bool unsupported_kvm_allowed() {
  const char* v = std::getenv(kAllowUnsupportedKvmEnv);
  return v && std::string(v) == "1";
}

}  // namespace rrvm
