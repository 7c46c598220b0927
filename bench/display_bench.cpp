// Benchmark (not a test): the display path of one recorded trace.
//  1. exits per display frame (all exits, and MMIO exits: the trapped legacy
//     VGA window costs one per guest access; the linear framebuffer none);
//  2. trace bytes per display frame: the trace's display-frame events are
//     re-encoded in order by the trace writer, each flushed as its own trace
//     frame, and the file growth per event is its cost (32-byte frame header
//     and LZ4 block included; in a real trace it shares a frame with other
//     events, so this is an upper bound), grouped as frames with no VRAM page
//     changed, the trace's largest update, and the rest. Also two synthetic
//     frames per linear mode seen: nothing changed (a static screen), and
//     every visible page rewritten with random bytes (a full redraw LZ4
//     cannot compress: the upper bound);
//  3. offline reconstruction speed per display mode: FrameRebuilder apply +
//     render of the trace's frames, looped until --seconds have passed, timed
//     apart from PNG compression, which is timed on its own on one thread,
//     side by side: PngEncoder (what `rrvm frames` writes now) and libpng at
//     level 3 with its default filters (what it wrote before).
// Usage: display_bench TRACE [SECONDS]   (default 2: seconds of rebuilding,
// and up to half as long again compressing PNGs)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <png.h>

#include "display/png_encoder.h"
#include "trace/trace_writer.h"
#include "replay/frame_rebuilder.h"
#include "trace/trace_reader.h"
#include "vmm/guest_memory.h"

using namespace rrvm;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The PNG encoder rrvm used before PngEncoder, kept here for comparison:
// libpng, compression level 3, libpng's adaptive filters.
void append_to_vector(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + length);
}
void libpng_level3(const Frame& f, std::vector<uint8_t>& out) {
  out.clear();
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (!png || !info || setjmp(png_jmpbuf(png))) throw std::runtime_error("libpng failed");
  png_set_write_fn(png, &out, append_to_vector, nullptr);
  png_set_IHDR(png, info, f.width, f.height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 3);
  png_write_info(png, info);
  for (uint32_t y = 0; y < f.height; ++y) png_write_row(png, f.rgb.data() + size_t(y) * f.width * 3);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
}

std::string mode_key(const ModeInfo& m) {
  return std::string(display_mode_name(m.mode)) + " " + std::to_string(m.width) + "x" + std::to_string(m.height);
}

uint32_t bytes_per_pixel(DisplayMode mode) {
  switch (mode) {
    case DisplayMode::Linear15:
    case DisplayMode::Linear16: return 2;
    case DisplayMode::Linear24: return 3;
    case DisplayMode::Linear32: return 4;
    default: return 1;
  }
}

struct Totals {
  uint64_t frames = 0;
  uint64_t pages = 0;
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t with_registers = 0;  // frames that also carry the display registers
};

// Trace bytes of each event when each is flushed as its own trace frame.
std::vector<uint64_t> encoded_sizes(const TraceHeader& header, const std::vector<DisplayFrameEvent>& events) {
  std::string path = (std::filesystem::temp_directory_path() / "rrvm_display_bench.rrt").string();
  std::vector<uint64_t> sizes;
  {
    TraceWriter w(path, header);
    for (const DisplayFrameEvent& e : events) {
      uint64_t before = w.bytes_written();
      w.append(TraceEvent{e});
      w.flush();
      sizes.push_back(w.bytes_written() - before);
    }
  }
  std::filesystem::remove(path);
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: display_bench TRACE [SECONDS]\n");
    return 8;
  }
  const double budget = argc > 2 ? std::atof(argv[2]) : 2.0;
  try {
    TraceReader reader(argv[1]);
    std::vector<DisplayFrameEvent> frames;
    uint64_t exits = 0, mmio_exits = 0;
    auto cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) {
      if (auto* x = std::get_if<ExitEvent>(&e->body)) {
        ++exits;
        if (x->kind == TraceExitKind::Mmio) ++mmio_exits;
      } else if (auto* f = std::get_if<DisplayFrameEvent>(&e->body)) {
        frames.push_back(*f);
      }
    }
    if (frames.empty()) {
      std::fprintf(stderr, "display_bench: %s has no display frames\n", argv[1]);
      return 8;
    }
    const double n = double(frames.size());
    std::printf("trace %s: %zu display frames, %llu exits (%llu MMIO): %.1f exits/frame, %.1f MMIO exits/frame\n",
                argv[1], frames.size(), (unsigned long long)exits, (unsigned long long)mmio_exits,
                double(exits) / n, double(mmio_exits) / n);

    // Modes per frame (after applying it), used by every section below.
    std::vector<ModeInfo> modes;
    {
      FrameRebuilder r;
      for (const auto& f : frames) {
        r.apply(f);
        modes.push_back(r.mode());
      }
    }

    // 2. Trace bytes per display frame.
    std::vector<uint64_t> sizes = encoded_sizes(reader.header(), frames);
    // Static frames, the largest update in this trace, and the rest.
    size_t most_pages = 0;
    for (const auto& f : frames) most_pages = std::max(most_pages, f.pages.size());
    std::map<std::string, Totals> by_kind;
    for (size_t i = 0; i < frames.size(); ++i) {
      size_t pages = frames[i].pages.size();
      std::string kind = pages == 0            ? "no VRAM page changed"
                         : pages == most_pages ? "largest update (" + std::to_string(pages) + " pages)"
                                               : "other updates";
      Totals& t = by_kind[kind];
      ++t.frames;
      t.pages += pages;
      t.bytes += sizes[i];
      if (!frames[i].display_registers.empty()) ++t.with_registers;
    }
    std::printf("trace bytes per display frame (each re-encoded as its own trace frame):\n");
    for (const auto& [kind, t] : by_kind)
      std::printf("  %-32s %5llu frames (%llu with registers), %6.1f pages/frame, %9.1f bytes/frame\n",
                  kind.c_str(), (unsigned long long)t.frames, (unsigned long long)t.with_registers,
                  double(t.pages) / double(t.frames), double(t.bytes) / double(t.frames));
    std::map<std::string, ModeInfo> seen;
    for (const ModeInfo& m : modes)  // linear modes: their visible bytes are line_offset * height
      if (m.width && m.height && m.mode >= DisplayMode::Linear8) seen.emplace(mode_key(m), m);
    std::mt19937_64 rng(1);
    for (const auto& [key, m] : seen) {
      uint64_t line = std::max<uint64_t>(m.line_offset, uint64_t(m.width) * bytes_per_pixel(m.mode));
      uint32_t visible = uint32_t((line * m.height + kPageSize - 1) / kPageSize);
      DisplayFrameEvent still;  // registers and VRAM unchanged
      still.guest_ns = 1;
      auto random_redraw = [&] {
        DisplayFrameEvent e;
        e.guest_ns = 2;
        for (uint32_t p = 0; p < visible; ++p) {
          VramPage page{p, std::vector<uint8_t>(kPageSize)};
          for (auto& b : page.bytes) b = uint8_t(rng());
          e.pages.push_back(std::move(page));
        }
        return e;
      };
      // Measured second, when the writer already holds earlier content for
      // every page (the XOR delta of new random bytes is random too).
      std::vector<uint64_t> s = encoded_sizes(reader.header(), {still, random_redraw(), still, random_redraw()});
      std::printf("  synthetic %-20s static: %llu bytes; full redraw of %u pages with random bytes: %llu bytes\n",
                  key.c_str(), (unsigned long long)s[2], visible, (unsigned long long)s[3]);
    }

    // 3. Offline reconstruction speed per mode, apart from PNG compression.
    std::map<std::string, Totals> rebuild, png, libpng;
    FrameRebuilder rebuilder;
    PngEncoder encoder;
    std::vector<uint8_t> out;
    uint64_t passes = 0;
    double png_seconds = 0, rebuild_seconds = 0;
    do {
      for (size_t i = 0; i < frames.size(); ++i) {
        auto t0 = Clock::now();
        rebuilder.apply(frames[i]);
        const Frame& f = rebuilder.render();
        double dt = seconds_since(t0);
        rebuild_seconds += dt;
        if (f.width == 0 || f.height == 0) continue;
        Totals& t = rebuild[mode_key(modes[i])];
        ++t.frames;
        t.pages += frames[i].pages.size();
        t.seconds += dt;
        if (png_seconds < budget / 2) {  // PNG compression gets half the budget again
          auto p0 = Clock::now();
          encoder.encode(f, out);
          double pdt = seconds_since(p0);
          Totals& pt = png[mode_key(modes[i])];
          ++pt.frames;
          pt.seconds += pdt;
          pt.bytes += out.size();
          p0 = Clock::now();
          libpng_level3(f, out);
          double ldt = seconds_since(p0);
          Totals& lt = libpng[mode_key(modes[i])];
          ++lt.frames;
          lt.seconds += ldt;
          lt.bytes += out.size();
          png_seconds += pdt + ldt;
        }
      }
      ++passes;
    } while (rebuild_seconds < budget);
    std::printf("offline reconstruction (FrameRebuilder apply + render; %llu passes over the trace's frames):\n",
                (unsigned long long)passes);
    for (const auto& [key, t] : rebuild) {
      const Totals& p = png[key];
      const Totals& l = libpng[key];
      std::printf("  %-22s %7llu frames, %6.1f pages/frame: %8.0f frames/s rebuild+render\n", key.c_str(),
                  (unsigned long long)t.frames, double(t.pages) / double(t.frames), double(t.frames) / t.seconds);
      std::printf("  %-22s PNG compression alone, one thread: %6.0f frames/s (%.0f bytes/PNG) now; libpng level 3 "
                  "(before) %5.0f frames/s (%.0f bytes/PNG)\n",
                  "", double(p.frames) / p.seconds, double(p.bytes) / double(p.frames),
                  double(l.frames) / l.seconds, double(l.bytes) / double(l.frames));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "display_bench: %s\n", e.what());
    return 8;
  }
  return 0;
}
