// Address-range dispatch for port I/O and MMIO (cloud-hypervisor's vm-device
// bus is the model): devices claim [base, base+length); overlapping claims are
// rejected; accesses nobody claims read as all ones and are counted, never
// fatal.
#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace rrvm {

// A device on a bus. Offsets are relative to the base the device was
// registered at; sizes are 1, 2, 4 or 8 bytes.
class IoDevice {
 public:
  virtual ~IoDevice() = default;
  virtual const char* device_name() const = 0;
  virtual uint64_t io_read(uint64_t offset, unsigned size) = 0;
  virtual void io_write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

class IoBus {
 public:
  explicit IoBus(std::string space) : space_(std::move(space)) {}

  // Throws std::invalid_argument when the range is empty or overlaps a claim.
  void add(uint64_t base, uint64_t length, IoDevice* device);
  void remove(uint64_t base);  // removes the claim starting at `base`, if any

  // Returns the device answer or all ones (masked to `size`) if unclaimed.
  uint64_t read(uint64_t address, unsigned size);
  // Returns false when nobody claims the address (the write is dropped).
  bool write(uint64_t address, unsigned size, uint64_t value);

  IoDevice* find(uint64_t address, uint64_t* offset = nullptr) const;
  bool within_one_claim(uint64_t address, unsigned size) const;
  bool touches_a_claim(uint64_t address, unsigned size) const;
  uint64_t unclaimed_reads() const { return unclaimed_reads_; }
  uint64_t unclaimed_writes() const { return unclaimed_writes_; }
  const std::string& space() const { return space_; }

  static uint64_t size_mask(unsigned size) {
    return size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1);
  }

 private:
  struct Claim {
    uint64_t length;
    IoDevice* device;
  };
  std::string space_;
  std::map<uint64_t, Claim> claims_;  // keyed by base
  uint64_t unclaimed_reads_ = 0;
  uint64_t unclaimed_writes_ = 0;
};

}  // namespace rrvm
