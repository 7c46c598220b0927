#include "vmm/firmware_loader.h"

#include <cstring>

#include "vmm/file_read.h"
#include "vmm/format.h"

namespace rrvm {

namespace {
constexpr uint64_t k4GiB = 1ull << 32, k64KiB = 64 * 1024, k16MiB = 16ull << 20;
}

ImageFile read_image_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  ImageFile f;
  f.path = path;
  f.bytes = read_regular_file(path, what, max_bytes);
  f.sha256 = sha256(f.bytes.data(), f.bytes.size());
  return f;
}

uint32_t map_bios(GuestMemory& memory, const ImageFile& bios) {
  const uint64_t size = bios.bytes.size();
  if (size % k64KiB || size < k64KiB || size > k16MiB)
    throw ImageError("BIOS image '" + bios.path + "': " + std::to_string(size) +
                     " bytes; a BIOS must be a multiple of 64 KiB between 64 KiB and 16 MiB (Debian's "
                     "/usr/share/seabios/bios.bin is 128 KiB)");
  const MemorySlot& slot = memory.add_slot(k4GiB - size, size, "bios");
  std::memcpy(slot.host, bios.bytes.data(), size);
  const uint32_t id = slot.id;
  memory.set_slot_read_only(id, true);
  return id;
}

Registers reset_vector_state() { return real_mode_state(0xF000, 0xFFF0); }

}  // namespace rrvm
