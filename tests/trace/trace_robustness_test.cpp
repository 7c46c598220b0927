// Damaged traces: cut at any byte, or with any byte flipped. The reader must
// report what it can read, never crash, and never hand out wrong events.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "trace/trace_writer.h"
#include "trace/trace_reader.h"
#include "tests/trace/trace_samples.h"

namespace rrvm {
namespace {

using namespace trace_samples;

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}
void write_file(const std::string& path, const std::vector<uint8_t>& bytes, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(size));
}

// A trace with several small event frames, a keyframe and an end.
std::vector<TraceEvent> write_small_trace(const std::string& path) {
  std::vector<TraceEvent> all;
  TraceWriter w(path, header());
  auto add = [&](const TraceEvent& e) {
    w.append(e);
    all.push_back(e);
  };
  for (const auto& e : every_kind_events()) add(e);
  w.flush();
  for (int frame = 0; frame < 3; ++frame) {
    for (int i = 0; i < 20; ++i) add(port_out(0x3F8, static_cast<uint64_t>('a' + i)));
    add(TraceEvent{InterruptEvent{0x20, uint64_t(100 + frame), uint64_t(5000 * frame), std::nullopt}});
    w.flush();
  }
  w.add_keyframe(keyframe());
  add(display_frame(1, {4}, 9));
  w.close(end());
  return all;
}

struct Outcome {
  bool error = false;  // a TraceError was raised somewhere
  std::vector<TraceEvent> events;
  std::optional<TraceStatus> status;
};

// Everything a user of the reader might do, with TraceError as the only
// acceptable failure.
Outcome exercise(const std::string& path) {
  Outcome o;
  try {
    TraceReader reader(path);
    o.status = reader.status();
    EventCursor cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) o.events.push_back(*e);
    for (const auto& k : reader.keyframes()) reader.read_keyframe(k);
  } catch (const TraceError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos);
    EXPECT_NE(what.find(path), std::string::npos);
    o.error = true;
  }
  return o;
}

TEST(TraceTruncation, EveryCutInTheLastFramesReadsTheWholeFramesBeforeIt) {
  std::string path = temp_path("full.rrt");
  std::vector<TraceEvent> written = write_small_trace(path);
  std::vector<uint8_t> bytes = read_file(path);
  std::vector<FrameIndexEntry> frames;
  uint64_t footer_offset;
  {
    TraceReader reader(path);
    frames = reader.frames();
    footer_offset = reader.status().readable_bytes;
  }
  // Frame i ends where frame i+1 (or the footer) starts.
  auto frame_end = [&](size_t i) { return i + 1 < frames.size() ? frames[i + 1].offset : footer_offset; };
  ASSERT_GE(frames.size(), 6u);
  uint64_t first_cut = frames[frames.size() - 5].offset;
  std::string cut_path = temp_path("cut.rrt");
  for (uint64_t cut = first_cut; cut < bytes.size(); ++cut) {
    write_file(cut_path, bytes, cut);
    TraceReader reader(cut_path);
    uint64_t expected_events = 0, expected_frames = 0;
    for (size_t i = 0; i < frames.size(); ++i) {
      if (frame_end(i) > cut) break;
      expected_events += frames[i].event_count;
      ++expected_frames;
    }
    const TraceStatus& st = reader.status();
    bool end_whole = cut >= footer_offset;
    EXPECT_EQ(st.state, end_whole ? TraceCompleteness::Complete : TraceCompleteness::Truncated) << "cut " << cut;
    EXPECT_FALSE(st.footer_used);
    EXPECT_EQ(st.readable_events, expected_events) << "cut " << cut;
    EXPECT_EQ(st.readable_frames, expected_frames) << "cut " << cut;
    EXPECT_EQ(st.readable_bytes, expected_frames == frames.size() ? footer_offset : frame_end(expected_frames - 1));
    std::vector<TraceEvent> events;
    EventCursor cursor = reader.events();
    while (const TraceEvent* e = cursor.next()) events.push_back(*e);
    ASSERT_EQ(events.size(), expected_events) << "cut " << cut;
    EXPECT_TRUE(std::equal(events.begin(), events.end(), written.begin())) << "cut " << cut;
    EXPECT_EQ(reader.end().has_value(), end_whole);
  }
}

TEST(TraceTruncation, CutInsideTheHeaderIsAClearError) {
  std::string path = temp_path("full2.rrt");
  write_small_trace(path);
  std::vector<uint8_t> bytes = read_file(path);
  std::string cut_path = temp_path("cut2.rrt");
  TraceReader full(path);
  uint64_t header_end = full.frames()[1].offset;
  for (uint64_t cut = 0; cut < header_end; ++cut) {
    write_file(cut_path, bytes, cut);
    EXPECT_THROW(TraceReader r(cut_path), TraceError) << "cut " << cut;
  }
}

TEST(TraceCorruption, EveryByteFlipIsDetectedOrHarmless) {
  std::string path = temp_path("flip_src.rrt");
  std::vector<TraceEvent> written = write_small_trace(path);
  std::vector<uint8_t> bytes = read_file(path);
  std::string flip_path = temp_path("flip.rrt");
  size_t detected = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::vector<uint8_t> damaged = bytes;
      damaged[pos] ^= mask;
      write_file(flip_path, damaged, damaged.size());
      Outcome o = exercise(flip_path);
      bool noticed = o.error || !o.status || o.status->state != TraceCompleteness::Complete || !o.status->footer_used;
      detected += noticed;
      // Whatever was handed out is exactly what was recorded.
      ASSERT_LE(o.events.size(), written.size()) << "byte " << pos;
      EXPECT_TRUE(std::equal(o.events.begin(), o.events.end(), written.begin())) << "byte " << pos;
      if (!noticed) ADD_FAILURE() << "flip of bit mask " << int(mask) << " at byte " << pos << " went unnoticed";
    }
  }
  EXPECT_EQ(detected, bytes.size() * 2);
}

TEST(TraceCorruption, GarbageFilesAreRefused) {
  std::string path = temp_path("garbage.rrt");
  std::vector<std::vector<uint8_t>> inputs = {
      {},
      {'R', 'R', 'V', 'M'},
      {'R', 'R', 'V', 'M', 'T', 'R', 'C', 0, 1, 0, 0, 0, 0, 0, 0, 0},
      std::vector<uint8_t>(4096, 0),
      std::vector<uint8_t>(4096, 0xFF),
  };
  for (const auto& in : inputs) {
    write_file(path, in, in.size());
    EXPECT_THROW(TraceReader r(path), TraceError);
  }
  EXPECT_THROW(TraceReader r("/nonexistent/trace.rrt"), TraceError);
  // A refused file is closed again (the fuzzer once ran out of descriptors).
  auto open_files = [] { return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), {}); };
  auto before = open_files();
  for (int i = 0; i < 20; ++i) EXPECT_THROW(TraceReader r(path), TraceError);
  EXPECT_EQ(open_files(), before);
  EXPECT_THROW(TraceReader r("/tmp"), TraceError);
}

}  // namespace
}  // namespace rrvm
