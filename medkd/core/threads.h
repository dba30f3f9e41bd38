// Thread settings and a small parallel loop for independent work items (cases, files).
#pragma once

#include <cstdint>
#include <functional>

namespace medkd::core {

// Number of hardware threads (at least 1).
int hardware_threads();

// Sets LibTorch's intra-op threads; 0 means one per core. LibTorch's own default here is 1.
void set_num_threads(int threads);
int num_threads();

// Runs body(i) for i in [0, count) on up to `threads` threads (0 = num_threads()). The first
// exception thrown by any item is rethrown in the caller after all threads have stopped; items not
// yet started are skipped once one has failed.
void parallel_for(int64_t count, int threads, const std::function<void(int64_t)>& body);

}  // namespace medkd::core
