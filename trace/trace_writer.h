// Writes a trace file: file header, header frame, event frames (bounded:
// kMaxEventsPerFrame events or about kFrameTargetBytes of message), keyframes,
// and on close() the end frame, the footer index and the trailer. Each frame
// goes out with one write() (looping only on short writes), so a recorder
// killed at any moment leaves a file readable up to its last whole frame.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "trace/trace_codec.h"
#include "trace/trace_events.h"

namespace rrvm {

class TraceWriter {
 public:
  static constexpr uint32_t kMaxEventsPerFrame = 4096;
  static constexpr size_t kFrameTargetBytes = 64 * 1024;

  // Writes the file header and the header frame into a new temporary file in
  // `path`'s directory (".NAME.XXXXXX"), locks it (flock) and renames it over
  // `path`: whatever was at `path` stays whole until the new trace has its
  // header, and from then on a recorder killed at any moment leaves its
  // readable prefix under `path`. Refuses (TraceWriteError) a `path` that is
  // not a regular file or that another recorder holds locked.
  TraceWriter(const std::string& path, const TraceHeader& header);
  // Without close(), flushes pending events (best effort): the file then
  // reads as truncated after its last event.
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  void append(const TraceEvent& event);
  // Flushes pending events, then writes the snapshot; its event_ordinal is
  // set to the number of events appended so far. An incremental keyframe's
  // display part (the picture the display frames so far built) is filled in
  // here, from the frames this writer wrote.
  void add_keyframe(const Keyframe& keyframe);
  // Writes pending events as a frame now.
  void flush();
  // Flushes, writes the end frame, the footer and the trailer; closes.
  void close(const TraceEnd& end);

  uint64_t events_written() const { return next_ordinal_; }
  uint64_t exits_written() const { return exits_; }
  uint64_t bytes_written() const { return offset_; }

 private:
  void write_frame(FrameKind kind, uint64_t first, uint32_t count, const MessageWords& message,
                   bool compress, std::optional<uint64_t> icount, const std::vector<uint8_t>* suffix = nullptr,
                   bool high_compression = false);
  // flush(); `last`: the frame written at close, in LZ4's high compression
  // (once per trace, off the recorder's hot path).
  void flush_events(bool last);
  void write_all(const uint8_t* data, size_t size);
  // Write failures (TraceWriteError) and events that cannot be encoded
  // (TraceError).
  [[noreturn]] void fail(const std::string& what, bool advice = true);
  [[noreturn]] void reject(const std::string& what) const;

  std::string path_;
  int fd_ = -1;
  std::string temp_path_;  // until the header is written and renamed over path_
  uint64_t offset_ = 0;
  uint64_t next_ordinal_ = 0;
  uint64_t batch_first_ = 0;
  uint64_t exits_ = 0;
  EventBatchEncoder batch_;
  VramDeltaState vram_;
  TraceFooter footer_;
  // The picture the display frames written so far build (what a reader
  // starting at a keyframe must start from): shown pages, those changed
  // since the last keyframe, the last registers, the number of frames.
  std::vector<std::vector<uint8_t>> shown_;  // by VRAM page index; empty: zeros
  std::vector<uint32_t> shown_changed_;
  std::vector<uint8_t> shown_registers_;
  uint64_t display_frames_ = 0;
};

}  // namespace rrvm
