#include "devices/port92.h"

namespace rrvm {

uint64_t Port92::io_read(uint64_t /*offset*/, unsigned size) {
  return value_ | (IoBus::size_mask(size) & ~0xFFull);
}

void Port92::io_write(uint64_t /*offset*/, unsigned /*size*/, uint64_t value) {
  const uint8_t old = value_;
  value_ = uint8_t(value & 0x03);  // the bit 0 reset request reads back 0 once taken
  if ((value & 1) && !(old & 1) && reset_) reset_();
  value_ &= 0x02;
}

std::vector<uint8_t> Port92::save_state() const {
  ByteWriter w;
  w.header("P92 ", 1);
  w.u8(value_);
  return w.take();
}

void Port92::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "port92 state");
  r.header("P92 ", 1);
  value_ = r.u8() & 0x02;
  r.finish();
}

}  // namespace rrvm
