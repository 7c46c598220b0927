// Capstone through disassemble(): the mode follows the CPU state, and bytes
// that do not decode end the listing instead of being guessed.
#include "vmm/disassembler.h"

#include <gtest/gtest.h>

namespace rrvm {
namespace {

TEST(Disassembler, ModeFollowsTheCpuState) {
  Registers r;
  EXPECT_EQ(code_bits(r), CodeBits::k16);  // real mode
  r.cr0 = 1;
  EXPECT_EQ(code_bits(r), CodeBits::k16);  // protected mode, 16-bit code segment
  r.cs.db = 1;
  EXPECT_EQ(code_bits(r), CodeBits::k32);
  r.efer = (1u << 8) | (1u << 10);
  r.cs.l = 1;
  r.cs.db = 0;
  EXPECT_EQ(code_bits(r), CodeBits::k64);
}

TEST(Disassembler, TheSameBytesReadPerMode) {
  const uint8_t code[] = {0xB8, 0x34, 0x12, 0x00, 0x00};  // mov (e)ax, imm
  auto as16 = disassemble(code, 0x7C00, CodeBits::k16, 1);
  auto as32 = disassemble(code, 0x8000, CodeBits::k32, 1);
  ASSERT_EQ(as16.size(), 1u);
  ASSERT_EQ(as32.size(), 1u);
  EXPECT_EQ(as16[0].text, "mov ax, 0x1234");
  EXPECT_EQ(as16[0].bytes.size(), 3u);
  EXPECT_EQ(as16[0].address, 0x7C00u);
  EXPECT_EQ(as32[0].text, "mov eax, 0x1234");
  EXPECT_EQ(as32[0].bytes.size(), 5u);
  const uint8_t rex[] = {0x48, 0x89, 0xC8};
  auto as64 = disassemble(rex, 0xFFFFFFFF81000000ull, CodeBits::k64, 4);
  ASSERT_EQ(as64.size(), 1u);
  EXPECT_EQ(as64[0].text, "mov rax, rcx");
}

TEST(Disassembler, StopsAtBytesThatDoNotDecodeAndAtTheLimit) {
  const uint8_t code[] = {0x90, 0xEC, 0xFF, 0xFF};  // nop; in al, dx; then ff /7, which is no instruction
  auto listing = disassemble(code, 0, CodeBits::k16, 8);
  ASSERT_EQ(listing.size(), 2u);
  EXPECT_EQ(listing[1].text, "in al, dx");
  EXPECT_EQ(disassemble(code, 0, CodeBits::k16, 1).size(), 1u);
  EXPECT_TRUE(disassemble({}, 0, CodeBits::k32, 4).empty());
}

}  // namespace
}  // namespace rrvm
