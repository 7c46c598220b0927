#include "devices/disk_image.h"

#include <cstring>

namespace rrvm {

namespace {
// Container formats a user may pass by mistake, by their magic at offset 0.
const char* container_format(const std::vector<uint8_t>& b) {
  auto starts = [&](const char* magic, size_t n) { return b.size() >= n && std::memcmp(b.data(), magic, n) == 0; };
  if (starts("QFI\xfb", 4)) return "qcow2";
  if (starts("KDMV", 4)) return "VMDK";
  if (starts("vhdxfile", 8)) return "VHDX";
  if (b.size() >= 0x44 && std::memcmp(b.data() + 0x40, "\x7f\x10\xda\xbe", 4) == 0) return "VDI";
  return nullptr;
}
}  // namespace

DiskImage::DiskImage(std::string path, std::vector<uint8_t> bytes, Kind kind)
    : path_(std::move(path)), kind_(kind), bytes_(std::move(bytes)) {
  const std::string what = std::string(kind == Kind::Floppy ? "floppy" : "disk") + " image '" + path_ + "': ";
  if (bytes_.empty()) throw DiskImageError(what + "file is empty");
  if (const char* format = container_format(bytes_))
    throw DiskImageError(what + "is a " + format + " image; rrvm takes raw images (qemu-img convert -O raw)");
  if (kind == Kind::Floppy) {
    if (bytes_.size() > kFloppyBytes)
      throw DiskImageError(what + std::to_string(bytes_.size()) + " bytes is more than a 1.44 MB floppy holds (" +
                           std::to_string(kFloppyBytes) + ")");
    bytes_.resize(kFloppyBytes, 0);
  } else if (bytes_.size() % kSectorSize) {
    throw DiskImageError(what + "truncated: " + std::to_string(bytes_.size()) +
                         " bytes is not a whole number of 512-byte sectors (" +
                         std::to_string(bytes_.size() % kSectorSize) + " bytes past the last whole sector)");
  }
}

bool DiskImage::in_range(uint64_t lba, uint32_t count, size_t buffer) const {
  return lba <= sectors() && count <= sectors() - lba && buffer >= uint64_t(count) * kSectorSize;
}

bool DiskImage::read(uint64_t lba, uint32_t count, std::span<uint8_t> out) const {
  if (!in_range(lba, count, out.size())) return false;
  for (uint32_t i = 0; i < count; ++i) {
    auto it = overlay_.find(lba + i);
    const uint8_t* src = it != overlay_.end() ? it->second.data() : bytes_.data() + (lba + i) * kSectorSize;
    std::memcpy(out.data() + size_t(i) * kSectorSize, src, kSectorSize);
  }
  return true;
}

bool DiskImage::write(uint64_t lba, uint32_t count, std::span<const uint8_t> in) {
  if (!in_range(lba, count, in.size())) return false;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* src = in.data() + size_t(i) * kSectorSize;
    overlay_[lba + i].assign(src, src + kSectorSize);
  }
  return true;
}

std::vector<uint8_t> DiskImage::save_state() const {
  ByteWriter w;
  w.header("DISK", 1);
  w.u64(sectors());
  w.u64(overlay_.size());
  for (const auto& [lba, sector] : overlay_) {
    w.u64(lba);
    w.bytes(sector);
  }
  return w.take();
}

void DiskImage::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "disk image state");
  r.header("DISK", 1);
  if (r.u64() != sectors()) r.fail("the image has another size");
  const uint64_t n = r.u64();
  std::map<uint64_t, std::vector<uint8_t>> overlay;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t lba = r.u64();
    if (lba >= sectors()) r.fail("a written sector past the image's end");
    std::vector<uint8_t> sector(kSectorSize);
    r.bytes(sector);
    overlay[lba] = std::move(sector);
  }
  r.finish();
  overlay_ = std::move(overlay);
}

}  // namespace rrvm
