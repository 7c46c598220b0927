// Conversion between the plain structs of trace_events.h and the Cap'n Proto
// messages of trace.capnp. The only file that touches capnp builders and
// readers. Decoders validate everything and throw CodecError (short "what",
// no file context: the reader adds that).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "trace/trace_events.h"
#include "trace/trace_frame.h"

namespace rrvm {

class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A message as 8-byte words (Cap'n Proto needs word alignment).
using MessageWords = std::vector<uint64_t>;

// The content VRAM pages had at the last DisplayFrame since the last
// keyframe: the base the XOR deltas are taken against. Writer and reader keep
// one each and reset it at every keyframe frame.
class VramDeltaState {
 public:
  // The delta of `content` against the stored page (a new vector), and
  // stores `content` as the page's new base (encoder side).
  std::vector<uint8_t> encode(uint32_t index, const std::vector<uint8_t>& content);
  // Applies a delta and stores the result (decoder side).
  std::vector<uint8_t> decode(uint32_t index, const uint8_t* delta, size_t size);
  void reset() { pages_.clear(); }

 private:
  std::unordered_map<uint32_t, std::vector<uint8_t>> pages_;
};

// Builds an EventBatch column by column as events arrive, so the recorder's
// hot path is a few byte appends per exit.
class EventBatchEncoder {
 public:
  void add(const TraceEvent& event, VramDeltaState& vram);
  size_t count() const { return kinds_.size(); }
  size_t approx_bytes() const { return approx_bytes_; }
  // The smallest icount carried by the batch's events, if any.
  std::optional<uint64_t> min_icount() const { return min_icount_; }
  MessageWords finish();  // encodes and clears
  void clear();

 private:
  struct DataKey {
    uint64_t address;
    uint8_t kind_write;
    bool operator==(const DataKey&) const = default;
  };
  struct DataKeyHash {
    size_t operator()(const DataKey& k) const { return k.address * 0x9E3779B97F4A7C15ull ^ k.kind_write; }
  };
  void note_icount(uint64_t icount);
  void add_icount(uint64_t icount);
  void add_point(const KickState& point);

  std::vector<uint8_t> kinds_, exit_flags_, exit_addresses_, exit_data_;
  std::vector<uint8_t> irq_vectors_, irq_flags_, irq_ordinals_;
  std::vector<uint8_t> clock_, serial_;
  // Format version 5: service points and asynchronous points in columns.
  std::vector<uint8_t> svc_flags_, svc_ns_, svc_ordinals_, icounts_;
  std::vector<uint8_t> async_flags_, async_pcs_, async_hashes_, async_digests_;
  std::vector<uint8_t> async_rcx_;  // format version 6
  std::vector<uint8_t> tsc_;        // format version 7: TSC reads
  std::vector<Registers> async_regs_;
  std::vector<CpuChecksumEvent> checksums_;
  struct EncodedFrame {
    uint64_t guest_ns;
    std::vector<uint8_t> registers;
    std::vector<std::pair<uint32_t, std::vector<uint8_t>>> pages;  // index, xor delta
  };
  std::vector<EncodedFrame> frames_;
  uint64_t last_address_ = 0, last_irq_ordinal_ = 0, last_clock_ = 0, last_tsc_ = 0;
  uint64_t last_svc_ns_ = 0, last_svc_ordinal_ = 0, last_icount_ = 0, last_pc_ = 0;
  std::optional<KickState> last_point_;  // the previous asynchronous point, digest cleared
  std::unordered_map<DataKey, uint64_t, DataKeyHash> last_data_;
  std::optional<uint64_t> min_icount_;
  size_t approx_bytes_ = 0;
};

// page_bytes false: display frames' pages carry their index and no bytes,
// and `vram` is left alone (nothing to XOR): for a pass over a trace that
// needs only the display registers.
std::vector<TraceEvent> decode_event_batch(const MessageWords& words, uint32_t expected_count,
                                           VramDeltaState& vram, bool page_bytes = true);

MessageWords encode_header(const TraceHeader& header);
TraceHeader decode_header(const MessageWords& words);

MessageWords encode_keyframe(const Keyframe& keyframe);
// Refuses keyframes whose memory adds up to more than max_memory_bytes.
Keyframe decode_keyframe(const MessageWords& words, uint64_t max_memory_bytes);

MessageWords encode_end(const TraceEnd& end);
TraceEnd decode_end(const MessageWords& words);

struct TraceFooter {
  std::vector<FrameIndexEntry> frames;
  uint64_t total_events = 0;
  uint64_t total_exits = 0;
  std::vector<uint64_t> event_counts_by_kind;  // kTraceEventKindCount entries
  uint64_t uncompressed_bytes = 0;
  uint64_t last_guest_ns = 0;
  bool operator==(const TraceFooter&) const = default;
};
MessageWords encode_footer(const TraceFooter& footer);
TraceFooter decode_footer(const MessageWords& words);

}  // namespace rrvm
