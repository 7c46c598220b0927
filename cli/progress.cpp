#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace rrvm::cli {

Progress::Progress(std::string what, uint64_t total)
    : what_(std::move(what)), total_(total), tty_(isatty(STDERR_FILENO)) {}

Progress::~Progress() { finish(); }

void Progress::update(uint64_t done) {
  if (!tty_ || total_ == 0) return;
  int percent = int(done * 100 / total_);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  int filled = percent * 30 / 100;
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% (%llu/%llu)", what_.c_str(), filled,
               "##############################", 30 - filled, "", percent, (unsigned long long)done,
               (unsigned long long)total_);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::clear() {
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
  last_percent_ = -1;
}

void Progress::finish() {
  if (shown_) std::fprintf(stderr, "\n");
  shown_ = false;
}

}  // namespace rrvm::cli
