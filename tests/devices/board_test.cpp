#include <gtest/gtest.h>

#include <deque>
#include <random>

#include "devices/debug_port.h"
#include "devices/pc_board.h"
#include "tests/devices/test_util.h"

namespace rrvm {
namespace {

// A vCPU that replays a script of exits; every run() retires 10 instructions,
// so the machine runs on an instruction clock (1 ns per instruction).
class ScriptedVcpu final : public Vcpu {
 public:
  std::deque<Exit> script;
  std::vector<std::pair<uint8_t, uint64_t>> injected;  // vector, Clock ns
  uint64_t icount = 0;
  Clock* clock = nullptr;
  Registers regs;

  const char* backend_name() const override { return "scripted"; }
  std::vector<uint64_t> stops_asked;  // every stop_at_icount run() was given
  Exit run(const RunLimits& limits) override {
    if (limits.stop_at_icount) stops_asked.push_back(*limits.stop_at_icount);
    if (limits.stop_at_icount && *limits.stop_at_icount <= icount + 10 && script.empty()) {
      icount = std::max(icount, *limits.stop_at_icount);
      Exit e;
      e.kind = ExitKind::StopAtPosition;
      return e;
    }
    icount += 10;
    if (script.empty()) return port_write(0xF4, 1, 0x21);  // done: debug exit
    Exit e = script.front();
    script.pop_front();
    return e;
  }
  void complete_read(uint64_t) override {}
  Registers get_registers() override { return regs; }
  void set_registers(const Registers& r) override { regs = r; }
  bool can_inject_interrupt() override { return regs.interrupts_enabled(); }
  void inject_interrupt(uint8_t vector) override { injected.push_back({vector, clock ? clock->now_ns() : 0}); }
  void request_interrupt_window(bool) override {}
  std::optional<uint64_t> instruction_count() const override { return icount; }
  std::optional<uint64_t> translate(uint64_t linear) override { return linear; }
  bool at_instruction_boundary() const override { return true; }
  CpuSnapshot save_cpu() override {
    CpuSnapshot c;
    c.regs = regs;
    c.icount = icount;
    return c;
  }
  void restore_cpu(const CpuSnapshot& c) override {
    regs = c.regs;
    icount = c.icount.value_or(0);
  }
  void invalidate_code(uint64_t, uint64_t) override {}
  void sync_memory_map() override {}
  void kick() override {}

  static Exit port_write(uint16_t port, uint8_t size, uint64_t value) {
    Exit e;
    e.kind = ExitKind::PortIo;
    e.is_write = true;
    e.size = size;
    e.address = port;
    e.data = value;
    return e;
  }
};

std::unique_ptr<GuestMemory> pc_memory(uint64_t bytes) {
  auto m = std::make_unique<GuestMemory>();
  add_pc_memory(*m, bytes);
  return m;
}

TEST(PcMemory, SlotsLeaveTheVgaHole) {
  GuestMemory m;
  add_pc_memory(m, 64ull << 20);
  ASSERT_EQ(m.slots().size(), 3u);
  EXPECT_EQ(m.slot_by_name("ram-low")->size, 0xA0000u);
  EXPECT_EQ(m.slot_by_name("ram-bios")->guest_base, 0xC0000u);
  EXPECT_EQ(m.slot_by_name("ram-bios")->size, 0x40000u);
  EXPECT_EQ(m.slot_by_name("ram")->guest_base, 0x100000u);
  EXPECT_EQ(m.slot_by_name("ram")->size, (64ull << 20) - 0x100000);
  EXPECT_EQ(m.find_slot(0xA0000), nullptr);
  EXPECT_EQ(m.find_slot(0xBFFFF), nullptr);

  GuestMemory small;
  add_pc_memory(small, 512 * 1024);
  ASSERT_EQ(small.slots().size(), 1u);
  EXPECT_EQ(small.slots()[0].size, 512u * 1024);

  GuestMemory bad;
  EXPECT_THROW(add_pc_memory(bad, 0), std::invalid_argument);
  EXPECT_THROW(add_pc_memory(bad, 4097), std::invalid_argument);
}

TEST(DebugPorts, ExitStatusAndConsole) {
  int status = -1;
  DebugExit exit_dev([&](int s) { status = s; });
  exit_dev.io_write(0, 1, 0x10);
  EXPECT_EQ(status, 0x21);
  exit_dev.io_write(2, 1, 0);
  EXPECT_EQ(status, 1);
  EXPECT_EQ(DebugExit::exit_status(0x7F), 0xFF);
  std::string out;
  DebugConsole con([&](uint8_t b) { out.push_back(char(b)); });
  con.io_write(0, 1, 'o');
  con.io_write(0, 1, 'k');
  EXPECT_EQ(out, "ok");
  EXPECT_EQ(con.io_read(0, 1), 0xE9u);
}

struct BoardFixture : ::testing::Test {
  ScriptedVcpu* vcpu = new ScriptedVcpu;
  Machine machine{pc_memory(16ull << 20), std::unique_ptr<Vcpu>(vcpu)};
  std::string serial, debugcon;
  FileByteSource input{std::vector<uint8_t>{'k', 'e', 'y'}};
  PcBoard board{machine, PcBoardConfig{[this](uint8_t b) { serial.push_back(char(b)); },
                                       [this](uint8_t b) { debugcon.push_back(char(b)); },
                                       &input, 1704067200}};
  void SetUp() override { machine.start_time(); }  // devices driven without run()
};

// A timed device that only watches (the display sampler is one) must not stop
// the guest: its deadline is met at the first exit after it. One that stops
// the guest gets a stop at its deadline.
TEST(MachineDeadlines, AnObserverIsServicedAtTheNextExitWithoutStoppingTheGuest) {
  struct Watcher final : TimedDevice {
    bool stops = false;
    uint64_t next = 25;  // ns = instructions: inside the second run() of 10
    std::vector<uint64_t> served;
    std::optional<uint64_t> next_deadline_ns() override {
      return served.empty() ? std::optional<uint64_t>(next) : std::nullopt;
    }
    void advance_to(uint64_t now) override {
      if (now >= next) served.push_back(now);
    }
    bool stops_guest() const override { return stops; }
  };
  for (bool stops : {false, true}) {
    auto* vcpu = new ScriptedVcpu;
    for (int i = 0; i < 5; ++i) vcpu->script.push_back(ScriptedVcpu::port_write(0x80, 1, i));
    Machine machine{pc_memory(16ull << 20), std::unique_ptr<Vcpu>(vcpu)};
    FileByteSource no_input{std::vector<uint8_t>{}};
    PcBoard board{machine, PcBoardConfig{[](uint8_t) {}, [](uint8_t) {}, &no_input, 1704067200}};
    Watcher w;
    w.stops = stops;
    machine.add_timed_device(&w);
    machine.run();
    ASSERT_EQ(w.served.size(), 1u) << "stops_guest " << stops;
    if (stops) {  // (this scripted vCPU honours a stop only once its script is done)
      EXPECT_NE(std::find(vcpu->stops_asked.begin(), vcpu->stops_asked.end(), 25u), vcpu->stops_asked.end());
    } else {
      EXPECT_EQ(w.served[0], 30u) << "at the exit that ended the run() spanning ns 25";
      EXPECT_TRUE(vcpu->stops_asked.empty());
    }
  }
}

TEST_F(BoardFixture, EveryDeviceIsOnThePortBus) {
  struct Want {
    uint16_t port;
    IoDevice* device;
  };
  for (Want w : {Want{0x20, &board.pic().master()}, Want{0x21, &board.pic().master()},
                 Want{0xA1, &board.pic().slave()}, Want{0x4D1, &board.pic().elcr()},
                 Want{0x40, &board.pit()}, Want{0x43, &board.pit()},
                 Want{0x61, &board.pit().port61()}, Want{0x70, &board.rtc()},
                 Want{0x71, &board.rtc()}, Want{0x3F8, &board.com1()}, Want{0x3FF, &board.com1()},
                 Want{0xE9, &board.debug_console()}, Want{0xF7, &board.debug_exit()}})
    EXPECT_EQ(machine.ports().find(w.port), w.device) << std::hex << w.port;
  EXPECT_EQ(machine.ports().find(0x3F7), nullptr);
  EXPECT_EQ(machine.ports().find(0x44), nullptr);
  // Memory size as a BIOS reads it from CMOS: 15 MiB above 1 MiB.
  machine.ports().write(0x70, 1, 0x17);
  uint64_t lo = machine.ports().read(0x71, 1);
  machine.ports().write(0x70, 1, 0x18);
  EXPECT_EQ(lo | machine.ports().read(0x71, 1) << 8, 15u * 1024);
  auto devices = board.devices();
  EXPECT_EQ(devices.size(), 6u);
}

TEST_F(BoardFixture, PitInterruptBecomesPendingThroughThePorts) {
  auto& ports = machine.ports();
  for (auto [port, v] : std::initializer_list<std::pair<uint16_t, uint8_t>>{
           {0x20, 0x11}, {0x21, 0x08}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xFE}})
    ports.write(port, 1, v);
  ports.write(0x43, 1, 0x34);
  ports.write(0x40, 1, 100);
  ports.write(0x40, 1, 0);
  EXPECT_FALSE(board.pic().has_pending_interrupt());
  // One deadline: the rising edge (its one-tick low pulse is folded into it).
  auto deadline = board.pit().next_deadline_ns();
  ASSERT_TRUE(deadline.has_value());
  vcpu->icount = *deadline - 1;  // 1 ns per instruction
  board.pit().advance_to(machine.clock().now_ns());
  EXPECT_FALSE(board.pic().has_pending_interrupt());
  vcpu->icount = *deadline;
  board.pit().advance_to(machine.clock().now_ns());
  EXPECT_EQ(machine.clock().now_ns(), Pit8254::ns_at_tick(100));  // count loaded at time 0
  ASSERT_TRUE(board.pic().has_pending_interrupt());
  EXPECT_EQ(board.pic().acknowledge_interrupt(), 0x08);
}

TEST_F(BoardFixture, HaltedGuestWakesOnTheTimerInterrupt) {
  using E = ScriptedVcpu;
  for (auto [port, v] : std::initializer_list<std::pair<uint16_t, uint8_t>>{
           {0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01}, {0x21, 0xFE},
           {0x43, 0x34}, {0x40, 0xA9}, {0x40, 0x04}, {0xE9, 'h'}})  // 1193 ticks ~ 1 ms
    vcpu->script.push_back(E::port_write(port, 1, v));
  Exit halt;
  halt.kind = ExitKind::Halt;
  vcpu->script.push_back(halt);
  vcpu->regs.rflags |= Registers::kFlagIF;
  vcpu->clock = &machine.clock();
  RunResult r = machine.run();
  EXPECT_EQ(r.reason, StopReason::DebugExit);
  EXPECT_EQ(r.exit_status, 0x43);  // (0x21 << 1) | 1
  EXPECT_EQ(debugcon, "h");
  ASSERT_EQ(vcpu->injected.size(), 1u);
  EXPECT_EQ(vcpu->injected[0].first, 0x20);
  // The count was loaded by the 8th exit (icount 80); the edge is 1193 ticks later.
  uint64_t load_tick = Pit8254::ticks_at(80);
  EXPECT_EQ(vcpu->injected[0].second, Pit8254::ns_at_tick(load_tick + 1193));
}

TEST_F(BoardFixture, SerialInputAndOutputThroughThePorts) {
  auto& ports = machine.ports();
  ports.write(0x3F8, 1, 'A');
  EXPECT_EQ(serial, "A");
  vcpu->icount = 10 * board.com1().char_time_ns();
  board.com1().advance_to(machine.clock().now_ns());
  EXPECT_EQ(ports.read(0x3FD, 1) & 1, 1u);
  EXPECT_EQ(ports.read(0x3F8, 1), uint64_t('k'));
}

TEST_F(BoardFixture, DeviceStatesRoundTripBetweenBoards) {
  auto& ports = machine.ports();
  ports.write(0x20, 1, 0x11);
  ports.write(0x21, 1, 0x08);
  ports.write(0x43, 1, 0x36);
  ports.write(0x40, 1, 0x00);
  ports.write(0x40, 1, 0x10);
  ports.write(0x70, 1, 0x45);
  ports.write(0x71, 1, 0x99);
  ports.write(0x3FF, 1, 0x42);

  auto* vcpu2 = new ScriptedVcpu;
  Machine machine2(pc_memory(16ull << 20), std::unique_ptr<Vcpu>(vcpu2));
  PcBoard board2(machine2, PcBoardConfig{});
  auto from = board.devices();
  auto to = board2.devices();
  ASSERT_EQ(from.size(), to.size());
  for (size_t i = 0; i < from.size(); ++i) {
    EXPECT_EQ(from[i].name, to[i].name);
    to[i].state->load_state(from[i].state->save_state());
    EXPECT_EQ(to[i].state->save_state(), from[i].state->save_state()) << from[i].name;
  }
  EXPECT_EQ(machine2.ports().read(0x3FF, 1), 0x42u);
  machine2.ports().write(0x70, 1, 0x45);
  EXPECT_EQ(machine2.ports().read(0x71, 1), 0x99u);
  // A state handed to the wrong device is refused with a message.
  try {
    to[0].state->load_state(from[1].state->save_state());
    FAIL() << "loading a PIT state into the PIC must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("PIC"), std::string::npos);
  }
}

// Guest-controlled garbage on every port of every device never crashes (run
// under ASan/UBSan in CI) and never breaks what the run loop relies on: a
// read answers within its size, a device brought up to `now` has no deadline
// at or before `now` (the loop would spin), the UART FIFO holds at most 16
// bytes, and a state a device accepts saves back to the same bytes.
TEST_F(BoardFixture, GarbageOnEveryPortNeverCrashesAndKeepsTheInvariants) {
  std::mt19937_64 rng(0x5eed);
  auto& ports = machine.ports();
  const auto claims = board.port_claims();
  TimedDevice* timed[] = {&board.pit(), &board.rtc(), &board.com1()};
  auto advance_all = [&] {
    uint64_t now = machine.clock().now_ns();
    for (TimedDevice* d : timed) {
      d->advance_to(now);
      auto next = d->next_deadline_ns();
      if (next) {
        ASSERT_GT(*next, now) << "a device advanced to " << now << " is still due";
      }
    }
    ASSERT_LE(board.com1().rx_fifo_count(), 16u);
  };
  for (int i = 0; i < 200000; ++i) {
    const auto& c = claims[rng() % claims.size()];
    uint16_t port = uint16_t(c.base + rng() % c.length);
    unsigned size = 1u << (rng() % 3);
    if (rng() % 2) {
      ports.write(port, size, rng());
    } else {
      uint64_t v = ports.read(port, size);
      ASSERT_LE(v, IoBus::size_mask(size)) << "port " << std::hex << port << " size " << size;
    }
    if (rng() % 16 == 0) vcpu->icount += rng() % 2000000;
    if (rng() % 32 == 0) advance_all();
    if (board.pic().has_pending_interrupt()) board.pic().acknowledge_interrupt();
  }
  // Random bytes as saved state: either accepted or a one-line runtime_error,
  // never a crash; an accepted state is a consistent one.
  int accepted = 0, rejected = 0;
  for (auto& d : board.devices()) {
    for (int i = 0; i < 200; ++i) {
      auto bytes = d.state->save_state();
      for (auto& b : bytes)
        if (rng() % 8 == 0) b = uint8_t(rng());
      if (rng() % 4 == 0) bytes.resize(rng() % (bytes.size() + 4));
      try {
        d.state->load_state(bytes);
        ++accepted;
        const auto saved = d.state->save_state();
        d.state->load_state(saved);
        ASSERT_EQ(d.state->save_state(), saved) << d.name << ": an accepted state does not save back the same";
      } catch (const std::runtime_error& e) {
        ++rejected;
        ASSERT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      }
      for (const auto& c : claims) {
        ASSERT_LE(ports.read(c.base + rng() % c.length, 1), 0xFFu);
        ports.write(c.base + rng() % c.length, 1, rng());
      }
      advance_all();
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}

// Wide port reads that cover unclaimed bytes or a pair of byte registers
// (found by outside testing): unclaimed bytes read as ones, and the ELCR
// pair answers a word access with both registers.
TEST_F(BoardFixture, WidePortReadsAcrossClaimsAndRegisterPairs) {
  auto& ports = machine.ports();
  const uint64_t msr = ports.read(0x3FE, 1), scratch = ports.read(0x3FF, 1);
  EXPECT_EQ(ports.read(0x3FE, 4), 0xFFFF0000u | scratch << 8 | msr);
  ports.write(0x4D0, 1, 0xF8);
  ports.write(0x4D1, 1, 0xDE);
  const uint64_t master = ports.read(0x4D0, 1), slave = ports.read(0x4D1, 1);
  EXPECT_NE(slave, 0u);
  EXPECT_EQ(ports.read(0x4D0, 2), slave << 8 | master);
  ports.write(0x4D0, 2, 0x0000);
  EXPECT_EQ(ports.read(0x4D0, 2), 0u);
  ports.write(0x4D0, 2, slave << 8 | master);
  EXPECT_EQ(ports.read(0x4D1, 1), slave);
}

}  // namespace
}  // namespace rrvm
