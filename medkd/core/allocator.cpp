#include "medkd/core/allocator.h"

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace medkd::core {

namespace {
bool tuned = false;
}

bool tune_allocator(std::size_t top_pad) {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_TOP_PAD_") != nullptr || std::getenv("MALLOC_MMAP_MAX_") != nullptr)
    return false;  // the user's choice wins
  // No mappings at all: with them, glibc maps every request that the top of the heap cannot hold
  // and unmaps it on free (a training process that has read its dataset has a heap full of
  // long-lived data, so a fixed pad alone is used up quickly). Freed chunks go back to the heap's
  // bins and are reused by the next step; the pad keeps the heap from shrinking and growing at
  // every step.
  tuned = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TOP_PAD, int(top_pad)) == 1;
  return tuned;
#else
  (void)top_pad;
  return false;
#endif
}

bool allocator_tuned() { return tuned; }

}  // namespace medkd::core
