// A copy of guest memory kept page by page, with pages shared between copies
// whose content is the same: snapshots (checkpoints, keyframes) and the
// changed-pages digest keep many copies of RAM, and most pages do not change
// between two of them. A copy costs only the pages that changed since the
// copy it was taken against.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "vmm/guest_memory.h"

namespace rrvm {

using PageBytes = std::array<uint8_t, kPageSize>;
// Immutable once made; null stands for a page of zeros.
using SharedPage = std::shared_ptr<const PageBytes>;

class RamImage {
 public:
  struct Slot {
    uint32_t id = 0;
    std::vector<SharedPage> pages;  // one per page of the slot
  };

  RamImage() = default;

  // The content of every slot `include` accepts. Pages equal to those of
  // `previous` (same slot, same index) are shared with it, not copied; with
  // `candidates` (slot id -> pages that may have changed since `previous`),
  // only those are compared, the others shared as they are.
  static RamImage capture(const GuestMemory& memory, const std::function<bool(const MemorySlot&)>& include,
                          const RamImage* previous = nullptr,
                          const std::function<const DirtyBitmap*(uint32_t)>& candidates = {});

  // Writes back every page whose content differs from guest memory, calling
  // `changed(gpa)` for each page written. Slots must be the same as at capture.
  void restore(GuestMemory& memory, const std::function<void(uint64_t gpa)>& changed = {}) const;

  const std::vector<Slot>& slots() const { return slots_; }
  const Slot* slot(uint32_t id) const;
  // A page's bytes (a static page of zeros for a null page); nullptr outside.
  const uint8_t* page(uint32_t slot_id, uint64_t index) const;
  // Replaces one page (the changed-pages digest's commit).
  void set_page(uint32_t slot_id, uint64_t index, const uint8_t* bytes);

  // Pages (not null) this image holds, and those of them `other` does not
  // share: the memory a checkpoint costs on top of its neighbour.
  uint64_t stored_pages() const;
  uint64_t pages_not_in(const RamImage& other) const;

 private:
  std::vector<Slot> slots_;
};

// A fresh page holding `bytes` (kPageSize of them), or null for zeros.
SharedPage make_page(const uint8_t* bytes);

}  // namespace rrvm
