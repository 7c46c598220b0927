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

}  // namespace
}  // namespace rrvm
