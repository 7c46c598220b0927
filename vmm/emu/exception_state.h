// Works around a Unicorn 2.0.1 quirk: the CPU's internal "exception in
// flight" field is only reset by QEMU's own delivery code, which Unicorn
// bypasses, so a second contributory exception (#DE, #GP...) is reported as
// #DF and a third as a (silent) triple fault. The field is not exposed, so
// its offset inside a saved uc_context is found once by experiment and reset
// by patching a saved context after each exception.
#pragma once
#include <unicorn/unicorn.h>

#include <cstddef>
#include <optional>

namespace rrvm {

class ExceptionStateReset {
 public:
  // Probes (once per process) where the field lives; empty if not found.
  ExceptionStateReset();
  ~ExceptionStateReset();
  ExceptionStateReset(const ExceptionStateReset&) = delete;
  ExceptionStateReset& operator=(const ExceptionStateReset&) = delete;

  bool available() const { return offset_.has_value(); }
  // Marks "no exception in flight" in `uc` (outside uc_emu_start only).
  void reset(uc_engine* uc);

 private:
  std::optional<size_t> offset_;
  uc_context* scratch_ = nullptr;
  uc_engine* scratch_owner_ = nullptr;
};

}  // namespace rrvm
