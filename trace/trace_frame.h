// The byte layout around the Cap'n Proto messages: the file header, the
// fixed 32-byte frame header, the trailer that points at the footer, and the
// frame checksum (zlib's crc32, computed by ISA-L, several times faster on
// large incompressible frames; enough to tell a torn or flipped frame from a
// good one).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rrvm {

constexpr std::array<char, 8> kTraceMagic = {'R', 'R', 'V', 'M', 'T', 'R', 'C', '\0'};
constexpr std::array<char, 8> kTraceTrailerMagic = {'R', 'R', 'V', 'M', 'E', 'N', 'D', '\0'};
constexpr size_t kTraceFileHeaderSize = 16;  // magic, u32 version, u32 reserved
constexpr size_t kTraceTrailerSize = 16;     // u64 footer offset, magic
constexpr uint32_t kFrameMagic = 0x4D524652;  // "RFRM" little endian
constexpr size_t kFrameHeaderSize = 32;
// Upper bounds a reader enforces before allocating anything.
constexpr uint32_t kMaxFramePayload = 1u << 30;
constexpr uint32_t kMaxFrameUncompressed = 1u << 30;

enum class FrameKind : uint8_t { Header = 1, Events = 2, Keyframe = 3, End = 4, Footer = 5 };
const char* frame_kind_name(FrameKind kind);
bool frame_kind_valid(uint8_t kind);

constexpr uint8_t kFrameFlagLz4 = 1;
// Format version 6: the LZ4 block was compressed against the preset
// dictionary (trace/trace_dictionary.h); only together with kFrameFlagLz4.
constexpr uint8_t kFrameFlagDictionary = 2;

struct FrameHeader {
  FrameKind kind = FrameKind::Events;
  uint8_t flags = 0;                // kFrameFlag*
  uint32_t payload_size = 0;        // bytes stored after the header
  uint32_t uncompressed_size = 0;   // bytes of the Cap'n Proto message
  uint64_t first_event_ordinal = 0;
  uint32_t event_count = 0;
  uint32_t checksum = 0;            // crc32 of header bytes 0..27 and the payload
};

// Layout (little endian): u32 magic, u8 kind, u8 flags, u16 zero,
// u32 payload_size, u32 uncompressed_size, u64 first_event_ordinal,
// u32 event_count, u32 checksum.
std::array<uint8_t, kFrameHeaderSize> encode_frame_header(const FrameHeader& h);
// Parses and range-checks a frame header; nullopt with `why` set when the
// bytes are not one (bad magic, unknown kind, impossible sizes).
std::optional<FrameHeader> decode_frame_header(const uint8_t* bytes, std::string* why);
uint32_t frame_checksum(const std::array<uint8_t, kFrameHeaderSize>& header, const uint8_t* payload,
                        size_t payload_size);

// One frame's place in the file, as the footer index (or a scan) lists it.
struct FrameIndexEntry {
  uint64_t offset = 0;  // of the frame header
  FrameKind kind = FrameKind::Events;
  uint64_t first_event_ordinal = 0;
  uint32_t event_count = 0;
  std::optional<uint64_t> icount;  // smallest icount its content carries
  bool operator==(const FrameIndexEntry&) const = default;
};

// A whole frame ready for one write(): header + (compressed) payload; a
// compressed one against the preset dictionary. Header, end and footer
// frames, and others when `high_compression`, take LZ4's high-compression
// mode (the same block format).
std::vector<uint8_t> build_frame(FrameKind kind, uint64_t first_event_ordinal, uint32_t event_count,
                                 const uint8_t* message, size_t message_size, bool compress,
                                 bool high_compression = false);

void put_u32(uint8_t* p, uint32_t v);
void put_u64(uint8_t* p, uint64_t v);
uint32_t get_u32(const uint8_t* p);
uint64_t get_u64(const uint8_t* p);

// Decompresses a frame's payload into `out` (exactly `out_size` bytes, the
// frame's uncompressed size) as its flags say; false when it does not
// decompress to that size.
bool decompress_frame_payload(const FrameHeader& header, const uint8_t* payload, size_t payload_size,
                              uint8_t* out, size_t out_size);

}  // namespace rrvm
