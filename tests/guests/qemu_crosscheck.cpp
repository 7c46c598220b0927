// Runs every guest under QEMU (qemu-system-i386, TCG, SeaBIOS) and checks its
// COM1 output, debug-console output and exit status against the guest
// specification in expected/. This proves the images are bootable PC guests
// and that the specification is right, before rrvm is held to it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "tests/guests/guest_oracle.h"

using namespace rrvm::guests;

namespace {

constexpr auto kQemuTimeout = std::chrono::seconds(20);  // runs take < 1 s; only a hang gets near

bool qemu_available() { return std::system("command -v qemu-system-i386 >/dev/null 2>&1") == 0; }

struct QemuRun {
  int exit_code = -1;  // -1: killed (timeout) or crashed
  std::string serial, debugcon, log;
};

void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// Boots `spec` the way a PC boots it: raw images from an IDE disk through
// SeaBIOS, ELF images through QEMU's multiboot loader. COM1 is QEMU's stdio
// (stdin from the spec's input, stdout captured).
QemuRun run_qemu(const GuestSpec& spec, const std::vector<std::string>& extra = {}) {
  const std::string base = ::testing::TempDir() + "rrvm_qemu_" + spec.name + "_" + std::to_string(getpid());
  const std::string in = base + ".in", serial = base + ".serial", debugcon = base + ".debugcon",
                    log = base + ".log";
  write_file(in, spec.input);
  // -icount shift=0: guest time is the instruction count (1 ns each), as on
  // rrvm's emu. Without it the guests' timers run on host time, and whether
  // rep_irq's 600 kHz ticks land inside its work (and how long QEMU spends
  // delivering them: 4-20 s) depended on the host's load.
  std::vector<std::string> args = {"qemu-system-i386", "-accel", "tcg", "-icount", "shift=0", "-machine", "pc", "-nodefaults",
                                   "-display", "none", "-m", "16", "-no-reboot",
                                   "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                   "-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1",
                                   "-debugcon", "file:" + debugcon};
  if (spec.elf) {
    args.insert(args.end(), {"-kernel", spec.image_path});
  } else {
    args.insert(args.end(), {"-drive", "file=" + spec.image_path + ",format=raw,if=ide,index=0,media=disk,snapshot=on"});
  }
  args.insert(args.end(), extra.begin(), extra.end());

  QemuRun run;
  pid_t pid = fork();
  if (pid == 0) {
    int fin = open(in.c_str(), O_RDONLY);
    int fout = open(serial.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int flog = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fin < 0 || fout < 0 || flog < 0) _exit(126);
    dup2(fin, 0);
    dup2(fout, 1);
    dup2(flog, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + kQemuTimeout;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  run.serial = read_text_file(serial);
  run.debugcon = read_text_file(debugcon);
  run.log = read_text_file(log);
  for (const auto& p : {in, serial, debugcon, log}) std::remove(p.c_str());
  return run;
}

std::vector<std::string> guest_names() {
  std::vector<std::string> names;
  for (const auto& s : load_guest_specs()) names.push_back(s.name);
  return names;
}

class QemuCrosscheck : public ::testing::TestWithParam<std::string> {};

TEST_P(QemuCrosscheck, OutputAndExitStatusMatchSpecification) {
  if (!qemu_available()) GTEST_SKIP() << "qemu-system-i386 is not installed";
  const auto specs = load_guest_specs();
  const GuestSpec& spec = find_guest_spec(specs, GetParam());
  QemuRun run = run_qemu(spec);
  EXPECT_EQ(run.exit_code, debug_exit_code(spec.exit_status)) << "QEMU log: " << run.log;
  EXPECT_EQ(check_guest_output(spec, "serial", run.serial), "");
  EXPECT_EQ(check_guest_output(spec, "debugcon", run.debugcon), "");
}

INSTANTIATE_TEST_SUITE_P(Guests, QemuCrosscheck, ::testing::ValuesIn(guest_names()),
                         [](const auto& info) { return info.param; });

// With the RTC started at a known time, the printed date proves the BCD
// conversion and field order, not just the format.
TEST(QemuCmos, PrintsTheRtcTime) {
  if (!qemu_available()) GTEST_SKIP() << "qemu-system-i386 is not installed";
  const auto specs = load_guest_specs();
  QemuRun run = run_qemu(find_guest_spec(specs, "cmos"), {"-rtc", "base=2031-07-15T21:34:56"});
  EXPECT_EQ(run.serial.rfind("RTC: 2031-07-15 21:3", 0), 0u) << run.serial;
}

// The guests must fail loudly, not pass quietly: a guest whose output differs
// from the specification is caught by the checker.
TEST(GuestOracle, DetectsWrongOutput) {
  const auto specs = load_guest_specs();
  const GuestSpec& hello = find_guest_spec(specs, "hello");
  EXPECT_EQ(check_guest_output(hello, "serial", hello.expected), "");
  EXPECT_NE(check_guest_output(hello, "serial", hello.expected + "x"), "");
  const GuestSpec& cmos = find_guest_spec(specs, "cmos");
  EXPECT_EQ(check_guest_output(cmos, "serial", "RTC: 2024-02-29 23:59:58\n"), "");
  EXPECT_NE(check_guest_output(cmos, "serial", "RTC: 2024-13-29 23:59:58\n"), "");
  EXPECT_NE(check_guest_output(cmos, "serial", "RTC: 2024-02-29 24:00:00\n"), "");
  EXPECT_EQ(debug_exit_code(0x2A), 85);
}

// The timer's checksum in expected/timer.txt is recomputed here from the
// algorithm guests/timer.asm documents, so it is not copied from a run.
TEST(GuestOracle, TimerChecksumFollowsFromItsDefinition) {
  uint32_t x = 0x12345678, acc = 0;
  for (int i = 0; i < 2000000; ++i) {  // WORK_ITERATIONS
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    acc = ((acc << 5) | (acc >> 27)) ^ x;
  }
  char line[64];
  std::snprintf(line, sizeof line, "timer: checksum 0x%08X\n", acc);
  const auto specs = load_guest_specs();
  EXPECT_EQ(find_guest_spec(specs, "timer").expected.rfind(line, 0), 0u) << line;
}

// The echo guest echoes its input up to and including the terminator, then
// counts those bytes.
TEST(GuestOracle, EchoExpectationFollowsFromInput) {
  const auto specs = load_guest_specs();
  const GuestSpec& echo = find_guest_spec(specs, "echo");
  const std::string echoed = echo.input.substr(0, echo.input.find('.') + 1);
  EXPECT_EQ(echo.expected, echoed + "\necho: received " + std::to_string(echoed.size()) + " bytes\n");
}

}  // namespace
