#include "medkd/data/preprocessing.h"

#include <gtest/gtest.h>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/data/fingerprint.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::data::LabelInterpolation;
using medkd::data::Plan;
using medkd::io::Image;
using medkd::testing::TempDir;

namespace {

// A one-channel plan that leaves intensities alone, so voxel values can be checked by hand.
Plan plan_with_spacing(const std::array<double, 3>& spacing, int dims = 3,
                       LabelInterpolation labels = LabelInterpolation::kNearest) {
  Plan plan;
  plan.dims = dims;
  plan.target_spacing = spacing;
  plan.channel_names = {"MR"};
  plan.normalization.resize(1);
  plan.normalization[0].scheme = "none";
  plan.label_values = {0, 3, 7};
  plan.label_names = {"background", "gland", "lesion"};
  plan.patch_size = {8, 8, dims == 2 ? 1 : 8};
  plan.median_shape = {8, 8, 8};
  plan.image_resampling = medkd::data::ImageInterpolation::kLinear;
  plan.label_resampling = labels;
  return plan;
}

// 10 x 9 x 5 voxels at 1 x 1 x 3 mm, rotated and off-centre; non-zero inside a one-voxel border,
// labels 3 and 7 (dataset values) inside that.
std::pair<Image, Image> anisotropic_case() {
  Image image{torch::zeros({1, 5, 9, 10}), {}};  // [C, Z, Y, X]
  image.geometry.spacing = {1.0, 1.0, 3.0};
  image.geometry.origin = {-12.3, 4.5, 7.25};
  image.geometry.direction = {0, -1, 0, 1, 0, 0, 0, 0, 1};
  image.data.slice(1, 1, 5).slice(2, 1, 8).slice(3, 1, 9).fill_(5.f);
  Image label{torch::zeros({1, 5, 9, 10}, torch::kUInt8), image.geometry};
  label.data.slice(1, 1, 4).slice(2, 2, 6).slice(3, 2, 7).fill_(3);
  label.data.slice(1, 2, 4).slice(2, 3, 5).slice(3, 5, 8).fill_(7);
  label.data[0][4][7][8] = 7;  // a single voxel in the top slice
  return {image, label};
}

// Dataset label values of the argmax of restored scores.
torch::Tensor restored_values(const Image& restored, const Plan& plan) {
  const torch::Tensor classes = restored.data.argmax(0, /*keepdim=*/true);  // [1, Z, Y, X]
  return torch::tensor(std::vector<int64_t>(plan.label_values.begin(), plan.label_values.end()))
      .index({classes});
}

torch::Tensor one_hot_scores(const torch::Tensor& label, int64_t classes) {  // [1, Z, Y, X]
  return torch::one_hot(label[0].to(torch::kLong), classes)
      .permute({3, 0, 1, 2})
      .to(torch::kFloat32);
}

void write_case(const fs::path& root, const std::string& id, float value) {
  auto [image, label] = anisotropic_case();
  image.data.mul_(value);
  medkd::io::write_image(image, root / "imagesTr" / (id + "_0000.nii.gz"));
  medkd::io::write_image(label, root / "labelsTr" / (id + ".nii.gz"));
}

medkd::io::Dataset write_dataset(const fs::path& root) {
  medkd::io::DatasetJson meta;
  meta.channel_names = {"MR"};
  meta.labels = {{"background", 0}, {"gland", 3}, {"lesion", 7}};
  meta.num_training = 2;
  medkd::io::write_dataset_json(meta, root / "dataset.json");
  write_case(root, "p1", 1.f);
  write_case(root, "p2", 2.f);
  return medkd::io::open_dataset(root);
}

int64_t count_files(const fs::path& folder, const std::string& ending) {
  int64_t count = 0;
  for (const auto& entry : fs::directory_iterator(folder))
    count += entry.path().extension() == ending;
  return count;
}

}  // namespace

TEST(Preprocessing, NonZeroBoundingBoxCoversEveryChannel) {
  torch::Tensor image = torch::zeros({2, 5, 6, 7});  // [C, Z, Y, X]
  image[1][1][2][3] = 1;
  image[0][3][4][5] = -1;
  const auto box = medkd::data::nonzero_bounding_box(image);
  EXPECT_EQ(box.begin, (std::array<int64_t, 3>{3, 2, 1}));
  EXPECT_EQ(box.end, (std::array<int64_t, 3>{6, 5, 4}));
  const auto empty = medkd::data::nonzero_bounding_box(torch::zeros({1, 2, 3, 4}));
  EXPECT_EQ(empty.size(), (std::array<int64_t, 3>{4, 3, 2}));
}

TEST(Preprocessing, CropsToTheNonZeroRegionAndRecordsWhere) {
  Image image{torch::zeros({1, 6, 7, 8}), {}};
  const torch::Tensor block =
      torch::arange(1, 1 + 3 * 3 * 4, torch::kFloat32).reshape({1, 3, 3, 4});
  image.data.slice(1, 1, 4).slice(2, 2, 5).slice(3, 3, 7).copy_(block);
  medkd::core::Rng rng(0);
  const auto out =
      medkd::data::preprocess_case(image, nullptr, plan_with_spacing({1, 1, 1}), "crop", rng);
  EXPECT_TRUE(torch::equal(out.image, block));
  EXPECT_EQ(out.crop_begin, (std::array<int64_t, 3>{3, 2, 1}));
  EXPECT_EQ(out.resampled_size, (std::array<int64_t, 3>{8, 7, 6}));
  EXPECT_EQ(out.original_size, (std::array<int64_t, 3>{8, 7, 6}));
  EXPECT_FALSE(out.label.defined());
}

TEST(Preprocessing, LeavesTheInputImageUntouched) {
  // Nothing to resample or crop: the normalised output must still be a copy.
  Image image{torch::arange(1, 1 + 2 * 3 * 4, torch::kFloat32).reshape({1, 2, 3, 4}), {}};
  const torch::Tensor original = image.data.clone();
  Plan plan = plan_with_spacing({1, 1, 1});
  plan.normalization[0].scheme = "zscore";
  medkd::core::Rng rng(0);
  const auto out = medkd::data::preprocess_case(image, nullptr, plan, "input", rng);
  EXPECT_TRUE(torch::equal(image.data, original));
  EXPECT_NEAR(out.image.mean().item<double>(), 0.0, 1e-5);
}

TEST(Preprocessing, RestoreToOriginalGivesBackTheLabelMapOfAnAnisotropicCase) {
  const auto [image, label] = anisotropic_case();
  for (const auto labels : {LabelInterpolation::kNearest, LabelInterpolation::kLinearOneHot}) {
    const Plan plan = plan_with_spacing({1, 1, 1}, 3, labels);
    medkd::core::Rng rng(1);
    const auto out = medkd::data::preprocess_case(image, &label, plan, "aniso", rng);
    EXPECT_EQ(out.resampled_size, (std::array<int64_t, 3>{10, 9, 15}));
    EXPECT_EQ(out.spacing, (std::array<double, 3>{1, 1, 1}));
    EXPECT_EQ(out.label.scalar_type(), torch::kUInt8);
    EXPECT_EQ(out.label.max().item<int>(), 2);  // class indices, not dataset values

    const Image restored = medkd::data::restore_to_original(one_hot_scores(out.label, 3), out);
    ASSERT_EQ(restored.data.sizes(), (std::vector<int64_t>{3, 5, 9, 10}));
    EXPECT_TRUE(torch::equal(restored_values(restored, plan), label.data.to(torch::kLong)))
        << to_string(labels);
    // The geometry is copied, not recomputed: equal to the last bit.
    EXPECT_EQ(restored.geometry.spacing, image.geometry.spacing);
    EXPECT_EQ(restored.geometry.origin, image.geometry.origin);
    EXPECT_EQ(restored.geometry.direction, image.geometry.direction);
  }
}

TEST(Preprocessing, TwoDPlansResampleInPlaneOnly) {
  const auto [image, label] = anisotropic_case();
  medkd::core::Rng rng(2);
  const auto out = medkd::data::preprocess_case(image, &label, plan_with_spacing({0.5, 0.5, 1}, 2),
                                                "slices", rng);
  EXPECT_EQ(out.resampled_size, (std::array<int64_t, 3>{20, 18, 5}));
  EXPECT_EQ(out.spacing, (std::array<double, 3>{0.5, 0.5, 3.0}));
}

TEST(Preprocessing, ClassLocationsPointAtVoxelsOfTheirClass) {
  const auto [image, label] = anisotropic_case();
  medkd::core::Rng rng(3);
  const auto out =
      medkd::data::preprocess_case(image, &label, plan_with_spacing({1, 1, 1}), "locations", rng);
  ASSERT_EQ(out.class_locations.size(), 3u);
  EXPECT_TRUE(out.class_locations[0].empty());
  for (int64_t k = 1; k < 3; ++k) {
    const auto& locations = out.class_locations[k];
    // Fewer voxels than the sampling limit: every one of them is listed.
    EXPECT_EQ(static_cast<int64_t>(locations.size()), (out.label == k).sum().item<int64_t>());
    for (const auto& [z, y, x] : locations) EXPECT_EQ(out.label[0][z][y][x].item<int>(), k);
  }
}

TEST(Preprocessing, AnUndeclaredLabelValueIsAnErrorNamingTheCase) {
  auto [image, label] = anisotropic_case();
  label.data[0][0][0][0] = 5;
  medkd::core::Rng rng(4);
  try {
    medkd::data::preprocess_case(image, &label, plan_with_spacing({1, 1, 1}), "case042", rng);
    FAIL() << "expected an error";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("case042"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("value(s) 5"), std::string::npos) << e.what();
  }
}

TEST(Preprocessing, CacheHitsDoNotReadTheSourceFilesAgain) {
  TempDir dir;
  const auto dataset = write_dataset(dir / "raw");
  medkd::data::PreprocessedCache cache(dir / "cache", plan_with_spacing({1, 1, 1.5}));
  const auto& files = dataset.training[1];
  const auto created = cache.get_or_create(files);
  EXPECT_TRUE(cache.contains(files));

  for (const auto& path : files.images) fs::remove(path);
  fs::remove(*files.label);
  const auto cached = cache.get_or_create(files);
  EXPECT_NE(cached.get(), created.get());  // read back from disk, not kept in memory
  EXPECT_EQ(cached->id, "p2");
  EXPECT_TRUE(torch::equal(cached->image, created->image));
  EXPECT_TRUE(torch::equal(cached->label, created->label));
  EXPECT_EQ(cached->class_locations, created->class_locations);
  EXPECT_EQ(cached->crop_begin, created->crop_begin);
  EXPECT_EQ(cached->resampled_size, created->resampled_size);
  EXPECT_EQ(cached->original_size, created->original_size);
  EXPECT_EQ(cached->spacing, created->spacing);
  EXPECT_EQ(cached->original_geometry.origin, created->original_geometry.origin);
  EXPECT_EQ(cached->original_geometry.direction, created->original_geometry.direction);
  EXPECT_EQ(cached->original_geometry.spacing, created->original_geometry.spacing);
}

TEST(Preprocessing, PreprocessAllCreatesOnlyMissingEntries) {
  TempDir dir;
  const auto dataset = write_dataset(dir / "raw");
  medkd::data::PreprocessedCache cache(dir / "cache", plan_with_spacing({1, 1, 1.5}));
  medkd::core::ProgressOptions quiet;
  quiet.quiet = true;
  EXPECT_EQ(cache.preprocess_all(dataset.training, 2, quiet), 2);
  EXPECT_EQ(cache.preprocess_all(dataset.training, 2, quiet), 0);
  EXPECT_EQ(count_files(dir / "cache", ".pt"), 2);
}

TEST(Preprocessing, ADifferentPlanInvalidatesTheCache) {
  TempDir dir;
  const auto dataset = write_dataset(dir / "raw");
  medkd::core::ProgressOptions quiet;
  quiet.quiet = true;
  {
    medkd::data::PreprocessedCache cache(dir / "cache", plan_with_spacing({1, 1, 1.5}));
    cache.preprocess_all(dataset.training, 1, quiet);
  }
  {
    // Same preprocessing, other batch size: the entries stay.
    Plan same = plan_with_spacing({1, 1, 1.5});
    same.batch_size = 9;
    medkd::data::PreprocessedCache cache(dir / "cache", same);
    EXPECT_TRUE(cache.contains(dataset.training[0]));
  }
  const Plan finer = plan_with_spacing({1, 1, 1});
  medkd::data::PreprocessedCache cache(dir / "cache", finer);
  EXPECT_FALSE(cache.contains(dataset.training[0]));
  EXPECT_EQ(count_files(dir / "cache", ".pt"), 0);
  EXPECT_EQ(medkd::core::read_text_file(dir / "cache" / "plan_hash"),
            finer.preprocessing_hash() + "\n");
  EXPECT_EQ(cache.get_or_create(dataset.training[0])->resampled_size,
            (std::array<int64_t, 3>{10, 9, 15}));
}

TEST(Preprocessing, TheTinySyntheticDatasetPlansAndPreprocesses) {
  TempDir dir;
  medkd::data::synth::SynthOptions synth;
  synth.kind = "petct";
  synth.preset = "tiny";
  synth.cases = 2;
  synth.out = dir / "raw";
  synth.quiet = true;
  medkd::data::synth::write_synth_dataset(synth);
  const auto dataset = medkd::io::open_dataset(dir / "raw");
  medkd::data::FingerprintOptions fingerprint_options;
  fingerprint_options.quiet = true;
  const auto fingerprint = medkd::data::fingerprint_dataset(dataset, fingerprint_options);
  const Plan plan = medkd::data::make_plan(fingerprint);
  EXPECT_EQ(plan.normalization[0].scheme, "ct");
  EXPECT_EQ(plan.normalization[1].scheme, "zscore");

  medkd::data::PreprocessedCache cache(dir / "cache", plan);
  medkd::core::ProgressOptions quiet;
  quiet.quiet = true;
  EXPECT_EQ(cache.preprocess_all(dataset.training, 2, quiet), 2);
  const auto c = cache.get_or_create(dataset.training[0]);
  EXPECT_EQ(c->image.size(0), 2);
  EXPECT_EQ(c->image.sizes().slice(1), c->label.sizes().slice(1));
  EXPECT_LT(c->label.max().item<int>(), plan.num_classes());
  // The PET channel is a per-image z-score.
  EXPECT_NEAR(c->image[1].mean().item<double>(), 0.0, 1e-4);
  EXPECT_NEAR(c->image[1].std(/*unbiased=*/false).item<double>(), 1.0, 1e-4);
}
