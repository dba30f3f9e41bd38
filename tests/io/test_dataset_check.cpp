#include "medkd/io/dataset_check.h"

#include <gtest/gtest.h>

#include <fstream>

#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::io::Image;
using medkd::testing::TempDir;

namespace {

Image volume(torch::ScalarType dtype = torch::kFloat32) {
  Image image{torch::ones({1, 3, 4, 5}).to(dtype), {}};
  image.geometry.spacing = {1.0, 1.0, 2.0};
  return image;
}

void write_case(const fs::path& root, const std::string& id, bool with_label = true) {
  medkd::io::write_image(volume(), root / "imagesTr" / (id + "_0000.nii.gz"));
  medkd::io::write_image(volume(), root / "imagesTr" / (id + "_0001.nii.gz"));
  if (with_label)
    medkd::io::write_image(volume(torch::kUInt8), root / "labelsTr" / (id + ".nii.gz"));
}

void write_meta(const fs::path& root, int num_training) {
  medkd::io::DatasetJson meta;
  meta.channel_names = {"CT", "PET"};
  meta.labels = {{"background", 0}, {"tumour", 1}};
  meta.num_training = num_training;
  medkd::io::write_dataset_json(meta, root / "dataset.json");
}

// True if some problem names a file ending in `file_end` and contains `text`.
bool has_problem(const medkd::io::DatasetCheckReport& report, const std::string& file_end,
                 const std::string& text) {
  for (const auto& p : report.problems) {
    const std::string f = p.file.string();
    if (f.size() >= file_end.size() &&
        f.compare(f.size() - file_end.size(), file_end.size(), file_end) == 0 &&
        p.message.find(text) != std::string::npos)
      return true;
  }
  return false;
}

std::string all_problems(const medkd::io::DatasetCheckReport& report) {
  std::string text;
  for (const auto& p : report.problems) text += p.file.string() + ": " + p.message + "\n";
  return text;
}

medkd::io::DatasetCheckOptions quiet() {
  medkd::io::DatasetCheckOptions options;
  options.quiet = true;
  return options;
}

}  // namespace

TEST(DatasetCheck, ACleanDatasetHasNoProblemsAndASummary) {
  TempDir dir;
  write_meta(dir.path(), 2);
  write_case(dir.path(), "a");
  write_case(dir.path(), "b");
  const auto report = medkd::io::check_dataset(dir.path(), quiet());
  EXPECT_TRUE(report.ok()) << all_problems(report);
  EXPECT_EQ(report.training_cases, 2);
  EXPECT_EQ(report.label_voxels.at(1), 2 * 60);
  EXPECT_NE(medkd::io::format_dataset_summary(report).find("1=tumour (100% of voxels)"),
            std::string::npos)
      << medkd::io::format_dataset_summary(report);
}

TEST(DatasetCheck, ReadsUnlabelledImagesAndReportsTheirProblems) {
  TempDir dir;
  write_meta(dir.path(), 1);
  write_case(dir.path(), "a");
  medkd::io::write_image(volume(), dir.path() / "imagesUl" / "u1_0000.nii.gz");
  medkd::io::write_image(volume(), dir.path() / "imagesUl" / "u1_0001.nii.gz");
  auto report = medkd::io::check_dataset(dir.path(), quiet());
  EXPECT_TRUE(report.ok()) << all_problems(report);
  EXPECT_EQ(report.unlabelled_cases, 1);
  EXPECT_NE(medkd::io::format_dataset_summary(report).find("1 unlabelled case(s)"),
            std::string::npos);
  // No label is expected there; a missing channel is a problem as anywhere.
  medkd::io::write_image(volume(), dir.path() / "imagesUl" / "u2_0000.nii.gz");
  report = medkd::io::check_dataset(dir.path(), quiet());
  EXPECT_TRUE(has_problem(report, "imagesUl/u2_0001.nii.gz", "missing channel 1"))
      << all_problems(report);
  EXPECT_FALSE(has_problem(report, "u2.nii.gz", "missing label")) << all_problems(report);
}

TEST(DatasetCheck, ReportsEveryProblemNamingItsFile) {
  TempDir dir;
  const fs::path root = dir.path();
  write_meta(root, 9);  // wrong: the dataset below has fewer complete cases
  write_case(root, "ok");

  write_case(root, "nochannel");
  fs::remove(root / "imagesTr/nochannel_0001.nii.gz");

  write_case(root, "undeclared");
  Image bad_label = volume(torch::kUInt8);
  bad_label.data[0][0][0][0] = 5;
  medkd::io::write_image(bad_label, root / "labelsTr/undeclared.nii.gz");

  write_case(root, "spacing");
  Image shifted = volume(torch::kUInt8);
  shifted.geometry.spacing[2] = 3.0;
  medkd::io::write_image(shifted, root / "labelsTr/spacing.nii.gz");

  write_case(root, "size");
  medkd::io::write_image(Image{torch::ones({1, 3, 4, 6}), volume().geometry},
                         root / "imagesTr/size_0001.nii.gz");

  write_case(root, "nan");
  Image nan_image = volume();
  nan_image.data[0][1][1][1] = NAN;
  nan_image.data[0][1][1][2] = INFINITY;
  medkd::io::write_image(nan_image, root / "imagesTr/nan_0000.nii.gz");

  write_case(root, "nolabel", false);
  medkd::io::write_image(volume(torch::kUInt8), root / "labelsTr/orphan.nii.gz");

  write_case(root, "truncated");
  fs::resize_file(root / "imagesTr/truncated_0000.nii.gz", 40);

  write_case(root, "fraction");
  Image fractional = volume();
  fractional.data[0][0][0][0] = 0.5;
  medkd::io::write_image(fractional, root / "labelsTr/fraction.nii.gz");

  write_case(root, "extra");
  medkd::io::write_image(volume(), root / "imagesTr/extra_0002.nii.gz");
  std::ofstream(root / "imagesTr/notes.txt") << "x";

  const auto report = medkd::io::check_dataset(root, quiet());
  const std::string text = all_problems(report);
  EXPECT_TRUE(has_problem(report, "imagesTr/nochannel_0001.nii.gz", "missing channel 1 (PET)"))
      << text;
  EXPECT_TRUE(has_problem(report, "labelsTr/undeclared.nii.gz", "label value(s) 5 not declared"))
      << text;
  EXPECT_TRUE(has_problem(report, "labelsTr/spacing.nii.gz", "spacing")) << text;
  EXPECT_TRUE(has_problem(report, "imagesTr/size_0001.nii.gz", "size 6x4x3")) << text;
  EXPECT_TRUE(has_problem(report, "imagesTr/nan_0000.nii.gz", "2 voxel(s) are NaN or Inf")) << text;
  EXPECT_TRUE(has_problem(report, "labelsTr/nolabel.nii.gz", "missing label")) << text;
  EXPECT_TRUE(has_problem(report, "labelsTr/orphan.nii.gz", "label without images")) << text;
  EXPECT_TRUE(has_problem(report, "imagesTr/truncated_0000.nii.gz", "")) << text;
  EXPECT_TRUE(has_problem(report, "labelsTr/fraction.nii.gz", "not integer")) << text;
  EXPECT_TRUE(has_problem(report, "imagesTr/extra_0002.nii.gz", "channel index 2")) << text;
  EXPECT_TRUE(has_problem(report, "imagesTr/notes.txt", "unexpected file")) << text;
  EXPECT_TRUE(has_problem(report, "dataset.json", "numTraining is 9")) << text;
  EXPECT_FALSE(has_problem(report, "ok_0000.nii.gz", "")) << text;
  EXPECT_FALSE(has_problem(report, "labelsTr/ok.nii.gz", "")) << text;
}

TEST(DatasetCheck, AMissingOrBrokenDatasetJsonIsOneProblem) {
  TempDir dir;
  auto report = medkd::io::check_dataset(dir.path(), quiet());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].file, dir / "dataset.json");
  report = medkd::io::check_dataset(dir / "nonexistent", quiet());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].message, "not a folder");
}
