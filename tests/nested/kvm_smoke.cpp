// Smoke test of the KVM API wherever run_nested.sh runs it (directly on a
// host with /dev/kvm, else inside QEMU's emulated AMD CPU with kvm_amd).
// A 3-instruction real-mode guest writes AL to the COM1 data port and halts;
// the test checks that KVM reports exactly that port write and then the halt.
// First it says what kind of KVM it found, by the rule rrvm's kvm backend
// uses (vmm/kvm/kvm_host.h), and fails unless that is hardware KVM: inside
// the harness that is kvm_amd, which shows the detection on a real kernel.
// Exits 0 on success; otherwise prints one "kvm_smoke: FAIL ..." line.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "vmm/kvm/kvm_host.h"

namespace rrvm {
namespace {

constexpr uint64_t kGuestMemSize = 0x10000;  // 64 KiB at guest-physical 0
constexpr uint64_t kCodeAddr = 0x1000;
constexpr uint16_t kComPort = 0x3f8;
constexpr uint8_t kOutByte = 0x5a;  // put in AL by KVM_SET_REGS, so registers reach the guest

// mov dx, 0x3f8 ; out dx, al ; hlt
constexpr uint8_t kGuestCode[] = {0xba, 0xf8, 0x03, 0xee, 0xf4};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "kvm_smoke: FAIL %s\n", what);
  std::exit(1);
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

int ioctl_or_fail(int fd, unsigned long request, unsigned long arg, const char* name) {
  int ret = ioctl(fd, request, arg);
  if (ret < 0) {
    char line[160];
    std::snprintf(line, sizeof line, "%s: %s", name, std::strerror(errno));
    fail(line);
  }
  return ret;
}

int run_test() {
  const KvmHostVerdict host = classify_kvm_host(probe_kvm_host());
  std::printf("kvm_smoke: host KVM: %s (%s)\n", kvm_host_kind_name(host.kind), host.description.c_str());
  check(host.hardware, "the KVM here is not hardware KVM (kvm_intel/kvm_amd), which run_nested.sh must provide");
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) {
    std::fprintf(stderr,
                 "kvm_smoke: FAIL open /dev/kvm: %s (run it through tests/nested/run_nested.sh)\n",
                 std::strerror(errno));
    return 1;
  }
  check(ioctl_or_fail(kvm, KVM_GET_API_VERSION, 0, "KVM_GET_API_VERSION") == KVM_API_VERSION,
        "KVM_GET_API_VERSION is not 12");

  int vm = ioctl_or_fail(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
  void* mem = mmap(nullptr, kGuestMemSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(mem != MAP_FAILED, "mmap of guest memory");
  std::memcpy(static_cast<uint8_t*>(mem) + kCodeAddr, kGuestCode, sizeof kGuestCode);

  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = kGuestMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem);
  ioctl_or_fail(vm, KVM_SET_USER_MEMORY_REGION, reinterpret_cast<unsigned long>(&region),
                "KVM_SET_USER_MEMORY_REGION");

  int vcpu = ioctl_or_fail(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
  int run_size = ioctl_or_fail(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
  check(run_size >= static_cast<int>(sizeof(kvm_run)), "KVM_GET_VCPU_MMAP_SIZE too small");
  void* run_map = mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  check(run_map != MAP_FAILED, "mmap of the kvm_run area");
  auto* run = static_cast<kvm_run*>(run_map);

  // Real mode with CS based at 0: the code runs at physical kCodeAddr.
  kvm_sregs sregs{};
  ioctl_or_fail(vcpu, KVM_GET_SREGS, reinterpret_cast<unsigned long>(&sregs), "KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  ioctl_or_fail(vcpu, KVM_SET_SREGS, reinterpret_cast<unsigned long>(&sregs), "KVM_SET_SREGS");
  kvm_regs regs{};
  regs.rip = kCodeAddr;
  regs.rax = kOutByte;
  regs.rflags = 0x2;  // bit 1 is reserved and must be set
  ioctl_or_fail(vcpu, KVM_SET_REGS, reinterpret_cast<unsigned long>(&regs), "KVM_SET_REGS");

  ioctl_or_fail(vcpu, KVM_RUN, 0, "KVM_RUN (first)");
  check(run->exit_reason == KVM_EXIT_IO, "first exit is not KVM_EXIT_IO");
  check(run->io.direction == KVM_EXIT_IO_OUT, "port access is not an OUT");
  check(run->io.port == kComPort, "OUT port is not 0x3f8");
  check(run->io.size == 1, "OUT size is not 1 byte");
  check(run->io.count == 1, "OUT count is not 1");
  check(run->io.data_offset + 1 <= static_cast<uint64_t>(run_size), "io.data_offset outside kvm_run");
  check(static_cast<uint8_t*>(run_map)[run->io.data_offset] == kOutByte, "OUT data is not AL");

  ioctl_or_fail(vcpu, KVM_RUN, 0, "KVM_RUN (second)");
  check(run->exit_reason == KVM_EXIT_HLT, "second exit is not KVM_EXIT_HLT");
  ioctl_or_fail(vcpu, KVM_GET_REGS, reinterpret_cast<unsigned long>(&regs), "KVM_GET_REGS");
  check(regs.rip == kCodeAddr + sizeof kGuestCode, "RIP after HLT is not just past the code");

  munmap(run_map, static_cast<size_t>(run_size));
  munmap(mem, kGuestMemSize);
  close(vcpu);
  close(vm);
  close(kvm);
  std::printf("kvm_smoke: PASS (OUT 0x%x size 1 data 0x%02x, then HLT)\n", kComPort, kOutByte);
  return 0;
}

}  // namespace
}  // namespace rrvm

int main() { return rrvm::run_test(); }
