#include "display/png_pipeline.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "display/apng_writer.h"

namespace rrvm {

namespace {

constexpr size_t kNone = ~size_t(0);

bool same_picture(const Frame& a, const Frame& b) {
  return a.width == b.width && a.height == b.height && a.rgb.size() == b.rgb.size() &&
         std::memcmp(a.rgb.data(), b.rgb.data(), a.rgb.size()) == 0;
}

}  // namespace

unsigned PngPipeline::default_workers() {
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

PngPipeline::PngPipeline(unsigned workers, Consumer consume, uint32_t canvas_width, uint32_t canvas_height)
    : consume_(std::move(consume)),
      canvas_width_(canvas_width),
      canvas_height_(canvas_height),
      // Two frames in flight per worker keep each busy while the consumer
      // writes; one more slot holds the previous frame to compare with.
      slots_(workers ? 2 * workers + 3 : 2),
      last_(kNone),
      filling_(kNone) {
  try {
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { worker(); });
  } catch (...) {  // a thread could not start: stop those that did
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_.notify_all();
    for (auto& t : threads_) t.join();
    throw;
  }
}

PngPipeline::~PngPipeline() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
}

size_t PngPipeline::free_slot() const {
  for (size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].state == State::Free && i != last_) return i;
  return kNone;
}

bool PngPipeline::has_work() const {
  if (!consuming_ && !order_.empty() && slots_[order_.front()].state == State::Done) return true;
  for (size_t i : order_)
    if (slots_[i].state == State::Queued) return true;
  return false;
}

void PngPipeline::submit(const Frame& frame, FrameLabel label) {
  Frame& f = frame_to_fill();
  f.width = frame.width;
  f.height = frame.height;
  f.rgb.assign(frame.rgb.begin(), frame.rgb.end());
  submit_filled(label);
}

Frame& PngPipeline::frame_to_fill() {
  std::unique_lock lock(mutex_);
  if (filling_ == kNone) {
    done_.wait(lock, [&] { return error_ || free_slot() != kNone; });
    if (error_) std::rethrow_exception(error_);
    filling_ = free_slot();
    slots_[filling_].state = State::Filling;
  }
  // Only this thread fills slots and moves last_, so the frame is its own
  // until submit_filled(): drawing into it needs no lock.
  return slots_[filling_].frame;
}

void PngPipeline::submit_filled(FrameLabel label) {
  if (filling_ == kNone) throw std::logic_error("PngPipeline::submit_filled without frame_to_fill");
  const size_t i = filling_;
  filling_ = kNone;
  Slot& slot = slots_[i];
  // The slot last_ names is never handed out while it is last_, and only
  // this thread writes frames: comparing needs no lock either.
  const bool same = last_ != kNone && same_picture(slots_[last_].frame, slot.frame);
  std::unique_lock lock(mutex_);
  if (error_) {
    slot.state = State::Free;
    std::rethrow_exception(error_);
  }
  if (same) {
    ++reused_;
  } else {
    last_ = i;
  }
  slot.label = label;
  slot.reused = same;
  slot.state = same ? State::Done : State::Queued;
  order_.push_back(i);
  if (threads_.empty()) {
    while (step(lock, caller_encoder_)) {
    }
    if (error_) std::rethrow_exception(error_);
  } else {
    work_.notify_one();
  }
}

void PngPipeline::finish() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return order_.empty() && !consuming_; });
  if (error_) std::rethrow_exception(error_);
}

void PngPipeline::worker() {
  Encoder encoder;
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!step(lock, encoder)) work_.wait(lock, [&] { return stop_ || has_work(); });
  }
}

bool PngPipeline::step(std::unique_lock<std::mutex>& lock, Encoder& encoder) {
  if (!consuming_ && !order_.empty() && slots_[order_.front()].state == State::Done) {
    Slot& slot = slots_[order_.front()];
    order_.pop_front();
    consuming_ = true;
    if (slot.error && !error_) error_ = slot.error;
    if (!error_) {  // after an error the frames left are dropped, not consumed
      std::exception_ptr failure;
      lock.unlock();
      try {
        consume(slot);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      if (failure && !error_) error_ = failure;
    }
    slot.state = State::Free;
    slot.error = nullptr;
    consuming_ = false;
    if (error_)  // queued frames will not be encoded: let them be dropped
      for (size_t i : order_)
        if (slots_[i].state == State::Queued) slots_[i].state = State::Done;
    done_.notify_all();
    if (error_) work_.notify_all();
    return true;
  }
  if (error_) return false;
  for (size_t i : order_) {
    Slot& slot = slots_[i];
    if (slot.state != State::Queued) continue;
    slot.state = State::Encoding;
    lock.unlock();
    try {
      encode(encoder, slot);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
    slot.state = State::Done;
    return true;
  }
  return false;
}

void PngPipeline::encode(Encoder& encoder, Slot& slot) const {
  const Frame& frame = slot.frame;
  encoder.png.image_data(frame, encoder.image_data);
  PngEncoder::png_file(frame.width, frame.height, encoder.image_data, slot.png);
  slot.canvas_image_data.clear();
  if (!canvas_width_ || frame.width > canvas_width_ || frame.height > canvas_height_) return;
  if (frame.width == canvas_width_ && frame.height == canvas_height_)
    slot.canvas_image_data = encoder.image_data;  // compressed bytes: a small copy
  else
    apng_canvas_image_data(encoder.png, frame, canvas_width_, canvas_height_, encoder.padded,
                           slot.canvas_image_data);
}

void PngPipeline::consume(Slot& slot) {
  if (slot.reused) {
    consume_(EncodedPng{slot.label, last_width_, last_height_, last_png_, last_canvas_image_data_, true});
    return;
  }
  consume_(EncodedPng{slot.label, slot.frame.width, slot.frame.height, slot.png, slot.canvas_image_data, false});
  // Keep these bytes for a frame identical to this one; the slot takes the
  // old buffers, to be refilled without allocating.
  std::swap(slot.png, last_png_);
  std::swap(slot.canvas_image_data, last_canvas_image_data_);
  last_width_ = slot.frame.width;
  last_height_ = slot.frame.height;
}

}  // namespace rrvm
