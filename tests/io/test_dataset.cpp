#include "medkd/io/dataset.h"

#include <gtest/gtest.h>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::testing::TempDir;

namespace {

void write_json(const fs::path& file, const std::string& text) {
  medkd::core::write_text_file(file, text);
}

std::string error_of(const fs::path& file) {
  try {
    medkd::io::read_dataset_json(file);
  } catch (const medkd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(DatasetJson, ReadsTheNnUNetV2Layout) {
  TempDir dir;
  write_json(dir / "dataset.json", R"({
    "channel_names": {"0": "CT", "1": "PET"},
    "labels": {"background": 0, "tumour": 1, "lymph_node": 2},
    "numTraining": 3, "file_ending": ".nii.gz", "name": "HeadNeck"})");
  const auto meta = medkd::io::read_dataset_json(dir / "dataset.json");
  EXPECT_EQ(meta.channel_names, (std::vector<std::string>{"CT", "PET"}));
  EXPECT_EQ(meta.label_values(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(meta.label_name(2), "lymph_node");
  EXPECT_EQ(meta.num_training, 3);
  EXPECT_EQ(meta.file_ending, ".nii.gz");
  EXPECT_EQ(meta.name, "HeadNeck");
}

TEST(DatasetJson, AcceptsTheV1LabelAndModalityStyle) {
  TempDir dir;
  write_json(dir / "dataset.json", R"({"modality": {"0": "MRI"},
    "labels": {"0": "background", "1": "lesion"}, "numTraining": 1})");
  const auto meta = medkd::io::read_dataset_json(dir / "dataset.json");
  EXPECT_EQ(meta.channel_names, (std::vector<std::string>{"MRI"}));
  EXPECT_EQ(meta.label_name(1), "lesion");
}

TEST(DatasetJson, WritingThenReadingGivesTheSameDescription) {
  TempDir dir;
  medkd::io::DatasetJson meta;
  meta.channel_names = {"T2W", "HBV", "ADC"};
  meta.labels = {{"background", 0}, {"lesion", 1}};
  meta.num_training = 7;
  medkd::io::write_dataset_json(meta, dir / "dataset.json");
  const auto read = medkd::io::read_dataset_json(dir / "dataset.json");
  EXPECT_EQ(read.channel_names, meta.channel_names);
  EXPECT_EQ(read.labels, meta.labels);
  EXPECT_EQ(read.num_training, 7);
}

TEST(DatasetJson, ProblemsNameTheFileAndTheKey) {
  TempDir dir;
  write_json(dir / "a.json", R"({"labels": {"background": 0}, "numTraining": 1})");
  EXPECT_NE(error_of(dir / "a.json").find("channel_names"), std::string::npos);
  write_json(dir / "b.json",
             R"({"channel_names": {"0": "CT"}, "labels": {"background": 0}, "numTraining": "x"})");
  EXPECT_NE(error_of(dir / "b.json").find("numTraining"), std::string::npos);
  write_json(dir / "c.json", R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, )");
  EXPECT_NE(error_of(dir / "c.json").find("c.json: not valid JSON"), std::string::npos)
      << error_of(dir / "c.json");
  write_json(
      dir / "d.json",
      R"({"channel_names": {"0": "CT", "2": "PET"}, "labels": {"background": 0}, "numTraining": 1})");
  EXPECT_NE(error_of(dir / "d.json").find("channel 1 missing"), std::string::npos);
  write_json(
      dir / "e.json",
      R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "liver": [1, 2]}, "numTraining": 1})");
  EXPECT_NE(error_of(dir / "e.json").find("region-based"), std::string::npos);
  EXPECT_NE(error_of(dir / "missing.json").find("missing.json"), std::string::npos);
}

TEST(Dataset, OpensCasesWithAllChannelsInOrder) {
  TempDir dir;
  medkd::io::DatasetJson meta;
  meta.channel_names = {"CT", "PET"};
  meta.labels = {{"background", 0}, {"tumour", 1}};
  meta.num_training = 1;
  medkd::io::write_dataset_json(meta, dir / "dataset.json");
  medkd::io::Image image{torch::zeros({1, 2, 2, 2}), {}};
  medkd::io::write_image(image, dir / "imagesTr/p1_0000.nii.gz");
  medkd::io::write_image(image, dir / "imagesTr/p1_0001.nii.gz");
  medkd::io::write_image(medkd::io::Image{torch::zeros({1, 2, 2, 2}, torch::kUInt8), {}},
                         dir / "labelsTr/p1.nii.gz");
  medkd::io::write_image(image, dir / "imagesTs/q_0000.nii.gz");
  medkd::io::write_image(image, dir / "imagesTs/q_0001.nii.gz");
  const auto dataset = medkd::io::open_dataset(dir.path());
  ASSERT_EQ(dataset.training.size(), 1u);
  EXPECT_EQ(dataset.training[0].id, "p1");
  EXPECT_EQ(dataset.training[0].images[1].filename(), "p1_0001.nii.gz");
  ASSERT_TRUE(dataset.training[0].label.has_value());
  ASSERT_EQ(dataset.test.size(), 1u);
  EXPECT_FALSE(dataset.test[0].label.has_value());

  fs::remove(dir / "imagesTr/p1_0001.nii.gz");
  EXPECT_THROW(medkd::io::open_dataset(dir.path()), medkd::Error);
}

TEST(Dataset, ChannelFileNamesHaveFourDigits) {
  EXPECT_EQ(medkd::io::channel_file_name("case_7", 1, ".nii.gz"), "case_7_0001.nii.gz");
}
