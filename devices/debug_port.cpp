#include "devices/debug_port.h"

namespace rrvm {

uint64_t DebugConsole::io_read(uint64_t /*offset*/, unsigned /*size*/) { return 0xE9; }

void DebugConsole::io_write(uint64_t /*offset*/, unsigned size, uint64_t value) {
  if (!sink_) return;
  // A wider write carries several characters, low byte first.
  for (unsigned i = 0; i < size && i < 8; ++i) sink_(uint8_t(value >> (8 * i)));
}

std::vector<uint8_t> DebugConsole::save_state() const {
  ByteWriter w;
  w.header("DCON", 1);
  return w.take();
}

void DebugConsole::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "debug-console state");
  r.header("DCON", 1);
  r.finish();
}

uint64_t DebugExit::io_read(uint64_t /*offset*/, unsigned /*size*/) { return ~0ull; }

void DebugExit::io_write(uint64_t /*offset*/, unsigned /*size*/, uint64_t value) {
  if (on_exit_) on_exit_(exit_status(value));
}

std::vector<uint8_t> DebugExit::save_state() const {
  ByteWriter w;
  w.header("DEXT", 1);
  return w.take();
}

void DebugExit::load_state(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "debug-exit state");
  r.header("DEXT", 1);
  r.finish();
}

}  // namespace rrvm
