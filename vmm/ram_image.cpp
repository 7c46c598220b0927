#include "vmm/ram_image.h"

#include <algorithm>
#include <cstring>

namespace rrvm {

namespace {
const PageBytes& zero_page() {
  static const PageBytes zeros{};
  return zeros;
}
bool is_zero(const uint8_t* p) {
  static const PageBytes zeros{};
  return std::memcmp(p, zeros.data(), kPageSize) == 0;
}
const uint8_t* bytes_of(const SharedPage& p) { return p ? p->data() : zero_page().data(); }
bool bit(const DirtyBitmap& b, uint64_t i) { return i / 64 < b.size() && (b[i / 64] >> (i % 64) & 1); }
}  // namespace

SharedPage make_page(const uint8_t* bytes) {
  if (is_zero(bytes)) return nullptr;
  auto p = std::make_shared<PageBytes>();
  std::memcpy(p->data(), bytes, kPageSize);
  return p;
}

RamImage RamImage::capture(const GuestMemory& memory, const std::function<bool(const MemorySlot&)>& include,
                           const RamImage* previous,
                           const std::function<const DirtyBitmap*(uint32_t)>& candidates) {
  RamImage image;
  for (const MemorySlot& s : memory.slots()) {
    if (!include(s)) continue;
    Slot out;
    out.id = s.id;
    out.pages.resize(s.pages());
    const Slot* before = previous ? previous->slot(s.id) : nullptr;
    if (before && before->pages.size() != out.pages.size()) before = nullptr;
    const DirtyBitmap* maybe = before && candidates ? candidates(s.id) : nullptr;
    for (uint64_t i = 0; i < s.pages(); ++i) {
      const uint8_t* now = s.host + i * kPageSize;
      if (before) {
        const SharedPage& old = before->pages[i];
        // Without a candidate list every page is compared; with one, a page
        // not on it is known unchanged.
        if ((maybe && !bit(*maybe, i)) || std::memcmp(bytes_of(old), now, kPageSize) == 0) {
          out.pages[i] = old;
          continue;
        }
      }
      out.pages[i] = make_page(now);
    }
    image.slots_.push_back(std::move(out));
  }
  return image;
}

void RamImage::restore(GuestMemory& memory, const std::function<void(uint64_t gpa)>& changed) const {
  for (const Slot& s : slots_) {
    const MemorySlot& slot = memory.slots().at(s.id);
    for (uint64_t i = 0; i < s.pages.size() && i < slot.pages(); ++i) {
      uint8_t* now = slot.host + i * kPageSize;
      const uint8_t* want = bytes_of(s.pages[i]);
      if (std::memcmp(now, want, kPageSize) == 0) continue;
      std::memcpy(now, want, kPageSize);
      if (changed) changed(slot.guest_base + i * kPageSize);
    }
  }
}

const RamImage::Slot* RamImage::slot(uint32_t id) const {
  for (const Slot& s : slots_)
    if (s.id == id) return &s;
  return nullptr;
}

const uint8_t* RamImage::page(uint32_t slot_id, uint64_t index) const {
  const Slot* s = slot(slot_id);
  if (!s || index >= s->pages.size()) return nullptr;
  return bytes_of(s->pages[index]);
}

void RamImage::set_page(uint32_t slot_id, uint64_t index, const uint8_t* bytes) {
  for (Slot& s : slots_)
    if (s.id == slot_id && index < s.pages.size()) s.pages[index] = make_page(bytes);
}

uint64_t RamImage::stored_pages() const {
  uint64_t n = 0;
  for (const Slot& s : slots_) n += uint64_t(std::count_if(s.pages.begin(), s.pages.end(), [](auto& p) { return p != nullptr; }));
  return n;
}

uint64_t RamImage::pages_not_in(const RamImage& other) const {
  uint64_t n = 0;
  for (const Slot& s : slots_) {
    const Slot* o = other.slot(s.id);
    for (uint64_t i = 0; i < s.pages.size(); ++i)
      if (s.pages[i] && (!o || i >= o->pages.size() || o->pages[i] != s.pages[i])) ++n;
  }
  return n;
}

}  // namespace rrvm
