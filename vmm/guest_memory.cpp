#include "vmm/guest_memory.h"

#include <sys/mman.h>

#include <cstring>
#include <stdexcept>

namespace rrvm {

GuestMemory::~GuestMemory() {
  for (auto& s : slots_)
    if (!s.alias) munmap(s.host, s.size);
}

void GuestMemory::check_no_mapped_overlap(uint64_t base, uint64_t size, const std::string& name,
                                          std::optional<uint32_t> except) const {
  for (const auto& s : slots_) {
    if (s.id == except || !s.mapped) continue;
    if (base < s.guest_base + s.size && s.guest_base < base + size)
      throw std::invalid_argument("memory slot '" + name + "' overlaps slot '" + s.name + "'");
  }
}

const MemorySlot& GuestMemory::add_slot(uint64_t guest_base, uint64_t size, std::string name,
                                        bool log_dirty, bool mapped) {
  if (size == 0 || guest_base % kPageSize || size % kPageSize)
    throw std::invalid_argument("memory slot '" + name + "' must be a non-empty, page-aligned range");
  if (guest_base + size < guest_base)
    throw std::invalid_argument("memory slot '" + name + "' wraps the address space");
  if (mapped) check_no_mapped_overlap(guest_base, size, name, std::nullopt);
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("cannot allocate " + std::to_string(size) +
                                                " bytes of guest memory for slot '" + name + "'");
  MemorySlot slot;
  slot.id = static_cast<uint32_t>(slots_.size());
  slot.guest_base = guest_base;
  slot.size = size;
  slot.host = static_cast<uint8_t*>(p);
  slot.log_dirty = log_dirty;
  slot.mapped = mapped;
  slot.name = std::move(name);
  slots_.push_back(slot);
  host_dirty_.emplace_back((slot.pages() + 63) / 64, 0);
  ++generation_;
  return slots_.back();
}

const MemorySlot& GuestMemory::add_alias_slot(uint64_t guest_base, uint64_t size, std::string name, uint32_t of,
                                              uint64_t offset, bool mapped) {
  if (of >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(of));
  if (size == 0 || guest_base % kPageSize || size % kPageSize || offset % kPageSize || guest_base + size < guest_base)
    throw std::invalid_argument("memory slot '" + name + "' must be a non-empty, page-aligned range");
  if (offset > slots_[of].size || size > slots_[of].size - offset)
    throw std::invalid_argument("memory slot '" + name + "' reaches past the end of slot '" + slots_[of].name + "'");
  if (mapped) check_no_mapped_overlap(guest_base, size, name, std::nullopt);
  MemorySlot slot;
  slot.id = static_cast<uint32_t>(slots_.size());
  slot.guest_base = guest_base;
  slot.size = size;
  slot.host = slots_[of].host + offset;
  slot.mapped = mapped;
  slot.read_only = true;
  slot.alias = true;
  slot.name = std::move(name);
  slots_.push_back(slot);
  host_dirty_.emplace_back((slot.pages() + 63) / 64, 0);
  ++generation_;
  return slots_.back();
}

void GuestMemory::move_slot(uint32_t id, uint64_t new_base) {
  if (id >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(id));
  auto& m = slots_[id];
  if (new_base % kPageSize || new_base + m.size < new_base)
    throw std::invalid_argument("memory slot '" + m.name + "' cannot move to an unaligned base");
  for (const auto& s : slots_) {
    if (s.id != id && s.mapped && new_base < s.guest_base + s.size && s.guest_base < new_base + m.size)
      throw std::invalid_argument("memory slot '" + m.name + "' would overlap slot '" + s.name + "'");
  }
  m.guest_base = new_base;
  ++generation_;
}

void GuestMemory::set_slot_mapped(uint32_t id, bool mapped) {
  if (id >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(id));
  MemorySlot& s = slots_[id];
  if (s.mapped == mapped) return;
  if (mapped) check_no_mapped_overlap(s.guest_base, s.size, s.name, id);
  s.mapped = mapped;
  ++generation_;
}

void GuestMemory::set_slot_read_only(uint32_t id, bool read_only) {
  if (id >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(id));
  if (slots_[id].read_only == read_only) return;
  slots_[id].read_only = read_only;
  ++generation_;
}

const MemorySlot* GuestMemory::find_slot(uint64_t gpa) const {
  for (const auto& s : slots_)
    if (s.mapped && s.contains(gpa, 1)) return &s;
  return nullptr;
}

const MemorySlot* GuestMemory::slot_by_name(const std::string& name) const {
  for (const auto& s : slots_)
    if (s.name == name) return &s;
  return nullptr;
}

uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) {
  for (auto& s : slots_)
    if (s.mapped && s.contains(gpa, len)) return s.host + (gpa - s.guest_base);
  return nullptr;
}

const uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) const {
  return const_cast<GuestMemory*>(this)->host_ptr(gpa, len);
}

bool GuestMemory::read(uint64_t gpa, void* dst, uint64_t len) const {
  if (len == 0) return true;
  const uint8_t* p = host_ptr(gpa, len);
  if (!p) return false;
  std::memcpy(dst, p, len);
  return true;
}

bool GuestMemory::write(uint64_t gpa, const void* src, uint64_t len) {
  if (len == 0) return true;
  uint8_t* p = host_ptr(gpa, len);
  if (!p) return false;
  std::memcpy(p, src, len);
  mark_dirty(gpa, len);
  return true;
}

void GuestMemory::mark_dirty(uint64_t gpa, uint64_t len) {
  if (len == 0) return;
  if (write_observer_) write_observer_(gpa, len);
  for (size_t i = 0; i < slots_.size(); ++i) {
    const auto& s = slots_[i];
    uint64_t lo = std::max(gpa, s.guest_base);
    uint64_t hi = std::min(gpa + len, s.guest_base + s.size);
    if (lo >= hi) continue;
    for (uint64_t pg = (lo - s.guest_base) / kPageSize; pg <= (hi - 1 - s.guest_base) / kPageSize; ++pg)
      host_dirty_[i][pg / 64] |= 1ull << (pg % 64);
  }
}

DirtyBitmap GuestMemory::collect_dirty(uint32_t id) {
  if (id >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(id));
  DirtyBitmap out = std::move(host_dirty_[id]);
  host_dirty_[id].assign(out.size(), 0);
  if (dirty_source_) dirty_source_(slots_[id], out);
  return out;
}

}  // namespace rrvm

namespace rrvm {

Sha256Digest GuestMemory::content_sha256() const {
  Sha256 h;
  for (const auto& s : slots_)
    if (s.mapped && !s.alias) h.update(s.host, s.size);
  return h.finish();
}

void GuestMemory::set_log_dirty(uint32_t id, bool on) {
  if (id >= slots_.size()) throw std::out_of_range("no memory slot " + std::to_string(id));
  slots_[id].log_dirty = on;
  ++generation_;
}

}  // namespace rrvm
