// rrvm's process exit statuses, and the error class for output that could
// not be written. Guest debug-exit statuses are always odd ((value << 1) | 1);
// these are even, so the two never collide.
#pragma once
#include <stdexcept>

namespace rrvm {

enum ExitStatus : int {
  kExitOk = 0,
  kExitDivergence = 2,          // replay disagreed with the trace
  kExitTripleFault = 4,         // the guest shut down
  kExitInstructionLimit = 6,    // --max-instructions reached
  kExitBadInput = 8,            // image, trace, option or command line
  kExitHaltedForever = 10,      // hlt with nothing that could wake the guest
  kExitBackendError = 12,       // the vCPU backend failed
  kExitBackendUnavailable = 14,  // the backend asked for cannot run on this host
  kExitIoError = 16,            // output could not be written (trace, frames, files)
  kExitInterrupted = 18,        // the user interrupted the run (SIGINT); a recording is complete up to there
};

// Output that could not be written (disk full, permissions): an I/O failure
// (kExitIoError), not bad input.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rrvm
