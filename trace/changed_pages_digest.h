// The memory half of an asynchronous point's identity on backends without an
// instruction count (kvm): SHA-256 over the RAM pages whose content changed
// since the previous point, with their addresses.
//
// Why "changed" and not "dirty": KVM's dirty log also reports pages the guest
// only read, when that read first mapped a page, and such first mappings do
// not fall at the same points in a record and its replay. Pages reported
// dirty are therefore compared with a copy of RAM taken at the previous point;
// only real changes enter the digest. Record and replay compute it the same way.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "vmm/guest_memory.h"
#include "vmm/sha256.h"

namespace rrvm {

// Only mapped RAM slots take part: VRAM's dirty log belongs to the display.
bool is_cpu_ram(const MemorySlot& slot);

class ChangedPagesDigest {
 public:
  // Copies RAM as it is now (after the image is loaded, before the first run).
  explicit ChangedPagesDigest(GuestMemory& memory);

  // Adds the pages reported dirty since the last call to the candidate set.
  void collect();
  // Digest of the candidate pages whose content differs from the copy.
  Sha256Digest digest();
  // The current point is the new reference: copy the changed pages, clear.
  void commit();

  // For a timeline's checkpoints: the reference differs from RAM only in
  // the candidate pages (and pages dirtied since the last collect), so those
  // pages of the reference and the candidate set say everything.
  struct State {
    std::map<uint32_t, DirtyBitmap> candidates;
    std::map<std::pair<uint32_t, uint64_t>, std::vector<uint8_t>> reference_pages;  // (slot, page) -> bytes
  };
  State save();
  // RAM must be as it was when `state` was saved (Machine::restore first).
  void restore(const State& state);

 private:
  template <typename F>
  void for_each_candidate(F&& f);

  GuestMemory& memory_;
  std::map<uint32_t, std::vector<uint8_t>> copy_;   // slot id -> RAM at the last point
  std::map<uint32_t, DirtyBitmap> candidates_;      // slot id -> pages reported dirty since
};

}  // namespace rrvm
