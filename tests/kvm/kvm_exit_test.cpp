// decode_kvm_exit on made-up kvm_run contents: every exit reason the backend
// handles, and the malformed ones a kernel should never produce. No KVM.
#include "vmm/kvm/kvm_exit.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace rrvm::kvm {
namespace {

using Kind = DecodedExit::Kind;
constexpr size_t kRunSize = 3 * 4096;  // what KVM_GET_VCPU_MMAP_SIZE reports on x86

struct RunArea {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kRunSize, 0);
  kvm_run& run() { return *reinterpret_cast<kvm_run*>(bytes.data()); }
};

TEST(KvmExitDecode, PortOutAndRepInsElements) {
  RunArea a;
  a.run().exit_reason = KVM_EXIT_IO;
  a.run().io.direction = KVM_EXIT_IO_OUT;
  a.run().io.port = 0x3F8;
  a.run().io.size = 1;
  a.run().io.count = 1;
  a.run().io.data_offset = 4096;
  DecodedExit d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::PortIo);
  EXPECT_TRUE(d.is_write);
  EXPECT_EQ(d.port, 0x3F8);
  EXPECT_EQ(d.size, 1);
  EXPECT_EQ(d.count, 1u);
  EXPECT_EQ(d.data_offset, 4096u);

  a.run().io.direction = KVM_EXIT_IO_IN;
  a.run().io.size = 2;
  a.run().io.count = 2048;  // rep insw filling the rest of the area exactly
  d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::PortIo);
  EXPECT_FALSE(d.is_write);
  EXPECT_EQ(d.count, 2048u);
}

TEST(KvmExitDecode, MalformedPortIoIsAFailureNamingItsFields) {
  RunArea a;
  a.run().exit_reason = KVM_EXIT_IO;
  a.run().io.port = 0x60;
  a.run().io.data_offset = 4096;
  struct Bad {
    uint8_t size;
    uint32_t count;
    uint64_t offset;
  };
  for (Bad b : {Bad{3, 1, 4096}, Bad{8, 1, 4096}, Bad{1, 0, 4096}, Bad{4, 2049, 4096}, Bad{1, 1, kRunSize},
                Bad{1, 1, ~0ull}, Bad{4, 0x40000001, 0}}) {
    a.run().io.size = b.size;
    a.run().io.count = b.count;
    a.run().io.data_offset = b.offset;
    DecodedExit d = decode_kvm_exit(a.run(), kRunSize);
    EXPECT_EQ(d.kind, Kind::Failure) << int(b.size) << " x " << b.count << " at " << b.offset;
    EXPECT_NE(d.message.find("malformed I/O exit (port 0x60"), std::string::npos) << d.message;
    EXPECT_EQ(d.message.find('\n'), std::string::npos);
  }
}

TEST(KvmExitDecode, MmioReadsWritesAndBadLengths) {
  RunArea a;
  a.run().exit_reason = KVM_EXIT_MMIO;
  a.run().mmio.phys_addr = 0xFEBF0010;
  a.run().mmio.len = 4;
  a.run().mmio.is_write = 1;
  const uint8_t data[8] = {0x78, 0x56, 0x34, 0x12, 0xEE, 0xEE, 0xEE, 0xEE};
  std::memcpy(a.run().mmio.data, data, 8);
  DecodedExit d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Mmio);
  EXPECT_TRUE(d.is_write);
  EXPECT_EQ(d.address, 0xFEBF0010u);
  EXPECT_EQ(d.size, 4);
  EXPECT_EQ(d.data, 0x12345678u);  // only `len` bytes are the value
  a.run().mmio.is_write = 0;
  d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_FALSE(d.is_write);
  EXPECT_EQ(d.data, 0u);
  for (uint32_t len : {0u, 9u, 255u}) {
    a.run().mmio.len = len;
    d = decode_kvm_exit(a.run(), kRunSize);
    EXPECT_EQ(d.kind, Kind::Failure) << len;
    EXPECT_NE(d.message.find("0xfebf0010"), std::string::npos) << d.message;
  }
}

TEST(KvmExitDecode, ExitsWithoutPayload) {
  RunArea a;
  const std::pair<uint32_t, Kind> cases[] = {{KVM_EXIT_HLT, Kind::Halt},
                                             {KVM_EXIT_IRQ_WINDOW_OPEN, Kind::IrqWindowOpen},
                                             {KVM_EXIT_INTR, Kind::Interrupted},
                                             {KVM_EXIT_DEBUG, Kind::Debug},
                                             {KVM_EXIT_SHUTDOWN, Kind::Shutdown}};
  for (auto [reason, kind] : cases) {
    a.run().exit_reason = reason;
    EXPECT_EQ(decode_kvm_exit(a.run(), kRunSize).kind, kind) << reason;
  }
  a.run().exit_reason = KVM_EXIT_SHUTDOWN;
  EXPECT_EQ(decode_kvm_exit(a.run(), kRunSize).message, "triple fault");
}

TEST(KvmExitDecode, SystemEventsAreShutdownsThatSayWhich) {
  RunArea a;
  a.run().exit_reason = KVM_EXIT_SYSTEM_EVENT;
  a.run().system_event.type = KVM_SYSTEM_EVENT_RESET;
  DecodedExit d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Shutdown);
  EXPECT_NE(d.message.find("reset"), std::string::npos) << d.message;
  a.run().system_event.type = 77;
  EXPECT_NE(decode_kvm_exit(a.run(), kRunSize).message.find("type 77"), std::string::npos);
}

TEST(KvmExitDecode, FailuresCarryWhatKvmReported) {
  RunArea a;
  a.run().exit_reason = KVM_EXIT_FAIL_ENTRY;
  a.run().fail_entry.hardware_entry_failure_reason = 0x80000021;
  DecodedExit d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Failure);
  EXPECT_NE(d.message.find("0x80000021"), std::string::npos) << d.message;

  a.run().exit_reason = KVM_EXIT_INTERNAL_ERROR;
  a.run().internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
  a.run().internal.ndata = 2;
  a.run().internal.data[0] = 0x1234;
  a.run().internal.data[1] = 0xABCD;
  d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Failure);
  EXPECT_NE(d.message.find("instruction emulation failed, data 0x1234 0xabcd)"), std::string::npos) << d.message;
  a.run().internal.ndata = 1000;  // more than the array holds: only 16 are read
  d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Failure);

  a.run().exit_reason = 9999;
  d = decode_kvm_exit(a.run(), kRunSize);
  EXPECT_EQ(d.kind, Kind::Failure);
  EXPECT_NE(d.message.find("unhandled KVM exit reason 9999"), std::string::npos) << d.message;
}

}  // namespace
}  // namespace rrvm::kvm
