#include "trace/changed_pages_digest.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

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

std::vector<ChangedPagesDigest::ReferencePage> ChangedPagesDigest::reference_changes() const {
  std::vector<ReferencePage> out;
  for (const auto& slot : memory_.slots()) {
    auto ref = copy_.find(slot.id);
    if (ref == copy_.end()) continue;
    const uint64_t size = std::min<uint64_t>(slot.size, ref->second.size());
    for (uint64_t off = 0; off + kPageSize <= size; off += kPageSize) {
      const uint8_t* old_page = ref->second.data() + off;
      if (std::memcmp(slot.host + off, old_page, kPageSize) == 0) continue;
      out.push_back(ReferencePage{slot.id, uint32_t(off / kPageSize), std::vector<uint8_t>(old_page, old_page + kPageSize)});
    }
  }
  return out;
}

void ChangedPagesDigest::restart(const std::vector<ReferencePage>& changes) {
  candidates_.clear();
  for (const auto& slot : memory_.slots()) {
    auto ref = copy_.find(slot.id);
    if (ref != copy_.end()) ref->second.assign(slot.host, slot.host + slot.size);
  }
  for (const ReferencePage& p : changes) {
    auto ref = copy_.find(p.slot);
    const uint64_t off = uint64_t(p.page) * kPageSize;
    if (ref == copy_.end() || p.bytes.size() != kPageSize || off + kPageSize > ref->second.size())
      throw std::invalid_argument("changed-pages digest: a reference page outside RAM");
    std::memcpy(ref->second.data() + off, p.bytes.data(), kPageSize);
    DirtyBitmap& c = candidates_[p.slot];
    if (c.size() <= p.page / 64) c.resize(p.page / 64 + 1, 0);
    c[p.page / 64] |= uint64_t{1} << (p.page % 64);
  }
}

}  // namespace rrvm
