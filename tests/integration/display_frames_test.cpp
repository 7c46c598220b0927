// For each Cirrus guest on every available backend: the frames `rrvm frames`
// rebuilds from the trace alone are pixel-identical to those the live device
// showed while recording and to those the replayed device shows; the PNGs
// decode with libpng.
#include <gtest/gtest.h>

#include "display/png_writer.h"
#include "replay/frame_rebuilder.h"
#include "trace/trace_reader.h"
#include "system/record_session.h"
#include "system/replay_session.h"
#include "tests/integration/test_support.h"

using namespace rrvm;
using namespace rrvm::test;

namespace {

struct Case {
  std::string guest, backend;
  size_t min_frames;
};
// How gtest prints the parameter (in ctest names and failures).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.guest << " on " << c.backend << ", at least " << c.min_frames << " frames";
}

std::vector<Case> cases() {
  std::vector<Case> c;
  for (const auto& b : available_backends()) {
    c.push_back({"cirrus-lfb", b, 2});  // 640x480x16, then 800x600x8
    c.push_back({"vga13", b, 1});
    c.push_back({"cirrus-text", b, 5});  // five screens over guest time
    c.push_back({"cirrus-blt", b, 5});
  }
  return c;
}

Sha256Digest frame_hash(const Frame& f) {
  Sha256 h;
  uint32_t dims[2] = {f.width, f.height};
  h.update(dims, sizeof dims);
  h.update(f.rgb.data(), f.rgb.size());
  return h.finish();
}

class DisplayFramesTest : public ::testing::TestWithParam<Case> {};

TEST_P(DisplayFramesTest, OfflineLiveAndReplayFramesAreIdentical) {
  const Case& c = GetParam();
  guests::GuestSpec spec;
  spec.name = c.guest;
  spec.image_path = std::string(RRVM_GUEST_DIR) + "/" + c.guest + ".bin";
  GuestRun live;
  std::vector<Sha256Digest> live_frames;
  std::string trace = temp_path(c.guest + "-" + c.backend + ".rrt");
  RecordOutcome rec = record_to_trace(guest_config(spec, c.backend, live, ""), trace, {"test"}, false,
                                      [&](const DisplayFrameEvent&, const Frame& f) {
                                        if (f.width) live_frames.push_back(frame_hash(f));
                                      });
  ASSERT_EQ(rec.result.reason, StopReason::DebugExit) << rec.result.message;
  ASSERT_GE(live_frames.size(), c.min_frames);

  // From the trace alone.
  std::vector<Sha256Digest> offline;
  TraceReader reader(trace);
  FrameRebuilder rebuilder;
  auto cursor = reader.events();
  std::string png = temp_path(c.guest + "-" + c.backend + ".png");
  while (const TraceEvent* e = cursor.next()) {
    if (auto* f = std::get_if<DisplayFrameEvent>(&e->body)) {
      rebuilder.apply(*f);
      const Frame& frame = rebuilder.render();
      if (!frame.width) continue;
      offline.push_back(frame_hash(frame));
      write_png(png, frame);
      Frame back = read_png(png);  // a standard decoder (libpng) reads what we wrote
      EXPECT_EQ(frame_hash(back), offline.back());
    }
  }
  EXPECT_EQ(offline, live_frames);

  // From the replayed device.
  std::vector<Sha256Digest> replayed;
  ReplaySettings s;
  s.backend = backend_kind(c.backend);
  s.on_frame = [&](uint64_t, const Frame& f) {
    if (f.width) replayed.push_back(frame_hash(f));
  };
  ReplayOutcome out = replay_trace(trace, s);
  ASSERT_FALSE(out.divergence.has_value()) << out.divergence->to_string();
  EXPECT_EQ(replayed, live_frames);
}

INSTANTIATE_TEST_SUITE_P(CirrusGuests, DisplayFramesTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           std::string n = i.param.guest + "_" + i.param.backend;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
