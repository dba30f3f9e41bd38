#include "medkd/core/threads.h"

#include <torch/torch.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "medkd/core/error.h"

namespace medkd::core {

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void set_num_threads(int threads) {
  MEDKD_CHECK(threads >= 0, "--threads must be 0 (all cores) or positive, got ", threads);
  torch::set_num_threads(threads == 0 ? hardware_threads() : threads);
}

int num_threads() { return torch::get_num_threads(); }

void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& body) {
  if (count <= 0) return;
  if (threads <= 0) threads = num_threads();
  const int workers = static_cast<int>(std::min<int64_t>(threads, count));
  if (workers <= 1) {
    for (int64_t i = 0; i < count; ++i) body(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&] {
    while (!failed.load()) {
      const int64_t i = next.fetch_add(1);
      if (i >= count) return;
      try {
        body(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < workers; ++t) pool.emplace_back(work);
  for (auto& thread : pool) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace medkd::core
