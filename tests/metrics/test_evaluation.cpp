#include "medkd/metrics/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "medkd/core/error.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::io::Image;
using medkd::testing::TempDir;

namespace {

// A 10x10x10 label map with spacing 1 x 1 x 2 mm (z is the thick axis).
Image empty_map() {
  Image image{torch::zeros({1, 10, 10, 10}, torch::kUInt8), {}};
  image.geometry.spacing = {1, 1, 2};
  return image;
}

// Fills x, y in [lo, hi] and z in [zlo, zhi] with `label`.
void fill(Image& image, int64_t lo, int64_t hi, int64_t zlo, int64_t zhi, int label) {
  image.data.index_put_({0, torch::indexing::Slice(zlo, zhi + 1),
                         torch::indexing::Slice(lo, hi + 1), torch::indexing::Slice(lo, hi + 1)},
                        label);
}

medkd::metrics::LabelMetrics metrics_of(const Image& pred, const Image& ref, int label = 1) {
  return medkd::metrics::evaluate_label(pred.data, ref.data, label, ref.geometry.spacing);
}

const double kDiagonal = std::sqrt(10.0 * 10 + 10.0 * 10 + 20.0 * 20);  // mm

}  // namespace

TEST(Evaluation, IdenticalMasksArePerfect) {
  Image ref = empty_map();
  fill(ref, 3, 5, 3, 5, 1);
  const auto m = metrics_of(ref, ref);
  EXPECT_EQ(m.dice, 1.0);
  EXPECT_EQ(m.iou, 1.0);
  EXPECT_EQ(m.hd95, 0.0);
  EXPECT_EQ(m.assd, 0.0);
  EXPECT_EQ(m.rvd, 0.0);
  EXPECT_EQ(m.counts.tp, 27);
  EXPECT_EQ(m.counts.tn, 1000 - 27);
}

TEST(Evaluation, CubeShiftedByOneVoxelAlongTheAnisotropicAxis) {
  Image ref = empty_map(), pred = empty_map();
  fill(ref, 3, 5, 3, 5, 1);
  fill(pred, 3, 5, 4, 6, 1);
  const auto m = metrics_of(pred, ref);
  EXPECT_EQ(m.counts.tp, 18);
  EXPECT_EQ(m.counts.fp, 9);
  EXPECT_EQ(m.counts.fn, 9);
  EXPECT_EQ(m.counts.tn, 1000 - 36);
  EXPECT_DOUBLE_EQ(m.dice, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.iou, 0.5);
  EXPECT_DOUBLE_EQ(m.rvd, 0.0);
  EXPECT_DOUBLE_EQ(m.hd95, 2.0);            // one slice = 2 mm
  EXPECT_NEAR(m.assd, 38.0 / 52.0, 1e-12);  // see docs/metrics.md
}

TEST(Evaluation, SingleVoxelsThreeSlicesApart) {
  Image ref = empty_map(), pred = empty_map();
  ref.data[0][2][2][2] = 1;
  pred.data[0][5][2][2] = 1;
  const auto m = metrics_of(pred, ref);
  EXPECT_EQ(m.dice, 0.0);
  EXPECT_DOUBLE_EQ(m.hd95, 6.0);
  EXPECT_DOUBLE_EQ(m.assd, 6.0);
  EXPECT_EQ(m.counts.n_pred(), 1);
  EXPECT_EQ(m.counts.n_ref(), 1);
}

TEST(Evaluation, AMissedStructureScoresZeroAndTheImageDiagonal) {
  Image ref = empty_map();
  fill(ref, 3, 5, 3, 5, 1);
  const auto missed = metrics_of(empty_map(), ref);
  EXPECT_EQ(missed.dice, 0.0);
  EXPECT_EQ(missed.iou, 0.0);
  EXPECT_EQ(missed.rvd, -1.0);
  EXPECT_DOUBLE_EQ(missed.hd95, kDiagonal);
  EXPECT_DOUBLE_EQ(missed.assd, kDiagonal);
  const auto spurious = metrics_of(ref, empty_map());
  EXPECT_EQ(spurious.dice, 0.0);
  EXPECT_TRUE(std::isnan(spurious.rvd));
  EXPECT_DOUBLE_EQ(spurious.hd95, kDiagonal);
}

TEST(Evaluation, BothEmptyIsNaNAndLeftOutOfMeans) {
  const auto m = metrics_of(empty_map(), empty_map());
  EXPECT_TRUE(std::isnan(m.dice) && std::isnan(m.iou) && std::isnan(m.hd95) && std::isnan(m.assd) &&
              std::isnan(m.rvd));
  EXPECT_EQ(m.counts.tn, 1000);

  medkd::metrics::SegmentationEvaluator evaluator({1, 2});
  Image ref = empty_map(), pred = empty_map();
  fill(ref, 3, 5, 3, 5, 1);
  fill(pred, 3, 5, 3, 5, 1);
  evaluator.update(pred, ref, "p1.nii.gz", "r1.nii.gz");  // label 1 perfect, label 2 both empty
  Image ref2 = empty_map(), pred2 = empty_map();
  fill(ref2, 3, 5, 3, 5, 1);
  fill(pred2, 3, 5, 4, 6, 1);
  fill(ref2, 7, 8, 7, 8, 2);
  fill(pred2, 7, 8, 7, 8, 2);
  evaluator.update(pred2, ref2, "p2.nii.gz", "r2.nii.gz");  // label 1 Dice 2/3, label 2 perfect
  const auto summary = evaluator.compute();
  EXPECT_DOUBLE_EQ(summary.mean.at(1).dice, (1.0 + 2.0 / 3.0) / 2);
  EXPECT_DOUBLE_EQ(summary.mean.at(2).dice, 1.0);  // the both-empty case is left out
  EXPECT_EQ(summary.both_empty_cases.at(2), 1);
  EXPECT_DOUBLE_EQ(summary.foreground_mean.dice, ((1.0 + 2.0 / 3.0) / 2 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(summary.mean.at(1).tp, (27.0 + 18.0) / 2);

  const auto json = medkd::metrics::summary_to_json(summary);
  EXPECT_TRUE(json["metric_per_case"][0]["metrics"]["2"]["Dice"].is_null());
  EXPECT_EQ(json["metric_per_case"][1]["metrics"]["1"]["TP"], 18);
  EXPECT_EQ(json["metric_per_case"][0]["reference_file"], "r1.nii.gz");
  for (const char* key :
       {"Dice", "IoU", "RVD", "HD95", "ASSD", "TP", "FP", "FN", "TN", "n_pred", "n_ref"})
    EXPECT_TRUE(json["mean"]["1"].contains(key)) << key;
  EXPECT_TRUE(json.contains("foreground_mean"));
  const std::string csv = medkd::metrics::summary_to_csv(summary);
  EXPECT_NE(csv.find("r2,1,0.6666666667,0.5,0,2,0.7307692308,18,9,9,964,27,27"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("r1,2,NaN,NaN,NaN,NaN,NaN,0,0,0,1000,0,0"), std::string::npos) << csv;
}

TEST(Evaluation, MismatchedGeometryIsRejectedNamingTheFile) {
  medkd::metrics::SegmentationEvaluator evaluator({1});
  Image ref = empty_map(), pred = empty_map();
  pred.geometry.spacing = {1, 1, 3};
  try {
    evaluator.update(pred, ref, "pred/c.nii.gz", "ref/c.nii.gz");
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("pred/c.nii.gz"), std::string::npos);
  }
  Image small{torch::zeros({1, 2, 2, 2}, torch::kUInt8), {}};
  EXPECT_THROW(evaluator.update(small, ref, "p", "r"), medkd::Error);
}

TEST(Evaluation, FractionalLabelMapsAreRejected) {
  medkd::metrics::SegmentationEvaluator evaluator({1});
  Image ref = empty_map();
  Image pred{torch::full({1, 10, 10, 10}, 0.5), ref.geometry};
  EXPECT_THROW(evaluator.update(pred, ref, "p.nii.gz", "r.nii.gz"), medkd::Error);
  Image integral{torch::zeros({1, 10, 10, 10}), ref.geometry};  // float type, integer values
  EXPECT_NO_THROW(evaluator.update(integral, ref, "p.nii.gz", "r.nii.gz"));
}

TEST(Evaluation, FoldersArePairedByNameAndMissingPredictionsAreErrors) {
  TempDir dir;
  Image ref = empty_map();
  fill(ref, 3, 5, 3, 5, 1);
  fill(ref, 7, 8, 7, 8, 3);
  medkd::io::write_image(ref, dir / "ref/a.nii.gz");
  medkd::io::write_image(ref, dir / "ref/b.nii.gz");
  medkd::io::write_image(ref, dir / "pred/a.nii.gz");
  medkd::metrics::EvaluateFoldersOptions options;
  options.pred_dir = dir / "pred";
  options.ref_dir = dir / "ref";
  options.quiet = true;
  try {
    medkd::metrics::evaluate_folders(options);
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.nii.gz"), std::string::npos) << e.what();
  }
  medkd::io::write_image(empty_map(), dir / "pred/b.nii");  // another ending of the same case
  const auto result = medkd::metrics::evaluate_folders(options);
  ASSERT_EQ(result.summary.cases.size(), 2u);
  EXPECT_EQ(result.summary.mean.size(), 2u);              // labels 1 and 3 discovered
  EXPECT_DOUBLE_EQ(result.summary.mean.at(3).dice, 0.5);  // perfect in a, missed in b
}
