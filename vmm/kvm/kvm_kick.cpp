#include "vmm/kvm/kvm_kick.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "vmm/kvm/kvm_fd.h"

namespace rrvm::kvm {

namespace {

// initial-exec: reading it from the signal handler never allocates.
__attribute__((tls_model("initial-exec"))) thread_local kvm_run* tls_running = nullptr;

void on_kick_signal(int, siginfo_t*, void*) {
  if (kvm_run* run = tls_running) __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_RELAXED);
}

}  // namespace

int kick_signal() {
  static const int signo = [] {
    int s = SIGRTMIN + 3;  // clear of glibc's own and of the first ones libraries tend to take
    struct sigaction sa {};
    sa.sa_sigaction = on_kick_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;  // other syscalls restart; KVM_RUN never does
    sigemptyset(&sa.sa_mask);
    if (sigaction(s, &sa, nullptr) < 0) fail("installing the kick signal handler");
    return s;
  }();
  return signo;
}

RunningOnThisThread::RunningOnThisThread(kvm_run* run) {
  static thread_local bool unblocked = false;
  if (!unblocked) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kick_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    unblocked = true;
  }
  tls_running = run;
}

RunningOnThisThread::~RunningOnThisThread() { tls_running = nullptr; }

void send_kick(pid_t tid) { syscall(SYS_tgkill, getpid(), tid, kick_signal()); }

DeadlineTimer::~DeadlineTimer() {
  if (owner_tid_) timer_delete(timer_);
}

void DeadlineTimer::arm(uint64_t deadline_host_ns) {
  pid_t self = gettid();
  if (owner_tid_ != self) {
    if (owner_tid_) timer_delete(timer_);
    owner_tid_ = 0;
    sigevent ev{};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = kick_signal();
    ev._sigev_un._tid = self;  // sigev_notify_thread_id; glibc 2.36 lacks the macro
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) < 0) fail("timer_create for the run deadline");
    owner_tid_ = self;
  }
  itimerspec spec{};
  spec.it_value.tv_sec = time_t(deadline_host_ns / 1000000000ull);
  spec.it_value.tv_nsec = long(deadline_host_ns % 1000000000ull);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;  // 0 disarms
  if (timer_settime(timer_, TIMER_ABSTIME, &spec, nullptr) < 0) fail("timer_settime for the run deadline");
  armed_ = true;
}

void DeadlineTimer::disarm() {
  if (!armed_) return;
  itimerspec spec{};
  timer_settime(timer_, 0, &spec, nullptr);
  armed_ = false;
}

}  // namespace rrvm::kvm
