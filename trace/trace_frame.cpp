#include "trace/trace_frame.h"

#include <isa-l/crc.h>
#include <lz4.h>
#include <lz4hc.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "trace/trace_dictionary.h"

namespace rrvm {

const char* frame_kind_name(FrameKind kind) {
  switch (kind) {
    case FrameKind::Header: return "header";
    case FrameKind::Events: return "events";
    case FrameKind::Keyframe: return "keyframe";
    case FrameKind::End: return "end";
    case FrameKind::Footer: return "footer";
  }
  return "unknown";
}

bool frame_kind_valid(uint8_t kind) { return kind >= 1 && kind <= 5; }

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::array<uint8_t, kFrameHeaderSize> encode_frame_header(const FrameHeader& h) {
  std::array<uint8_t, kFrameHeaderSize> b{};
  put_u32(&b[0], kFrameMagic);
  b[4] = static_cast<uint8_t>(h.kind);
  b[5] = h.flags;
  put_u32(&b[8], h.payload_size);
  put_u32(&b[12], h.uncompressed_size);
  put_u64(&b[16], h.first_event_ordinal);
  put_u32(&b[24], h.event_count);
  put_u32(&b[28], h.checksum);
  return b;
}

std::optional<FrameHeader> decode_frame_header(const uint8_t* b, std::string* why) {
  if (get_u32(&b[0]) != kFrameMagic) {
    *why = "no frame magic";
    return std::nullopt;
  }
  if (!frame_kind_valid(b[4])) {
    *why = "unknown frame kind " + std::to_string(b[4]);
    return std::nullopt;
  }
  FrameHeader h;
  h.kind = static_cast<FrameKind>(b[4]);
  h.flags = b[5];
  h.payload_size = get_u32(&b[8]);
  h.uncompressed_size = get_u32(&b[12]);
  h.first_event_ordinal = get_u64(&b[16]);
  h.event_count = get_u32(&b[24]);
  h.checksum = get_u32(&b[28]);
  if ((h.flags & ~(kFrameFlagLz4 | kFrameFlagDictionary)) != 0 ||
      ((h.flags & kFrameFlagDictionary) && !(h.flags & kFrameFlagLz4)) || b[6] != 0 || b[7] != 0) {
    *why = "reserved frame header bits set";
    return std::nullopt;
  }
  if (h.payload_size > kMaxFramePayload || h.uncompressed_size > kMaxFrameUncompressed ||
      h.uncompressed_size % 8 != 0) {
    *why = "impossible frame size";
    return std::nullopt;
  }
  bool lz4 = (h.flags & kFrameFlagLz4) != 0;
  // LZ4 cannot expand data by more than 255x; a larger claim is a lie that
  // would only make us allocate.
  if ((!lz4 && h.payload_size != h.uncompressed_size) ||
      (lz4 && uint64_t{h.uncompressed_size} > uint64_t{h.payload_size} * 255 + 64)) {
    *why = "frame sizes disagree";
    return std::nullopt;
  }
  if (h.kind != FrameKind::Events && h.kind != FrameKind::Keyframe && h.event_count != 0) {
    *why = "event count on a frame that holds no events";
    return std::nullopt;
  }
  return h;
}

uint32_t frame_checksum(const std::array<uint8_t, kFrameHeaderSize>& header, const uint8_t* payload,
                        size_t payload_size) {
  uint32_t crc = crc32_gzip_refl(0, header.data(), 28);
  return payload_size ? crc32_gzip_refl(crc, payload, payload_size) : crc;
}

std::vector<uint8_t> build_frame(FrameKind kind, uint64_t first_event_ordinal, uint32_t event_count,
                                 const uint8_t* message, size_t message_size, bool compress,
                                 bool high_compression) {
  if (message_size > kMaxFrameUncompressed) throw std::length_error("trace frame too large");
  std::vector<uint8_t> frame;
  FrameHeader h;
  h.kind = kind;
  h.first_event_ordinal = first_event_ordinal;
  h.event_count = event_count;
  h.uncompressed_size = static_cast<uint32_t>(message_size);
  if (compress) {
    int bound = LZ4_compressBound(static_cast<int>(message_size));
    frame.resize(kFrameHeaderSize + static_cast<size_t>(bound));
    // Every compressed frame is compressed against the preset dictionary
    // (format version 6): the parts every trace repeats then cost a match
    // each. Frames written once per trace (header, end, footer) take LZ4's
    // high compression, the same block format: a fixed cost every trace
    // pays, ~15% smaller; so does the last event frame, written at close.
    // Other event frames keep the fast mode (the recorder's hot path;
    // loading the 10 KB dictionary is ~1 us a frame).
    const std::span<const uint8_t> dict = trace_dictionary_v6();
    const auto* src = reinterpret_cast<const char*>(message);
    auto* dst = reinterpret_cast<char*>(frame.data() + kFrameHeaderSize);
    const bool once = high_compression || kind == FrameKind::Header || kind == FrameKind::End ||
                      kind == FrameKind::Footer;
    int n = 0;
    if (once) {
      std::unique_ptr<LZ4_streamHC_t, decltype(&LZ4_freeStreamHC)> s(LZ4_createStreamHC(), &LZ4_freeStreamHC);
      if (!s) throw std::bad_alloc();
      LZ4_resetStreamHC_fast(s.get(), LZ4HC_CLEVEL_MAX);
      LZ4_loadDictHC(s.get(), reinterpret_cast<const char*>(dict.data()), static_cast<int>(dict.size()));
      n = LZ4_compress_HC_continue(s.get(), src, dst, static_cast<int>(message_size), bound);
    } else {
      std::unique_ptr<LZ4_stream_t, decltype(&LZ4_freeStream)> s(LZ4_createStream(), &LZ4_freeStream);
      if (!s) throw std::bad_alloc();
      LZ4_loadDict(s.get(), reinterpret_cast<const char*>(dict.data()), static_cast<int>(dict.size()));
      n = LZ4_compress_fast_continue(s.get(), src, dst, static_cast<int>(message_size), bound, 1);
    }
    if (n <= 0) throw std::runtime_error("LZ4 compression failed");
    frame.resize(kFrameHeaderSize + static_cast<size_t>(n));
    h.flags = kFrameFlagLz4 | kFrameFlagDictionary;
    h.payload_size = static_cast<uint32_t>(n);
  } else {
    frame.resize(kFrameHeaderSize + message_size);
    std::memcpy(frame.data() + kFrameHeaderSize, message, message_size);
    h.payload_size = static_cast<uint32_t>(message_size);
  }
  auto header = encode_frame_header(h);
  h.checksum = frame_checksum(header, frame.data() + kFrameHeaderSize, h.payload_size);
  header = encode_frame_header(h);
  std::memcpy(frame.data(), header.data(), kFrameHeaderSize);
  return frame;
}

bool decompress_frame_payload(const FrameHeader& header, const uint8_t* payload, size_t payload_size,
                              uint8_t* out, size_t out_size) {
  if (!(header.flags & kFrameFlagLz4)) {
    if (payload_size != out_size) return false;
    if (out_size) std::memcpy(out, payload, out_size);
    return true;
  }
  const auto* src = reinterpret_cast<const char*>(payload);
  auto* dst = reinterpret_cast<char*>(out);
  int n;
  if (header.flags & kFrameFlagDictionary) {
    const std::span<const uint8_t> dict = trace_dictionary_v6();
    n = LZ4_decompress_safe_usingDict(src, dst, static_cast<int>(payload_size), static_cast<int>(out_size),
                                      reinterpret_cast<const char*>(dict.data()), static_cast<int>(dict.size()));
  } else {
    n = LZ4_decompress_safe(src, dst, static_cast<int>(payload_size), static_cast<int>(out_size));
  }
  return n >= 0 && static_cast<size_t>(n) == out_size;
}

}  // namespace rrvm
