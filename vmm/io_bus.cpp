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

uint64_t IoBus::read(uint64_t address, unsigned size) {
  uint64_t off;
  if (IoDevice* d = find(address, &off)) return d->io_read(off, size) & size_mask(size);
  ++unclaimed_reads_;
  return size_mask(size);
}

bool IoBus::write(uint64_t address, unsigned size, uint64_t value) {
  uint64_t off;
  if (IoDevice* d = find(address, &off)) {
    d->io_write(off, size, value & size_mask(size));
    return true;
  }
  ++unclaimed_writes_;
  return false;
}

}  // namespace rrvm
