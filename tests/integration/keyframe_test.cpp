// Keyframes written by the recorder: restoring any of them and replaying to
// the end gives what a replay from the start gives (the end record's
// registers, RAM SHA-256 and exit count, the serial output after the
// keyframe, the replayed display's frames), and `rrvm frames` starting at one
// draws the frames a rebuild from the start draws. A keyframe whose RAM was
// changed is found out; a trace without keyframes replays from the start.
#include <gtest/gtest.h>

#include <filesystem>

#include "replay/frame_rebuilder.h"
#include "system/record_session.h"
#include "system/replay_session.h"
#include "tests/integration/test_support.h"
#include "trace/keyframe_chain.h"
#include "trace/trace_frame.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

using namespace rrvm;
using namespace rrvm::test;

namespace {

constexpr uint64_t kKeyframesWanted = 5;
// Under ASan/UBSan (several times slower; the suite's longest tests were these)
// only the last keyframe is restored, which applies the whole incremental
// chain; the optimised build restores every one.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRestoreEveryKeyframe = false;
#else
constexpr bool kRestoreEveryKeyframe = true;
#endif

Sha256Digest frame_hash(const Frame& f) {
  Sha256 h;
  uint32_t dims[2] = {f.width, f.height};
  h.update(dims, sizeof dims);
  h.update(f.rgb.data(), f.rgb.size());
  return h.finish();
}

guests::GuestSpec spec_of(const std::string& name) {
  for (const auto& s : guests::load_guest_specs())
    if (s.name == name) return s;
  guests::GuestSpec s;  // a guest without an oracle entry (display, bench): no input
  s.name = name;
  s.image_path = std::string(RRVM_GUEST_DIR) + "/" + name + ".bin";
  return s;
}

std::string record(const guests::GuestSpec& spec, uint64_t keyframe_every, const std::string& tag,
                   RecordOutcome* outcome = nullptr) {
  GuestRun live;
  std::string trace = temp_path(spec.name + "-" + tag + ".rrt");
  std::string input = spec.input.empty() ? "" : write_temp(spec.name + "." + tag + ".input", spec.input);
  RecordOutcome r = record_to_trace(guest_config(spec, "emu", live, input), trace, {"test"}, false, {}, keyframe_every);
  if (outcome) *outcome = r;
  return trace;
}

struct Replayed {
  ReplayOutcome out;
  std::string serial;
  std::vector<Sha256Digest> frames;  // by frame index, from the first replayed
};

Replayed replay(const std::string& trace, std::optional<size_t> keyframe, std::optional<uint64_t> from_event = {},
                BackendKind backend = BackendKind::Emu) {
  Replayed r;
  ReplaySettings s;
  s.backend = backend;
  s.from_keyframe = keyframe;
  s.from_event = from_event;
  s.serial_out = [&r](uint8_t b) { r.serial.push_back(char(b)); };
  s.on_frame = [&r](uint64_t, const Frame& f) { r.frames.push_back(frame_hash(f)); };
  r.out = replay_trace(trace, s);
  return r;
}

// A replay from a keyframe ended as the replay from the start did: the end
// record compared (stop reason, status, RAM SHA-256, registers on the same
// backend, exit count), the same events, the end of its serial output, and
// its display's frames from the keyframe's on.
void expect_end_of_the_replay_from_start(const Replayed& from, const Replayed& full, const TraceReader& reader) {
  ASSERT_TRUE(from.out.start.from_keyframe);
  ASSERT_FALSE(from.out.divergence.has_value()) << from.out.divergence->to_string();
  EXPECT_EQ(from.out.exit_status, 0) << from.out.message;
  EXPECT_TRUE(from.out.final_state_checked);
  EXPECT_EQ(from.out.ram_sha256, reader.end()->ram_sha256);
  EXPECT_EQ(from.out.events, full.out.events);
  ASSERT_LE(from.serial.size(), full.serial.size());
  EXPECT_EQ(full.serial.substr(full.serial.size() - from.serial.size()), from.serial);
  const uint64_t first = from.out.start.display_frames;
  ASSERT_EQ(first + from.frames.size(), full.frames.size());
  for (size_t i = 0; i < from.frames.size(); ++i)
    EXPECT_EQ(from.frames[i], full.frames[first + i]) << "replayed frame " << first + i;
}

// The frames `rrvm frames` draws from event `from` (a keyframe's, with its
// chain applied) to the end: (frame index, hash) for frames with a picture.
std::vector<std::pair<uint64_t, Sha256Digest>> offline_frames(const TraceReader& reader, std::optional<size_t> keyframe) {
  FrameRebuilder rebuilder;
  uint64_t from = 0, index = 0;
  if (keyframe)
    read_keyframe_chain(reader, *keyframe, [&](const Keyframe& k) {
      rebuilder.apply_keyframe(k.display);
      from = k.event_ordinal;
      index = k.display.frames;
    });
  std::vector<std::pair<uint64_t, Sha256Digest>> out;
  auto cursor = reader.events(from);
  while (const TraceEvent* e = cursor.next()) {
    auto* f = std::get_if<DisplayFrameEvent>(&e->body);
    if (!f) continue;
    rebuilder.apply(*f);
    const Frame& frame = rebuilder.render();
    if (frame.width) out.emplace_back(index, frame_hash(frame));
    ++index;
  }
  return out;
}

class KeyframeEquivalence : public ::testing::TestWithParam<std::string> {};

TEST_P(KeyframeEquivalence, EveryKeyframeReplaysToTheSameEnd) {
  const guests::GuestSpec spec = spec_of(GetParam());
  // How long the guest runs, to space about kKeyframesWanted keyframes over it.
  uint64_t icount = 0;
  const std::string plain_trace = record(spec, 0, "kf-plain");
  TraceReader plain(plain_trace);
  ASSERT_TRUE(plain.end().has_value());
  EXPECT_TRUE(plain.keyframes().empty()) << "--keyframe-every 0 writes none";
  icount = plain.end()->instruction_count.value_or(0);
  const uint64_t every = std::max<uint64_t>(16, icount / (kKeyframesWanted + 1));
  RecordOutcome rec;
  const std::string trace = record(spec, every, "kf", &rec);
  TraceReader reader(trace);
  ASSERT_TRUE(reader.end().has_value());
  // Taking keyframes changes nothing the guest sees: the same events, the same end.
  {
    auto a = plain.events(), b = reader.events();
    uint64_t n = 0;
    for (;; ++n) {
      const TraceEvent* x = a.next();
      const TraceEvent* y = b.next();
      ASSERT_EQ(x == nullptr, y == nullptr) << "event " << n;
      if (!x) break;
      ASSERT_EQ(*x, *y) << "event " << n;
    }
    EXPECT_EQ(plain.end()->ram_sha256, reader.end()->ram_sha256);
    EXPECT_EQ(plain.end()->instruction_count, reader.end()->instruction_count);
  }
  const size_t keyframes = reader.keyframes().size();
  EXPECT_EQ(keyframes, rec.keyframes);
  ASSERT_GE(keyframes, 2u) << icount << " instructions, a keyframe every " << every;

  const Replayed full = replay(trace, std::nullopt);
  ASSERT_FALSE(full.out.divergence.has_value()) << full.out.divergence->to_string();
  ASSERT_EQ(full.out.exit_status, 0) << full.out.message;
  const auto offline_full = offline_frames(reader, std::nullopt);

  for (size_t k = kRestoreEveryKeyframe ? 0 : keyframes - 1; k < keyframes; ++k) {
    SCOPED_TRACE("keyframe " + std::to_string(k) + " of " + std::to_string(keyframes));
    const Replayed from = replay(trace, k);
    ASSERT_NO_FATAL_FAILURE(expect_end_of_the_replay_from_start(from, full, reader));
    EXPECT_EQ(from.out.instructions, full.out.instructions);
    // Offline: the frames drawn from the keyframe are the last ones drawn from the start.
    const auto offline = offline_frames(reader, k);
    ASSERT_LE(offline.size(), offline_full.size());
    EXPECT_TRUE(std::equal(offline.begin(), offline.end(), offline_full.end() - ptrdiff_t(offline.size())))
        << "offline frames from the keyframe differ from those from the start";
  }
  // The last keyframe at or before an event is where --from starts.
  const auto entries = reader.keyframes();
  const uint64_t event = entries.back().first_event_ordinal;
  const Replayed from = replay(trace, std::nullopt, event);
  EXPECT_TRUE(from.out.start.from_keyframe);
  EXPECT_EQ(from.out.start.keyframe, keyframes - 1);
  EXPECT_EQ(from.out.exit_status, 0) << from.out.message;
}

std::vector<std::string> guest_names() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(RRVM_GUEST_DIR)) {
    const std::string file = e.path().filename().string();
    // spin never ends (the --max-instructions guest); flat32 is the ELF;
    // the firmware guests boot only under a BIOS (firmware_cli checks their
    // keyframes).
    const bool bios_only = file == "biosboot.bin" || file == "nosig.bin" || file == "fwgarbage.bin";
    if (e.path().extension() == ".bin" && file != "spin.bin" && !bios_only)
      names.push_back(e.path().stem().string());
  }
  names.push_back("flat32");
  std::sort(names.begin(), names.end());
  return names;
}

std::string test_name(const std::string& guest) {
  std::string s = guest;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(AllGuests, KeyframeEquivalence, ::testing::ValuesIn(guest_names()),
                         [](const auto& info) { return test_name(info.param); });

// Copies `trace` into `out`, its keyframes rewritten by `edit` (which gets
// the keyframe's number), CRCs and all.
template <typename F>
void rewrite_keyframes(const std::string& trace, const std::string& out, F edit) {
  TraceReader reader(trace);
  TraceWriter writer(out, reader.header());
  const auto entries = reader.keyframes();
  size_t next = 0;
  auto keyframes_at = [&](uint64_t ordinal) {
    for (; next < entries.size() && entries[next].first_event_ordinal == ordinal; ++next) {
      Keyframe k = reader.read_keyframe(entries[next]);
      edit(next, k);
      writer.add_keyframe(k);
    }
  };
  auto cursor = reader.events();
  uint64_t ordinal = 0;
  while (const TraceEvent* e = cursor.next()) {
    keyframes_at(ordinal++);
    writer.append(*e);
  }
  keyframes_at(ordinal);
  writer.close(*reader.end());
}

// kvm keyframes (only where kvm runs: the nested harness, kvm_keyframes).
// kvm counts no instructions: the recorder spaces keyframes by host time and
// takes each right after a guest exit, the exit's in/out completed. Restoring
// any of them and replaying on kvm gives what a replay from the start gives
// (restoring on emu: KvmKeyframeFixture, on the host, where emu is fast).
// RAM changed in a keyframe, or the changed-pages digest's reference taken
// away, is a divergence.
bool kvm_usable() {
  const auto b = available_backends();
  return std::find(b.begin(), b.end(), "kvm") != b.end();
}

std::string record_kvm(const guests::GuestSpec& spec, uint64_t keyframe_ms, const std::string& tag,
                       RecordOutcome* outcome) {
  GuestRun live;
  std::string trace = temp_path(spec.name + "-" + tag + ".rrt");
  std::string input = spec.input.empty() ? "" : write_temp(spec.name + "." + tag + ".input", spec.input);
  *outcome = record_to_trace(guest_config(spec, "kvm", live, input), trace, {"test"}, false, {},
                             kDefaultKeyframeInterval, nullptr, keyframe_ms, /*keyframe_spacing_adapts=*/false);
  return trace;
}

class KvmKeyframes : public ::testing::TestWithParam<std::string> {};

TEST_P(KvmKeyframes, EveryKeyframeReplaysToTheSameEndOnKvm) {
  if (!kvm_usable()) GTEST_SKIP() << "no usable kvm (the nested harness runs this: kvm_keyframes)";
  const guests::GuestSpec spec = spec_of(GetParam());
  RecordOutcome plain_rec;
  const std::string plain_trace = record_kvm(spec, 0, "kvmkf-plain", &plain_rec);
  EXPECT_TRUE(TraceReader(plain_trace).keyframes().empty()) << "--keyframe-ms 0 writes none";
  // Host time, and exits come in bursts (a tick's EOI and output), so the
  // spacing is short and the keyframes restored a sample of them: nested,
  // one takes ~0.2 s (RAM compared under TCG), so they fall ~0.25 s apart.
  const uint64_t ms = 50;
  RecordOutcome rec;
  const std::string trace = record_kvm(spec, ms, "kvmkf", &rec);
  TraceReader reader(trace);
  ASSERT_TRUE(reader.end().has_value());
  const size_t keyframes = reader.keyframes().size();
  EXPECT_EQ(keyframes, rec.keyframes);
  // echo exits only for its bytes: a keyframe or two.
  ASSERT_GE(keyframes, 1u) << rec.wall_seconds << " s recorded, a keyframe every " << ms << " ms";
  size_t with_reference = 0;                // keyframes with reference pages
  std::optional<size_t> digest_follows;     // the first keyframe a digest-checked point follows
  std::optional<size_t> ram_stored;         // the last keyframe that stores a RAM page
  for (size_t k = 0; k < keyframes; ++k) {
    const Keyframe kf = reader.read_keyframe(reader.keyframes()[k]);
    ASSERT_TRUE(kf.incremental);
    EXPECT_FALSE(kf.icount.has_value());
    EXPECT_FALSE(kf.async) << "right after an exit";
    ASSERT_TRUE(kf.digest_reference.has_value()) << "keyframe " << k;
    with_reference += !kf.digest_reference->empty();
    for (const KeyframeSlot& s : kf.memory)
      if (s.name.rfind("ram", 0) == 0 && !s.pages.empty()) ram_stored = k;
    if (digest_follows) continue;
    auto cursor = reader.events(kf.event_ordinal);
    while (const TraceEvent* e = cursor.next())
      if (auto* sp = std::get_if<ServicePointEvent>(&e->body); sp && sp->async) {
        if (sp->async->dirty_pages_digest) digest_follows = k;
        break;
      }
  }

  const Replayed full = replay(trace, std::nullopt, {}, BackendKind::Kvm);
  ASSERT_FALSE(full.out.divergence.has_value()) << full.out.divergence->to_string();
  ASSERT_EQ(full.out.exit_status, 0) << full.out.message;
  std::vector<size_t> sample{0, keyframes / 3, 2 * keyframes / 3, keyframes - 1};
  sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
  for (size_t k : sample) {
    SCOPED_TRACE("keyframe " + std::to_string(k) + " of " + std::to_string(keyframes));
    const Replayed from = replay(trace, k, {}, BackendKind::Kvm);
    ASSERT_NO_FATAL_FAILURE(expect_end_of_the_replay_from_start(from, full, reader));
  }
  // --from starts at the latest keyframe at or before the event.
  {
    const Replayed from = replay(trace, std::nullopt, reader.keyframes().back().first_event_ordinal, BackendKind::Kvm);
    EXPECT_TRUE(from.out.start.from_keyframe);
    EXPECT_EQ(from.out.start.keyframe, keyframes - 1);
    EXPECT_EQ(from.out.exit_status, 0) << from.out.message;
  }
  // A changed RAM byte in a keyframe (the last that stores a RAM page): a
  // divergence on kvm, the end's RAM SHA-256 if nothing sooner.
  if (ram_stored) {
    const std::string tampered = temp_path(spec.name + "-kvmkf-tampered.rrt");
    rewrite_keyframes(trace, tampered, [&](size_t n, Keyframe& k) {
      if (n != *ram_stored) return;
      for (KeyframeSlot& s : k.memory)
        if (s.name.rfind("ram", 0) == 0 && !s.pages.empty()) {
          s.pages.front().bytes[100] ^= 0x40;
          return;
        }
    });
    const Replayed bad = replay(tampered, *ram_stored, {}, BackendKind::Kvm);
    EXPECT_EQ(bad.out.exit_status, kExitDivergence) << bad.out.message;
    EXPECT_EQ(replay(tampered, std::nullopt, {}, BackendKind::Kvm).out.exit_status, 0)
        << "from the start it is never read";
  }
  // A wrong digest reference: one more page (RAM's last, which no guest
  // here touches) with other content than RAM's. The next asynchronous
  // point's digest then counts it and is not the recorded one: the point is
  // not found, a divergence. (Taking the reference away is not always seen:
  // a page the guest writes again before the point enters the digest with
  // its content then, whatever the reference held.)
  if (digest_follows) {
    const std::string wrong = temp_path(spec.name + "-kvmkf-wrongref.rrt");
    rewrite_keyframes(trace, wrong, [&](size_t n, Keyframe& k) {
      if (n != *digest_follows) return;
      const KeyframeSlot* ram = nullptr;
      for (const KeyframeSlot& s : k.memory)
        if (s.name == "ram") ram = &s;
      ASSERT_NE(ram, nullptr);
      auto it = std::find_if(k.digest_reference->begin(), k.digest_reference->end(),
                             [](const KeyframeSlot& s) { return s.name == "ram"; });
      if (it == k.digest_reference->end())
        it = k.digest_reference->insert(k.digest_reference->begin(), KeyframeSlot{"ram", ram->base, {}, ram->size, {}});
      const uint32_t last_page = uint32_t(ram->size / kPageSize - 1);
      ASSERT_TRUE(it->pages.empty() || it->pages.back().index < last_page);
      it->pages.push_back(KeyframePage{last_page, std::vector<uint8_t>(kPageSize, 0x5A)});
    });
    const Replayed r = replay(wrong, *digest_follows, {}, BackendKind::Kvm);
    EXPECT_EQ(r.out.exit_status, kExitDivergence) << r.out.message;
  }
  std::fprintf(stderr, "[ kvm keyframes ] %s: %zu keyframes every %llu ms, %zu with reference pages, digest checked after #%s\n",
               spec.name.c_str(), keyframes, (unsigned long long)ms, with_reference,
               digest_follows ? std::to_string(*digest_follows).c_str() : "none");
}

// traces/kvm-keyframes-timer.rrt: the timer guest (traces/v4-timer.bin, the
// same image) recorded on kvm in the nested harness with --keyframe-ms 200:
// 6 keyframes, each right after an exit, and 4 ticks inside guest execution,
// found by search (one after 32,959 stops). Every keyframe restores on emu
// (the portable CPU state; emu finds the points the way kvm does) and gives
// the end of a replay from the start, here where kvm does not run.
TEST(KvmKeyframeFixture, EveryKvmKeyframeRestoresOnEmu) {
  const std::string dir = std::string(RRVM_SOURCE_DIR) + "/traces/";
  const std::string trace = dir + "kvm-keyframes-timer.rrt";
  TraceReader reader(trace);
  ASSERT_EQ(reader.header().backend, "kvm");
  ASSERT_TRUE(reader.end().has_value());
  const size_t keyframes = reader.keyframes().size();
  ASSERT_GE(keyframes, 2u);
  size_t with_reference_pages = 0;
  for (const auto& entry : reader.keyframes()) {
    const Keyframe k = reader.read_keyframe(entry);
    EXPECT_TRUE(k.incremental);
    EXPECT_FALSE(k.icount.has_value());
    EXPECT_FALSE(k.async);
    ASSERT_TRUE(k.digest_reference.has_value());
    with_reference_pages += !k.digest_reference->empty();
  }
  auto run = [&](std::optional<size_t> keyframe) {
    Replayed r;
    ReplaySettings s;
    s.backend = BackendKind::Emu;
    s.image_override = dir + "v4-timer.bin";
    s.from_keyframe = keyframe;
    s.serial_out = [&r](uint8_t b) { r.serial.push_back(char(b)); };
    r.out = replay_trace(trace, s);
    return r;
  };
  const Replayed full = run(std::nullopt);
  ASSERT_FALSE(full.out.divergence.has_value()) << full.out.divergence->to_string();
  ASSERT_EQ(full.out.exit_status, 0) << full.out.message;
  for (size_t k = kRestoreEveryKeyframe ? 0 : keyframes - 1; k < keyframes; ++k) {
    SCOPED_TRACE("keyframe " + std::to_string(k) + " of " + std::to_string(keyframes));
    const Replayed from = run(k);
    ASSERT_TRUE(from.out.start.from_keyframe);
    ASSERT_FALSE(from.out.divergence.has_value()) << from.out.divergence->to_string();
    EXPECT_EQ(from.out.exit_status, 0) << from.out.message;
    EXPECT_TRUE(from.out.final_state_checked);
    EXPECT_EQ(from.out.ram_sha256, reader.end()->ram_sha256);
    EXPECT_EQ(from.out.events, full.out.events);
    ASSERT_LE(from.serial.size(), full.serial.size());
    EXPECT_EQ(full.serial.substr(full.serial.size() - from.serial.size()), from.serial);
  }
  std::fprintf(stderr, "[ kvm fixture ] %zu keyframes, %zu with digest reference pages\n", keyframes,
               with_reference_pages);
}

// rep_irq_1k: ticks inside guest execution (points found by search, with
// memory digests; timer's take a nested replay minutes: one point costs
// 32,959 stops); echo: serial input; cirrus-lfb: frames from KVM's dirty log
// of the linear framebuffer.
INSTANTIATE_TEST_SUITE_P(KvmGuests, KvmKeyframes, ::testing::Values("rep_irq_1k", "echo", "cirrus-lfb"),
                         [](const auto& info) { return test_name(info.param); });

TEST(KeyframeTampering, AChangedRamByteIsADivergence) {
  const guests::GuestSpec spec = spec_of("timer");
  const std::string trace = record(spec, 2'000'000, "kf-tamper");
  const size_t keyframes = TraceReader(trace).keyframes().size();
  ASSERT_GE(keyframes, 2u);
  // An unchanged copy replays exactly from its last keyframe: the rewrite
  // itself changes nothing.
  const std::string copy = temp_path("timer-kf-copy.rrt");
  rewrite_keyframes(trace, copy, [](size_t, Keyframe&) {});
  EXPECT_EQ(replay(copy, keyframes - 1).out.exit_status, 0);

  // One byte of guest RAM in the last keyframe, in a page it stores (one the
  // guest wrote), flipped; the frame's checksum is right.
  const std::string tampered = temp_path("timer-kf-tampered.rrt");
  bool flipped = false;
  rewrite_keyframes(trace, tampered, [&](size_t n, Keyframe& k) {
    if (n != keyframes - 1) return;
    for (KeyframeSlot& s : k.memory)
      if (s.name.rfind("ram", 0) == 0 && !s.pages.empty()) {
        s.pages.front().bytes[100] ^= 0x40;
        flipped = true;
        return;
      }
  });
  ASSERT_TRUE(flipped) << "the last keyframe stores no RAM page";
  const Replayed from = replay(tampered, keyframes - 1);
  EXPECT_TRUE(from.out.divergence.has_value()) << from.out.message;
  EXPECT_EQ(from.out.exit_status, kExitDivergence) << from.out.message;
  // From the start the tampered keyframe is never read: exact.
  EXPECT_EQ(replay(tampered, std::nullopt).out.exit_status, 0);
}

TEST(KeyframeTampering, ADamagedKeyframeFrameIsOneClearError) {
  const guests::GuestSpec spec = spec_of("timer");
  const std::string trace = record(spec, 2'000'000, "kf-damage");
  TraceReader reader(trace);
  const auto entries = reader.keyframes();
  ASSERT_GE(entries.size(), 2u);
  // A byte inside the last keyframe's payload (the frame's CRC no longer holds).
  const std::string damaged = temp_path("timer-kf-damaged.rrt");
  std::filesystem::copy_file(trace, damaged, std::filesystem::copy_options::overwrite_existing);
  {
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(entries.back().offset + kFrameHeaderSize + 64));
    char c = 0;
    f.read(&c, 1);
    c ^= 0x5A;
    f.seekp(std::streamoff(entries.back().offset + kFrameHeaderSize + 64));
    f.write(&c, 1);
  }
  try {
    replay(damaged, entries.size() - 1);
    ADD_FAILURE() << "a damaged keyframe restored";
  } catch (const SystemError& e) {
    EXPECT_EQ(e.status(), kExitBadInput);
    EXPECT_NE(std::string(e.what()).find("keyframe"), std::string::npos) << e.what();
  }
  // The keyframes before it still restore, and the start replays.
  EXPECT_EQ(replay(damaged, entries.size() - 2).out.exit_status, 0);
  EXPECT_EQ(replay(damaged, std::nullopt).out.exit_status, 0);
}

TEST(KeyframeFallback, ATraceWithoutKeyframesReplaysFromTheStart) {
  const guests::GuestSpec spec = spec_of("timer");
  const std::string trace = record(spec, 0, "kf-none");
  ASSERT_TRUE(TraceReader(trace).keyframes().empty());
  const Replayed from = replay(trace, std::nullopt, 100);
  EXPECT_FALSE(from.out.start.from_keyframe);
  EXPECT_NE(from.out.start.note.find("from the start"), std::string::npos) << from.out.start.note;
  EXPECT_EQ(from.out.exit_status, 0) << from.out.message;
  EXPECT_TRUE(from.out.final_state_checked);
  // An event before the first keyframe falls back the same way.
  const std::string with = record(spec, 2'000'000, "kf-some");
  TraceReader reader(with);
  ASSERT_FALSE(reader.keyframes().empty());
  if (reader.keyframes().front().first_event_ordinal > 0) {
    const Replayed early = replay(with, std::nullopt, 0);
    EXPECT_FALSE(early.out.start.from_keyframe);
    EXPECT_EQ(early.out.exit_status, 0) << early.out.message;
  }
  // Beyond the end: bad input.
  EXPECT_THROW(replay(with, std::nullopt, reader.event_count() + 1), SystemError);
  EXPECT_THROW(replay(with, reader.keyframes().size()), SystemError);
}

}  // namespace

// kvm keyframes compare all of RAM (~0.2 s for 36 MiB nested): by default the
// next waits 19 times the last one's cost, so they never take over a
// recording; a spacing the user set is kept as given.
TEST(KvmKeyframeSpacing, TheDefaultSpacingStretchesWithTheKeyframesCost) {
  using namespace std::chrono;
  EXPECT_EQ(kvm_keyframe_spacing(1000, milliseconds(2), true), milliseconds(1000));
  EXPECT_EQ(kvm_keyframe_spacing(1000, milliseconds(200), true), milliseconds(3800));
  EXPECT_EQ(kvm_keyframe_spacing(1000, milliseconds(200), false), milliseconds(1000));
  EXPECT_EQ(kvm_keyframe_spacing(200, milliseconds(200), false), milliseconds(200));
  // Share of the time: cost / (cost + spacing) never above 5%.
  for (int cost_ms : {1, 50, 200, 1500}) {
    const auto cost = milliseconds(cost_ms);
    const auto spacing = kvm_keyframe_spacing(1000, cost, true);
    EXPECT_LE(double(cost.count()) / double((cost + duration_cast<milliseconds>(spacing)).count()), 0.05 + 1e-9);
  }
}
