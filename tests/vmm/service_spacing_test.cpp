// ServiceSpacing: how often a host-time run services its devices, so that a
// timer faster than rrvm's exits cannot starve the guest.
#include <gtest/gtest.h>

#include "vmm/service_spacing.h"

namespace rrvm {
namespace {

TEST(ServiceSpacing, NoSpacingBeforeAnExitCostIsKnown) {
  ServiceSpacing s;
  EXPECT_EQ(s.spacing_ns(), 0u);
  EXPECT_EQ(s.earliest_service_ns(), 0u);
  s.serviced(1000);
  EXPECT_EQ(s.earliest_service_ns(), 1000u) << "no exit pair seen: every deadline is serviced";
}

TEST(ServiceSpacing, SpacingIsSeveralOfTheCheapestExits) {
  ServiceSpacing s;
  s.observe_exit(0, 1'000);
  s.observe_exit(1, 51'000);   // 50 us
  s.observe_exit(2, 91'000);   // 40 us: the cheapest
  s.observe_exit(3, 391'000);  // the guest computed for a while: not an exit's cost
  EXPECT_EQ(s.spacing_ns(), 40'000u * ServiceSpacing::kExitsPerService);
  s.serviced(400'000);
  EXPECT_EQ(s.earliest_service_ns(), 400'000u + 320'000u);
}

TEST(ServiceSpacing, OnlyConsecutiveExitsMeasureAnExit) {
  ServiceSpacing s;
  s.observe_exit(5, 1'000);
  s.observe_exit(5, 1'100);  // the same exit seen again (an async point after it)
  s.observe_exit(9, 2'000);  // exits 6-8 unseen: no measure
  EXPECT_EQ(s.spacing_ns(), 0u);
  s.observe_exit(10, 4'000);  // 2 us, measured from exit 9's first sighting
  EXPECT_EQ(s.spacing_ns(), 2'000u * ServiceSpacing::kExitsPerService);
}

TEST(ServiceSpacing, ASlowHostIsCapped) {
  ServiceSpacing s;
  s.observe_exit(0, 0);
  s.observe_exit(1, 10'000'000);  // 10 ms an exit
  EXPECT_EQ(s.spacing_ns(), ServiceSpacing::kMaxSpacingNs);
}

TEST(ServiceSpacing, AClockThatWentBackMeasuresNothing) {
  ServiceSpacing s;
  s.observe_exit(0, 5'000);
  s.observe_exit(1, 4'000);
  EXPECT_EQ(s.spacing_ns(), 0u);
}

}  // namespace
}  // namespace rrvm
