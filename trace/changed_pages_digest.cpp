#include "trace/changed_pages_digest.h"

#include <cstring>

namespace rrvm {

bool is_cpu_ram(const MemorySlot& slot) { return slot.mapped && !slot.alias && slot.name.rfind("ram", 0) == 0; }

ChangedPagesDigest::ChangedPagesDigest(GuestMemory& memory) : memory_(memory) {
  // Hidden RAM too (shadow RAM under a ROM window): the guest may map it later.
  for (const auto& slot : memory_.slots())
    if (!slot.alias && slot.name.rfind("ram", 0) == 0) copy_[slot.id].assign(slot.host, slot.host + slot.size);
}

void ChangedPagesDigest::collect() {
  for (const auto& slot : memory_.slots()) {
    if (!is_cpu_ram(slot)) continue;
    DirtyBitmap bm = memory_.collect_dirty(slot.id);
    auto& acc = candidates_[slot.id];
    if (acc.size() < bm.size()) acc.resize(bm.size(), 0);
    for (size_t i = 0; i < bm.size(); ++i) acc[i] |= bm[i];
  }
}

// Calls f(slot, offset in slot, reference copy) for every candidate page.
template <typename F>
void ChangedPagesDigest::for_each_candidate(F&& f) {
  for (const auto& slot : memory_.slots()) {
    auto c = candidates_.find(slot.id);
    auto ref = copy_.find(slot.id);
    if (c == candidates_.end() || ref == copy_.end() || !is_cpu_ram(slot)) continue;
    for (uint64_t page = 0; page < slot.pages(); ++page) {
      if (page / 64 >= c->second.size() || !(c->second[page / 64] >> (page % 64) & 1)) continue;
      const uint64_t off = page * kPageSize;
      if (off + kPageSize <= ref->second.size()) f(slot, off, ref->second.data());
    }
  }
}

Sha256Digest ChangedPagesDigest::digest() {
  Sha256 h;
  for_each_candidate([&](const MemorySlot& slot, uint64_t off, const uint8_t* ref) {
    if (std::memcmp(slot.host + off, ref + off, kPageSize) == 0) return;
    uint64_t gpa = slot.guest_base + off;
    h.update(&gpa, sizeof gpa);
    h.update(slot.host + off, kPageSize);
  });
  return h.finish();
}

void ChangedPagesDigest::commit() {
  for_each_candidate([](const MemorySlot& slot, uint64_t off, uint8_t* ref) {
    std::memcpy(ref + off, slot.host + off, kPageSize);
  });
  candidates_.clear();
}

ChangedPagesDigest::State ChangedPagesDigest::save() {
  collect();
  State st;
  st.candidates = candidates_;
  for_each_candidate([&](const MemorySlot& slot, uint64_t off, const uint8_t* ref) {
    if (std::memcmp(slot.host + off, ref + off, kPageSize) == 0) return;
    st.reference_pages[{slot.id, off / kPageSize}].assign(ref + off, ref + off + kPageSize);
  });
  return st;
}

void ChangedPagesDigest::restore(const State& state) {
  for (const auto& slot : memory_.slots())
    if (!slot.alias && slot.name.rfind("ram", 0) == 0) copy_[slot.id].assign(slot.host, slot.host + slot.size);
  for (const auto& [where, bytes] : state.reference_pages) {
    auto ref = copy_.find(where.first);
    const uint64_t off = where.second * kPageSize;
    if (ref != copy_.end() && off + kPageSize <= ref->second.size())
      std::memcpy(ref->second.data() + off, bytes.data(), kPageSize);
  }
  candidates_ = state.candidates;
}

}  // namespace rrvm
