// ChangedPagesDigest's saved state (reference_changes / restart: a kvm
// timeline's checkpoints and kvm keyframes): going back
// to a saved point and doing the same writes again gives the same digests as
// the first time, and other writes give other digests.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "trace/changed_pages_digest.h"

namespace rrvm {
namespace {

constexpr uint64_t kRam = 16 * kPageSize;

struct Rig {
  GuestMemory memory;
  Rig() { memory.add_slot(0, kRam, "ram", /*log_dirty=*/true); }
  void poke(uint64_t gpa, uint8_t v) { ASSERT_TRUE(memory.write(gpa, &v, 1)); }
  std::vector<uint8_t> ram() const {
    const MemorySlot& s = memory.slots().front();
    return {s.host, s.host + s.size};
  }
  void set_ram(const std::vector<uint8_t>& bytes) {
    std::memcpy(memory.slots().front().host, bytes.data(), bytes.size());
    memory.collect_dirty(memory.slots().front().id);  // a restore's writes are not the guest's
  }
};

Sha256Digest point(ChangedPagesDigest& d) {
  d.collect();
  Sha256Digest out = d.digest();
  d.commit();
  return out;
}

TEST(ChangedPagesState, ARestoredStateGivesTheDigestsOfTheRunItWasSavedIn) {
  Rig rig;
  ChangedPagesDigest digest(rig.memory);
  rig.poke(1 * kPageSize, 1);
  point(digest);                         // a point: page 1 is in the reference
  rig.poke(2 * kPageSize + 5, 7);        // changed since the point, before the checkpoint
  rig.poke(1 * kPageSize, 9);
  const std::vector<uint8_t> ram_at_checkpoint = rig.ram();
  const auto saved = digest.reference_changes();
  rig.poke(3 * kPageSize, 4);            // after the checkpoint
  const Sha256Digest first = point(digest);
  rig.poke(2 * kPageSize + 5, 8);
  const Sha256Digest second = point(digest);

  // Elsewhere in the timeline, then back to the checkpoint.
  rig.poke(6 * kPageSize, 6);
  point(digest);
  rig.set_ram(ram_at_checkpoint);
  digest.restart(saved);
  rig.poke(3 * kPageSize, 4);
  EXPECT_EQ(point(digest), first) << "the pages changed before the checkpoint count at the next point";
  rig.poke(2 * kPageSize + 5, 8);
  EXPECT_EQ(point(digest), second);
}

TEST(ChangedPagesState, ADifferentWriteAfterARestoreGivesADifferentDigest) {
  Rig rig;
  ChangedPagesDigest digest(rig.memory);
  rig.poke(4 * kPageSize, 1);
  const std::vector<uint8_t> ram_at_checkpoint = rig.ram();
  const auto saved = digest.reference_changes();
  rig.poke(5 * kPageSize, 2);
  const Sha256Digest recorded = point(digest);
  rig.set_ram(ram_at_checkpoint);
  digest.restart(saved);
  rig.poke(5 * kPageSize, 3);
  EXPECT_NE(point(digest), recorded);
  // A state restored without its pages (the reference taken from RAM alone)
  // would miss the write before the checkpoint: the digest must differ.
  rig.set_ram(ram_at_checkpoint);
  digest.restart({});
  rig.poke(5 * kPageSize, 2);
  EXPECT_NE(point(digest), recorded) << "page 4's change before the checkpoint is part of the point's digest";
}

}  // namespace
}  // namespace rrvm
