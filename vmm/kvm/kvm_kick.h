// Getting a vCPU thread out of KVM_RUN: a real-time signal whose handler sets
// kvm_run->immediate_exit for the kvm_run the interrupted thread is running.
// kick() sends it with tgkill; DeadlineTimer sends it from a per-thread POSIX
// timer at RunLimits::deadline_host_ns. Either way KVM_RUN ends with EINTR.
#pragma once
#include <linux/kvm.h>
#include <sys/types.h>

#include <cstdint>
#include <ctime>

namespace rrvm::kvm {

// The signal used for kicks; installs its handler on first use.
int kick_signal();

// Marks `run` as the kvm_run the calling thread enters, for the handler, and
// makes sure the kick signal is not blocked on this thread.
class RunningOnThisThread {
 public:
  explicit RunningOnThisThread(kvm_run* run);
  ~RunningOnThisThread();
  RunningOnThisThread(const RunningOnThisThread&) = delete;
  RunningOnThisThread& operator=(const RunningOnThisThread&) = delete;
};

// Sends the kick signal to thread `tid` of this process (async-signal-safe).
void send_kick(pid_t tid);

// A CLOCK_MONOTONIC timer that delivers the kick signal to the thread that
// armed it. Recreated when a different thread arms it.
class DeadlineTimer {
 public:
  DeadlineTimer() = default;
  ~DeadlineTimer();
  DeadlineTimer(const DeadlineTimer&) = delete;
  DeadlineTimer& operator=(const DeadlineTimer&) = delete;

  // Throws std::runtime_error if the timer cannot be created.
  void arm(uint64_t deadline_host_ns);
  void disarm();

 private:
  timer_t timer_{};
  pid_t owner_tid_ = 0;  // 0: no timer created
  bool armed_ = false;
};

}  // namespace rrvm::kvm
