#include "medkd/core/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <torch/torch.h>

#include <cstdlib>

namespace {

// Bytes the C library holds in separate mappings (one per large request).
std::size_t mapped_bytes() { return mallinfo2().hblkhd; }

// A tensor of `mib` MiB; true when the C library gave it its own mapping.
bool tensor_is_mapped(int64_t mib) {
  const std::size_t before = mapped_bytes();
  const torch::Tensor big = torch::empty({mib << 18}, torch::kFloat);
  return mapped_bytes() >= before + (std::size_t(mib) << 20);
}

TEST(Allocator, LargeTensorsComeFromTheHeapOnceTheAllocatorIsTuned) {
  if (std::getenv("MALLOC_TOP_PAD_") != nullptr || std::getenv("MALLOC_MMAP_MAX_") != nullptr)
    GTEST_SKIP() << "the allocator is set through glibc's variables";
  ASSERT_FALSE(medkd::core::allocator_tuned());
  // glibc's default: above 32 MiB, a fresh mapping at every step.
  EXPECT_TRUE(tensor_is_mapped(64));

  ASSERT_TRUE(medkd::core::tune_allocator());
  EXPECT_TRUE(medkd::core::allocator_tuned());
  EXPECT_FALSE(tensor_is_mapped(64));
  EXPECT_FALSE(tensor_is_mapped(64));                      // and again, once it has been freed
  EXPECT_FALSE(tensor_is_mapped(1536));                    // larger than the pad
  EXPECT_GE(mallinfo2().arena, medkd::core::kHeapTopPad);  // the pad was added to the heap
}

}  // namespace
