// A raw disk image as a drive sees it: 512-byte sectors held in memory. The
// image file is read once (its SHA-256 names it in the trace header) and never
// written: the guest's writes go to a copy-on-write overlay of written
// sectors, so neither a run nor a replay modifies the file, and a replay sees
// exactly the image the recording saw. The overlay is this object's state
// (snapshots save the written sectors only).
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "vmm/device_state.h"

namespace rrvm {

class DiskImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DiskImage final : public DeviceState {
 public:
  static constexpr uint32_t kSectorSize = 512;
  static constexpr uint64_t kFloppyBytes = 1474560;  // 3.5" 1.44 MB: 80 x 2 x 18 sectors
  enum class Kind { Floppy, HardDisk };

  // Checks `bytes` (from `path`) and takes it. A floppy image may be shorter
  // than 1.44 MB (a lone boot sector): it is padded with zeros. A hard disk
  // image must be whole sectors. Either is refused, with one line naming the
  // file and the problem, when empty, too large or in a container format
  // (qcow2, VMDK, VDI, VHDX: rrvm takes raw images). The boot signature is
  // the firmware's business: SeaBIOS refuses an unsigned boot sector itself.
  DiskImage(std::string path, std::vector<uint8_t> bytes, Kind kind);

  const std::string& path() const { return path_; }
  Kind kind() const { return kind_; }
  uint64_t sectors() const { return bytes_.size() / kSectorSize; }

  // False (nothing copied) when [lba, lba+count) is not inside the image.
  bool read(uint64_t lba, uint32_t count, std::span<uint8_t> out) const;
  bool write(uint64_t lba, uint32_t count, std::span<const uint8_t> in);

  // The image as the file had it (padded), without the overlay.
  const std::vector<uint8_t>& original() const { return bytes_; }
  // Sectors the guest has written (the overlay).
  size_t written_sectors() const { return overlay_.size(); }

  // The overlay: written sectors by LBA.
  std::vector<uint8_t> save_state() const override;
  void load_state(std::span<const uint8_t> bytes) override;

 private:
  bool in_range(uint64_t lba, uint32_t count, size_t buffer) const;
  std::string path_;
  Kind kind_;
  std::vector<uint8_t> bytes_;  // the file's contents, never changed
  std::map<uint64_t, std::vector<uint8_t>> overlay_;
};

}  // namespace rrvm
