#include "kvm_test_support.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "vmm/clock.h"

namespace rrvm::kvmtest {

std::string kvm_missing_reason() {
  std::string why;
  return kvm_available(&why) ? std::string() : why;
}

bool kvm_required() {
  const char* v = std::getenv("RRVM_REQUIRE_KVM");
  return v && std::string(v) == "1";
}

Registers real_mode_at(uint16_t ip) {
  Registers r;
  Segment data;  // selector 0, base 0, limit 0xFFFF, read/write data, present
  r.ds = r.es = r.fs = r.gs = r.ss = data;
  r.cs = data;
  r.cs.type = 0xB;  // execute/read code, accessed
  r.tr = Segment{0, 0, 0xFFFF, 0xB, 1, 0, 0, 0, 0, 0, 0};  // busy 32-bit TSS
  r.ldt = Segment{0, 0, 0xFFFF, 0x2, 1, 0, 0, 0, 0, 0, 0};
  r.idt = DescriptorTable{0, 0x3FF};
  r.gdt = DescriptorTable{0, 0xFFFF};
  r.rip = ip;
  r.rsp = 0x7000;
  r.rflags = 0x2;
  r.cr0 = 0x10;  // ET
  return r;
}

Registers flat32_at(uint32_t entry) {
  Registers r;
  Segment code{0x08, 0, 0xFFFFFFFF, 0xB, 1, 0, 1, 1, 0, 1, 0};
  Segment data{0x10, 0, 0xFFFFFFFF, 0x3, 1, 0, 1, 1, 0, 1, 0};
  r.cs = code;
  r.ds = r.es = r.fs = r.gs = r.ss = data;
  r.tr = Segment{0, 0, 0xFFFF, 0xB, 1, 0, 0, 0, 0, 0, 0};
  r.ldt = Segment{0, 0, 0xFFFF, 0x2, 1, 0, 0, 0, 0, 0, 0};
  r.gdt = DescriptorTable{0x500, 3 * 8 - 1};
  r.idt = DescriptorTable{0, 0};
  r.rip = entry;
  r.rsp = 0x9000;
  r.rflags = 0x2;
  r.cr0 = 0x11;  // PE | ET
  return r;
}

void write_flat_gdt_at_0x500(GuestMemory& mem) {
  const uint64_t gdt[3] = {0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull};
  ASSERT_TRUE(mem.write(0x500, gdt, sizeof gdt));
}

std::vector<uint8_t> guest_image(const std::string& name) {
  std::string path = std::string(KVM_GUEST_DIR) + "/" + name + ".bin";
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot open guest image " << path << " (build kvm_test_guests)";
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::vector<uint32_t> guest_trailer(const std::vector<uint8_t>& image, size_t count) {
  std::vector<uint32_t> out(count, 0);
  if (image.size() < count * 4) {
    ADD_FAILURE() << "guest image too small for its trailer";
    return out;
  }
  std::memcpy(out.data(), image.data() + image.size() - count * 4, count * 4);
  return out;
}

void KvmTest::SetUp() {
  std::string why = kvm_missing_reason();
  if (why.empty()) return;
  if (kvm_required()) FAIL() << "RRVM_REQUIRE_KVM=1 but KVM is unusable: " << why;
  GTEST_SKIP() << "no KVM here (" << why << ")";
}

void KvmTest::create(const std::vector<CpuidEntry>& cpuid) {
  mem_.add_slot(0, 2 << 20, "ram");
  cpu_ = create_kvm_vcpu(mem_, cpuid);
}

std::vector<uint8_t> KvmTest::load(const std::string& name, uint64_t address) {
  auto image = guest_image(name);
  EXPECT_TRUE(mem_.write(address, image.data(), image.size()));
  return image;
}

Exit KvmTest::step() {
  RunLimits limits;
  limits.deadline_host_ns = HostClock::host_monotonic_ns() + 10'000'000'000ull;
  return cpu_->run(limits);
}

Exit KvmTest::expect_port(uint16_t port, bool is_write, uint8_t size) {
  Exit e = step();
  EXPECT_EQ(e.kind, ExitKind::PortIo) << describe(e);
  EXPECT_EQ(e.address, port) << describe(e);
  EXPECT_EQ(e.is_write, is_write) << describe(e);
  EXPECT_EQ(e.size, size) << describe(e);
  return e;
}

uint32_t KvmTest::read32(uint64_t gpa) {
  uint32_t v = 0;
  EXPECT_TRUE(mem_.read(gpa, &v, 4));
  return v;
}

std::string describe(const Exit& e) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %s size=%u addr=0x%llx data=0x%llx ", exit_kind_name(e.kind),
                e.is_write ? "write" : "read", e.size, (unsigned long long)e.address,
                (unsigned long long)e.data);
  return buf + e.message;
}

}  // namespace rrvm::kvmtest
