#include "trace/trace_reader.h"

#include <fcntl.h>
#include <lz4.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rrvm {

const char* trace_completeness_name(TraceCompleteness c) {
  switch (c) {
    case TraceCompleteness::Complete: return "complete";
    case TraceCompleteness::Truncated: return "truncated";
    case TraceCompleteness::Corrupt: return "corrupt";
  }
  return "unknown";
}

TraceReader::TraceReader(const std::string& path, TraceReaderOptions options)
    : path_(path), options_(options) {
  file_.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file_.fd < 0) fail(0, std::string("cannot open: ") + std::strerror(errno), "check the path");
  struct stat st {};
  if (::fstat(file_.fd, &st) != 0 || !S_ISREG(st.st_mode)) fail(0, "not a regular file", "give a trace file");
  file_size_ = static_cast<uint64_t>(st.st_size);

  uint8_t start[kTraceFileHeaderSize];
  if (!pread_exact(0, start, sizeof start) || std::memcmp(start, kTraceMagic.data(), kTraceMagic.size()) != 0)
    fail(0, "not an rrvm trace (no RRVMTRC magic)", "give a file written by rrvm record");
  version_ = get_u32(start + 8);
  if (version_ > kTraceFormatVersion)
    fail(8, "format version " + std::to_string(version_) + " is newer than this rrvm reads (" +
                std::to_string(kTraceFormatVersion) + ")",
         "use a newer rrvm");
  if (get_u32(start + 12) != 0) fail(12, "reserved file header bytes are set", "the trace is damaged");
  if (version_ < kTraceMinReadableVersion)
    fail(8, "format version " + std::to_string(version_) + " is no longer supported",
         "use the rrvm release that wrote it");

  Frame frame;
  std::string why;
  ReadResult r = try_read_frame(kTraceFileHeaderSize, &frame, &why);
  if (r != ReadResult::Ok || frame.header.kind != FrameKind::Header)
    fail(kTraceFileHeaderSize, "header frame unreadable: " + (r == ReadResult::Ok ? "first frame is not a header" : why),
         "the trace is unusable; record it again");
  try {
    header_ = decode_header(frame.message);
  } catch (const CodecError& e) {
    fail(kTraceFileHeaderSize, std::string("header frame: ") + e.what(), "the trace is unusable; record it again");
  }
  if (header_.format_version != version_)
    fail(8, "the file header says format version " + std::to_string(version_) + " but the header frame says " +
                std::to_string(header_.format_version),
         "the trace is damaged; record it again");
  data_start_ = frame.end_offset;
  frames_.push_back(FrameIndexEntry{kTraceFileHeaderSize, FrameKind::Header, 0, 0, std::nullopt});
  uncompressed_bytes_ = frame.header.uncompressed_size;

  if (!load_footer()) {
    frames_.resize(1);
    uncompressed_bytes_ = frame.header.uncompressed_size;
    end_.reset();
    footer_.reset();
    scan(data_start_);
  }
}

TraceReader::~TraceReader() = default;

TraceReader::FileHandle::~FileHandle() {
  if (fd >= 0) ::close(fd);
}

void TraceReader::fail(uint64_t offset, const std::string& what, const std::string& todo) const {
  throw TraceError("trace " + path_ + ": at byte " + std::to_string(offset) + ": " + what + "; " + todo);
}

bool TraceReader::pread_exact(uint64_t offset, void* dst, size_t size) const {
  if (offset > file_size_ || size > file_size_ - offset) return false;
  auto* p = static_cast<uint8_t*>(dst);
  while (size > 0) {
    ssize_t n = ::pread(file_.fd, p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return true;
}

TraceReader::ReadResult TraceReader::try_read_frame(uint64_t offset, Frame* frame, std::string* why) const {
  if (offset > file_size_ || file_size_ - offset < kFrameHeaderSize) {
    *why = "file ends inside a frame header";
    return ReadResult::Truncated;
  }
  uint8_t raw[kFrameHeaderSize];
  if (!pread_exact(offset, raw, sizeof raw)) {
    *why = "read failed";
    return ReadResult::Truncated;
  }
  auto header = decode_frame_header(raw, why);
  if (!header) return ReadResult::Corrupt;
  if (file_size_ - offset - kFrameHeaderSize < header->payload_size) {
    *why = std::string("file ends inside a ") + frame_kind_name(header->kind) + " frame";
    return ReadResult::Truncated;
  }
  std::vector<uint8_t>& payload = frame->payload;
  payload.resize(header->payload_size);  // reused: the read overwrites it
  if (!pread_exact(offset + kFrameHeaderSize, payload.data(), payload.size())) {
    *why = "read failed";
    return ReadResult::Truncated;
  }
  if (options_.verify_checksums) {
    std::array<uint8_t, kFrameHeaderSize> h;
    std::memcpy(h.data(), raw, h.size());
    if (frame_checksum(h, payload.data(), payload.size()) != header->checksum) {
      *why = std::string(frame_kind_name(header->kind)) + " frame checksum mismatch";
      return ReadResult::Corrupt;
    }
  }
  frame->header = *header;
  frame->end_offset = offset + kFrameHeaderSize + header->payload_size;
  // Both paths below fill all of it (the header checks guarantee the sizes).
  frame->message.resize(header->uncompressed_size / 8);
  if (!decompress_frame_payload(*header, payload.data(), payload.size(),
                                reinterpret_cast<uint8_t*>(frame->message.data()), header->uncompressed_size)) {
    *why = std::string(frame_kind_name(header->kind)) + " frame does not decompress to its stated size";
    return ReadResult::Corrupt;
  }
  return ReadResult::Ok;
}

TraceReader::Frame TraceReader::read_frame(const FrameIndexEntry& entry) const {
  Frame frame;
  read_frame(entry, frame);
  return frame;
}

void TraceReader::read_frame(const FrameIndexEntry& entry, Frame& frame) const {
  std::string why;
  ReadResult r = try_read_frame(entry.offset, &frame, &why);
  if (r != ReadResult::Ok) fail(entry.offset, why, "the trace is damaged here; replay up to this point only");
  if (frame.header.kind != entry.kind || frame.header.first_event_ordinal != entry.first_event_ordinal ||
      frame.header.event_count != entry.event_count)
    fail(entry.offset, "frame does not match the trace's index", "the trace is damaged here; replay up to this point only");
}

// Takes the index from the footer when the trailer, the footer frame and
// every index entry check out; false (and nothing kept) otherwise.
bool TraceReader::load_footer() {
  if (file_size_ < data_start_ + kTraceTrailerSize) return false;
  uint8_t trailer[kTraceTrailerSize];
  if (!pread_exact(file_size_ - kTraceTrailerSize, trailer, sizeof trailer)) return false;
  if (std::memcmp(trailer + 8, kTraceTrailerMagic.data(), kTraceTrailerMagic.size()) != 0) return false;
  uint64_t footer_offset = get_u64(trailer);
  if (footer_offset < data_start_ || footer_offset > file_size_ - kTraceTrailerSize) return false;
  Frame frame;
  std::string why;
  if (try_read_frame(footer_offset, &frame, &why) != ReadResult::Ok || frame.header.kind != FrameKind::Footer ||
      frame.end_offset != file_size_ - kTraceTrailerSize)
    return false;
  TraceFooter footer;
  try {
    footer = decode_footer(frame.message);
  } catch (const CodecError&) {
    return false;
  }
  // The index must describe a well-formed file: header first, offsets
  // rising inside the data, ordinals contiguous, the end frame last.
  const auto& f = footer.frames;
  if (f.size() < 2 || f[0].offset != kTraceFileHeaderSize || f[0].kind != FrameKind::Header) return false;
  uint64_t next_ordinal = 0, prev_offset = f[0].offset;
  for (size_t i = 1; i < f.size(); ++i) {
    const FrameIndexEntry& e = f[i];
    if (e.offset <= prev_offset || e.offset < data_start_ || e.offset > footer_offset - kFrameHeaderSize) return false;
    if (e.kind == FrameKind::Header || e.kind == FrameKind::Footer) return false;
    if (e.first_event_ordinal != next_ordinal) return false;
    if (e.kind != FrameKind::Events && e.event_count != 0) return false;
    if ((e.kind == FrameKind::End) != (i + 1 == f.size())) return false;
    next_ordinal += e.event_count;
    prev_offset = e.offset;
  }
  if (next_ordinal != footer.total_events) return false;
  Frame end_frame;
  if (try_read_frame(f.back().offset, &end_frame, &why) != ReadResult::Ok ||
      end_frame.end_offset != footer_offset || end_frame.header.kind != FrameKind::End)
    return false;
  try {
    end_ = decode_end(end_frame.message);
  } catch (const CodecError&) {
    return false;
  }
  frames_ = f;
  uncompressed_bytes_ = footer.uncompressed_bytes;
  status_ = TraceStatus{TraceCompleteness::Complete, footer_offset, f.size(), next_ordinal, std::nullopt, true, ""};
  footer_ = std::move(footer);
  return true;
}

// Walks the frames from `offset`, checking each, until the end frame, the
// end of the file, or the first bad frame.
void TraceReader::scan(uint64_t offset) {
  uint64_t next_ordinal = 0;
  auto stop = [&](TraceCompleteness state, const std::string& what) {
    status_.state = state;
    status_.detail = what + " at byte " + std::to_string(offset);
    if (state == TraceCompleteness::Corrupt) status_.bad_frame = frames_.size();
  };
  for (;;) {
    if (offset == file_size_) {
      stop(TraceCompleteness::Truncated, "file ends without an end frame (recording was cut short)");
      break;
    }
    Frame frame;
    std::string why;
    ReadResult r = try_read_frame(offset, &frame, &why);
    if (r == ReadResult::Truncated) {
      stop(TraceCompleteness::Truncated, why);
      break;
    }
    if (r == ReadResult::Corrupt) {
      stop(TraceCompleteness::Corrupt, "frame " + std::to_string(frames_.size()) + ": " + why);
      break;
    }
    const FrameHeader& h = frame.header;
    if (h.kind == FrameKind::Header || (h.kind != FrameKind::Footer && h.first_event_ordinal != next_ordinal)) {
      stop(TraceCompleteness::Corrupt, "frame " + std::to_string(frames_.size()) + ": out of sequence");
      break;
    }
    if (h.kind == FrameKind::Footer) {
      // A footer without a valid end frame before it: the index is all we
      // could have learned from it, and we have that already.
      stop(TraceCompleteness::Corrupt, "frame " + std::to_string(frames_.size()) + ": footer before the end frame");
      break;
    }
    if (h.kind == FrameKind::End) {
      try {
        end_ = decode_end(frame.message);
      } catch (const CodecError& e) {
        stop(TraceCompleteness::Corrupt, "frame " + std::to_string(frames_.size()) + ": end frame: " + e.what());
        break;
      }
    }
    frames_.push_back(FrameIndexEntry{offset, h.kind, h.first_event_ordinal, h.event_count, std::nullopt});
    uncompressed_bytes_ += h.uncompressed_size;
    next_ordinal += h.event_count;
    offset = frame.end_offset;
    if (h.kind == FrameKind::End) {
      status_.state = TraceCompleteness::Complete;
      status_.detail = "footer missing or damaged; index rebuilt by scanning";
      break;
    }
  }
  status_.readable_bytes = offset;
  status_.readable_frames = frames_.size();
  status_.readable_events = next_ordinal;
  status_.footer_used = false;
}

EventCursor TraceReader::events(uint64_t from_ordinal, bool page_bytes) const {
  // Display deltas restart at keyframes: start decoding at the last one
  // before the wanted event.
  // Without page bytes no delta state is needed: start at the frame that
  // holds the event (a checkpoint restore must not read the trace from the
  // start). The index is in ordinal order.
  size_t start = 1;
  if (!page_bytes) {
    auto it = std::upper_bound(frames_.begin() + 1, frames_.end(), from_ordinal,
                               [](uint64_t o, const FrameIndexEntry& f) { return o < f.first_event_ordinal; });
    start = std::max<size_t>(1, size_t(it - frames_.begin()) - 1);
    return EventCursor(*this, start, from_ordinal, page_bytes);
  }
  for (size_t i = 1; i < frames_.size(); ++i) {
    if (frames_[i].kind == FrameKind::Keyframe && frames_[i].first_event_ordinal <= from_ordinal) start = i;
  }
  return EventCursor(*this, start, from_ordinal, page_bytes);
}

std::vector<FrameIndexEntry> TraceReader::keyframes() const {
  std::vector<FrameIndexEntry> out;
  for (const auto& f : frames_)
    if (f.kind == FrameKind::Keyframe) out.push_back(f);
  return out;
}

Keyframe TraceReader::read_keyframe(const FrameIndexEntry& entry) const {
  if (entry.kind != FrameKind::Keyframe) fail(entry.offset, "not a keyframe", "pick an entry from keyframes()");
  Frame frame = read_frame(entry);
  try {
    Keyframe k = decode_keyframe(frame.message, options_.max_keyframe_memory);
    if (k.event_ordinal != entry.first_event_ordinal) throw CodecError("keyframe event ordinal disagrees with its frame");
    return k;
  } catch (const CodecError& e) {
    fail(entry.offset, std::string("keyframe: ") + e.what(), "seek from an earlier keyframe or the start");
  }
}

EventCursor::EventCursor(const TraceReader& reader, size_t frame, uint64_t skip_to, bool page_bytes)
    : reader_(&reader), next_frame_(frame), skip_to_(skip_to), page_bytes_(page_bytes) {}

const TraceEvent* EventCursor::next() {
  for (;;) {
    if (ended_) return nullptr;
    while (pos_ < events_.size()) {
      uint64_t ordinal = first_ + pos_;
      const TraceEvent* e = &events_[pos_++];
      if (ordinal < skip_to_) continue;
      ordinal_ = ordinal;
      return e;
    }
    const auto& frames = reader_->frames_;
    if (next_frame_ >= frames.size()) {
      ended_ = true;
      return nullptr;
    }
    const FrameIndexEntry& entry = frames[next_frame_++];
    if (entry.kind == FrameKind::Keyframe) {
      vram_.reset();
      continue;
    }
    if (entry.kind != FrameKind::Events) continue;
    ended_ = true;  // until this frame decodes
    reader_->read_frame(entry, frame_);
    try {
      events_ = decode_event_batch(frame_.message, entry.event_count, vram_, page_bytes_);
    } catch (const CodecError& e) {
      reader_->fail(entry.offset, std::string("event frame: ") + e.what(),
                    "the trace is damaged here; replay up to this point only");
    }
    ended_ = false;
    pos_ = 0;
    first_ = entry.first_event_ordinal;
  }
}

}  // namespace rrvm
