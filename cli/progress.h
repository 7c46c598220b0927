// A one-line progress bar on stderr, shown only when stderr is a terminal.
#pragma once
#include <cstdint>
#include <string>

namespace rrvm::cli {

class Progress {
 public:
  Progress(std::string what, uint64_t total);
  ~Progress();
  void update(uint64_t done);
  // For callers that learn the total only once work has started.
  void set_total(uint64_t total) { total_ = total; }
  void finish();
  // Erases the bar so other output can use the line; the next update()
  // draws it again.
  void clear();

 private:
  std::string what_;
  uint64_t total_;
  bool tty_;
  bool shown_ = false;
  int last_percent_ = -1;
};

}  // namespace rrvm::cli
