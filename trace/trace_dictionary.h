// The preset LZ4 dictionary of trace format version 6. Every trace repeats
// the same few kilobytes: the header's device list, memory map, CPUID table
// and register layout, the end record's and footer's shape, the display
// registers at power-on, a Registers record. Compressed on its own, a short
// recording pays ~1.4 KB for them (README "Trace size per interrupt");
// compressed against a dictionary that holds them, ~0.4 KB.
//
// trace/dictionary-v6.bin is, concatenated, the Cap'n Proto messages (flat
// arrays) of: a kvm raw-guest TraceHeader, an emu firmware TraceHeader
// (SeaBIOS from Debian's seabios package, floppy boot), an EventBatch with
// only the power-on display frame and one asyncRegisters record, an emu
// TraceEnd, a Footer, and an emu raw-guest TraceHeader (command line
// "rrvm record --backend emu -o trace.rrt guest.bin", image hashes zeroed),
// all taken from recordings made with rrvm 0.2.0 in December 2026.
//
// It is part of the file format: a frame whose header has
// kFrameFlagDictionary decompresses only against these exact bytes, so they
// never change (tests/trace check their SHA-256). A different dictionary is
// a new format version, and readers keep this one.
#pragma once
#include <cstdint>
#include <span>

namespace rrvm {

std::span<const uint8_t> trace_dictionary_v6();

}  // namespace rrvm
