// A KVM virtual machine: the /dev/kvm and VM descriptors, and the memslots
// that mirror GuestMemory's mapped slots (one KVM slot per GuestMemory slot,
// same number), with KVM's dirty log feeding GuestMemory::collect_dirty.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/kvm/kvm_fd.h"
#include "vmm/kvm/kvm_host.h"

namespace rrvm::kvm {

// Opens /dev/kvm when `host` says it is hardware KVM (another kind only when
// `allow_unsupported`) and checks the API version and the capabilities rrvm
// needs. Returns an invalid Fd and sets *why_not on failure.
Fd open_kvm_system(const KvmHostVerdict& host, bool allow_unsupported, std::string* why_not);

class KvmVm {
 public:
  // Creates the VM and registers every mapped slot. Throws std::runtime_error.
  explicit KvmVm(GuestMemory& memory);
  ~KvmVm();
  KvmVm(const KvmVm&) = delete;
  KvmVm& operator=(const KvmVm&) = delete;

  int system_fd() const { return system_.get(); }
  int vm_fd() const { return vm_.get(); }

  // Brings KVM's memslots in line with GuestMemory (moved, hidden, new slots).
  void sync_memory_map();

 private:
  struct Registered {
    bool present = false;
    uint64_t guest_base = 0;
    uint64_t size = 0;
    uint8_t* host = nullptr;
    bool log_dirty = false;
    bool read_only = false;
  };
  void set_region(uint32_t slot, uint64_t guest_base, uint64_t size, uint8_t* host,
                  bool log_dirty, bool read_only);
  // ORs KVM's dirty bits for `slot` into `accumulate` (and clears KVM's log).
  void read_dirty_log(uint32_t slot, DirtyBitmap& accumulate);
  void collect_dirty(const MemorySlot& slot, DirtyBitmap& accumulate);

  GuestMemory& memory_;
  Fd system_;
  Fd vm_;
  uint32_t max_slots_ = 0;
  bool readonly_supported_ = false;
  std::vector<Registered> registered_;    // by GuestMemory slot id
  std::vector<DirtyBitmap> carried_dirty_;  // read from KVM before a slot was re-registered
  uint64_t generation_seen_ = ~0ull;
};

}  // namespace rrvm::kvm
