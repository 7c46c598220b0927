// Device state for snapshots: every device writes its state to bytes and
// reads it back (vmm/state_bytes.h; a tag and a version first, so a state
// taken by another build is rejected with a clear message instead of being
// misread).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "vmm/state_bytes.h"

namespace rrvm {

class DeviceState {
 public:
  virtual ~DeviceState() = default;
  virtual std::vector<uint8_t> save_state() const = 0;
  // Throws std::runtime_error (one line) on a bad tag, version or size.
  virtual void load_state(std::span<const uint8_t> bytes) = 0;
};

}  // namespace rrvm
