#include "vmm/io_bus.h"

#include <stdexcept>

#include "vmm/format.h"

namespace rrvm {

void IoBus::add(uint64_t base, uint64_t length, IoDevice* device) {
  if (length == 0 || base + length < base)
    throw std::invalid_argument(space_ + ": invalid range at " + hex(base));
  auto next = claims_.lower_bound(base);
  if (next != claims_.end() && next->first < base + length)
    throw std::invalid_argument(space_ + ": " + device->device_name() + " at " + hex(base) +
                                " overlaps " + next->second.device->device_name() + " at " +
                                hex(next->first));
  if (next != claims_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.length > base)
      throw std::invalid_argument(space_ + ": " + device->device_name() + " at " + hex(base) +
                                  " overlaps " + prev->second.device->device_name() + " at " +
                                  hex(prev->first));
  }
  claims_.emplace(base, Claim{length, device});
}

void IoBus::remove(uint64_t base) { claims_.erase(base); }

IoDevice* IoBus::find(uint64_t address, uint64_t* offset) const {
  auto it = claims_.upper_bound(address);
  if (it == claims_.begin()) return nullptr;
  --it;
  if (address - it->first >= it->second.length) return nullptr;
  if (offset) *offset = address - it->first;
  return it->second.device;
}

// Whether [address, address + size) lies inside the one claim at address.
bool IoBus::within_one_claim(uint64_t address, unsigned size) const {
  auto it = claims_.upper_bound(address);
  if (it == claims_.begin()) return false;
  --it;
  return address - it->first < it->second.length && address - it->first + size <= it->second.length;
}

bool IoBus::touches_a_claim(uint64_t address, unsigned size) const {
  auto it = claims_.lower_bound(address + 1);
  if (it != claims_.end() && it->first < address + size) return true;
  return find(address) != nullptr;
}

// An access that lies inside one claim goes to its device whole. One that
// crosses a claim's edge is split into bytes, as the bus splits it: each
// claimed byte goes to its device, and an unclaimed byte reads as all ones
// (a dword `in` at 0x3FE: the UART's two bytes, then 0xFF 0xFF).
uint64_t IoBus::read(uint64_t address, unsigned size) {
  uint64_t off;
  if (within_one_claim(address, size)) return find(address, &off)->io_read(off, size) & size_mask(size);
  if (!touches_a_claim(address, size)) {
    ++unclaimed_reads_;
    return size_mask(size);
  }
  uint64_t value = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t byte = 0xFF;
    if (IoDevice* d = find(address + i, &off)) byte = d->io_read(off, 1) & 0xFF;
    else ++unclaimed_reads_;
    value |= byte << (8 * i);
  }
  return value;
}

bool IoBus::write(uint64_t address, unsigned size, uint64_t value) {
  uint64_t off;
  value &= size_mask(size);
  if (within_one_claim(address, size)) {
    find(address, &off)->io_write(off, size, value);
    return true;
  }
  if (!touches_a_claim(address, size)) {
    ++unclaimed_writes_;
    return false;
  }
  for (unsigned i = 0; i < size; ++i) {
    if (IoDevice* d = find(address + i, &off)) d->io_write(off, 1, (value >> (8 * i)) & 0xFF);
    else ++unclaimed_writes_;
  }
  return true;
}

}  // namespace rrvm
