// Progress reporting for long work: a redrawn bar with rate and ETA on a terminal, plain periodic
// lines when the output is a file or a pipe (CI logs), nothing at all when quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>

namespace medkd::core {

struct ProgressOptions {
  bool quiet = false;
  // Plain (non-terminal) mode prints a line at most this often.
  double line_interval_seconds = 10.0;
  // Terminal mode redraws at most this often.
  double redraw_interval_seconds = 0.1;
};

// Thread-safe: several workers may advance the same bar.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, ProgressOptions options = {});
  // Writes to `out` and decides terminal mode explicitly (for tests).
  ProgressBar(std::string label, int64_t total, ProgressOptions options, std::ostream& out,
              bool terminal);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records `steps` more finished units; `status` is shown after the counters (a loss, a case id).
  void advance(int64_t steps = 1, const std::string& status = "");
  // Prints the final line (once); called by the destructor if not called before.
  void finish();

  int64_t done() const;

 private:
  using Clock = std::chrono::steady_clock;
  void draw(bool final_line);

  std::string label_;
  int64_t total_;
  ProgressOptions options_;
  std::ostream& out_;
  bool terminal_;
  mutable std::mutex mutex_;
  int64_t done_ = 0;
  std::string status_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  bool finished_ = false;
};

// "1:02:03" / "4:05" style duration.
std::string format_duration(double seconds);

}  // namespace medkd::core
