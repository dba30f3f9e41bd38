// How the C library's allocator hands memory to tensors.
//
// Training allocates and frees tensors of tens of megabytes at every step (attention scores,
// activations of 3-D convolutions). glibc serves a request above its mmap threshold (32 MiB at
// most) with a fresh mmap and returns it to the kernel on free, so every step faults in those
// pages again; on virtual machines a page fault is expensive and an element-wise op on a 50 MB
// tensor can take 200 ms instead of 4. Serving them from the heap instead reuses memory the
// process already owns. Measured with bench/bench_allocator (docs/training.md, "Speed on the
// CPU").
#pragma once

#include <cstddef>

namespace medkd::core {

// The pad kept at the top of the heap by tune_allocator(): 1 GiB.
constexpr std::size_t kHeapTopPad = std::size_t(1) << 30;

// Serves every request from glibc's heap, never from a mapping of its own (mallopt M_MMAP_MAX 0),
// and keeps `top_pad` bytes free at the top of the heap (M_TOP_PAD), so that the tensors of one
// step reuse the memory the previous step freed. The process's resident size can stay up to
// `top_pad` above what it uses, and memory freed in the middle of the heap is reused rather than
// returned to the system. Does nothing and returns false when the user set glibc's
// MALLOC_TOP_PAD_ or MALLOC_MMAP_MAX_, or on a C library without mallopt. Call it once at
// start-up, before the first large allocation.
bool tune_allocator(std::size_t top_pad = kHeapTopPad);

// True once tune_allocator() has changed the allocator in this process.
bool allocator_tuned();

}  // namespace medkd::core
