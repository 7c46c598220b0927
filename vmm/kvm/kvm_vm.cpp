#include "vmm/kvm/kvm_vm.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/kvm.h>

#include <cstring>
#include <stdexcept>

#include "vmm/kvm/kvm_host.h"
#include "vmm/vcpu.h"

namespace rrvm::kvm {

namespace {
// Where KVM on Intel without unrestricted guest keeps its real-mode helpers
// (the addresses QEMU uses, just below the BIOS ROM); ignored on AMD.
constexpr uint64_t kIdentityMapAddress = 0xFEFFC000;
constexpr uint64_t kTssAddress = 0xFEFFD000;

bool has_cap(int fd, long cap) { return ioctl_retry(fd, KVM_CHECK_EXTENSION, cap) > 0; }
}  // namespace

Fd open_kvm_system(const KvmHostVerdict& host, bool allow_unsupported, std::string* why_not) {
  if (!host.hardware && !(allow_unsupported && host.kind != KvmHostKind::None)) {
    if (why_not) *why_not = host.description;
    return Fd();
  }
  Fd fd(open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!fd) {
    if (why_not)
      *why_not = std::string("cannot open /dev/kvm: ") + std::strerror(errno) +
                 " (no KVM on this host or no permission; use --backend emu)";
    return Fd();
  }
  int version = ioctl_retry(fd.get(), KVM_GET_API_VERSION, 0ul);
  if (version != KVM_API_VERSION) {
    if (why_not)
      *why_not = "/dev/kvm reports API version " + std::to_string(version) + ", rrvm needs " +
                 std::to_string(KVM_API_VERSION);
    return Fd();
  }
  struct Needed {
    long cap;
    const char* name;
  };
  for (Needed n : {Needed{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                   Needed{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
                   Needed{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"}}) {
    if (!has_cap(fd.get(), n.cap)) {
      if (why_not) *why_not = std::string("/dev/kvm lacks ") + n.name + "; the kernel is too old";
      return Fd();
    }
  }
  return fd;
}

KvmVm::KvmVm(GuestMemory& memory) : memory_(memory) {
  std::string why;
  system_ = open_kvm_system(classify_kvm_host(probe_kvm_host()), unsupported_kvm_allowed(), &why);
  if (!system_) throw VcpuError("kvm: " + why);
  vm_ = Fd(ioctl_retry(system_.get(), KVM_CREATE_VM, 0ul));
  if (!vm_) fail("KVM_CREATE_VM");
  int slots = ioctl_retry(system_.get(), KVM_CHECK_EXTENSION, long(KVM_CAP_NR_MEMSLOTS));
  max_slots_ = slots > 0 ? uint32_t(slots) : 32;  // KVM's historic minimum
  readonly_supported_ = has_cap(vm_.get(), KVM_CAP_READONLY_MEM);
  if (has_cap(vm_.get(), KVM_CAP_SET_TSS_ADDR)) {
    uint64_t identity = kIdentityMapAddress;
    if (has_cap(vm_.get(), KVM_CAP_SET_IDENTITY_MAP_ADDR) &&
        ioctl_retry(vm_.get(), KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0)
      fail("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl_retry(vm_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(kTssAddress)) < 0)
      fail("KVM_SET_TSS_ADDR");
  }
  sync_memory_map();
  memory_.set_dirty_source(
      [this](const MemorySlot& slot, DirtyBitmap& accumulate) { collect_dirty(slot, accumulate); });
}

KvmVm::~KvmVm() { memory_.set_dirty_source({}); }

void KvmVm::set_region(uint32_t slot, uint64_t guest_base, uint64_t size, uint8_t* host,
                       bool log_dirty, bool read_only) {
  if (read_only && !readonly_supported_)
    throw VcpuError("kvm: this host's KVM lacks KVM_CAP_READONLY_MEM, which read-only guest memory (ROM) needs");
  kvm_userspace_memory_region region{};
  region.slot = slot;
  // A read-only slot's guest writes exit as MMIO writes.
  region.flags = (log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0) | (read_only ? KVM_MEM_READONLY : 0);
  region.guest_phys_addr = guest_base;
  region.memory_size = size;  // 0 deletes the slot
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  if (ioctl_retry(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
    fail(fmt::format("KVM_SET_USER_MEMORY_REGION (slot {}, guest {:#x}, {} bytes)", slot, guest_base, size));
}

void KvmVm::sync_memory_map() {
  if (memory_.generation() == generation_seen_) return;
  const auto& slots = memory_.slots();
  if (slots.size() > max_slots_)
    throw VcpuError("kvm: guest has " + std::to_string(slots.size()) + " memory slots, this host's KVM allows " +
                    std::to_string(max_slots_));
  registered_.resize(slots.size());
  carried_dirty_.resize(slots.size());
  auto wanted = [](const MemorySlot& s, const Registered& r) {
    return s.mapped && r.present && r.guest_base == s.guest_base && r.size == s.size &&
           r.host == s.host && r.log_dirty == s.log_dirty && r.read_only == s.read_only;
  };
  // Deletions first, so a slot moving onto a range another slot just left
  // never overlaps it inside KVM.
  for (const auto& s : slots) {
    Registered& r = registered_[s.id];
    if (!r.present || wanted(s, r)) continue;
    if (r.log_dirty) {
      // Deleting the slot drops KVM's log; keep the bits for the next collect.
      carried_dirty_[s.id].resize((r.size / kPageSize + 63) / 64, 0);
      read_dirty_log(s.id, carried_dirty_[s.id]);
    }
    set_region(s.id, r.guest_base, 0, r.host, false, false);
    r = Registered{};
  }
  for (const auto& s : slots) {
    Registered& r = registered_[s.id];
    if (!s.mapped || r.present) continue;
    set_region(s.id, s.guest_base, s.size, s.host, s.log_dirty, s.read_only);
    r = Registered{true, s.guest_base, s.size, s.host, s.log_dirty, s.read_only};
  }
  generation_seen_ = memory_.generation();
}

void KvmVm::read_dirty_log(uint32_t slot, DirtyBitmap& accumulate) {
  const Registered& r = registered_[slot];
  DirtyBitmap bits((r.size / kPageSize + 63) / 64, 0);
  kvm_dirty_log log{};
  log.slot = slot;
  log.dirty_bitmap = bits.data();
  if (ioctl_retry(vm_.get(), KVM_GET_DIRTY_LOG, &log) < 0)
    fail("KVM_GET_DIRTY_LOG (slot " + std::to_string(slot) + ")");
  if (accumulate.size() < bits.size()) accumulate.resize(bits.size(), 0);
  for (size_t i = 0; i < bits.size(); ++i) accumulate[i] |= bits[i];
}

void KvmVm::collect_dirty(const MemorySlot& slot, DirtyBitmap& accumulate) {
  if (slot.id >= registered_.size()) return;
  DirtyBitmap& carried = carried_dirty_[slot.id];
  for (size_t i = 0; i < carried.size() && i < accumulate.size(); ++i) accumulate[i] |= carried[i];
  carried.clear();
  const Registered& r = registered_[slot.id];
  if (r.present && r.log_dirty) read_dirty_log(slot.id, accumulate);
}

}  // namespace rrvm::kvm
