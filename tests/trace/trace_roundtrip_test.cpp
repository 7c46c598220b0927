// Writing and reading back: every field of every record survives the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "trace/trace_codec.h"
#include "trace/trace_dictionary.h"
#include "trace/trace_writer.h"
#include "trace/trace_reader.h"
#include "tests/trace/trace_samples.h"
#include "vmm/cpu_state.h"
#include "vmm/guest_memory.h"
#include "vmm/sha256.h"

namespace rrvm {
namespace {

using namespace trace_samples;

std::vector<TraceEvent> read_all(const TraceReader& reader, uint64_t from = 0) {
  std::vector<TraceEvent> out;
  EventCursor cursor = reader.events(from);
  while (const TraceEvent* e = cursor.next()) out.push_back(*e);
  return out;
}

// Writes: events part one, keyframe, part two, end. Returns all events.
std::vector<TraceEvent> write_full_trace(const std::string& path, bool close = true) {
  std::vector<TraceEvent> all = every_kind_events();
  TraceWriter w(path, header());
  for (const auto& e : all) w.append(e);
  w.add_keyframe(keyframe());
  // After the keyframe, page 1 must decode against zeros, not 0x22.
  std::vector<TraceEvent> more = {display_frame(9'000'000, {1}, 0x22), port_out(0xE9, 'x')};
  for (const auto& e : more) w.append(e);
  all.insert(all.end(), more.begin(), more.end());
  if (close) w.close(end());
  return all;
}

TEST(TraceRoundTrip, HeaderEventsKeyframeAndEndSurvive) {
  std::string path = temp_path("roundtrip.rrt");
  std::vector<TraceEvent> written = write_full_trace(path);

  TraceReader reader(path);
  TraceHeader expected = header();
  expected.format_version = kTraceFormatVersion;
  EXPECT_EQ(reader.header(), expected);
  EXPECT_EQ(reader.format_version(), kTraceFormatVersion);
  EXPECT_EQ(reader.status().state, TraceCompleteness::Complete);
  EXPECT_TRUE(reader.status().footer_used);
  EXPECT_EQ(reader.event_count(), written.size());
  EXPECT_EQ(read_all(reader), written);

  auto keyframes = reader.keyframes();
  ASSERT_EQ(keyframes.size(), 1u);
  Keyframe k = reader.read_keyframe(keyframes[0]);
  Keyframe expected_k = keyframe();
  expected_k.event_ordinal = every_kind_events().size();
  EXPECT_EQ(k, expected_k);

  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(*reader.end(), end());
  ASSERT_TRUE(reader.footer().has_value());
  EXPECT_EQ(reader.footer()->total_events, written.size());
  uint64_t exits = 0;
  for (const auto& e : written) exits += e.kind() == TraceEventKind::Exit;
  EXPECT_EQ(reader.footer()->total_exits, exits);
  EXPECT_EQ(reader.footer()->last_guest_ns, ~uint64_t{0});
}

// An incremental keyframe (what the recorder writes): changed pages (a zero
// page too), the machine fields, and the display part the writer fills in
// from the display frames before it.
TEST(TraceRoundTrip, IncrementalKeyframeSurvivesWithTheWritersDisplay) {
  std::string path = temp_path("incremental.rrt");
  Keyframe k;
  k.incremental = true;
  k.exit_ordinal = 7;
  k.icount = 123456;
  k.registers = keyframe().registers;
  k.fpu.fcw = 0x027F;
  k.fpu.st[3][9] = 0x40;
  k.fpu.xmm[15][0] = 0x99;
  k.interrupt_shadow = true;
  k.interrupts = 5;
  k.async = true;
  k.clock_last_ns = 1000;
  k.clock_skipped_ns = 77;
  k.replay_clock_ns = 999;
  KeyframeSlot ram{"ram", 0, {}, 16 * kPageSize, {}};
  ram.pages.push_back(KeyframePage{2, std::vector<uint8_t>(kPageSize, 0)});  // became zero
  ram.pages.push_back(KeyframePage{9, std::vector<uint8_t>(kPageSize, 0xC3)});
  k.memory = {ram};
  k.devices = {{"pit", {1, 2}}};
  {
    TraceWriter w(path, header());
    w.append(display_frame(1'000'000, {1, 3}, 0x22));
    w.append(display_frame(2'000'000, {3}, 0x33));
    w.add_keyframe(k);
    w.append(display_frame(3'000'000, {1}, 0x44));
    w.add_keyframe(k);
    w.close(end());
  }
  TraceReader reader(path);
  auto entries = reader.keyframes();
  ASSERT_EQ(entries.size(), 2u);
  Keyframe first = reader.read_keyframe(entries[0]);
  Keyframe want = k;
  want.event_ordinal = 2;
  want.display.frames = 2;
  auto frame = [](const TraceEvent& e) { return std::get<DisplayFrameEvent>(e.body); };
  const DisplayFrameEvent f1 = frame(display_frame(1'000'000, {1, 3}, 0x22));
  const DisplayFrameEvent f2 = frame(display_frame(2'000'000, {3}, 0x33));
  const DisplayFrameEvent f3 = frame(display_frame(3'000'000, {1}, 0x44));
  want.display.registers = f2.display_registers;
  want.display.pages = {KeyframePage{1, f1.pages[0].bytes}, KeyframePage{3, f2.pages[0].bytes}};
  EXPECT_EQ(first, want);
  // The second holds only the page the frame between them changed.
  Keyframe second = reader.read_keyframe(entries[1]);
  EXPECT_EQ(second.display.frames, 3u);
  EXPECT_EQ(second.display.registers, f3.display_registers);
  ASSERT_EQ(second.display.pages.size(), 1u);
  EXPECT_EQ(second.display.pages[0], (KeyframePage{1, f3.pages[0].bytes}));
}

// Issue #12: two recorders into one path. The second is refused while the
// first holds the trace; one that lost the name to a rename says so at
// close; no temporary file is left; what was at the path stays whole until
// a new trace has its header.
TEST(TraceWriterPaths, ASecondWriterIsRefusedAndALostNameIsReported) {
  const std::string path = temp_path("shared.rrt");
  {
    TraceWriter first(path, header());
    EXPECT_THROW(TraceWriter(path, header()), TraceWriteError);
    first.close(end());
  }
  EXPECT_NO_THROW(TraceReader{path});
  {
    TraceWriter again(path, header());  // the first one is done: allowed
    const std::string other = temp_path("other.rrt");
    { TraceWriter(other, header()).close(end()); }
    ASSERT_EQ(std::rename(other.c_str(), path.c_str()), 0);  // another recorder's rename wins the name
    try {
      again.close(end());
      ADD_FAILURE() << "a writer that lost its name reported success";
    } catch (const TraceWriteError& e) {
      EXPECT_NE(std::string(e.what()).find("another rrvm replaced or removed it"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(TraceReader{path});
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_NE(entry.path().filename().string().rfind(".shared.rrt.", 0), 0u) << entry.path();
  EXPECT_THROW(TraceWriter(std::filesystem::path(path).parent_path().string(), header()), TraceWriteError);
}

TEST(TraceRoundTrip, HaltAndIrqWindowExitsCarryNoOperands) {
  std::string path = temp_path("halt.rrt");
  {
    TraceWriter w(path, header());
    w.append(TraceEvent{ExitEvent{TraceExitKind::Halt, true, 4, 0x1234, 99}});
    w.close(end());
  }
  TraceReader reader(path);
  auto events = read_all(reader);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<ExitEvent>(events[0].body), (ExitEvent{TraceExitKind::Halt, false, 0, 0, 0}));
}

TEST(TraceRoundTrip, CursorFromTheMiddleMatchesFullIteration) {
  std::string path = temp_path("seek.rrt");
  std::vector<TraceEvent> written = write_full_trace(path);
  TraceReader reader(path);
  for (uint64_t from : {uint64_t{0}, uint64_t{5}, uint64_t{24}, uint64_t{written.size() - 1}, uint64_t{written.size()}}) {
    std::vector<TraceEvent> expected(written.begin() + static_cast<long>(from), written.end());
    EXPECT_EQ(read_all(reader, from), expected) << "from " << from;
  }
}

TEST(TraceRoundTrip, CursorWithoutPageBytesKeepsEverythingElse) {
  std::string path = temp_path("nopages.rrt");
  std::vector<TraceEvent> written = write_full_trace(path);
  TraceReader reader(path);
  std::vector<TraceEvent> expected = written;
  for (auto& e : expected)
    if (auto* d = std::get_if<DisplayFrameEvent>(&e.body))
      for (auto& p : d->pages) p.bytes.clear();  // indices stay
  std::vector<TraceEvent> got;
  EventCursor cursor = reader.events(0, false);
  while (const TraceEvent* e = cursor.next()) got.push_back(*e);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(read_all(reader), written);  // and a cursor with bytes is unaffected
}

TEST(TraceFraming, FramesAreBoundedAndOrdinalsContiguous) {
  std::string path = temp_path("framing.rrt");
  constexpr uint64_t kEvents = 10000;
  {
    TraceWriter w(path, header());
    for (uint64_t i = 0; i < kEvents; ++i) w.append(port_out(0x80, i));
    w.close(end());
  }
  TraceReader reader(path);
  uint64_t next = 0;
  size_t event_frames = 0;
  for (const auto& f : reader.frames()) {
    if (f.kind != FrameKind::Events) continue;
    ++event_frames;
    EXPECT_EQ(f.first_event_ordinal, next);
    EXPECT_LE(f.event_count, TraceWriter::kMaxEventsPerFrame);
    next += f.event_count;
  }
  EXPECT_EQ(next, kEvents);
  EXPECT_GE(event_frames, (kEvents + TraceWriter::kMaxEventsPerFrame - 1) / TraceWriter::kMaxEventsPerFrame);
  auto events = read_all(reader);
  ASSERT_EQ(events.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(std::get<ExitEvent>(events[i].body).data, i);
  EXPECT_EQ(reader.frames().front().kind, FrameKind::Header);
  EXPECT_EQ(reader.frames().back().kind, FrameKind::End);
}

TEST(TraceFraming, BigDisplayFramesEndTheirFrame) {
  std::string path = temp_path("bigframes.rrt");
  {
    TraceWriter w(path, header());
    std::vector<uint32_t> pages;
    for (uint32_t i = 0; i < 32; ++i) pages.push_back(i);
    for (int i = 0; i < 4; ++i) w.append(display_frame(uint64_t(i), pages, static_cast<uint8_t>(i)));
    w.close(end());
  }
  TraceReader reader(path);
  for (const auto& f : reader.frames())
    if (f.kind == FrameKind::Events) {
      EXPECT_EQ(f.event_count, 1u) << "32 pages exceed the frame target";
    }
}

TEST(TraceFooter, MissingFooterIsRebuiltByScanning) {
  std::string path = temp_path("nofooter.rrt");
  std::vector<TraceEvent> written = write_full_trace(path);
  std::vector<FrameIndexEntry> indexed;
  uint64_t footer_offset = 0;
  {
    TraceReader reader(path);
    indexed = reader.frames();
    footer_offset = reader.status().readable_bytes;
  }
  std::filesystem::resize_file(path, footer_offset);
  TraceReader reader(path);
  EXPECT_EQ(reader.status().state, TraceCompleteness::Complete);
  EXPECT_FALSE(reader.status().footer_used);
  EXPECT_NE(reader.status().detail.find("rebuilt"), std::string::npos);
  // The scan finds the same frames; icounts are only known from the footer.
  ASSERT_EQ(reader.frames().size(), indexed.size());
  for (size_t i = 0; i < indexed.size(); ++i) {
    EXPECT_EQ(reader.frames()[i].offset, indexed[i].offset);
    EXPECT_EQ(reader.frames()[i].kind, indexed[i].kind);
    EXPECT_EQ(reader.frames()[i].first_event_ordinal, indexed[i].first_event_ordinal);
    EXPECT_EQ(reader.frames()[i].event_count, indexed[i].event_count);
  }
  EXPECT_EQ(read_all(reader), written);
  ASSERT_TRUE(reader.end().has_value());
  EXPECT_EQ(*reader.end(), end());
}

TEST(TraceFooter, IndexCarriesSmallestIcountPerFrame) {
  std::string path = temp_path("icount.rrt");
  {
    TraceWriter w(path, header());
    w.append(port_out(0x80, 1));
    w.flush();
    w.append(TraceEvent{InterruptEvent{0x20, 1, 700, std::nullopt}});
    w.append(TraceEvent{CpuChecksumEvent{1, 650, 0}});
    w.close(end());
  }
  TraceReader reader(path);
  std::vector<std::optional<uint64_t>> icounts;
  for (const auto& f : reader.frames())
    if (f.kind == FrameKind::Events) icounts.push_back(f.icount);
  ASSERT_EQ(icounts.size(), 2u);
  EXPECT_FALSE(icounts[0].has_value());
  EXPECT_EQ(icounts[1], 650u);
}

TEST(TraceWriterErrors, UnwritablePathIsOneLine) {
  try {
    TraceWriter w("/nonexistent-dir/x.rrt", header());
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("/nonexistent-dir/x.rrt"), std::string::npos);
    EXPECT_EQ(what.find('\n'), std::string::npos);
  }
}

TEST(TraceWriterErrors, FullDiskIsReported) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  EXPECT_THROW(
      {
        TraceWriter w("/dev/full", header());
        w.close(end());
      },
      TraceError);
}

TEST(TraceWriterErrors, RejectsMalformedEvents) {
  std::string path = temp_path("bad_events.rrt");
  TraceWriter w(path, header());
  EXPECT_THROW(w.append(TraceEvent{ExitEvent{TraceExitKind::PortIo, false, 9, 0, 0}}), TraceError);
  DisplayFrameEvent d;
  d.pages.push_back(VramPage{0, std::vector<uint8_t>(100)});
  EXPECT_THROW(w.append(TraceEvent{d}), TraceError);
}

TEST(TraceReaderErrors, NewerFormatVersionIsRefusedClearly) {
  std::string path = temp_path("newer.rrt");
  write_full_trace(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put(static_cast<char>(kTraceFormatVersion + 1));
  }
  try {
    TraceReader reader(path);
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

// Format versions 1-2 kept the load address, entry and instruction limit as
// decimal text options; they still read, into the typed fields, and a value
// that is not a number is one clear line naming the trace and the option.
TEST(TraceReaderErrors, LegacyTextOptionsBecomeTypedFieldsOrAClearError) {
  std::string path = temp_path("legacy-options.rrt");
  TraceHeader h = header();
  h.machine.load_address.reset();
  h.machine.max_instructions.reset();
  h.machine.options = {{"load-addr", "31744"}, {"entry", "256"}, {"max-instructions", "1000"}, {"clock", "x"}};
  { TraceWriter(path, h).close(end()); }
  TraceReader reader(path);
  EXPECT_EQ(reader.header().machine.load_address, 31744u);
  EXPECT_EQ(reader.header().machine.entry, 256u);
  EXPECT_EQ(reader.header().machine.max_instructions, 1000u);
  EXPECT_EQ(reader.header().machine.options, (std::vector<TraceOption>{{"clock", "x"}}));

  for (const char* bad : {"banana", "", "12x", "-5", "99999999999999999999999"}) {
    h.machine.options = {{"load-addr", bad}};
    { TraceWriter(path, h).close(end()); }
    try {
      TraceReader r(path);
      ADD_FAILURE() << "load-addr='" << bad << "' was accepted";
    } catch (const TraceError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find("load-addr='" + std::string(bad) + "' is not a decimal number"), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(TraceReaderErrors, FileAndHeaderFrameMustAgreeOnTheVersion) {
  std::string path = temp_path("version-mismatch.rrt");
  write_full_trace(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    f.put(static_cast<char>(kTraceFormatVersion - 1));  // a version this reader also reads
  }
  try {
    TraceReader reader(path);
    FAIL() << "expected TraceError";
  } catch (const TraceError& e) {
    EXPECT_NE(std::string(e.what()).find("but the header frame says"), std::string::npos) << e.what();
  }
}

TEST(TraceRegisterHash, DependsOnEveryField) {
  Registers a = registers(1);
  uint64_t h = register_state_hash(a);
  EXPECT_EQ(h, register_state_hash(registers(1)));
  Registers b = a;
  b.ldt.avl = 1;
  EXPECT_NE(register_state_hash(b), h);
  b = a;
  b.efer ^= 1;
  EXPECT_NE(register_state_hash(b), h);
  b = a;
  b.idt.limit ^= 1;
  EXPECT_NE(register_state_hash(b), h);
}


// Format version 5 stores asynchronous points as pc + state hash, full
// registers only where the recorder kept them, repeats as one flag byte and
// kvm's digest as 8 bytes: every form reads back as written, in one batch
// and split across batches (each batch decodes on its own).
TEST(TraceRoundTrip, AsynchronousPointsInEveryFormSurvive) {
  std::vector<TraceEvent> written = async_point_events();
  for (bool one_batch : {true, false}) {
    std::string path = temp_path(one_batch ? "async-points.rrt" : "async-points-split.rrt");
    {
      TraceWriter w(path, header());
      for (const auto& e : written) {
        w.append(e);
        if (!one_batch) w.flush();
      }
      w.close(end());
    }
    TraceReader reader(path);
    EXPECT_EQ(read_all(reader), written) << (one_batch ? "one batch" : "a batch per event");
  }
  // The repeat and the hash-only point cost a few bytes, not a register file.
  EventBatchEncoder enc;
  VramDeltaState vram;
  KickState hashed = KickState::at(registers(13), false);
  for (int i = 0; i < 100; ++i) {
    hashed.pc += 3;
    hashed.state_hash = 0x9E3779B97F4A7C15ull * uint64_t(i + 1);
    enc.add(TraceEvent{ServicePointEvent{uint64_t(i) * 50'000, uint64_t(i), uint64_t(i) * 1000, hashed}}, vram);
    enc.add(TraceEvent{InterruptEvent{0x20, uint64_t(i), uint64_t(i) * 1000, hashed}}, vram);
  }
  MessageWords words = enc.finish();
  EXPECT_LT(words.size() * 8, 100u * 32) << "bytes for 100 service points + interrupts before LZ4 (a register file alone is ~400)";
}

// A point whose stored registers disagree with its pc or hash is refused
// when written, not stored inconsistent.
TEST(TraceRoundTrip, AsynchronousPointMustMatchItsRegisters) {
  EventBatchEncoder enc;
  VramDeltaState vram;
  KickState k = KickState::at(registers(3));
  k.state_hash ^= 1;
  EXPECT_THROW(enc.add(TraceEvent{ServicePointEvent{1, 1, std::nullopt, k}}, vram), std::invalid_argument);
}

// Format version 6 frames decompress only against these exact bytes: the
// dictionary may never change (a new one is a new format version).
TEST(TraceDictionary, IsFrozen) {
  const std::span<const uint8_t> d = trace_dictionary_v6();
  EXPECT_EQ(d.size(), 9992u);
  EXPECT_EQ(to_hex(sha256(d.data(), d.size())), "e1b19a938ac23cd58835f10a3b34d86989408718e7245ce5667a55c56b331255");
}

// Every compressed frame uses it, and a trace written with it reads back.
TEST(TraceDictionary, FramesUseItAndReadBack) {
  std::string path = temp_path("dictionary.rrt");
  write_full_trace(path);
  TraceReader reader(path);
  EXPECT_EQ(reader.header(), [] { TraceHeader h = header(); h.format_version = kTraceFormatVersion; return h; }());
  EXPECT_EQ(read_all(reader).size(), reader.event_count());
  std::ifstream in(path, std::ios::binary);
  bool any = false;
  for (const FrameIndexEntry& f : reader.frames()) {
    uint8_t raw[kFrameHeaderSize];
    in.seekg(std::streamoff(f.offset));
    ASSERT_TRUE(in.read(reinterpret_cast<char*>(raw), sizeof raw));
    std::string why;
    std::optional<FrameHeader> h = decode_frame_header(raw, &why);
    ASSERT_TRUE(h.has_value()) << why;
    if (h->flags & kFrameFlagLz4) {
      EXPECT_TRUE(h->flags & kFrameFlagDictionary) << frame_kind_name(f.kind);
      any = true;
    }
  }
  EXPECT_TRUE(any);
}

// Traces store execution_point_hash(): its value may never change, it sees
// every field same_execution_point compares plus the CS base (the linear
// pc), and ignores what that comparison ignores (arithmetic flags).
constexpr uint64_t kRegisters1PointHash = 0x26a712947370c3d2ull;  // execution_point_hash(registers(1)), format version 5

TEST(ExecutionPointHash, IsStableAndCoversTheComparedState) {
  Registers a = registers(1);
  const uint64_t h = execution_point_hash(a);
  EXPECT_EQ(h, kRegisters1PointHash);
  Registers b = a;
  b.rflags ^= 0x8D5;  // CF PF AF ZF SF OF
  EXPECT_EQ(execution_point_hash(b), h);
  for (int field = 0; field < 6; ++field) {
    b = a;
    switch (field) {
      case 0: b.r15 ^= 1; break;
      case 1: b.rip += 1; break;
      case 2: b.rflags ^= Registers::kFlagIF; break;
      case 3: b.gs.selector ^= 8; break;
      case 4: b.cs.base += 16; break;
      case 5: b.rsp ^= uint64_t{1} << 63; break;
    }
    EXPECT_NE(execution_point_hash(b), h) << "field " << field;
    EXPECT_FALSE(execution_point_difference(a, b).empty()) << "field " << field;
  }
  b = a;
  b.rbx = 0x1234;
  EXPECT_EQ(execution_point_difference(a, b), "rbx 0x1001 != 0x1234");
}

// A Linux machine's header: linuxBoot, the command line, the kernel and
// initrd images by role.
TEST(TraceRoundTrip, LinuxMachineHeaderSurvives) {
  TraceHeader h = header();
  h.machine.linux_boot = true;
  h.machine.kernel_command_line = "console=ttyS0 quiet";
  h.images = {TraceImage{"vmlinuz", sha256("k", 1), 123456, false, "kernel"},
              TraceImage{"initramfs.cpio", sha256("i", 1), 4096, false, "initrd"}};
  EXPECT_EQ(decode_header(encode_header(h)), h);
  EXPECT_FALSE(decode_header(encode_header(header())).machine.linux_boot);
}


// Format 8: a kvm point's digest covers the status flags the register hash
// leaves out (a wait loop's first arrival differs from its passes only
// there), and nothing else of rflags; older versions are the bare prefix.
TEST(KvmPointDigest, CoversTheStatusFlagsFromVersion8) {
  const Sha256Digest pages = sha256("pages", 5);
  const uint64_t pass = 0x246, first_arrival = 0x297;  // ZF set / CF, AF, SF set
  EXPECT_EQ(kvm_point_digest(pages, pass, 7), digest_prefix(pages));
  EXPECT_EQ(kvm_point_digest(pages, first_arrival, 7), digest_prefix(pages));
  EXPECT_NE(kvm_point_digest(pages, pass, 8), kvm_point_digest(pages, first_arrival, 8));
  for (uint64_t flag : {1u << 0, 1u << 2, 1u << 6, 1u << 7, 1u << 11})
    EXPECT_NE(kvm_point_digest(pages, pass ^ flag, 8), kvm_point_digest(pages, pass, 8)) << flag;
  // AF (undefined after logic instructions), TF, IF, DF: not covered (IF and
  // DF are in the register hash).
  for (uint64_t flag : {1u << 4, 1u << 8, 1u << 9, 1u << 10})
    EXPECT_EQ(kvm_point_digest(pages, pass ^ flag, 8), kvm_point_digest(pages, pass, 8)) << flag;
  EXPECT_NE(kvm_point_digest(sha256("other", 5), pass, 8), kvm_point_digest(pages, pass, 8));
}

}  // namespace
}  // namespace rrvm
