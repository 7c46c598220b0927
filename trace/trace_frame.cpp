#include "trace/trace_frame.h"

#include <isa-l/crc.h>
#include <lz4.h>
#include <lz4hc.h>

#include <cstring>
#include <stdexcept>

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
  if ((h.flags & ~kFrameFlagLz4) != 0 || b[6] != 0 || b[7] != 0) {
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
                                 const uint8_t* message, size_t message_size, bool compress) {
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
    // Frames written once per trace (header, end, footer) take LZ4's high
    // compression, the same block format: a fixed cost every trace pays,
    // ~15% smaller. Event frames keep the fast default (the recorder's hot
    // path).
    const bool once = kind == FrameKind::Header || kind == FrameKind::End || kind == FrameKind::Footer;
    int n = once ? LZ4_compress_HC(reinterpret_cast<const char*>(message),
                                   reinterpret_cast<char*>(frame.data() + kFrameHeaderSize),
                                   static_cast<int>(message_size), bound, LZ4HC_CLEVEL_MAX)
                 : LZ4_compress_default(reinterpret_cast<const char*>(message),
                                        reinterpret_cast<char*>(frame.data() + kFrameHeaderSize),
                                        static_cast<int>(message_size), bound);
    if (n <= 0) throw std::runtime_error("LZ4 compression failed");
    frame.resize(kFrameHeaderSize + static_cast<size_t>(n));
    h.flags = kFrameFlagLz4;
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

}  // namespace rrvm
