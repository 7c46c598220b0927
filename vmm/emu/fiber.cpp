#include "vmm/emu/fiber.h"

#include <cstdint>
#include <stdexcept>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define RRVM_ASAN_FIBERS 1
#endif

namespace rrvm {

Fiber::Fiber(std::function<void()> body, size_t stack_size)
    : body_(std::move(body)), stack_(new char[stack_size]), stack_size_(stack_size) {}

Fiber::~Fiber() = default;

void Fiber::trampoline(unsigned lo, unsigned hi) {
  // makecontext passes int arguments only: the pointer travels in two halves.
  auto* self = reinterpret_cast<Fiber*>((static_cast<uintptr_t>(hi) << 32) | lo);
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(nullptr, &self->caller_stack_bottom_, &self->caller_stack_size_);
#endif
  self->body_();
  self->finished_ = true;
  self->switch_to_caller(/*dying=*/true);
}

void Fiber::resume() {
  if (finished_ || inside_) return;
  if (!started_) {
    started_ = true;
    if (getcontext(&fiber_) != 0) throw std::runtime_error("emu: getcontext failed");
    fiber_.uc_stack.ss_sp = stack_.get();
    fiber_.uc_stack.ss_size = stack_size_;
    fiber_.uc_link = nullptr;
    auto p = reinterpret_cast<uintptr_t>(this);
    makecontext(&fiber_, reinterpret_cast<void (*)()>(&Fiber::trampoline), 2,
                static_cast<unsigned>(p & 0xFFFFFFFFu), static_cast<unsigned>(p >> 32));
  }
  switch_to_fiber();
}

void Fiber::switch_to_fiber() {
  inside_ = true;
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(&caller_fake_stack_, stack_.get(), stack_size_);
#endif
  swapcontext(&caller_, &fiber_);
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(caller_fake_stack_, nullptr, nullptr);
#endif
  inside_ = false;
}

void Fiber::yield() { switch_to_caller(/*dying=*/false); }

void Fiber::switch_to_caller(bool dying) {
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_start_switch_fiber(dying ? nullptr : &fiber_fake_stack_, caller_stack_bottom_,
                                 caller_stack_size_);
#endif
  swapcontext(&fiber_, &caller_);
#ifdef RRVM_ASAN_FIBERS
  __sanitizer_finish_switch_fiber(fiber_fake_stack_, &caller_stack_bottom_, &caller_stack_size_);
#endif
  (void)dying;
}

}  // namespace rrvm
