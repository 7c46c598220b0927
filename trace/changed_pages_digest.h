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

  // The reference's pages whose content differs from RAM now, with the
  // reference's content: with RAM itself, the whole state of the digest
  // (every page that differs was written, so is a candidate; candidates
  // whose content is the reference's count for nothing). A keyframe keeps
  // them (trace.capnp Keyframe.digestReference).
  struct ReferencePage {
    uint32_t slot = 0;   // slot id
    uint32_t page = 0;   // page index within the slot
    std::vector<uint8_t> bytes;
    bool operator==(const ReferencePage&) const = default;
  };
  std::vector<ReferencePage> reference_changes() const;
  // Starts again from a restored machine: RAM as it is now is the
  // reference, except `changes` (reference_changes() where the machine's
  // state was taken), which are the candidates.
  void restart(const std::vector<ReferencePage>& changes);

 private:
  template <typename F>
  void for_each_candidate(F&& f);

  GuestMemory& memory_;
  std::map<uint32_t, std::vector<uint8_t>> copy_;   // slot id -> RAM at the last point
  std::map<uint32_t, DirtyBitmap> candidates_;      // slot id -> pages reported dirty since
};

}  // namespace rrvm
