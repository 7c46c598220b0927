// Guest RAM: guest-physical ranges backed by anonymous host memory, in slots
// (the model KVM's memslots use: guest-physical base -> host-virtual address).
// Every access from the VMM side is bounds-checked; a slot may ask for dirty
// page tracking, which the backend feeds (kvm dirty log, emu write hook) and
// host-side writes (image load, DMA) mark directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vmm/sha256.h"

namespace rrvm {

constexpr uint64_t kPageSize = 4096;

struct MemorySlot {
  uint32_t id = 0;
  uint64_t guest_base = 0;  // guest-physical, page aligned
  uint64_t size = 0;        // bytes, page aligned
  uint8_t* host = nullptr;  // host-virtual address of guest_base
  bool log_dirty = false;   // track written pages
  bool mapped = true;       // visible to the guest (a disabled PCI BAR is not)
  // Guest writes do not reach the memory: each is an MMIO write exit (ROM,
  // write-protected shadow RAM; KVM_MEM_READONLY semantics on both backends).
  bool read_only = false;
  // The host memory belongs to another slot (a second window onto the same
  // bytes, like the BIOS's alias below 1 MiB): not freed with this slot, not
  // hashed twice.
  bool alias = false;
  std::string name;         // "ram", "vram", ...
  uint64_t pages() const { return size / kPageSize; }
  bool contains(uint64_t gpa, uint64_t len) const {
    return gpa >= guest_base && len <= size && gpa - guest_base <= size - len;
  }
};

// A bitmap with one bit per page of a slot, bit i of word i/64.
using DirtyBitmap = std::vector<uint64_t>;

class GuestMemory {
 public:
  GuestMemory() = default;
  ~GuestMemory();
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Adds a RAM slot of `size` bytes at `guest_base` (both page aligned),
  // zero-filled. Throws std::invalid_argument on misalignment or on overlap
  // with a mapped slot (an unmapped slot may share guest addresses with
  // others: only one of them can be mapped at a time).
  const MemorySlot& add_slot(uint64_t guest_base, uint64_t size, std::string name,
                             bool log_dirty = false, bool mapped = true);
  // Adds a slot showing `size` bytes of slot `of` from `offset` on at
  // `guest_base` (page aligned, inside `of`), read-only to the guest. Same
  // overlap rule as add_slot.
  const MemorySlot& add_alias_slot(uint64_t guest_base, uint64_t size, std::string name, uint32_t of,
                                   uint64_t offset, bool mapped);

  // Moves a slot to a new guest-physical base (a PCI BAR reprogrammed by the
  // guest) or hides/shows it; contents are kept. Backends pick the change up
  // in Vcpu::sync_memory_map(). Throws std::invalid_argument on overlap.
  void move_slot(uint32_t id, uint64_t new_base);
  // Showing a slot that overlaps a mapped one throws std::invalid_argument.
  void set_slot_mapped(uint32_t id, bool mapped);
  void set_slot_read_only(uint32_t id, bool read_only);
  // Bumped on every add/move/map change, so backends can tell what changed.
  uint64_t generation() const { return generation_; }

  const std::vector<MemorySlot>& slots() const { return slots_; }
  const MemorySlot* find_slot(uint64_t gpa) const;
  const MemorySlot* slot_by_name(const std::string& name) const;

  // Host pointer for [gpa, gpa+len) when it lies inside one slot, else nullptr.
  uint8_t* host_ptr(uint64_t gpa, uint64_t len);
  const uint8_t* host_ptr(uint64_t gpa, uint64_t len) const;

  // Bounds-checked copies; false (and nothing copied) if any byte lies
  // outside RAM. Writes mark the touched pages dirty.
  bool read(uint64_t gpa, void* dst, uint64_t len) const;
  bool write(uint64_t gpa, const void* src, uint64_t len);

  // VMM-side writes (write(), and every mark_dirty() a device reports for
  // its own writes into a slot, e.g. VRAM) are announced to one observer: a
  // backend that caches translated guest code drops it for those bytes, so no
  // device has to know that code may run from the memory it writes.
  using WriteObserver = std::function<void(uint64_t gpa, uint64_t len)>;
  void set_write_observer(WriteObserver observer) { write_observer_ = std::move(observer); }

  // Dirty tracking. Backends that track writes in hardware install a source
  // that returns (and clears) the pages written since its last call.
  using DirtySource = std::function<void(const MemorySlot&, DirtyBitmap& accumulate)>;
  void set_dirty_source(DirtySource source) { dirty_source_ = std::move(source); }
  void mark_dirty(uint64_t gpa, uint64_t len);
  // Pages of slot `id` written since the previous call; clears the log.
  DirtyBitmap collect_dirty(uint32_t id);

  // SHA-256 over every mapped slot's bytes, in slot order, aliases skipped
  // (final-state checks).
  Sha256Digest content_sha256() const;
  // Turns dirty logging of a slot on or off (before a backend is created).
  void set_log_dirty(uint32_t id, bool on);

 private:
  void check_no_mapped_overlap(uint64_t base, uint64_t size, const std::string& name,
                               std::optional<uint32_t> except) const;
  std::vector<MemorySlot> slots_;
  std::vector<DirtyBitmap> host_dirty_;  // per slot, marked by VMM-side writes
  DirtySource dirty_source_;
  WriteObserver write_observer_;
  uint64_t generation_ = 0;
};

}  // namespace rrvm
