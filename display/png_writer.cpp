#include "display/png_writer.h"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

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

void check_frame(const Frame& frame, const std::string& what) {
  if (frame.width == 0 || frame.height == 0 ||
      frame.rgb.size() != size_t(frame.width) * frame.height * 3)
    throw std::runtime_error("cannot write PNG " + what + ": frame is empty or malformed (" +
                             std::to_string(frame.width) + "x" + std::to_string(frame.height) + ")");
}

// Writes the whole PNG through `png`, whose output is already set up.
// Throws (via png_fail) on libpng errors; destroys `png` in every case.
void write_image(png_structp png, const Frame& frame, const std::string& what) {
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("cannot write " + what + ": libpng out of memory");
  }
  try {
    png_set_IHDR(png, info, frame.width, frame.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    for (uint32_t y = 0; y < frame.height; ++y)
      png_write_row(png, frame.rgb.data() + size_t(y) * frame.width * 3);
    png_write_end(png, nullptr);
  } catch (...) {
    png_destroy_write_struct(&png, &info);
    throw;
  }
  png_destroy_write_struct(&png, &info);
}

void append_to_vector(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}

void flush_nothing(png_structp) {}

}  // namespace

void write_png(const std::string& path, const Frame& frame) {
  check_frame(frame, "'" + path + "'");
  std::unique_ptr<FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
  if (!file)
    throw std::runtime_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
  std::string where = "write '" + path + "'";
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &where, png_fail, png_warn);
  if (png) png_init_io(png, file.get());
  write_image(png, frame, "'" + path + "'");
  if (std::fflush(file.get()) != 0 || std::ferror(file.get()))
    throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  FILE* f = file.release();
  if (std::fclose(f) != 0)
    throw std::runtime_error("cannot finish writing '" + path + "': " + std::strerror(errno));
}

void encode_png(const Frame& frame, std::vector<uint8_t>& out) {
  check_frame(frame, "to memory");
  out.clear();
  std::string where = "encode in memory";
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &where, png_fail, png_warn);
  if (png) png_set_write_fn(png, &out, append_to_vector, flush_nothing);
  write_image(png, frame, "to memory");
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
