// The rule that decides whether this host has hardware KVM, fed with the
// kernel's reports as they look on each kind of host (made-up facts, and
// fixture /sys/module and /proc/cpuinfo trees for the probe). Runs anywhere.
#include "vmm/kvm/kvm_host.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rrvm {
namespace {

KvmHostFacts opens_with(std::vector<std::string> modules, bool vmx, bool svm) {
  KvmHostFacts f;
  f.device_opens = true;
  f.kvm_modules = std::move(modules);
  f.cpu_vmx = vmx;
  f.cpu_svm = svm;
  return f;
}

TEST(KvmHost, NoDeviceIsNone) {
  KvmHostFacts f;
  f.open_error = "No such file or directory";
  KvmHostVerdict v = classify_kvm_host(f);
  EXPECT_EQ(v.kind, KvmHostKind::None);
  EXPECT_FALSE(v.hardware);
  EXPECT_NE(v.description.find("No such file or directory"), std::string::npos) << v.description;
}

TEST(KvmHost, IntelWithVmxIsHardware) {
  KvmHostVerdict v = classify_kvm_host(opens_with({"kvm", "kvm_intel"}, true, false));
  EXPECT_EQ(v.kind, KvmHostKind::Intel);
  EXPECT_TRUE(v.hardware);
  EXPECT_NE(v.description.find("kvm_intel"), std::string::npos);
}

TEST(KvmHost, AmdWithSvmIsHardware) {
  KvmHostVerdict v = classify_kvm_host(opens_with({"kvm", "kvm_amd"}, false, true));
  EXPECT_EQ(v.kind, KvmHostKind::Amd);
  EXPECT_TRUE(v.hardware);
}

TEST(KvmHost, PvmIsNotHardwareAndIsNamed) {
  // What today's development machines report: kvm + kvm_pvm, no vmx/svm.
  KvmHostVerdict v = classify_kvm_host(opens_with({"kvm", "kvm_pvm"}, false, false));
  EXPECT_EQ(v.kind, KvmHostKind::Pvm);
  EXPECT_FALSE(v.hardware);
  EXPECT_NE(v.description.find("kvm_pvm"), std::string::npos) << v.description;
  EXPECT_NE(v.description.find("PVM"), std::string::npos) << v.description;
}

TEST(KvmHost, PvmBesideAVendorModuleIsStillNotHardware) {
  // Which of the two serves /dev/kvm cannot be told: never hardware.
  KvmHostVerdict v = classify_kvm_host(opens_with({"kvm", "kvm_amd", "kvm_pvm"}, false, true));
  EXPECT_EQ(v.kind, KvmHostKind::Pvm);
  EXPECT_FALSE(v.hardware);
}

TEST(KvmHost, VendorModuleWithoutItsCpuFlagIsUnknown) {
  EXPECT_EQ(classify_kvm_host(opens_with({"kvm", "kvm_intel"}, false, true)).kind, KvmHostKind::Unknown);
  EXPECT_EQ(classify_kvm_host(opens_with({"kvm", "kvm_amd"}, true, false)).kind, KvmHostKind::Unknown);
}

TEST(KvmHost, NoVendorModuleIsUnknownAndListsWhatWasSeen) {
  KvmHostVerdict v = classify_kvm_host(opens_with({"kvm"}, true, true));
  EXPECT_EQ(v.kind, KvmHostKind::Unknown);
  EXPECT_FALSE(v.hardware);
  EXPECT_NE(v.description.find("modules: kvm"), std::string::npos) << v.description;
  EXPECT_NE(v.description.find("vmx svm"), std::string::npos) << v.description;
}

// The probe reads the module list and CPU flags from the paths it is given.
class KvmHostProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("rrvm-kvm-host-" + std::to_string(getpid()));
    std::filesystem::create_directories(root_ / "module");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  void module(const std::string& name) { std::filesystem::create_directories(root_ / "module" / name); }
  void cpuinfo(const std::string& text) { std::ofstream(root_ / "cpuinfo") << text; }
  KvmHostFacts probe() { return probe_kvm_host((root_ / "module").string(), (root_ / "cpuinfo").string()); }
  std::filesystem::path root_;
};

TEST_F(KvmHostProbe, ReadsModulesAndTheFirstCpusFlags) {
  module("kvm");
  module("kvm_amd");
  module("kvmgt_unrelated_but_prefixed");
  module("loop");
  cpuinfo("processor\t: 0\nflags\t\t: fpu vme svm lm\n\nprocessor\t: 1\nflags\t\t: fpu vmx\n");
  KvmHostFacts f = probe();
  EXPECT_EQ(f.kvm_modules, (std::vector<std::string>{"kvm", "kvm_amd", "kvmgt_unrelated_but_prefixed"}));
  EXPECT_TRUE(f.cpu_svm);
  EXPECT_FALSE(f.cpu_vmx);  // only the first CPU's line is read
}

TEST_F(KvmHostProbe, FlagWordsMatchWholeWordsOnly) {
  cpuinfo("flags\t: fpu svmx vmxe avx\n");
  KvmHostFacts f = probe();
  EXPECT_FALSE(f.cpu_svm);
  EXPECT_FALSE(f.cpu_vmx);
}

TEST_F(KvmHostProbe, MissingFilesGiveNoModulesAndNoFlags) {
  std::filesystem::remove_all(root_);
  KvmHostFacts f = probe();
  EXPECT_TRUE(f.kvm_modules.empty());
  EXPECT_FALSE(f.cpu_svm || f.cpu_vmx);
}

}  // namespace
}  // namespace rrvm
