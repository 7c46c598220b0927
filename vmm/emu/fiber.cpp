#include "vmm/emu/fiber.h"

#include <boost/context/stack_context.hpp>
#include <memory>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define RRVM_ASAN_FIBERS 1
#endif

namespace rrvm {

namespace {
// Boost.Context stack allocator over the Fiber's own buffer, so the ASan
// annotations know its bounds.
struct BorrowedStack {
  char* base;
  size_t size;
  boost::context::stack_context allocate() {
    boost::context::stack_context sc;
    sc.size = size;
    sc.sp = base + size;  // stacks grow down: sp is the top
    return sc;
  }
  void deallocate(boost::context::stack_context&) noexcept {}
};
}  // namespace

Fiber::Fiber(std::function<void()> body, size_t stack_size)
    : body_(std::move(body)), stack_(new char[stack_size]), stack_size_(stack_size) {}

Fiber::~Fiber() = default;

boost::context::fiber Fiber::run_body(boost::context::fiber&& caller) {
  caller_ = std::move(caller);
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(nullptr, &caller_stack_bottom_, &caller_stack_size_);
#endif
  body_();
  finished_ = true;
  before_switch_to_caller(/*dying=*/true);
  return std::move(caller_);
}

void Fiber::resume() {
  if (finished_ || inside_) return;
  if (!started_) {
    started_ = true;
    fiber_ = boost::context::fiber(std::allocator_arg, BorrowedStack{stack_.get(), stack_size_},
                                   [this](boost::context::fiber&& caller) { return run_body(std::move(caller)); });
  }
  inside_ = true;
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(&caller_fake_stack_, stack_.get(), stack_size_);
#endif
  fiber_ = std::move(fiber_).resume();
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(caller_fake_stack_, nullptr, nullptr);
#endif
  inside_ = false;
}

void Fiber::yield() {
  before_switch_to_caller(/*dying=*/false);
  caller_ = std::move(caller_).resume();
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fiber_fake_stack_, &caller_stack_bottom_, &caller_stack_size_);
#endif
}

void Fiber::before_switch_to_caller(bool dying) {
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(dying ? nullptr : &fiber_fake_stack_, caller_stack_bottom_, caller_stack_size_);
#endif
  (void)dying;
}

}  // namespace rrvm
