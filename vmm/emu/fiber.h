// A single-threaded coroutine so that Unicorn's synchronous callbacks can
// hand an exit back to Vcpu::run() and be resumed later with the answer.
// Built on Boost.Context's fiber (an assembly context switch): glibc's
// swapcontext makes two sigprocmask system calls per switch, which was half
// of the emu backend's cost per exit. Switches are annotated for
// AddressSanitizer.
#pragma once
#include <boost/context/fiber.hpp>
#include <cstddef>
#include <functional>
#include <memory>

namespace rrvm {

class Fiber {
 public:
  // `body` runs on the fiber's own stack at the first resume(); when it
  // returns the fiber is finished and resume() does nothing more. `body`
  // must return (not be abandoned suspended) before the Fiber is destroyed.
  Fiber(std::function<void()> body, size_t stack_size);
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // From the caller: runs the fiber until it calls yield() or finishes.
  void resume();
  // From inside the fiber: returns control to the resume() caller.
  void yield();

  bool started() const { return started_; }
  bool finished() const { return finished_; }

 private:
  boost::context::fiber run_body(boost::context::fiber&& caller);
  void before_switch_to_caller(bool dying);

  std::function<void()> body_;
  std::unique_ptr<char[]> stack_;
  size_t stack_size_;
  boost::context::fiber fiber_;   // seen from the caller: where resume() goes
  boost::context::fiber caller_;  // seen from the fiber: where yield() goes
  bool started_ = false;
  bool finished_ = false;
  bool inside_ = false;
  // ASan bookkeeping: the caller's stack and the fake stacks of each side.
  const void* caller_stack_bottom_ = nullptr;
  size_t caller_stack_size_ = 0;
  void* caller_fake_stack_ = nullptr;
  void* fiber_fake_stack_ = nullptr;
};

}  // namespace rrvm
