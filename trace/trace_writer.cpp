#include "trace/trace_writer.h"

#include "vmm/guest_memory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rrvm {

TraceWriter::TraceWriter(const std::string& path, const TraceHeader& header) : path_(path) {
  footer_.event_counts_by_kind.assign(kTraceEventKindCount, 0);
  struct stat old {};
  if (::stat(path.c_str(), &old) == 0 && !S_ISREG(old.st_mode))
    fail(std::string("exists and is not a regular file (") + (S_ISDIR(old.st_mode) ? "a directory" : "a device or pipe") +
         ")");
  // Another recorder writing this path holds its file locked.
  if (int existing = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK); existing >= 0) {
    const bool busy = ::flock(existing, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(existing);
    if (busy) fail("another rrvm is recording into it; wait for it to end or give another -o path", false);
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string temp = dir + "/." + base + ".XXXXXX";
  fd_ = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd_ < 0) fail(std::string("cannot create a file in ") + dir + ": " + std::strerror(errno));
  temp_path_ = temp;
  ::fchmod(fd_, 0644);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) fail(std::string("cannot lock: ") + std::strerror(errno));
  TraceHeader h = header;
  h.format_version = kTraceFormatVersion;
  std::vector<uint8_t> start(kTraceFileHeaderSize);
  std::memcpy(start.data(), kTraceMagic.data(), kTraceMagic.size());
  put_u32(start.data() + 8, kTraceFormatVersion);
  write_all(start.data(), start.size());
  write_frame(FrameKind::Header, 0, 0, encode_header(h), true, std::nullopt);
  if (::rename(temp_path_.c_str(), path.c_str()) != 0) fail(std::string("cannot rename into place: ") + std::strerror(errno));
  temp_path_.clear();
}

TraceWriter::~TraceWriter() {
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  if (fd_ < 0) return;
  try {
    flush();
  } catch (const std::exception&) {
    // A destructor cannot report; the file reads as truncated.
  }
  ::close(fd_);
}

void TraceWriter::fail(const std::string& what, bool advice) {
  // A constructor that fails leaves nothing behind: no temporary file.
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
    ::close(fd_);
    fd_ = -1;
  }
  throw TraceWriteError("trace " + path_ + ": at byte " + std::to_string(offset_) + ": " + what +
                        (advice ? "; check the path, permissions and free disk space" : ""));
}

void TraceWriter::reject(const std::string& what) const {
  throw TraceError("trace " + path_ + ": at byte " + std::to_string(offset_) + ": " + what);
}

void TraceWriter::write_all(const uint8_t* data, size_t size) {
  if (fd_ < 0) fail("write after close");
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(std::string("write failed: ") + (n < 0 ? std::strerror(errno) : "no progress"));
    data += n;
    size -= static_cast<size_t>(n);
    offset_ += static_cast<uint64_t>(n);
  }
}

void TraceWriter::write_frame(FrameKind kind, uint64_t first, uint32_t count, const MessageWords& message,
                              bool compress, std::optional<uint64_t> icount,
                              const std::vector<uint8_t>* suffix, bool high_compression) {
  std::vector<uint8_t> frame;
  try {
    frame = build_frame(kind, first, count, reinterpret_cast<const uint8_t*>(message.data()),
                        message.size() * sizeof(uint64_t), compress, high_compression);
  } catch (const std::exception& e) {
    reject(std::string("cannot encode a ") + frame_kind_name(kind) + " frame: " + e.what());
  }
  footer_.frames.push_back(FrameIndexEntry{offset_, kind, first, count, icount});
  footer_.uncompressed_bytes += message.size() * sizeof(uint64_t);
  if (suffix) frame.insert(frame.end(), suffix->begin(), suffix->end());
  write_all(frame.data(), frame.size());
}

void TraceWriter::append(const TraceEvent& event) {
  try {
    batch_.add(event, vram_);
  } catch (const std::invalid_argument& e) {
    reject(e.what());
  }
  TraceEventKind kind = event.kind();
  footer_.event_counts_by_kind[static_cast<size_t>(kind)]++;
  if (kind == TraceEventKind::Exit) ++exits_;
  if (kind == TraceEventKind::ClockSample)
    footer_.last_guest_ns = std::max(footer_.last_guest_ns, std::get<ClockSampleEvent>(event.body).ns);
  if (kind == TraceEventKind::DisplayFrame) {
    const auto& f = std::get<DisplayFrameEvent>(event.body);
    footer_.last_guest_ns = std::max(footer_.last_guest_ns, f.guest_ns);
    ++display_frames_;
    for (const VramPage& p : f.pages) {
      if (p.index >= shown_.size()) shown_.resize(size_t(p.index) + 1);
      if (shown_[p.index].empty()) {
        if (std::all_of(p.bytes.begin(), p.bytes.end(), [](uint8_t b) { return b == 0; })) continue;
      } else if (shown_[p.index] == p.bytes) {
        continue;
      }
      shown_[p.index] = p.bytes;
      shown_changed_.push_back(p.index);
    }
    if (!f.display_registers.empty()) shown_registers_ = f.display_registers;
  }
  ++next_ordinal_;
  if (batch_.count() >= kMaxEventsPerFrame || batch_.approx_bytes() >= kFrameTargetBytes) flush();
}

void TraceWriter::flush() { flush_events(false); }

void TraceWriter::flush_events(bool last) {
  if (batch_.count() == 0) return;
  auto count = static_cast<uint32_t>(batch_.count());
  std::optional<uint64_t> icount = batch_.min_icount();
  MessageWords message = batch_.finish();
  uint64_t first = batch_first_;
  batch_first_ = next_ordinal_;
  write_frame(FrameKind::Events, first, count, message, true, icount, nullptr, last);
}

void TraceWriter::add_keyframe(const Keyframe& keyframe) {
  flush();
  Keyframe k = keyframe;
  k.event_ordinal = next_ordinal_;
  if (k.incremental) {
    k.display = KeyframeDisplay{display_frames_, shown_registers_, {}};
    std::sort(shown_changed_.begin(), shown_changed_.end());
    shown_changed_.erase(std::unique(shown_changed_.begin(), shown_changed_.end()), shown_changed_.end());
    for (uint32_t i : shown_changed_)
      k.display.pages.push_back(
          KeyframePage{i, shown_[i].empty() ? std::vector<uint8_t>(kPageSize, 0) : shown_[i]});
  }
  MessageWords message;
  try {
    message = encode_keyframe(k);
  } catch (const std::exception& e) {
    reject(std::string("cannot encode keyframe: ") + e.what());
  }
  // Pages are compressed one by one inside the message, so the frame is not.
  write_frame(FrameKind::Keyframe, next_ordinal_, 0, message, false, k.icount);
  // Display deltas restart at every keyframe so replay can start there.
  vram_.reset();
  if (k.incremental) shown_changed_.clear();
}

void TraceWriter::close(const TraceEnd& end) {
  flush_events(true);
  // Two recorders that started at the same moment both passed the lock
  // check; the later rename won the name. The other says so instead of
  // reporting a trace no one can open under that name.
  struct stat ours {}, named {};
  if (::fstat(fd_, &ours) == 0 &&
      (::stat(path_.c_str(), &named) != 0 || named.st_dev != ours.st_dev || named.st_ino != ours.st_ino))
    fail("another rrvm replaced or removed it during this recording; this recording is lost", false);
  write_frame(FrameKind::End, next_ordinal_, 0, encode_end(end), true, end.instruction_count);
  footer_.total_events = next_ordinal_;
  footer_.total_exits = exits_;
  uint64_t footer_offset = offset_;
  std::vector<uint8_t> trailer(kTraceTrailerSize);
  put_u64(trailer.data(), footer_offset);
  std::memcpy(trailer.data() + 8, kTraceTrailerMagic.data(), kTraceTrailerMagic.size());
  // The footer indexes the frames before it; it goes out with the trailer
  // in the same write.
  TraceFooter footer = footer_;
  write_frame(FrameKind::Footer, next_ordinal_, 0, encode_footer(footer), true, std::nullopt, &trailer);
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail(std::string("close failed: ") + std::strerror(errno));
  }
  fd_ = -1;
}

}  // namespace rrvm
