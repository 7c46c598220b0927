#include "display/png_writer.h"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "display/png_encoder.h"
#include "vmm/exit_status.h"

namespace rrvm {

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

[[noreturn]] void png_fail(png_structp png, png_const_charp msg) {
  // libpng must not return from an error callback; we unwind with an
  // exception instead of longjmp (no C++ objects live inside libpng frames).
  auto* where = static_cast<std::string*>(png_get_error_ptr(png));
  throw std::runtime_error("png " + *where + ": " + msg);
}

void png_warn(png_structp, png_const_charp) {}

}  // namespace

void write_png(const std::string& path, const Frame& frame) {
  std::vector<uint8_t> png;
  try {
    encode_png(frame, png);
  } catch (const std::exception& e) {
    throw OutputError("cannot write '" + path + "': " + e.what());
  }
  write_png_file(path, png);
}

void encode_png(const Frame& frame, std::vector<uint8_t>& out) {
  thread_local PngEncoder encoder;  // its buffers are frame-sized: keep them between calls
  encoder.encode(frame, out);
}

void write_png_file(const std::string& path, std::span<const uint8_t> png) {
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file)
    throw OutputError("cannot open '" + path + "' for writing: " + std::strerror(errno));
  if (std::fwrite(png.data(), 1, png.size(), file.get()) != png.size() || std::fflush(file.get()) != 0)
    throw OutputError("cannot write '" + path + "': " + std::strerror(errno));
  FILE* f = file.release();
  if (std::fclose(f) != 0)
    throw OutputError("cannot finish writing '" + path + "': " + std::strerror(errno));
}

Frame read_png(const std::string& path) {
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error("cannot open '" + path + "': " + std::strerror(errno));
  std::string where = "read '" + path + "'";
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &where, png_fail, png_warn);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw std::runtime_error("cannot read '" + path + "': libpng out of memory");
  }
  Frame f;
  try {
    png_init_io(png, file.get());
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB)
      throw std::runtime_error("'" + path + "' is not an 8-bit RGB PNG");
    f.width = png_get_image_width(png, info);
    f.height = png_get_image_height(png, info);
    f.rgb.resize(size_t(f.width) * f.height * 3);
    for (uint32_t y = 0; y < f.height; ++y) png_read_row(png, f.rgb.data() + size_t(y) * f.width * 3, nullptr);
    png_read_end(png, nullptr);
  } catch (...) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  png_destroy_read_struct(&png, &info, nullptr);
  return f;
}

}  // namespace rrvm
