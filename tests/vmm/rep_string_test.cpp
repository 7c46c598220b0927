// Decoding rep string instructions and the ranges their iterations touch
// (what the kvm replay's search inside a rep relies on).
#include <gtest/gtest.h>

#include <vector>

#include "vmm/rep_string.h"

namespace rrvm {
namespace {

std::optional<RepString> decode(std::vector<uint8_t> bytes, CodeBits bits) { return decode_rep_string(bytes, bits); }

TEST(RepString, DecodesEveryFormWithItsSizes) {
  auto movsb = decode({0xF3, 0xA4}, CodeBits::k16);
  ASSERT_TRUE(movsb);
  EXPECT_EQ(movsb->op, RepString::Op::Movs);
  EXPECT_EQ(movsb->length, 2);
  EXPECT_EQ(movsb->element, 1);
  EXPECT_EQ(movsb->address_bytes, 2);
  EXPECT_EQ(movsb->cond, RepString::Cond::None);

  auto a32_stosd = decode({0x67, 0x66, 0xF3, 0xAB}, CodeBits::k16);  // a32 rep stosd in real mode
  ASSERT_TRUE(a32_stosd);
  EXPECT_EQ(a32_stosd->op, RepString::Op::Stos);
  EXPECT_EQ(a32_stosd->length, 4);
  EXPECT_EQ(a32_stosd->element, 4);
  EXPECT_EQ(a32_stosd->address_bytes, 4);

  auto repne_scasw = decode({0x66, 0xF2, 0xAF}, CodeBits::k32);
  ASSERT_TRUE(repne_scasw);
  EXPECT_EQ(repne_scasw->op, RepString::Op::Scas);
  EXPECT_EQ(repne_scasw->cond, RepString::Cond::WhileNotEqual);
  EXPECT_EQ(repne_scasw->element, 2);
  EXPECT_EQ(repne_scasw->address_bytes, 4);

  auto repe_cmpsb_es = decode({0x26, 0xF3, 0xA6}, CodeBits::k32);  // es: override on the source
  ASSERT_TRUE(repe_cmpsb_es);
  EXPECT_EQ(repe_cmpsb_es->cond, RepString::Cond::WhileEqual);
  EXPECT_EQ(repe_cmpsb_es->source_segment, 0);

  auto a16_lodsd = decode({0x67, 0xF3, 0xAD}, CodeBits::k32);
  ASSERT_TRUE(a16_lodsd);
  EXPECT_EQ(a16_lodsd->address_bytes, 2);
  EXPECT_EQ(a16_lodsd->count_mask(), 0xFFFFu);

  auto insw = decode({0xF3, 0x6D}, CodeBits::k16);
  ASSERT_TRUE(insw);
  EXPECT_TRUE(insw->is_io());
  EXPECT_EQ(insw->element, 2);
  auto outsb = decode({0xF3, 0x6E}, CodeBits::k32);
  ASSERT_TRUE(outsb);
  EXPECT_EQ(outsb->op, RepString::Op::Outs);

  auto movsq = decode({0xF3, 0x48, 0xA5}, CodeBits::k64);
  ASSERT_TRUE(movsq);
  EXPECT_EQ(movsq->element, 8);
  EXPECT_EQ(movsq->address_bytes, 8);
  EXPECT_EQ(movsq->length, 3);
}

TEST(RepString, OtherInstructionsAreNone) {
  EXPECT_FALSE(decode({0xA4}, CodeBits::k16));        // movsb without rep
  EXPECT_FALSE(decode({0xF3, 0x90}, CodeBits::k32));  // pause
  EXPECT_FALSE(decode({0xF3, 0xC3}, CodeBits::k32));  // rep ret
  EXPECT_FALSE(decode({0xF3}, CodeBits::k32));        // cut short
  EXPECT_FALSE(decode({}, CodeBits::k32));
}

TEST(RepString, RangesFollowTheDirectionAndRefuseWraps) {
  auto movsw = *decode({0xF3, 0xA5}, CodeBits::k16);
  Registers r;
  r.ds.base = 0x10000;
  r.es.base = 0x20000;
  r.rsi = 0x100;
  r.rdi = 0xFFF0;
  auto src = rep_source_range(movsw, r, 8);
  ASSERT_TRUE(src);
  EXPECT_EQ(src->begin, 0x10100u);
  EXPECT_EQ(src->end, 0x10110u);
  auto dst = rep_destination_range(movsw, r, 8);
  ASSERT_TRUE(dst);
  EXPECT_EQ(dst->end, 0x30000u);
  EXPECT_FALSE(rep_destination_range(movsw, r, 9)) << "DI would wrap past 0xFFFF";
  r.rflags |= 1u << 10;  // DF: downwards
  src = rep_source_range(movsw, r, 8);
  ASSERT_TRUE(src);
  EXPECT_EQ(src->begin, 0x10100u - 14);
  EXPECT_EQ(src->end, 0x10102u);
  EXPECT_TRUE(rep_source_range(movsw, r, 129));
  EXPECT_FALSE(rep_source_range(movsw, r, 130)) << "SI would wrap below 0";
}

TEST(RepString, ConditionsContinueOnTheirFlag) {
  auto repe = *decode({0xF3, 0xA6}, CodeBits::k32);
  auto repne = *decode({0xF2, 0xAE}, CodeBits::k32);
  auto rep = *decode({0xF3, 0xAA}, CodeBits::k32);
  const uint64_t zf = 1u << 6;
  EXPECT_TRUE(repe.condition_continues(zf));
  EXPECT_FALSE(repe.condition_continues(0));
  EXPECT_TRUE(repne.condition_continues(0));
  EXPECT_FALSE(repne.condition_continues(zf));
  EXPECT_TRUE(rep.condition_continues(0));
}

Registers at(uint64_t rcx, uint64_t rdi, bool down) {
  Registers r;
  r.rcx = rcx;
  r.rdi = rdi;
  r.rflags = 2 | (down ? 1u << 10 : 0);
  return r;
}

TEST(RepString, KvmInsBatchesAreMinOfPageBytesReadAheadAndCount) {
  auto insb = *decode({0xF3, 0x6C}, CodeBits::k16);
  auto insw = *decode({0xF3, 0x6D}, CodeBits::k16);
  auto insd = *decode({0x66, 0xF3, 0x6D}, CodeBits::k16);
  auto insd32 = *decode({0xF3, 0x6D}, CodeBits::k32);
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(3000, 0x0000, false)), 1024u) << "the 1 KiB read-ahead";
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(3000, 0x2F00, false)), 0x100u) << "to the page's end";
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(40, 0x2F00, false)), 40u) << "the count";
  EXPECT_EQ(kvm_ins_batch_elements(insw, at(3000, 0, false)), 512u);
  EXPECT_EQ(kvm_ins_batch_elements(insd, at(3000, 0, false)), 256u);
  // The page limit is in bytes, the others in elements: 0x40 bytes left
  // in the page allow 0x40 words (0x80 bytes, past the page).
  EXPECT_EQ(kvm_ins_batch_elements(insw, at(3000, 0x0FC0, false)), 0x40u);
  EXPECT_EQ(kvm_ins_batch_elements(insd32, at(3000, 0x0FF8, false)), 8u);
  // DF=1: the bytes below rDI in its page; none left is one element.
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(3000, 0x4100, true)), 0x100u);
  EXPECT_EQ(kvm_ins_batch_elements(insw, at(3000, 0x4010, true)), 0x10u);
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(3000, 0x4000, true)), 1u);
  // 16-bit address size: only CX counts.
  EXPECT_EQ(kvm_ins_batch_elements(insb, at(0x10005, 0, false)), 5u);
  auto a32insb = *decode({0x67, 0xF3, 0x6C}, CodeBits::k16);
  EXPECT_EQ(kvm_ins_batch_elements(a32insb, at(0x10005, 0, false)), 1024u);
}

TEST(RepString, OnlyInsBatchesKeepInterruptsOut) {
  auto insb = *decode({0xF3, 0x6C}, CodeBits::k16);
  auto outsb = *decode({0xF3, 0x6E}, CodeBits::k16);
  auto outsw = *decode({0x66, 0xF3, 0x6F}, CodeBits::k32);
  auto movsb = *decode({0xF3, 0xA4}, CodeBits::k32);
  EXPECT_TRUE(string_batch_continues(insb, 3, 100));
  EXPECT_FALSE(string_batch_continues(insb, 0, 100)) << "the batch's last element";
  EXPECT_FALSE(string_batch_continues(insb, 3, 0)) << "the instruction's last element";
  // rep outs: KVM enters the guest after every element that went to
  // userspace, also where rCX is no multiple of 1024.
  EXPECT_FALSE(string_batch_continues(outsb, 0, 1023));
  EXPECT_FALSE(string_batch_continues(outsw, 0, 1024));
  EXPECT_FALSE(string_batch_continues(movsb, 5, 7));
}

}  // namespace
}  // namespace rrvm
