// Encodes frames to PNG on worker threads and hands each result to one
// consumer in the order the frames were submitted, one call at a time: the
// consumer (writing files, an animation) sees what a single thread would
// give it, so the output does not depend on the number of threads.
//
// A frame identical to the one submitted before it is not encoded again: it
// gets that frame's bytes, which are what encoding it would give (PngEncoder's
// bytes depend only on the frame).
//
// An exception from the encoder or the consumer, on whichever thread, is kept
// and rethrown on the submitting thread by the next submit() or by finish();
// the frames after it are not consumed. Nothing is thrown across threads.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "display/png_encoder.h"
#include "display/renderer.h"

namespace rrvm {

// What the submitter says about a frame, handed back with its PNG.
struct FrameLabel {
  uint64_t index = 0;
  uint64_t guest_ns = 0;
};

struct EncodedPng {
  FrameLabel label;
  uint32_t width = 0;
  uint32_t height = 0;
  const std::vector<uint8_t>& png;  // the PNG file
  // With a canvas: apng_canvas_image_data for the frame (empty when the
  // frame does not fit the canvas, which ApngWriter then refuses).
  const std::vector<uint8_t>& canvas_image_data;
  bool reused;  // identical to the frame before it: these are its bytes
};

class PngPipeline {
 public:
  using Consumer = std::function<void(const EncodedPng&)>;

  // `workers` threads encode and consume; 0: submit() does both on the
  // calling thread. A canvas (non-zero size) asks for each frame's animated
  // PNG image data too.
  PngPipeline(unsigned workers, Consumer consume, uint32_t canvas_width = 0, uint32_t canvas_height = 0);
  // Drops the frames not consumed yet, then joins the workers.
  ~PngPipeline();
  PngPipeline(const PngPipeline&) = delete;
  PngPipeline& operator=(const PngPipeline&) = delete;

  // Queues a copy of `frame` (non-empty); waits while enough frames are in
  // flight. Throws the first error of an earlier frame.
  void submit(const Frame& frame, FrameLabel label);
  // The same without the copy: the frame to draw the next one into (waits
  // and throws like submit), then submit_filled() queues it. The frame is
  // only valid until then.
  Frame& frame_to_fill();
  void submit_filled(FrameLabel label);
  // Waits until every frame submitted is consumed; throws the first error.
  void finish();

  // Frames submitted that were identical to the one before (not encoded).
  uint64_t reused() const { return reused_; }

  // One worker per core: the submitter (rendering) is lighter than encoding.
  static unsigned default_workers();

 private:
  enum class State { Free, Filling, Queued, Encoding, Done };
  struct Slot {
    State state = State::Free;
    Frame frame;
    FrameLabel label;
    bool reused = false;
    std::vector<uint8_t> png, canvas_image_data;
    std::exception_ptr error;
  };
  // Per encoding thread: ISA-L state and buffers, reused frame after frame.
  struct Encoder {
    PngEncoder png;
    Frame padded;
    std::vector<uint8_t> image_data;
  };

  void worker();
  // Does one piece of work if there is one: consumes the oldest frame when
  // it is encoded (and nobody else is consuming), else encodes the oldest
  // queued frame. Returns false when there was nothing to do.
  bool step(std::unique_lock<std::mutex>& lock, Encoder& encoder);
  void encode(Encoder& encoder, Slot& slot) const;
  void consume(Slot& slot);
  size_t free_slot() const;
  bool has_work() const;

  Consumer consume_;
  uint32_t canvas_width_, canvas_height_;
  std::mutex mutex_;
  std::condition_variable work_;   // workers: work to do, or stop
  std::condition_variable done_;   // submitter: a slot freed, a frame consumed, an error
  std::vector<Slot> slots_;
  std::deque<size_t> order_;       // slots not consumed yet, in submission order
  size_t last_;                    // the previous frame submitted: kept to compare with
  size_t filling_;                 // the slot frame_to_fill() gave out
  bool consuming_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  uint64_t reused_ = 0;
  // The last frame consumed that was encoded: a reused frame's bytes. Only
  // the consumer touches them.
  std::vector<uint8_t> last_png_, last_canvas_image_data_;
  uint32_t last_width_ = 0, last_height_ = 0;
  Encoder caller_encoder_;  // with no workers
  std::vector<std::thread> threads_;
};

}  // namespace rrvm
