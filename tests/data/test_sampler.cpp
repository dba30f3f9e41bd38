#include "medkd/data/sampler.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"

using medkd::core::Rng;
using medkd::data::PatchSamplerOptions;
using medkd::data::PreprocessedCase;
using torch::indexing::Slice;

namespace {

// A case whose one-channel image value encodes its voxel, 1 + x + 100 y + 10000 z (never 0, so
// padding is recognisable), with a background label.
PreprocessedCase coordinate_case(int64_t z, int64_t y, int64_t x) {
  PreprocessedCase c;
  c.id = "coordinates";
  const auto zz = torch::arange(z, torch::kFloat32).view({z, 1, 1});
  const auto yy = torch::arange(y, torch::kFloat32).view({1, y, 1});
  const auto xx = torch::arange(x, torch::kFloat32).view({1, 1, x});
  c.image = (1 + xx + 100 * yy + 10000 * zz).unsqueeze(0);  // [1, Z, Y, X]
  c.label = torch::zeros({1, z, y, x}, torch::kUInt8);
  c.class_locations.resize(3);
  return c;
}

void paint(PreprocessedCase& c, int64_t z, int64_t y, int64_t x, uint8_t value) {
  c.label.index_put_({0, z, y, x}, value);
  c.class_locations[value].push_back({z, y, x});
}

float encode(int64_t z, int64_t y, int64_t x) { return 1.0f + x + 100.0f * y + 10000.0f * z; }

PatchSamplerOptions patch_3d(int64_t x, int64_t y, int64_t z, double foreground_fraction) {
  PatchSamplerOptions options;
  options.patch_size = {x, y, z};
  options.foreground_fraction = foreground_fraction;
  return options;
}

}  // namespace

TEST(PatchSampler, AThirdOfThePatchesAreCentredOnForeground) {
  PreprocessedCase c = coordinate_case(24, 24, 24);
  paint(c, 20, 3, 5, 1);  // one foreground voxel far from most 4^3 patches
  const PatchSamplerOptions options = patch_3d(4, 4, 4, 1.0 / 3.0);
  Rng rng(7);
  const int samples = 3000;
  int centred = 0, containing = 0;
  for (int i = 0; i < samples; ++i) {
    const auto patch = medkd::data::sample_patch(c, options, rng);
    centred += patch.centred_on_foreground;
    containing += (patch.label == 1).any().item<bool>();
    if (patch.centred_on_foreground) {
      EXPECT_TRUE((patch.label == 1).any().item<bool>());
    }
  }
  // Binomial(3000, 1/3): standard deviation 0.0086; 0.03 is 3.5 of them.
  EXPECT_NEAR(centred / double(samples), 1.0 / 3.0, 0.03);
  // A uniform 4^3 patch holds the voxel with probability (4/21)^3 < 1%.
  EXPECT_GE(containing, centred);
  EXPECT_LT(containing, centred + samples / 50);
}

TEST(PatchSampler, ForegroundPatchesContainTheirLocationAndStayInsideTheVolume) {
  PreprocessedCase c = coordinate_case(10, 12, 14);
  paint(c, 0, 0, 0, 1);    // a corner: the patch must be shifted back inside
  paint(c, 9, 11, 13, 2);  // the opposite corner
  paint(c, 5, 6, 7, 2);    // the middle: the patch is centred exactly
  const PatchSamplerOptions options = patch_3d(6, 4, 5, 1.0);
  Rng rng(3);
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < 200; ++i) {
    const auto patch = medkd::data::sample_patch(c, options, rng);
    ASSERT_TRUE(patch.centred_on_foreground);
    ASSERT_EQ(patch.image.sizes(), (std::vector<int64_t>{1, 5, 4, 6}));
    // Inside the volume: no padding, so every value is a real voxel code.
    EXPECT_GT(patch.image.min().item<float>(), 0.0f);
    for (int k = 1; k <= 2; ++k) seen[k] += (patch.label == k).any().item<bool>();
    const float first = patch.image[0][0][0][0].item<float>();
    // Starts: (0, 0, 0) for the corner, (5 - 2, 6 - 2, 7 - 3) and (10 - 5, 12 - 4, 14 - 6).
    EXPECT_TRUE(first == encode(0, 0, 0) || first == encode(3, 4, 4) || first == encode(5, 8, 8))
        << first;
  }
  // Classes are drawn uniformly (not locations): class 1 has 1 location of 3 but half the draws.
  EXPECT_GT(seen[1], 70);
  EXPECT_GT(seen[2], 70);
}

TEST(PatchSampler, UniformPatchesAreUnchangedCropsOfTheVolume) {
  const PreprocessedCase c = coordinate_case(9, 8, 7);
  const PatchSamplerOptions options = patch_3d(3, 4, 5, 0.0);
  Rng rng(11);
  for (int i = 0; i < 20; ++i) {
    const auto patch = medkd::data::sample_patch(c, options, rng);
    EXPECT_FALSE(patch.centred_on_foreground);
    const float first = patch.image[0][0][0][0].item<float>();
    const int64_t z0 = static_cast<int64_t>(first - 1) / 10000;
    const int64_t y0 = (static_cast<int64_t>(first - 1) % 10000) / 100;
    const int64_t x0 = static_cast<int64_t>(first - 1) % 100;
    EXPECT_TRUE(torch::equal(patch.image, c.image.index({Slice(), Slice(z0, z0 + 5),
                                                         Slice(y0, y0 + 4), Slice(x0, x0 + 3)})));
  }
}

TEST(PatchSampler, VolumesSmallerThanThePatchAreCentredAndZeroPadded) {
  PreprocessedCase c = coordinate_case(3, 2, 9);  // smaller than the patch in z and y, larger in x
  paint(c, 1, 1, 4, 1);
  const PatchSamplerOptions options = patch_3d(5, 4, 6, 0.5);
  Rng rng(5);
  for (int i = 0; i < 10; ++i) {
    const auto patch = medkd::data::sample_patch(c, options, rng);
    ASSERT_EQ(patch.image.sizes(), (std::vector<int64_t>{1, 6, 4, 5}));
    ASSERT_EQ(patch.label.sizes(), (std::vector<int64_t>{1, 6, 4, 5}));
    EXPECT_EQ(patch.label.scalar_type(), torch::kUInt8);
    // z: 3 of 6 voxels, offset (6 - 3) / 2 = 1; y: 2 of 4, offset 1.
    const auto inside = patch.image.index({Slice(), Slice(1, 4), Slice(1, 3)});
    EXPECT_GT(inside.min().item<float>(), 0.0f);
    EXPECT_EQ((patch.image != 0).sum().item<int64_t>(), 3 * 2 * 5);
    EXPECT_EQ(static_cast<int64_t>(patch.image[0][1][1][0].item<float>() - 1) / 100,
              0);  // z 0, y 0
    if (patch.centred_on_foreground) {
      // x: centred on 4 → starts at 4 - 2 = 2.
      EXPECT_EQ(patch.image[0][1][1][0].item<float>(), encode(0, 0, 2));
      EXPECT_EQ(patch.label[0][2][2][2].item<int>(), 1);
    }
  }
}

TEST(PatchSampler, TwoDimensionalPatchesAreAxialSlices) {
  PreprocessedCase c = coordinate_case(6, 10, 10);
  paint(c, 4, 2, 8, 2);
  PatchSamplerOptions options = patch_3d(4, 3, 99, 1.0);  // z is ignored
  options.dims = 2;
  Rng rng(2);
  const auto patch = medkd::data::sample_patch(c, options, rng);
  ASSERT_EQ(patch.image.sizes(), (std::vector<int64_t>{1, 3, 4}));
  ASSERT_EQ(patch.label.sizes(), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_TRUE(patch.centred_on_foreground);
  EXPECT_EQ((patch.label == 2).sum().item<int64_t>(), 1);
  // The slice through the location, y from 2 - 1 = 1, x shifted back to 10 - 4 = 6.
  EXPECT_EQ(patch.image[0][0][0].item<float>(), encode(4, 1, 6));

  options.foreground_fraction = 0;
  for (int i = 0; i < 10; ++i) {
    const auto uniform = medkd::data::sample_patch(c, options, rng);
    EXPECT_FALSE(uniform.centred_on_foreground);
    // All voxels of one slice share z.
    const torch::Tensor z = ((uniform.image - 1) / 10000).floor();
    EXPECT_EQ(z.min().item<float>(), z.max().item<float>());
  }
}

TEST(PatchSampler, CasesWithoutForegroundFallBackToUniformPatches) {
  const PreprocessedCase c = coordinate_case(8, 8, 8);
  const PatchSamplerOptions options = patch_3d(4, 4, 4, 1.0);
  Rng rng(1);
  const auto patch = medkd::data::sample_patch(c, options, rng);
  EXPECT_FALSE(patch.centred_on_foreground);
  EXPECT_EQ(patch.image.sizes(), (std::vector<int64_t>{1, 4, 4, 4}));
}

TEST(PatchSampler, TheSameSeedDrawsTheSamePatches) {
  PreprocessedCase c = coordinate_case(12, 12, 12);
  paint(c, 3, 4, 5, 1);
  const PatchSamplerOptions options = patch_3d(4, 4, 4, 0.5);
  Rng a(42), b(42);
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(torch::equal(medkd::data::sample_patch(c, options, a).image,
                             medkd::data::sample_patch(c, options, b).image));
}

TEST(PatchSampler, BadOptionsAndCasesAreRejectedByName) {
  PatchSamplerOptions options;
  options.dims = 4;
  EXPECT_THROW(options.validate(), medkd::Error);
  options = PatchSamplerOptions{};
  options.foreground_fraction = 1.5;
  try {
    options.validate();
    FAIL() << "expected medkd::Error";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("foreground_fraction"), std::string::npos);
  }
  options = PatchSamplerOptions{};
  options.patch_size = {8, 0, 8};
  EXPECT_THROW(options.validate(), medkd::Error);
  options.dims = 2;
  options.patch_size = {8, 8, 0};  // z is not used by 2-D patches
  EXPECT_NO_THROW(options.validate());

  PreprocessedCase c = coordinate_case(4, 4, 4);
  c.label = torch::zeros({1, 4, 4, 3}, torch::kUInt8);
  Rng rng(0);
  EXPECT_THROW(medkd::data::sample_patch(c, PatchSamplerOptions{}, rng), medkd::Error);
}
