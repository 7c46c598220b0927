// Device access to guest memory (DMA: fw_cfg's DMA interface, the 8237
// channel behind the floppy controller). What a device writes is as much an
// input as a port read, so it must follow from the machine's state alone; this
// class only moves the bytes: through mapped slots, piece by piece, marking
// written pages dirty and dropping cached translations of them (emu), as a
// bus master's writes would be seen.
#pragma once
#include <cstdint>
#include <functional>

#include "vmm/guest_memory.h"

namespace rrvm {

class GuestDma {
 public:
  // `invalidate` drops cached code for a written range (Vcpu::invalidate_code).
  GuestDma(GuestMemory& memory, std::function<void(uint64_t gpa, uint64_t len)> invalidate)
      : memory_(memory), invalidate_(std::move(invalidate)) {}

  // False when part of the range is backed by no slot (what a bus reports as
  // a decode error); the rest is still transferred. Writes to read-only slots
  // (ROM) are dropped without error, as on QEMU; reads there see the ROM.
  // Unbacked bytes read as 0.
  bool read(uint64_t gpa, void* dst, uint64_t len) const;
  bool write(uint64_t gpa, const void* src, uint64_t len);
  bool fill(uint64_t gpa, uint8_t value, uint64_t len);

 private:
  // Calls f(slot, gpa, offset into the request, length) for each backed piece.
  template <typename F>
  bool pieces(uint64_t gpa, uint64_t len, F&& f) const;

  GuestMemory& memory_;
  std::function<void(uint64_t, uint64_t)> invalidate_;
};

}  // namespace rrvm
