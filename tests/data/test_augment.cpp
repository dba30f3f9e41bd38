#include "medkd/data/augment.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>

#include "medkd/core/error.h"

using medkd::core::Rng;
using medkd::data::AugmentOptions;

namespace {

// A patch whose image channels hold each voxel's own coordinates (z, y, x for 3-D, y, x for 2-D)
// and whose label is a checkerboard-like function of them, so that after any spatial transform
// the label at a voxel can be predicted from the image at that voxel.
struct CoordinatePatch {
  torch::Tensor image;  // [dims, *spatial] float32
  torch::Tensor label;  // [1, *spatial] uint8
};

torch::Tensor label_of(const torch::Tensor& coordinates) {  // [dims, *spatial] integral values
  const int64_t dims = coordinates.size(0);
  torch::Tensor sum = torch::zeros_like(coordinates[0]);
  for (int64_t d = 0; d < dims; ++d) sum = sum + (dims - d) * coordinates[d];  // 3z + 2y + x
  return (torch::remainder(sum, 4) + 1).to(torch::kUInt8).unsqueeze(0);        // 1..4, never 0
}

CoordinatePatch coordinate_patch(const std::vector<int64_t>& spatial) {
  std::vector<torch::Tensor> axes;
  for (int64_t size : spatial) axes.push_back(torch::arange(size, torch::kFloat32));
  const auto grids = torch::meshgrid(axes, "ij");
  CoordinatePatch patch;
  patch.image = torch::stack(grids);  // [dims, *spatial]
  patch.label = label_of(patch.image);
  return patch;
}

AugmentOptions nothing() {
  AugmentOptions o;
  o.mirror_probability = o.rot90_probability = o.rotation_probability = o.scale_probability = 0;
  o.noise_probability = o.blur_probability = o.brightness_probability = 0;
  o.contrast_probability = o.gamma_probability = o.gamma_inverted_probability = 0;
  return o;
}

}  // namespace

TEST(Augment, MirroringAndQuarterTurnsKeepImageAndLabelExactlyAligned) {
  AugmentOptions options = nothing();
  options.mirror_probability = 0.5;
  options.rot90_probability = 0.7;
  for (int dims : {2, 3}) {
    // A square axial plane allows quarter turns; the other shape only half turns.
    for (const auto& spatial : dims == 3 ? std::vector<std::vector<int64_t>>{{3, 5, 5}, {4, 3, 6}}
                                         : std::vector<std::vector<int64_t>>{{6, 6}, {4, 7}}) {
      int changed = 0;
      for (uint64_t seed = 0; seed < 12; ++seed) {
        CoordinatePatch patch = coordinate_patch(spatial);
        const torch::Tensor original = patch.image.clone();
        Rng rng(seed);
        medkd::data::augment(patch.image, patch.label, options, dims, rng);
        ASSERT_EQ(patch.image.sizes(), original.sizes());
        EXPECT_TRUE(torch::equal(patch.label, label_of(patch.image))) << "seed " << seed;
        changed += !torch::equal(patch.image, original);
      }
      // Not vacuous: most seeds move voxels. (Up to 1 in 4 combinations are the identity, e.g. a
      // half turn of the axial plane with both in-plane flips.)
      EXPECT_GE(changed, 6);
    }
  }
}

TEST(Augment, MirroringAlongXReversesTheXAxisOnly) {
  AugmentOptions options = nothing();
  options.mirror_probability = 1;
  options.mirror_axes = {true, false, false};
  CoordinatePatch patch = coordinate_patch({2, 3, 4});
  Rng rng(0);
  medkd::data::augment(patch.image, patch.label, options, 3, rng);
  EXPECT_EQ(patch.image[2][1][2][0].item<float>(), 3.0f);  // x = 0 now holds x = 3
  EXPECT_EQ(patch.image[1][1][2][0].item<float>(), 2.0f);  // y unchanged
  EXPECT_EQ(patch.image[0][1][2][0].item<float>(), 1.0f);  // z unchanged
}

TEST(Augment, RotationAndScalingKeepLabelsOnTheVoxelsTheyCameFrom) {
  AugmentOptions options = nothing();
  options.rotation_probability = 1;
  options.rotation_degrees = 40;
  options.rotation_out_of_plane_degrees = 20;
  options.scale_probability = 1;
  options.scale_range = {0.8, 1.3};
  for (int dims : {2, 3}) {
    // Unequal sides: the transform must not shear non-cubic patches.
    const std::vector<int64_t> spatial =
        dims == 3 ? std::vector<int64_t>{10, 14, 18} : std::vector<int64_t>{14, 22};
    for (uint64_t seed = 0; seed < 4; ++seed) {
      CoordinatePatch patch = coordinate_patch(spatial);
      // A channel of ones tells which output voxels interpolated inside the source only: it
      // stays exactly 1 there and falls towards 0 where zeros from outside were mixed in.
      patch.image = torch::cat({patch.image, torch::ones_like(patch.image.narrow(0, 0, 1))});
      Rng rng(seed);
      medkd::data::augment(patch.image, patch.label, options, dims, rng);
      const torch::Tensor coordinates = patch.image.narrow(0, 0, dims);
      const torch::Tensor inside = patch.image[dims] > 1 - 1e-4;
      const torch::Tensor outside = patch.image[dims] == 0;
      // Linear interpolation of coordinates is exact, so the image holds each output voxel's
      // source position; nearest-neighbour labels must be those of the rounded position.
      const int64_t count = inside.sum().item<int64_t>();
      ASSERT_GT(count, patch.label.numel() / 4) << "seed " << seed;
      const torch::Tensor expected = label_of(coordinates.round());
      const int64_t agree = ((expected == patch.label).squeeze(0) & inside).sum().item<int64_t>();
      EXPECT_GE(agree, count * 99 / 100) << "dims " << dims << " seed " << seed;
      EXPECT_GT(agree, count - 10) << "dims " << dims << " seed " << seed;
      // Wholly outside the source volume: background label.
      EXPECT_TRUE((patch.label.squeeze(0).masked_select(outside) == 0).all().item<bool>());
    }
  }
}

TEST(Augment, RotationPreservesDistancesInNonCubicPatches) {
  AugmentOptions options = nothing();
  options.rotation_probability = 1;
  options.rotation_degrees = 45;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    CoordinatePatch patch = coordinate_patch({4, 12, 30});
    Rng rng(seed);
    medkd::data::augment(patch.image, patch.label, options, 3, rng);
    // Neighbours along x in the output come from source points one voxel apart.
    const torch::Tensor step = patch.image.index({torch::indexing::Slice(), 2, 6, 15}) -
                               patch.image.index({torch::indexing::Slice(), 2, 6, 14});
    EXPECT_NEAR(step.norm().item<double>(), 1.0, 1e-3) << "seed " << seed;
    EXPECT_NEAR(step[0].item<double>(), 0.0, 1e-4);  // an axial rotation keeps z
  }
}

TEST(Augment, ScalingAboveOneMagnifiesTheContent) {
  AugmentOptions options = nothing();
  options.scale_probability = 1;
  options.scale_range = {2, 2};
  CoordinatePatch patch = coordinate_patch({8, 16});
  Rng rng(0);
  medkd::data::augment(patch.image, patch.label, options, 2, rng);
  // Output voxels one apart come from source points half a voxel apart, centred on the middle.
  EXPECT_NEAR((patch.image[1][4][9] - patch.image[1][4][8]).item<double>(), 0.5, 1e-4);
  EXPECT_NEAR((patch.image[0][5][8] - patch.image[0][4][8]).item<double>(), 0.5, 1e-4);
  EXPECT_NEAR(patch.image[1][4][8].item<double>(), 7.5 + 0.5 * 0.5, 1e-4);
}

TEST(Augment, IntensityTransformsChangeTheImageAndNeverTheLabel) {
  AugmentOptions options = nothing();
  options.noise_probability = options.blur_probability = options.brightness_probability = 1;
  options.contrast_probability = options.gamma_probability = 1;
  options.gamma_inverted_probability = 1;
  for (int dims : {2, 3}) {
    CoordinatePatch patch =
        coordinate_patch(dims == 3 ? std::vector<int64_t>{4, 5, 6} : std::vector<int64_t>{5, 6});
    const torch::Tensor image = patch.image.clone(), label = patch.label.clone();
    Rng rng(9);
    medkd::data::augment(patch.image, patch.label, options, dims, rng);
    EXPECT_TRUE(torch::equal(patch.label, label));
    EXPECT_EQ(patch.image.sizes(), image.sizes());
    EXPECT_EQ(patch.image.scalar_type(), torch::kFloat32);
    EXPECT_FALSE(torch::allclose(patch.image, image));
    EXPECT_TRUE(torch::isfinite(patch.image).all().item<bool>());
  }
}

TEST(Augment, TheCallersTensorsAreNotWritten) {
  AugmentOptions everything;
  everything.mirror_probability = everything.rotation_probability = 1;
  everything.noise_probability = everything.brightness_probability = 1;
  CoordinatePatch patch = coordinate_patch({4, 6, 6});
  const torch::Tensor image = patch.image, label = patch.label;  // same storage
  const torch::Tensor image_copy = image.clone(), label_copy = label.clone();
  Rng rng(1);
  medkd::data::augment(patch.image, patch.label, everything, 3, rng);
  EXPECT_TRUE(torch::equal(image, image_copy));
  EXPECT_TRUE(torch::equal(label, label_copy));
}

TEST(Augment, DisabledOptionsReturnThePatchUnchanged) {
  AugmentOptions options;
  options.enabled = false;
  CoordinatePatch patch = coordinate_patch({4, 6, 6});
  const torch::Tensor image = patch.image.clone();
  Rng rng(1);
  medkd::data::augment(patch.image, patch.label, options, 3, rng);
  EXPECT_TRUE(torch::equal(patch.image, image));
}

TEST(Augment, TheSameSeedGivesTheSameAugmentation) {
  AugmentOptions options;
  options.noise_probability = options.rotation_probability = options.blur_probability = 1;
  CoordinatePatch a = coordinate_patch({4, 6, 6}), b = coordinate_patch({4, 6, 6});
  Rng rng_a(5), rng_b(5);
  medkd::data::augment(a.image, a.label, options, 3, rng_a);
  medkd::data::augment(b.image, b.label, options, 3, rng_b);
  EXPECT_TRUE(torch::equal(a.image, b.image));
  EXPECT_TRUE(torch::equal(a.label, b.label));
}

TEST(Augment, BlurSpreadsAnImpulseWithAUnitSigmaGaussian) {
  AugmentOptions options = nothing();
  options.blur_probability = 1;
  options.blur_sigma_range = {1, 1};
  torch::Tensor image = torch::zeros({1, 11, 11, 11});
  image.index_put_({0, 5, 5, 5}, 1.0f);
  torch::Tensor label = torch::zeros({1, 11, 11, 11}, torch::kUInt8);
  Rng rng(0);
  medkd::data::augment(image, label, options, 3, rng);
  // Kernel exp(-i²/2) for |i| <= 4, normalised: centre 1 / 2.506620 = 0.398943 per axis.
  EXPECT_NEAR(image[0][5][5][5].item<double>(), std::pow(0.398943, 3), 1e-5);
  EXPECT_NEAR(image.sum().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(image[0][5][5][6].item<double>(), std::pow(0.398943, 3) * std::exp(-0.5), 1e-5);
}

TEST(Augment, BrightnessNoiseContrastAndGammaBehaveAsSpecified) {
  Rng rng(3);
  torch::Tensor label = torch::zeros({1, 20, 20}, torch::kUInt8);
  {
    AugmentOptions options = nothing();
    options.brightness_probability = 1;
    options.brightness_range = {2, 2};
    torch::Tensor image = torch::full({2, 20, 20}, 1.5f);
    medkd::data::augment(image, label, options, 2, rng);
    EXPECT_TRUE(torch::allclose(image, torch::full({2, 20, 20}, 3.0f)));
  }
  {
    AugmentOptions options = nothing();
    options.noise_probability = 1;
    options.noise_std_range = {0.5, 0.5};
    torch::Tensor image = torch::zeros({1, 200, 200});
    torch::Tensor big_label = torch::zeros({1, 200, 200}, torch::kUInt8);
    medkd::data::augment(image, big_label, options, 2, rng);
    EXPECT_NEAR(image.std().item<double>(), 0.5, 0.01);
    EXPECT_NEAR(image.mean().item<double>(), 0.0, 0.01);
  }
  const torch::Tensor ramp = torch::linspace(-2, 3, 400).view({1, 20, 20});
  {
    AugmentOptions options = nothing();
    options.contrast_probability = 1;
    options.contrast_range = {1.5, 1.5};
    torch::Tensor image = ramp.clone();
    medkd::data::augment(image, label, options, 2, rng);
    // Stretched about the mean 0.5 and clipped to the original range [-2, 3].
    EXPECT_NEAR(image.min().item<double>(), -2.0, 1e-5);
    EXPECT_NEAR(image.max().item<double>(), 3.0, 1e-5);
    const double v = ramp[0][10][0].item<double>();
    EXPECT_NEAR(image[0][10][0].item<double>(), (v - 0.5) * 1.5 + 0.5, 1e-4);
  }
  for (bool inverted : {false, true}) {
    AugmentOptions options = nothing();
    (inverted ? options.gamma_inverted_probability : options.gamma_probability) = 1;
    options.gamma_range = {1.5, 1.5};
    torch::Tensor image = ramp.clone();
    medkd::data::augment(image, label, options, 2, rng);
    EXPECT_FALSE(torch::allclose(image, ramp, 1e-3, 1e-3));
    EXPECT_NEAR(image.mean().item<double>(), ramp.mean().item<double>(), 1e-4);
    EXPECT_NEAR(image.std().item<double>(), ramp.std().item<double>(), 1e-4);
  }
}

TEST(AugmentOptions, YamlSetsTheGivenKeysAndKeepsTheDefaults) {
  const YAML::Node node = YAML::Load(
      "{mirror_probability: 0.25, mirror_axes: [x, z], scale_range: [0.9, 1.1], "
      "gamma_retain_stats: false}");
  const AugmentOptions options = AugmentOptions::from_yaml(node);
  EXPECT_EQ(options.mirror_probability, 0.25);
  EXPECT_EQ(options.mirror_axes, (std::array<bool, 3>{true, false, true}));
  EXPECT_EQ(options.scale_range, (std::array<double, 2>{0.9, 1.1}));
  EXPECT_FALSE(options.gamma_retain_stats);
  EXPECT_EQ(options.rotation_probability, AugmentOptions{}.rotation_probability);
  EXPECT_TRUE(options.enabled);
  EXPECT_FALSE(AugmentOptions::from_yaml(YAML::Load("{enabled: false}")).enabled);
  EXPECT_TRUE(AugmentOptions::from_yaml(YAML::Node()).enabled);
}

TEST(AugmentOptions, UnknownKeysAndBadValuesAreErrorsThatNameThem) {
  try {
    AugmentOptions::from_yaml(YAML::Load("{mirror_probabilty: 0.5}"));
    FAIL() << "expected medkd::Error";
  } catch (const medkd::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("mirror_probabilty"), std::string::npos) << message;
    EXPECT_NE(message.find("mirror_probability"), std::string::npos) << message;  // valid keys
    EXPECT_NE(message.find("gamma_range"), std::string::npos) << message;
  }
  for (const char* bad : {"{rotation_probability: 1.5}", "{scale_range: [1.2, 0.8]}",
                          "{scale_range: 2}", "{noise_std_range: [a, b]}", "{mirror_axes: [w]}",
                          "{enabled: maybe}", "{rotation_degrees: [1, 2]}", "[1, 2]"}) {
    EXPECT_THROW(AugmentOptions::from_yaml(YAML::Load(bad)), medkd::Error) << bad;
  }
  try {
    AugmentOptions::from_yaml(YAML::Load("{scale_range: [1.2, 0.8]}"));
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("scale_range"), std::string::npos) << e.what();
  }
}

TEST(AugmentOptions, YamlOutputReadsBackToTheSameOptions) {
  AugmentOptions options;
  options.mirror_axes = {false, true, true};
  options.contrast_range = {0.6, 1.4};
  options.enabled = false;
  const std::string text = options.to_yaml();
  EXPECT_NE(text.find("mirror_axes: [y, z]"), std::string::npos) << text;
  const AugmentOptions back = AugmentOptions::from_yaml(YAML::Load(text));
  EXPECT_EQ(back.to_json(), options.to_json());
  EXPECT_NE(options.to_json().find("\"rotation_degrees\":15.0"), std::string::npos)
      << options.to_json();
}
