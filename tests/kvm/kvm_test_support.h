// Shared pieces of the kvm backend tests: KVM presence policy, hand-built
// initial CPU states, and loading the nasm guest snippets.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vmm/cpuid.h"
#include "vmm/guest_memory.h"
#include "vmm/kvm/kvm_vcpu.h"

namespace rrvm::kvmtest {

// "" when KVM can be used; else the reason. With RRVM_REQUIRE_KVM=1 in the
// environment a missing KVM is a failure, otherwise a skip.
std::string kvm_missing_reason();
bool kvm_required();

// Real mode at 0000:ip, flat segments at 0, stack below the boot sector.
Registers real_mode_at(uint16_t ip);
// Flat 32-bit protected mode at `entry` (CS 0x08, data 0x10, GDT at 0x500).
Registers flat32_at(uint32_t entry);
void write_flat_gdt_at_0x500(GuestMemory& mem);

// A guest snippet assembled by the build (guests/<name>.asm).
std::vector<uint8_t> guest_image(const std::string& name);
// The `count` dwords a snippet ends with (label addresses it exports).
std::vector<uint32_t> guest_trailer(const std::vector<uint8_t>& image, size_t count);

// Fixture: skips (or fails, when required) without KVM; owns memory + vCPU.
class KvmTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // Adds "ram" [0, 2 MiB), creates the vCPU with `cpuid`.
  void create(const std::vector<CpuidEntry>& cpuid = default_cpuid_table());
  // Copies guest `name` to `address` and returns its image.
  std::vector<uint8_t> load(const std::string& name, uint64_t address);
  // run() with a generous deadline so a runaway guest fails instead of hanging.
  Exit step();
  // step(), asserting a port exit; returns it.
  Exit expect_port(uint16_t port, bool is_write, uint8_t size);
  uint32_t read32(uint64_t gpa);

  GuestMemory mem_;
  std::unique_ptr<Vcpu> cpu_;
};

std::string describe(const Exit& e);

}  // namespace rrvm::kvmtest
