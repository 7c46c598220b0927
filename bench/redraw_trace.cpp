// Benchmark helper (not a test): writes a synthetic trace of full-screen
// redraws for timing `rrvm frames` at 800x600. It starts with the display
// frames of a cirrus-lfb recording up to its 800x600x8 mode (registers and
// picture), then adds FRAMES display frames that each rewrite every visible
// VRAM page, 1/60 s of guest time apart:
//   grid   the recording's 16-cell palette grid scrolled one pixel right and
//          down per frame: every page changes, and the picture is the kind
//          of flat screen content PNG compresses well;
//   noise  random bytes: nothing compresses (the upper bound on PNG work).
// Usage: redraw_trace CIRRUS_LFB_TRACE OUT FRAMES [grid|noise]
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "trace/trace_writer.h"
#include "replay/frame_rebuilder.h"
#include "trace/trace_reader.h"
#include "vmm/guest_memory.h"

using namespace rrvm;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: redraw_trace CIRRUS_LFB_TRACE OUT FRAMES [grid|noise]\n");
    return 8;
  }
  const uint64_t count = std::strtoull(argv[3], nullptr, 10);
  const std::string kind = argc > 4 ? argv[4] : "grid";
  if (kind != "grid" && kind != "noise") {
    std::fprintf(stderr, "redraw_trace: unknown kind '%s'\n", kind.c_str());
    return 8;
  }
  try {
    TraceReader reader(argv[1]);
    TraceWriter writer(argv[2], reader.header());
    FrameRebuilder rebuilder;
    ModeInfo mode;
    uint64_t ns = 0;
    auto cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) {
      auto* f = std::get_if<DisplayFrameEvent>(&e->body);
      if (!f) continue;
      writer.append(*e);
      rebuilder.apply(*f);
      mode = rebuilder.mode();
      ns = f->guest_ns;
      if (mode.mode == DisplayMode::Linear8 && mode.width == 800 && mode.height == 600) break;
    }
    if (mode.mode != DisplayMode::Linear8 || mode.width != 800 || mode.height != 600) {
      std::fprintf(stderr, "redraw_trace: %s never shows an 800x600x8 frame (record cirrus-lfb)\n", argv[1]);
      return 8;
    }
    const uint32_t line = mode.line_offset, pages = uint32_t((uint64_t(line) * mode.height + kPageSize - 1) / kPageSize);
    std::mt19937_64 rng(1);
    std::vector<uint8_t> vram(size_t(pages) * kPageSize);
    for (uint64_t t = 1; t <= count; ++t) {
      for (uint32_t y = 0; y < mode.height; ++y)
        for (uint32_t x = 0; x < line; ++x) {
          uint8_t& b = vram[mode.start + size_t(y) * line + x];
          b = kind == "noise" ? uint8_t(rng()) : uint8_t(((x + t) / 100 + 8 * (((y + t) / 100) & 1)) & 15);
        }
      DisplayFrameEvent e;
      e.guest_ns = ns + t * 16666667;
      for (uint32_t p = 0; p < pages; ++p)
        e.pages.push_back(VramPage{p + uint32_t(mode.start / kPageSize),
                                   std::vector<uint8_t>(vram.begin() + size_t(p) * kPageSize,
                                                        vram.begin() + size_t(p + 1) * kPageSize)});
      writer.append(TraceEvent{std::move(e)});
    }
    TraceEnd end = reader.end().value_or(TraceEnd{});
    writer.close(end);
    std::printf("%s: %llu full redraws of %ux%u (%s, %u pages each)\n", argv[2], (unsigned long long)count,
                mode.width, mode.height, kind.c_str(), pages);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "redraw_trace: %s\n", e.what());
    return 8;
  }
  return 0;
}
