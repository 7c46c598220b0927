// Shared helpers for the integration tests: run a guest from the oracle's
// specification on a backend, capturing both console channels; temp files.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "system/pc_system.h"
#include "system/replay_session.h"
#include "tests/guests/guest_oracle.h"

namespace rrvm::test {

// Backends this host can run: emu always; kvm when /dev/kvm opens. With
// RRVM_REQUIRE_KVM=1 (set by the nested harness) kvm must be there.
std::vector<std::string> available_backends();
BackendKind backend_kind(const std::string& name);

struct GuestRun {
  std::string serial, debugcon;
  RunResult result;
  std::optional<uint64_t> icount;
  Sha256Digest ram{};
  Registers regs;
};

// A SystemConfig for `spec` on `backend`, writing into `run`'s buffers.
SystemConfig guest_config(const guests::GuestSpec& spec, const std::string& backend, GuestRun& run,
                          const std::string& input_file);

// Runs the guest to its end.
GuestRun run_guest(const guests::GuestSpec& spec, const std::string& backend);

// A fresh file path in the test's temporary directory.
std::string temp_path(const std::string& name);

// Writes `bytes` into a temporary file and returns its path.
std::string write_temp(const std::string& name, const std::string& bytes);

// Replays `trace` on `backend`, the guest's serial output into *serial.
ReplayOutcome replay_with_serial(const std::string& trace, const std::string& backend, std::string* serial);

}  // namespace rrvm::test
