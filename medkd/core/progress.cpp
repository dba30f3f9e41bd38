#include "medkd/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace medkd::core {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  const int64_t hours = total / 3600, minutes = (total / 60) % 60, secs = total % 60;
  std::ostringstream out;
  if (hours > 0)
    out << hours << ':' << std::setw(2) << std::setfill('0') << minutes;
  else
    out << minutes;
  out << ':' << std::setw(2) << std::setfill('0') << secs;
  return out.str();
}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options)
    : ProgressBar(std::move(label), total, options, std::cerr, isatty(fileno(stderr)) != 0) {}

ProgressBar::ProgressBar(std::string label, int64_t total, ProgressOptions options,
                         std::ostream& out, bool terminal)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      out_(out),
      terminal_(terminal),
      start_(Clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {
    // A destructor must not throw; losing the last progress line is harmless.
  }
}

int64_t ProgressBar::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

void ProgressBar::advance(int64_t steps, const std::string& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += steps;
  if (!status.empty()) status_ = status;
  if (options_.quiet || finished_) return;
  const double since_draw = std::chrono::duration<double>(Clock::now() - last_draw_).count();
  const double interval =
      terminal_ ? options_.redraw_interval_seconds : options_.line_interval_seconds;
  if (since_draw >= interval || (terminal_ && done_ >= total_)) draw(false);
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (!options_.quiet) draw(true);
}

void ProgressBar::draw(bool final_line) {
  const auto now = Clock::now();
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double remaining = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;

  std::ostringstream line;
  line << label_ << ' ';
  if (terminal_) {
    constexpr int kWidth = 24;
    const double fraction = total_ > 0 ? std::min(1.0, double(done_) / double(total_)) : 1.0;
    const int filled = static_cast<int>(fraction * kWidth);
    line << '[' << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] ";
  }
  line << done_ << '/' << total_;
  if (total_ > 0) line << " (" << (100 * done_ / total_) << "%)";
  line << std::fixed << std::setprecision(rate < 10 ? 2 : 1) << ' ' << rate << " it/s";
  if (final_line)
    line << " elapsed " << format_duration(elapsed);
  else
    line << " ETA " << format_duration(remaining);
  if (!status_.empty()) line << "  " << status_;

  if (terminal_) {
    out_ << '\r' << line.str() << "\x1b[K";
    if (final_line) out_ << '\n';
  } else {
    out_ << line.str() << '\n';
  }
  out_.flush();
}

}  // namespace medkd::core
