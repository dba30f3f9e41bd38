#include "medkd/data/fingerprint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "medkd/core/error.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::io::Image;
using medkd::testing::TempDir;

namespace {

// Two cases whose foreground (label 1) is a 2x2x2 block of value 7 (case a) or 9 (case b) inside
// background of value 100, padded by a zero border that the non-zero crop removes.
medkd::io::Dataset write_two_case_dataset(const fs::path& root) {
  medkd::io::DatasetJson meta;
  meta.channel_names = {"CT"};
  meta.labels = {{"background", 0}, {"tumour", 1}};
  meta.num_training = 2;
  medkd::io::write_dataset_json(meta, root / "dataset.json");
  for (const auto& [id, value] : {std::pair<std::string, float>{"a", 7.f}, {"b", 9.f}}) {
    Image image{torch::zeros({1, 6, 7, 8}), {}};  // [C, Z, Y, X]
    image.geometry.spacing = {0.5, 0.5, 2.0};
    image.data.slice(1, 1, 5).slice(2, 1, 6).slice(3, 1, 7).fill_(100.f);  // 6x5x4 non-zero
    image.data.slice(1, 2, 4).slice(2, 2, 4).slice(3, 2, 4).fill_(value);
    Image label{torch::zeros({1, 6, 7, 8}, torch::kUInt8), image.geometry};
    label.data.slice(1, 2, 4).slice(2, 2, 4).slice(3, 2, 4).fill_(1);
    medkd::io::write_image(image, root / "imagesTr" / (id + "_0000.nii.gz"));
    medkd::io::write_image(label, root / "labelsTr" / (id + ".nii.gz"));
  }
  return medkd::io::open_dataset(root);
}

medkd::data::FingerprintOptions quiet_options() {
  medkd::data::FingerprintOptions options;
  options.quiet = true;
  options.max_foreground_samples_per_case = 500;
  return options;
}

}  // namespace

TEST(Fingerprint, IntensityStatisticsMatchNumpy) {
  std::vector<float> values;
  for (int i = 100; i >= 1; --i) values.push_back(static_cast<float>(i));
  const auto s = medkd::data::intensity_statistics(values);
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_NEAR(s.std, std::sqrt((100.0 * 100.0 - 1.0) / 12.0), 1e-12);  // ddof = 0
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 100.0);
  EXPECT_DOUBLE_EQ(s.median, 50.5);
  // numpy.percentile(range(1, 101), 0.5) = 1 + 0.005 * 99, and 99.5 -> 1 + 0.995 * 99.
  EXPECT_NEAR(s.percentile_00_5, 1.495, 1e-9);
  EXPECT_NEAR(s.percentile_99_5, 99.505, 1e-9);
}

TEST(Fingerprint, StatisticsComeFromLabelledVoxelsPooledOverCases) {
  TempDir dir;
  const auto dataset = write_two_case_dataset(dir.path());
  const auto fingerprint = medkd::data::fingerprint_dataset(dataset, quiet_options());
  ASSERT_EQ(fingerprint.foreground_intensities.size(), 1u);
  const auto& s = fingerprint.foreground_intensities[0];
  // 500 samples of 7 and 500 of 9: the background value 100 never appears.
  EXPECT_EQ(s.count, 1000);
  EXPECT_DOUBLE_EQ(s.mean, 8.0);
  EXPECT_DOUBLE_EQ(s.std, 1.0);
  EXPECT_DOUBLE_EQ(s.min, 7.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_DOUBLE_EQ(s.median, 8.0);
  EXPECT_EQ(fingerprint.channel_names, std::vector<std::string>{"CT"});
  EXPECT_EQ(fingerprint.label_values, (std::vector<int>{0, 1}));
  EXPECT_EQ(fingerprint.label_names, (std::vector<std::string>{"background", "tumour"}));
}

TEST(Fingerprint, RecordsSpacingSizeAndSizeAfterTheNonZeroCrop) {
  TempDir dir;
  const auto fingerprint =
      medkd::data::fingerprint_dataset(write_two_case_dataset(dir.path()), quiet_options());
  ASSERT_EQ(fingerprint.cases.size(), 2u);
  const auto& c = fingerprint.cases[1];
  EXPECT_EQ(c.id, "b");
  EXPECT_EQ(c.spacing, (std::array<double, 3>{0.5, 0.5, 2.0}));
  EXPECT_EQ(c.size, (std::array<int64_t, 3>{8, 7, 6}));
  EXPECT_EQ(c.size_after_crop, (std::array<int64_t, 3>{6, 5, 4}));
  EXPECT_EQ(c.foreground_voxels, 8);
}

TEST(Fingerprint, JsonRoundTripKeepsEveryField) {
  TempDir dir;
  const auto fingerprint =
      medkd::data::fingerprint_dataset(write_two_case_dataset(dir.path()), quiet_options());
  medkd::data::save_fingerprint(fingerprint, dir / "fingerprint.json");
  const auto loaded = medkd::data::load_fingerprint(dir / "fingerprint.json");
  EXPECT_EQ(medkd::data::fingerprint_to_json(loaded).dump(),
            medkd::data::fingerprint_to_json(fingerprint).dump());
}

TEST(Fingerprint, DoesNotDependOnTheNumberOfThreads) {
  TempDir dir;
  const auto dataset = write_two_case_dataset(dir.path());
  auto options = quiet_options();
  options.threads = 1;
  const auto one =
      medkd::data::fingerprint_to_json(medkd::data::fingerprint_dataset(dataset, options));
  options.threads = 2;
  const auto two =
      medkd::data::fingerprint_to_json(medkd::data::fingerprint_dataset(dataset, options));
  EXPECT_EQ(one.dump(), two.dump());
}

TEST(Fingerprint, AMalformedFileIsAnErrorNamingItAndTheKey) {
  TempDir dir;
  std::ofstream(dir / "fp.json") << R"({"channel_names": ["CT"], "label_values": [0, 1]})";
  try {
    medkd::data::load_fingerprint(dir / "fp.json");
    FAIL() << "expected an error";
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("label_names"), std::string::npos) << e.what();
  }
}
