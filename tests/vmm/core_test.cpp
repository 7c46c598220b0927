// Unit tests of the core: GuestMemory bounds and dirty tracking, IoBus
// dispatch and overlap rejection, CPUID lookup.
#include <gtest/gtest.h>

#include "vmm/cpuid.h"
#include "vmm/guest_memory.h"
#include "vmm/io_bus.h"

using namespace rrvm;

TEST(GuestMemory, BoundsChecked) {
  GuestMemory mem;
  mem.add_slot(0, 64 * 1024, "ram");
  uint8_t buf[16] = {1, 2, 3};
  EXPECT_TRUE(mem.write(64 * 1024 - 16, buf, 16));
  EXPECT_FALSE(mem.write(64 * 1024 - 15, buf, 16));  // one byte past the end
  EXPECT_FALSE(mem.read(64 * 1024, buf, 1));
  EXPECT_FALSE(mem.read(~0ull - 4, buf, 16));  // wraps
  EXPECT_EQ(mem.host_ptr(64 * 1024 - 1, 2), nullptr);
  EXPECT_NE(mem.host_ptr(64 * 1024 - 1, 1), nullptr);
  uint8_t back[16] = {};
  EXPECT_TRUE(mem.read(64 * 1024 - 16, back, 16));
  EXPECT_EQ(back[2], 3);
}

TEST(GuestMemory, RejectsOverlapAndMisalignment) {
  GuestMemory mem;
  mem.add_slot(0x100000, 0x10000, "a");
  EXPECT_THROW(mem.add_slot(0x10F000, 0x2000, "b"), std::invalid_argument);
  EXPECT_THROW(mem.add_slot(0x0FF000, 0x2000, "c"), std::invalid_argument);
  EXPECT_THROW(mem.add_slot(0x200001, 0x1000, "d"), std::invalid_argument);
  EXPECT_NO_THROW(mem.add_slot(0x110000, 0x1000, "e"));
}

TEST(GuestMemory, DirtyPagesFromHostWrites) {
  GuestMemory mem;
  const auto& s = mem.add_slot(0xA0000, 16 * kPageSize, "vram", true);
  uint8_t b = 1;
  mem.write(0xA0000 + 3 * kPageSize + 5, &b, 1);
  mem.mark_dirty(0xA0000 + 7 * kPageSize - 1, 2);  // straddles pages 6 and 7
  auto bm = mem.collect_dirty(s.id);
  EXPECT_EQ(bm[0], (1ull << 3) | (1ull << 6) | (1ull << 7));
  EXPECT_EQ(mem.collect_dirty(s.id)[0], 0u);  // cleared by the read
}

namespace {
struct Recorder : IoDevice {
  const char* device_name() const override { return "rec"; }
  uint64_t io_read(uint64_t off, unsigned) override { return 0x1200 + off; }
  void io_write(uint64_t off, unsigned, uint64_t v) override { last = off << 16 | v; }
  uint64_t last = 0;
};
}  // namespace

TEST(IoBus, DispatchAndUnclaimed) {
  IoBus bus("port");
  Recorder a, b;
  bus.add(0x3F8, 8, &a);
  bus.add(0x2F8, 8, &b);
  EXPECT_EQ(bus.read(0x3FA, 1), 0x02u);  // masked to one byte: 0x1202 & 0xff
  EXPECT_EQ(bus.read(0x3FA, 2), 0x1202u);
  EXPECT_TRUE(bus.write(0x2F9, 1, 0x55));
  EXPECT_EQ(b.last, (1ull << 16) | 0x55);
  EXPECT_EQ(bus.read(0x400, 2), 0xFFFFu);
  // Across a claim's edge: byte by byte, unclaimed bytes all ones.
  EXPECT_EQ(bus.read(0x3F7, 4), 0x020100FFu);
  EXPECT_EQ(bus.read(0x3FE, 4), 0xFFFF0706u);
  EXPECT_TRUE(bus.write(0x3FF, 2, 0xAB77));
  EXPECT_EQ(a.last, (7ull << 16) | 0x77);
  EXPECT_FALSE(bus.write(0x80, 1, 0));
  EXPECT_EQ(bus.unclaimed_reads(), 4u);
  EXPECT_EQ(bus.unclaimed_writes(), 2u);
}

TEST(IoBus, RejectsOverlap) {
  IoBus bus("mmio");
  Recorder a;
  bus.add(0x1000, 0x100, &a);
  EXPECT_THROW(bus.add(0x10FF, 1, &a), std::invalid_argument);
  EXPECT_THROW(bus.add(0x0F00, 0x101, &a), std::invalid_argument);
  EXPECT_THROW(bus.add(0x0, 0x10000, &a), std::invalid_argument);
  EXPECT_NO_THROW(bus.add(0x1100, 1, &a));
  EXPECT_NO_THROW(bus.add(0x0F00, 0x100, &a));
}

TEST(Cpuid, DeterministicTable) {
  auto t = default_cpuid_table();
  EXPECT_EQ(t, default_cpuid_table());
  auto leaf0 = cpuid_lookup(t, 0, 0);
  EXPECT_EQ(leaf0.eax, 1u);
  auto high = cpuid_lookup(t, 7, 0);  // above the max basic leaf -> highest basic leaf
  EXPECT_EQ(high.eax, cpuid_lookup(t, 1, 0).eax);
  // Past the maximum extended leaf: the highest basic leaf too (as KVM does).
  EXPECT_EQ(cpuid_lookup(t, 0x80000008u, 0).eax, cpuid_lookup(t, 1, 0).eax);
  // Leaf 1 ignores the sub-leaf; leaf 4 has sub-leaves, missing ones are zero.
  EXPECT_EQ(cpuid_lookup(t, 1, 5).edx, cpuid_lookup(t, 1, 0).edx);
  std::vector<CpuidEntry> with4 = t;
  with4[0].eax = 4;
  with4.push_back({4, 0, 0x11, 0x22, 0x33, 0x44});
  EXPECT_EQ(cpuid_lookup(with4, 4, 0).ebx, 0x22u);
  EXPECT_EQ(cpuid_lookup(with4, 4, 1).ebx, 0u);
}

// What Linux on kvm must not see (each an unrecorded input or a device rrvm
// does not model) and the ERMS hint that turns its page clearing and
// memset/memcpy into rep string instructions (found in a few stops).
TEST(Cpuid, LinuxTableHidesUnrecordedInputsAndOffersErms) {
  const auto t = linux_cpuid_table();
  const CpuidEntry l1 = cpuid_lookup(t, 1, 0), l7 = cpuid_lookup(t, 7, 0), e1 = cpuid_lookup(t, 0x80000001u, 0);
  EXPECT_EQ(cpuid_lookup(t, 0, 0).eax, 7u);
  EXPECT_FALSE(l1.edx & (1u << 4)) << "TSC";
  EXPECT_FALSE(l1.edx & (1u << 9)) << "APIC";
  EXPECT_FALSE(l1.edx & (1u << 12)) << "MTRR";
  EXPECT_FALSE(l1.edx & (1u << 14)) << "MCA";
  EXPECT_FALSE(l1.ecx & (1u << 30)) << "RDRAND";
  EXPECT_FALSE(l1.ecx & (1u << 31)) << "hypervisor (kvmclock and paravirtual leaves)";
  EXPECT_FALSE(l1.ecx & (1u << 26)) << "XSAVE";
  EXPECT_FALSE(l1.ecx & (1u << 21)) << "x2APIC";
  EXPECT_FALSE(e1.edx & (1u << 27)) << "RDTSCP";
  EXPECT_FALSE(l7.ebx & (1u << 18)) << "RDSEED";
  EXPECT_TRUE(l7.ebx & (1u << 9)) << "ERMS";
  EXPECT_EQ(l7.ebx, 1u << 9) << "nothing else in leaf 7";
  EXPECT_EQ(cpuid_lookup(t, 7, 1).ebx, 0u);
  EXPECT_TRUE(e1.edx & (1u << 29)) << "long mode";
}
