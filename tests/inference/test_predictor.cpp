#include "medkd/inference/predictor.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/io/image_io.h"
#include "medkd/train/trainer.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::testing::TempDir;

namespace {

// A one-epoch model on a tiny synthetic PET/CT dataset: enough to exercise prediction.
fs::path train_tiny(const TempDir& dir) {
  medkd::data::synth::SynthOptions synth;
  synth.kind = "petct";
  synth.preset = "tiny";
  synth.cases = 3;
  synth.test_cases = 1;
  synth.quiet = true;
  synth.out = dir / "data";
  medkd::data::synth::write_synth_dataset(synth);
  medkd::core::write_text_file(dir / "config.yaml", R"(
model: {name: unet, options: {channels: [4, 8], blocks_per_stage: 1}}
plan: {patch_size: [16, 16, 8], batch_size: 1}
epochs: 1
iterations_per_epoch: 1
loader: {workers: 1}
folds: 3
)");
  medkd::train::TrainOptions options;
  options.dataset = synth.out;
  options.config = dir / "config.yaml";
  options.out = dir / "run";
  options.quiet = true;
  medkd::train::train(options);
  return options.out;
}

}  // namespace

TEST(Predictor, OutputsHaveExactlyTheInputGeometryObliqueAndAnisotropicIncluded) {
  TempDir dir;
  const fs::path run = train_tiny(dir);
  // Re-place the test case in space: oblique direction, another origin, anisotropic spacing.
  const double c = std::cos(0.3), s = std::sin(0.3);
  for (int ch = 0; ch < 2; ++ch) {
    const fs::path file =
        dir / "data/imagesTs" / ("petct_003_000" + std::to_string(ch) + ".nii.gz");
    medkd::io::Image image = medkd::io::read_image(file);
    image.geometry.direction = {c, -s, 0, s, c, 0, 0, 0, 1};
    image.geometry.origin = {12.5, -40, 7};
    image.geometry.spacing = {5.5, 6.5, 9};
    medkd::io::write_image(image, dir / "inputs" / file.filename());
  }
  medkd::inference::PredictOptions options;
  options.model = run;
  options.inputs = {dir / "inputs"};
  options.output = dir / "out";
  options.save_probabilities = true;
  options.quiet = true;
  EXPECT_EQ(medkd::inference::predict_cases(options), 1);
  const medkd::io::Image input = medkd::io::read_image(dir / "inputs/petct_003_0000.nii.gz");
  const medkd::io::Image output = medkd::io::read_image(dir / "out/petct_003.nii.gz");
  EXPECT_EQ(output.size_xyz(), input.size_xyz());
  EXPECT_TRUE(output.geometry.matches(input.geometry, 1e-6))
      << output.geometry.difference(input.geometry);
  EXPECT_FALSE(output.data.is_floating_point());
  EXPECT_LE(output.data.max().item<int64_t>(), 2);
  EXPECT_TRUE(fs::exists(dir / "out/petct_003.probabilities.pt"));

  // Mirroring TTA runs too and gives a label map of the same grid.
  options.settings.mirror = true;
  options.output = dir / "out_tta";
  options.save_probabilities = false;
  medkd::inference::predict_cases(options);
  EXPECT_EQ(medkd::io::read_image(dir / "out_tta/petct_003.nii.gz").size_xyz(), input.size_xyz());
}

TEST(Predictor, InputsAreGroupedIntoCasesByChannelSuffix) {
  TempDir dir;
  medkd::io::Image image{torch::zeros({1, 2, 2, 2}), {}};
  for (const char* name : {"a_0000.nii.gz", "a_0001.nii.gz", "b_0000.nii.gz", "b_0001.nii.gz"})
    medkd::io::write_image(image, dir / "in" / name);
  const auto cases = medkd::inference::group_input_cases({dir / "in"}, 2);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[1].id, "b");
  EXPECT_EQ(cases[1].channels[1].filename(), "b_0001.nii.gz");
  fs::remove(dir / "in/b_0001.nii.gz");
  EXPECT_THROW(medkd::inference::group_input_cases({dir / "in"}, 2), medkd::Error);
  EXPECT_THROW(medkd::inference::group_input_cases({dir / "nothing"}, 1), medkd::Error);
}

TEST(Predictor, AMissingModelIsAClearError) {
  TempDir dir;
  EXPECT_THROW(medkd::inference::load_trained_model(dir.path(), torch::kCPU), medkd::Error);
}
