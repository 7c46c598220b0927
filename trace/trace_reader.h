// Reads a trace file written by TraceWriter, in any state: complete, cut off
// at any byte (a killed recorder), or damaged. Opening validates the magic,
// version and header, then takes the frame index from the footer or, when
// that is missing or inconsistent, rebuilds it by scanning (verifying each
// frame's checksum). Nothing here trusts a length it has not checked against
// the file; every problem becomes a one-line TraceError.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <vector>

#include "trace/trace_codec.h"
#include "trace/trace_events.h"
#include "trace/trace_frame.h"

namespace rrvm {

enum class TraceCompleteness { Complete, Truncated, Corrupt };
const char* trace_completeness_name(TraceCompleteness c);

struct TraceStatus {
  TraceCompleteness state = TraceCompleteness::Complete;
  uint64_t readable_bytes = 0;   // the file is good up to this offset
  uint64_t readable_frames = 0;  // whole, checked frames (header included)
  uint64_t readable_events = 0;  // events in those frames
  std::optional<uint64_t> bad_frame;  // Corrupt: index of the failing frame
  bool footer_used = false;      // the index came from the footer
  std::string detail;            // Truncated/Corrupt (or a dropped footer): what and where
};

struct TraceReaderOptions {
  bool verify_checksums = true;  // off only for fuzzing the decoders
  uint64_t max_keyframe_memory = uint64_t{64} << 30;
};

class TraceReader;

// One trace frame as read from the file. EventCursor keeps one and reads
// every frame into it: a full-screen display frame is half a megabyte, and
// buffers that size allocated afresh came as new pages from the kernel each
// time (a third of the time `rrvm frames` took to read such a trace).
struct TraceFrameData {
  FrameHeader header;
  MessageWords message;
  std::vector<uint8_t> payload;  // as stored (LZ4), before decompression
  uint64_t end_offset = 0;
};

// Streams events in order, one decoded frame at a time.
class EventCursor {
 public:
  // The next event, or nullptr after the last readable one. Throws
  // TraceError when a frame fails its checks (the cursor then stays ended).
  const TraceEvent* next();
  // Ordinal of the event next() returned last.
  uint64_t ordinal() const { return ordinal_; }
  // The events after that one in the same frame, already decoded: a look
  // ahead that reads nothing (empty at a frame's last event).
  std::span<const TraceEvent> rest_of_frame() const {
    return ended_ ? std::span<const TraceEvent>() : std::span<const TraceEvent>(events_).subspan(pos_);
  }

 private:
  friend class TraceReader;
  EventCursor(const TraceReader& reader, size_t frame, uint64_t skip_to, bool page_bytes);
  const TraceReader* reader_;
  size_t next_frame_;
  uint64_t skip_to_;
  std::vector<TraceEvent> events_;
  size_t pos_ = 0;
  uint64_t first_ = 0;
  uint64_t ordinal_ = 0;
  bool ended_ = false;
  bool page_bytes_;
  VramDeltaState vram_;
  TraceFrameData frame_;
};

class TraceReader {
 public:
  // Throws TraceError when the file cannot be opened or its start (magic,
  // version, header frame) is unreadable: nothing could be replayed then.
  explicit TraceReader(const std::string& path, TraceReaderOptions options = {});
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const std::string& path() const { return path_; }
  uint32_t format_version() const { return version_; }
  const TraceHeader& header() const { return header_; }
  const TraceStatus& status() const { return status_; }
  // Readable frames in file order, the header frame first (footer excluded).
  const std::vector<FrameIndexEntry>& frames() const { return frames_; }
  uint64_t event_count() const { return status_.readable_events; }
  // Present when the recording ended cleanly (the end frame was read).
  const std::optional<TraceEnd>& end() const { return end_; }
  const std::optional<TraceFooter>& footer() const { return footer_; }
  uint64_t file_size() const { return file_size_; }
  // Sum of the readable frames' Cap'n Proto message sizes before LZ4.
  uint64_t uncompressed_bytes() const { return uncompressed_bytes_; }

  // Events from `from_ordinal` on. page_bytes false: display frames carry
  // their pages' indices only (half the work of reading a trace of
  // full-screen redraws), for a pass that needs only the display registers.
  EventCursor events(uint64_t from_ordinal = 0, bool page_bytes = true) const;

  std::vector<FrameIndexEntry> keyframes() const;
  Keyframe read_keyframe(const FrameIndexEntry& entry) const;

 private:
  friend class EventCursor;
  using Frame = TraceFrameData;
  // Outcome of reading one frame where truncation is not an error but a state.
  enum class ReadResult { Ok, Truncated, Corrupt };
  // Reads into `frame`, reusing its buffers.
  ReadResult try_read_frame(uint64_t offset, Frame* frame, std::string* why) const;
  Frame read_frame(const FrameIndexEntry& entry) const;  // throws TraceError
  void read_frame(const FrameIndexEntry& entry, Frame& frame) const;
  bool load_footer();
  void scan(uint64_t offset);
  [[noreturn]] void fail(uint64_t offset, const std::string& what, const std::string& todo) const;
  bool pread_exact(uint64_t offset, void* dst, size_t size) const;

  // Closes the file also when the constructor throws.
  struct FileHandle {
    int fd = -1;
    FileHandle() = default;
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    ~FileHandle();
  };
  std::string path_;
  TraceReaderOptions options_;
  FileHandle file_;
  uint64_t file_size_ = 0;
  uint32_t version_ = 0;
  uint64_t data_start_ = 0;  // first frame after the header frame
  TraceHeader header_;
  TraceStatus status_;
  std::vector<FrameIndexEntry> frames_;
  std::optional<TraceEnd> end_;
  std::optional<TraceFooter> footer_;
  uint64_t uncompressed_bytes_ = 0;
};

}  // namespace rrvm
