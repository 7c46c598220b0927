#include "vmm/guest_dma.h"

#include <algorithm>
#include <cstring>

namespace rrvm {

template <typename F>
bool GuestDma::pieces(uint64_t gpa, uint64_t len, F&& f) const {
  bool ok = true;
  uint64_t done = 0;
  while (done < len) {
    const uint64_t at = gpa + done;
    if (at < gpa) return false;  // wrapped the address space
    const MemorySlot* s = memory_.find_slot(at);
    if (!s) {
      // Skip to the next page: unbacked memory is at least page granular.
      ok = false;
      done += std::min(len - done, kPageSize - at % kPageSize);
      continue;
    }
    const uint64_t n = std::min(len - done, s->guest_base + s->size - at);
    f(*s, at, done, n);
    done += n;
  }
  return ok;
}

bool GuestDma::read(uint64_t gpa, void* dst, uint64_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  std::memset(out, 0, len);
  return pieces(gpa, len, [&](const MemorySlot& s, uint64_t at, uint64_t off, uint64_t n) {
    std::memcpy(out + off, s.host + (at - s.guest_base), n);
  });
}

bool GuestDma::write(uint64_t gpa, const void* src, uint64_t len) {
  const auto* in = static_cast<const uint8_t*>(src);
  return pieces(gpa, len, [&](const MemorySlot& s, uint64_t at, uint64_t off, uint64_t n) {
    if (s.read_only) return;
    std::memcpy(s.host + (at - s.guest_base), in + off, n);
    memory_.mark_dirty(at, n);
    if (invalidate_) invalidate_(at, n);
  });
}

bool GuestDma::fill(uint64_t gpa, uint8_t value, uint64_t len) {
  return pieces(gpa, len, [&](const MemorySlot& s, uint64_t at, uint64_t, uint64_t n) {
    if (s.read_only) return;
    std::memset(s.host + (at - s.guest_base), value, n);
    memory_.mark_dirty(at, n);
    if (invalidate_) invalidate_(at, n);
  });
}

}  // namespace rrvm
