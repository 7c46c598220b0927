// How often a live run on host time (kvm) brings its timed devices up to
// date. A device deadline normally passes at the first exit after it; but
// where each exit costs more than a fast timer's period (nested KVM: ~50 us
// an exit against a 20 kHz PIT's 50 us), every exit finds a new tick due, and
// the guest spends all its time entering and leaving its interrupt handler
// (the tick's kick, the injection, the EOI): it never gets on. A real PIT
// loses the ticks a CPU cannot take (its interrupt request stays raised, one
// edge for many periods); so does rrvm: devices are serviced at most once
// per spacing, a small multiple of the cheapest exit seen, so that the guest
// runs for several exits' worth of time between two services. The ticks in
// between are coalesced by the devices (the PIT raises its line once).
// Recordings stay exact: replay services at the recorded points, whatever
// the spacing was. Emu runs on the instruction clock need none of this.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

namespace rrvm {

class ServiceSpacing {
 public:
  // Spacing = kExitsPerService x the cheapest exit-to-exit interval seen,
  // at most kMaxSpacingNs (a slow host does not slow a fast timer below
  // 2 kHz). On hardware KVM exits cost ~1-2 us: spacing ~8-16 us, below any
  // PC timer's usual period; nested (~40-50 us) ~0.3-0.4 ms.
  static constexpr uint64_t kExitsPerService = 8;
  static constexpr uint64_t kMaxSpacingNs = 500'000;

  // The run loop reached exit `exit_ordinal` at host time `now_ns`.
  void observe_exit(uint64_t exit_ordinal, uint64_t now_ns) {
    if (last_exit_ && exit_ordinal == last_exit_->ordinal + 1 && now_ns >= last_exit_->ns)
      cheapest_exit_ns_ = std::min(cheapest_exit_ns_.value_or(now_ns - last_exit_->ns), now_ns - last_exit_->ns);
    if (!last_exit_ || exit_ordinal != last_exit_->ordinal) last_exit_ = ExitSeen{exit_ordinal, now_ns};
  }
  uint64_t spacing_ns() const {
    return cheapest_exit_ns_ ? std::min(*cheapest_exit_ns_ * kExitsPerService, kMaxSpacingNs) : 0;
  }
  // The earliest host time at which the devices may be serviced again.
  uint64_t earliest_service_ns() const { return last_service_ns_ ? *last_service_ns_ + spacing_ns() : 0; }
  // The devices were serviced at `now_ns`.
  void serviced(uint64_t now_ns) { last_service_ns_ = now_ns; }

 private:
  struct ExitSeen {
    uint64_t ordinal;
    uint64_t ns;
  };
  std::optional<ExitSeen> last_exit_;
  std::optional<uint64_t> cheapest_exit_ns_;
  std::optional<uint64_t> last_service_ns_;
};

}  // namespace rrvm
