// DiskImage: padding and refusals, the copy-on-write overlay (the original
// bytes never change) and its state round trip.
#include <gtest/gtest.h>

#include "devices/disk_image.h"

using namespace rrvm;

namespace {

std::vector<uint8_t> sector(uint8_t fill) { return std::vector<uint8_t>(DiskImage::kSectorSize, fill); }

TEST(DiskImage, ShortFloppyIsPaddedAndUnsignedSectorsAreTaken) {
  DiskImage d("f.img", sector(0x11), DiskImage::Kind::Floppy);
  EXPECT_EQ(d.sectors(), DiskImage::kFloppyBytes / DiskImage::kSectorSize);
  std::vector<uint8_t> out(DiskImage::kSectorSize);
  ASSERT_TRUE(d.read(1, 1, out));
  EXPECT_EQ(out, sector(0));
}

TEST(DiskImage, RefusesTruncatedEmptyAndContainerImages) {
  EXPECT_THROW(DiskImage("d.img", std::vector<uint8_t>(1000), DiskImage::Kind::HardDisk), DiskImageError);
  EXPECT_THROW(DiskImage("d.img", {}, DiskImage::Kind::HardDisk), DiskImageError);
  std::vector<uint8_t> qcow = sector(0);
  qcow[0] = 'Q', qcow[1] = 'F', qcow[2] = 'I', qcow[3] = 0xFB;
  try {
    DiskImage("q.img", qcow, DiskImage::Kind::HardDisk);
    FAIL();
  } catch (const DiskImageError& e) {
    EXPECT_NE(std::string(e.what()).find("qcow2"), std::string::npos) << e.what();
  }
}

TEST(DiskImage, WritesGoToTheOverlayAndItsStateRoundTrips) {
  std::vector<uint8_t> bytes = sector(1);
  auto more = sector(2);
  bytes.insert(bytes.end(), more.begin(), more.end());
  DiskImage d("d.img", bytes, DiskImage::Kind::HardDisk);
  const std::vector<uint8_t> saved_clean = d.save_state();
  ASSERT_TRUE(d.write(1, 1, sector(0xEE)));
  EXPECT_FALSE(d.write(2, 1, sector(0)));  // past the end
  EXPECT_EQ(d.original(), bytes);
  EXPECT_EQ(d.written_sectors(), 1u);
  std::vector<uint8_t> out(2 * DiskImage::kSectorSize);
  ASSERT_TRUE(d.read(0, 2, out));
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[DiskImage::kSectorSize], 0xEE);

  const std::vector<uint8_t> saved_dirty = d.save_state();
  d.load_state(saved_clean);
  ASSERT_TRUE(d.read(1, 1, out));
  EXPECT_EQ(out[0], 2);
  d.load_state(saved_dirty);
  ASSERT_TRUE(d.read(1, 1, out));
  EXPECT_EQ(out[0], 0xEE);

  DiskImage other("o.img", sector(0), DiskImage::Kind::HardDisk);
  EXPECT_THROW(other.load_state(saved_dirty), std::runtime_error);  // another size
}

}  // namespace
