// PngPipeline: what the consumer gets does not depend on the number of
// threads (parallel output = serial output = a fresh encode of each frame,
// reused frames included), and an error on a worker thread reaches the
// submitting thread as the same exception, with nothing consumed after it.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "display/apng_writer.h"
#include "display/png_encoder.h"
#include "display/png_pipeline.h"

namespace rrvm::test {
namespace {

Frame picture(uint32_t w, uint32_t h, unsigned seed) {
  Frame f;
  f.width = w;
  f.height = h;
  std::mt19937 rng(seed);
  const uint8_t base = uint8_t(rng());
  for (size_t i = 0; i < size_t(w) * h; ++i) {
    uint8_t noise = (i % 97 == 0) ? uint8_t(rng()) : 0;  // mostly flat, some detail
    f.rgb.insert(f.rgb.end(), {uint8_t(base + i / w), noise, uint8_t(seed)});
  }
  return f;
}

struct Consumed {
  uint64_t index, guest_ns;
  uint32_t width, height;
  std::vector<uint8_t> png, canvas_image_data;
  bool reused;
  bool operator==(const Consumed&) const = default;
};

// Frames with runs of identical pictures and a change of size; `seeds`
// repeat where a picture repeats.
std::vector<Frame> sequence() {
  std::vector<Frame> frames;
  for (unsigned seed : {1u, 1u, 2u, 3u, 3u, 3u, 1u, 4u})
    frames.push_back(seed == 4 ? picture(40, 30, seed) : picture(64, 48, seed));
  frames.push_back(picture(64, 48, 5));
  frames.push_back(picture(64, 48, 5));
  return frames;
}

std::vector<Consumed> run(unsigned workers, const std::vector<Frame>& frames, bool fill_in_place,
                          uint64_t* reused = nullptr) {
  std::vector<Consumed> out;
  PngPipeline pipeline(
      workers,
      [&](const EncodedPng& e) {
        out.push_back({e.label.index, e.label.guest_ns, e.width, e.height, e.png, e.canvas_image_data, e.reused});
      },
      64, 48);
  for (size_t i = 0; i < frames.size(); ++i) {
    FrameLabel label{i * 10, i * 1000};
    if (fill_in_place) {
      Frame& f = pipeline.frame_to_fill();
      f = frames[i];
      pipeline.submit_filled(label);
    } else {
      pipeline.submit(frames[i], label);
    }
  }
  pipeline.finish();
  if (reused) *reused = pipeline.reused();
  return out;
}

TEST(PngPipeline, ParallelOutputEqualsSerialAndFreshEncodes) {
  const std::vector<Frame> frames = sequence();
  uint64_t reused = 0;
  const std::vector<Consumed> serial = run(0, frames, false, &reused);
  EXPECT_EQ(reused, 4u);  // 1 1, 3 3 3, 5 5
  ASSERT_EQ(serial.size(), frames.size());
  PngEncoder fresh;
  Frame scratch;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(serial[i].index, i * 10);
    EXPECT_EQ(serial[i].guest_ns, i * 1000);
    EXPECT_EQ(serial[i].width, frames[i].width);
    // Reused or not, the bytes are what a fresh encoder writes for the frame.
    std::vector<uint8_t> png, canvas;
    PngEncoder().encode(frames[i], png);
    EXPECT_TRUE(serial[i].png == png) << "frame " << i << (serial[i].reused ? " (reused)" : "");
    apng_canvas_image_data(fresh, frames[i], 64, 48, scratch, canvas);
    EXPECT_TRUE(serial[i].canvas_image_data == canvas) << "frame " << i;
  }
  EXPECT_TRUE(serial[1].reused && serial[4].reused && serial[5].reused && serial[9].reused);
  EXPECT_FALSE(serial[0].reused || serial[2].reused || serial[6].reused || serial[8].reused);
  for (unsigned workers : {1u, 2u, 4u}) {
    EXPECT_TRUE(run(workers, frames, false) == serial) << workers << " workers";
    EXPECT_TRUE(run(workers, frames, true) == serial) << workers << " workers, frames filled in place";
  }
}

TEST(PngPipeline, ManyFramesInFlightStayInOrder) {
  std::vector<Frame> frames;
  for (unsigned i = 0; i < 60; ++i) frames.push_back(picture(64 + (i % 3) * 16, 48, i / 2));  // sizes differ
  const std::vector<Consumed> serial = run(0, frames, true);
  for (int attempt = 0; attempt < 3; ++attempt) EXPECT_TRUE(run(3, frames, true) == serial);
}

TEST(PngPipeline, AFrameLargerThanTheCanvasHasNoCanvasData) {
  std::vector<Consumed> out;
  PngPipeline pipeline(
      2, [&](const EncodedPng& e) { out.push_back({0, 0, e.width, e.height, e.png, e.canvas_image_data, false}); },
      32, 32);
  pipeline.submit(picture(40, 30, 1), {});
  pipeline.finish();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].png.empty());
  EXPECT_TRUE(out[0].canvas_image_data.empty());  // ApngWriter refuses the frame, naming its file
}

// A consumer that fails like a full disk at frame 3: the error reaches the
// submitter, frames after it are not consumed, and nothing hangs.
void expect_write_error_reported(unsigned workers) {
  std::vector<uint64_t> consumed;
  std::atomic<int> calls{0};
  const std::string message = "cannot write 'out/frame-000003.png': No space left on device";
  std::string caught;
  {
    PngPipeline pipeline(workers, [&](const EncodedPng& e) {
      ++calls;
      if (e.label.index == 3) throw std::runtime_error(message);
      consumed.push_back(e.label.index);
    });
    try {
      for (uint64_t i = 0; i < 40; ++i) pipeline.submit(picture(64, 48, unsigned(i)), {i, 0});
      pipeline.finish();
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    if (caught.empty()) ADD_FAILURE() << "no error reported with " << workers << " workers";
    // Later calls report it again; none consumes a frame.
    EXPECT_THROW(pipeline.finish(), std::runtime_error);
    EXPECT_THROW(pipeline.submit(picture(64, 48, 99), {99, 0}), std::runtime_error);
  }
  EXPECT_EQ(caught, message) << workers << " workers";
  EXPECT_EQ(consumed, (std::vector<uint64_t>{0, 1, 2})) << workers << " workers";
  EXPECT_EQ(calls.load(), 4) << workers << " workers";
}

TEST(PngPipeline, AWriteErrorOnAWorkerIsReportedToTheSubmitter) {
  for (unsigned workers : {0u, 1u, 2u, 4u}) expect_write_error_reported(workers);
}

TEST(PngPipeline, AnEncoderErrorIsReportedInFrameOrder) {
  for (unsigned workers : {0u, 2u}) {
    std::vector<uint64_t> consumed;
    PngPipeline pipeline(workers, [&](const EncodedPng& e) { consumed.push_back(e.label.index); });
    Frame bad = picture(8, 8, 1);
    bad.rgb.resize(10);  // malformed: the encoder refuses it on whichever thread
    std::string caught;
    try {
      pipeline.submit(picture(8, 8, 2), {0, 0});
      pipeline.submit(bad, {1, 0});
      for (uint64_t i = 2; i < 20; ++i) pipeline.submit(picture(8, 8, unsigned(i + 3)), {i, 0});
      pipeline.finish();
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
    EXPECT_NE(caught.find("empty or malformed"), std::string::npos) << caught;
    EXPECT_EQ(consumed, (std::vector<uint64_t>{0})) << workers << " workers";
  }
}

TEST(PngPipeline, DestroyedWithFramesInFlight) {
  std::atomic<int> consumed{0};
  {
    PngPipeline pipeline(2, [&](const EncodedPng&) { ++consumed; });
    for (unsigned i = 0; i < 12; ++i) pipeline.submit(picture(200, 150, i), {i, 0});
  }  // no finish(): the frames not consumed yet are dropped, the workers joined
  EXPECT_LE(consumed.load(), 12);
}

}  // namespace
}  // namespace rrvm::test
