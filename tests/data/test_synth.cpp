#include "medkd/data/synth/synth_dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "medkd/core/error.h"
#include "medkd/core/threads.h"
#include "medkd/data/synth/mri.h"
#include "medkd/data/synth/petct.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
namespace synth = medkd::data::synth;
using medkd::testing::TempDir;

namespace {

synth::SynthOptions tiny(const std::string& kind, uint64_t seed = 0) {
  synth::SynthOptions options;
  options.kind = kind;
  options.preset = "tiny";
  options.seed = seed;
  options.out = "unused";
  options.quiet = true;
  return options;
}

synth::SynthPlan tiny_plan(const std::string& kind, uint64_t seed = 0) {
  return synth::plan_synth_dataset(tiny(kind, seed));
}

// A plan for a small grid over the standard field of view, for the image-content tests.
synth::SynthPlan small_plan(const std::string& kind, std::array<int64_t, 3> size,
                            std::array<double, 3> spacing) {
  synth::SynthOptions options = tiny(kind);
  options.size = size;
  options.spacing = spacing;
  return synth::plan_synth_dataset(options);
}

std::string error_of(const synth::SynthOptions& options) {
  try {
    synth::plan_synth_dataset(options);
  } catch (const medkd::Error& e) {
    return e.what();
  }
  return "";
}

template <typename Parse>
std::string parse_error(Parse parse) {
  try {
    parse();
  } catch (const medkd::Error& e) {
    return e.what();
  }
  return "";
}

std::vector<float> channel_values(const synth::SynthImages& images, int64_t channel) {
  const torch::Tensor c = images.image.data[channel].contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

std::vector<uint8_t> label_values(const synth::SynthImages& images) {
  const torch::Tensor l = images.label.data.contiguous();
  return {l.data_ptr<uint8_t>(), l.data_ptr<uint8_t>() + l.numel()};
}

// The best Dice that any threshold on one channel reaches for `label`, over both directions
// (above and below the threshold): voxels are sorted by value and every cut is tried.
double best_threshold_dice(const std::vector<float>& values, const std::vector<uint8_t>& labels,
                           uint8_t label) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  const auto reference = std::count(labels.begin(), labels.end(), label);
  double best = 0;
  for (bool above : {false, true}) {
    int64_t hits = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      const size_t i = above ? order[order.size() - 1 - k] : order[k];
      hits += labels[i] == label;
      best = std::max(best, 2.0 * hits / static_cast<double>(k + 1 + reference));
    }
  }
  return best;
}

}  // namespace

// ---- Options -----------------------------------------------------------------------------------

TEST(SynthOptions, PresetFillsOnlyWhatIsNotGiven) {
  synth::SynthOptions options = tiny("petct");
  options.cases = 7;
  options.spacing = std::array<double, 3>{5, 5, 5};
  const auto plan = synth::plan_synth_dataset(options);
  const auto preset = synth::synth_presets("petct")[1];
  ASSERT_EQ(preset.name, "tiny");
  EXPECT_EQ(plan.cases, 7);
  EXPECT_EQ(plan.grid.size, preset.size);
  EXPECT_EQ(plan.grid.spacing, (std::array<double, 3>{5, 5, 5}));
}

TEST(SynthOptions, MriIsAnisotropicByDefault) {
  synth::SynthOptions options = tiny("mri");
  options.preset = "standard";
  const auto plan = synth::plan_synth_dataset(options);
  EXPECT_EQ(plan.grid.spacing, (std::array<double, 3>{0.5, 0.5, 3.0}));
  EXPECT_GT(plan.grid.spacing[2], 4 * plan.grid.spacing[0]);
  const auto tiny_plan_mri = tiny_plan("mri");
  EXPECT_GT(tiny_plan_mri.grid.spacing[2], tiny_plan_mri.grid.spacing[0]);
}

TEST(SynthOptions, BadOptionsAreErrorsThatNameTheOption) {
  auto with = [](auto change) {
    synth::SynthOptions options = tiny("petct");
    change(options);
    return error_of(options);
  };
  EXPECT_EQ(with([](auto& o) { o.kind = "ct"; }), "--kind must be petct or mri, got 'ct'");
  EXPECT_EQ(with([](auto& o) { o.preset = "huge"; }),
            "--preset must be standard or tiny, got 'huge'");
  EXPECT_NE(with([](auto& o) { o.cases = 0; }).find("--cases"), std::string::npos);
  EXPECT_NE(with([](auto& o) { o.test_cases = -1; }).find("--test-cases"), std::string::npos);
  EXPECT_EQ(with([](auto& o) {
              o.size = std::array<int64_t, 3>{0, 4, 4};
            }),
            "--size must be three positive integers, got 0,4,4");
  EXPECT_NE(with([](auto& o) {
              o.size = std::array<int64_t, 3>{4096, 4096, 4096};
            }).find("--size 4096,4096,4096 has"),
            std::string::npos);
  EXPECT_EQ(with([](auto& o) {
              o.spacing = std::array<double, 3>{1, 0, 1};
            }),
            "--spacing must be three positive numbers (mm), got 1,0,1");
  EXPECT_NE(with([](auto& o) {
              o.spacing = std::array<double, 3>{1, NAN, 1};
            }).find("--spacing"),
            std::string::npos);
  EXPECT_NE(with([](auto& o) { o.out.clear(); }).find("--out"), std::string::npos);
  EXPECT_EQ(with([](auto&) {}), "");
}

TEST(SynthOptions, TriplesAreParsedOrRejectedWithTheOptionName) {
  EXPECT_EQ(synth::parse_size("96,96,64"), (std::array<int64_t, 3>{96, 96, 64}));
  EXPECT_EQ(synth::parse_size(" 8, 9 ,10"), (std::array<int64_t, 3>{8, 9, 10}));
  EXPECT_EQ(synth::parse_spacing("0.5,0.5,3"), (std::array<double, 3>{0.5, 0.5, 3.0}));
  for (const std::string bad : {"96x96x64", "1,2", "1,2,3,4", "1,2,", ",1,2", "1.5,2,3", ""}) {
    EXPECT_NE(parse_error([&] { synth::parse_size(bad); }).find("--size must be three integers"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(parse_error([] { synth::parse_spacing("1,a,2"); }),
            "--spacing must be three numbers X,Y,Z in mm (for example 2,2,3), got '1,a,2'");
  EXPECT_NE(parse_error([] { synth::parse_size("1,2", "--input"); }).find("--input"),
            std::string::npos);
}

TEST(SynthOptions, CaseIdsAreZeroPaddedAndEveryFifthCaseIsLesionFree) {
  synth::SynthPlan plan = tiny_plan("petct");
  EXPECT_EQ(synth::synth_case_id(plan, 7), "petct_007");
  plan.cases = 1200;
  EXPECT_EQ(synth::synth_case_id(plan, 7), "petct_0007");
  EXPECT_TRUE(synth::synth_case_has_lesions(0));
  EXPECT_FALSE(synth::synth_case_has_lesions(4));
  EXPECT_FALSE(synth::synth_case_has_lesions(9));
  EXPECT_TRUE(synth::synth_case_has_lesions(10));
}

// ---- Determinism --------------------------------------------------------------------------------

TEST(SynthCases, SameSeedGivesIdenticalVolumes) {
  for (const std::string kind : {"petct", "mri"}) {
    const auto a = synth::generate_synth_case(tiny_plan(kind, 3), 1);
    const auto b = synth::generate_synth_case(tiny_plan(kind, 3), 1);
    EXPECT_TRUE(torch::equal(a.image.data, b.image.data)) << kind;
    EXPECT_TRUE(torch::equal(a.label.data, b.label.data)) << kind;
  }
}

TEST(SynthCases, DifferentSeedsAndCasesGiveDifferentVolumes) {
  for (const std::string kind : {"petct", "mri"}) {
    const auto a = synth::generate_synth_case(tiny_plan(kind, 3), 1);
    const auto b = synth::generate_synth_case(tiny_plan(kind, 4), 1);
    const auto c = synth::generate_synth_case(tiny_plan(kind, 3), 2);
    EXPECT_FALSE(torch::equal(a.image.data, b.image.data)) << kind;
    EXPECT_FALSE(torch::equal(a.image.data, c.image.data)) << kind;
  }
}

TEST(SynthCases, ACaseDoesNotDependOnHowManyCasesAreRequested) {
  synth::SynthOptions few = tiny("mri", 5), many = tiny("mri", 5);
  few.cases = 2;
  many.cases = 30;
  many.test_cases = 4;
  const auto a = synth::generate_synth_case(synth::plan_synth_dataset(few), 1);
  const auto b = synth::generate_synth_case(synth::plan_synth_dataset(many), 1);
  EXPECT_TRUE(torch::equal(a.image.data, b.image.data));
}

TEST(SynthDataset, FilesDoNotDependOnTheNumberOfThreads) {
  TempDir dir;
  const int threads = medkd::core::num_threads();
  synth::SynthOptions options = tiny("petct", 11);
  options.cases = 3;
  options.out = dir / "one";
  medkd::core::set_num_threads(1);
  synth::write_synth_dataset(options);
  options.out = dir / "two";
  medkd::core::set_num_threads(2);
  synth::write_synth_dataset(options);
  medkd::core::set_num_threads(threads);
  for (const std::string file : {"imagesTr/petct_000_0001.nii.gz", "imagesTr/petct_002_0000.nii.gz",
                                 "labelsTr/petct_001.nii.gz"}) {
    const auto one = medkd::io::read_image(dir / "one" / file);
    const auto two = medkd::io::read_image(dir / "two" / file);
    EXPECT_TRUE(torch::equal(one.data, two.data)) << file;
  }
}

// ---- The written dataset ------------------------------------------------------------------------

TEST(SynthDataset, WritesTheNnUNetLayoutAndDatasetJson) {
  TempDir dir;
  synth::SynthOptions options = tiny("petct");
  options.cases = 3;
  options.test_cases = 2;
  options.out = dir / "Dataset900_Synth";
  const auto plan = synth::write_synth_dataset(options);
  EXPECT_EQ(plan.cases, 3);

  const auto meta = medkd::io::read_dataset_json(options.out / "dataset.json");
  EXPECT_EQ(meta.channel_names, (std::vector<std::string>{"CT", "PET"}));
  EXPECT_EQ(meta.label_values(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(meta.label_name(1), "tumour");
  EXPECT_EQ(meta.label_name(2), "lymph_node");
  EXPECT_EQ(meta.num_training, 3);
  EXPECT_EQ(meta.file_ending, ".nii.gz");
  EXPECT_FALSE(meta.name.empty());
  EXPECT_NE(meta.description.find("--seed 0"), std::string::npos);

  for (const std::string file : {"imagesTr/petct_000_0000.nii.gz", "imagesTr/petct_002_0001.nii.gz",
                                 "labelsTr/petct_002.nii.gz", "imagesTs/petct_003_0000.nii.gz",
                                 "imagesTs/petct_004_0001.nii.gz", "labelsTs/petct_004.nii.gz"}) {
    EXPECT_TRUE(fs::exists(options.out / file)) << file;
  }
  EXPECT_FALSE(fs::exists(options.out / "imagesTr/petct_003_0000.nii.gz"));
  const auto dataset = medkd::io::open_dataset(options.out);
  EXPECT_EQ(dataset.training.size(), 3u);
  EXPECT_EQ(dataset.test.size(), 2u);
}

TEST(SynthDataset, UnlabelledCasesGoToImagesUlWithoutLabelsAfterTheTestCases) {
  TempDir dir;
  synth::SynthOptions options = tiny("petct");
  options.cases = 2;
  options.test_cases = 1;
  options.unlabelled_cases = 2;
  options.out = dir / "Dataset901_Synth";
  synth::write_synth_dataset(options);
  for (const std::string file :
       {"imagesUl/petct_003_0000.nii.gz", "imagesUl/petct_004_0001.nii.gz"})
    EXPECT_TRUE(fs::exists(options.out / file)) << file;
  EXPECT_FALSE(fs::exists(options.out / "labelsUl"));
  EXPECT_FALSE(fs::exists(options.out / "labelsTr/petct_003.nii.gz"));
  const auto dataset = medkd::io::open_dataset(options.out);
  EXPECT_EQ(dataset.training.size(), 2u);
  EXPECT_EQ(dataset.test.size(), 1u);
  ASSERT_EQ(dataset.unlabelled.size(), 2u);
  EXPECT_FALSE(dataset.unlabelled[0].label.has_value());
  // An unlabelled case is the case a longer dataset would have at that index.
  EXPECT_EQ(medkd::io::read_dataset_json(options.out / "dataset.json").num_training, 2);
  options.unlabelled_cases = -1;
  EXPECT_NE(error_of(options).find("--unlabelled-cases"), std::string::npos);
}

TEST(SynthDataset, MriDatasetJsonDeclaresThePiCaiChannels) {
  TempDir dir;
  synth::SynthOptions options = tiny("mri");
  options.cases = 1;
  options.out = dir / "mri";
  synth::write_synth_dataset(options);
  const auto meta = medkd::io::read_dataset_json(options.out / "dataset.json");
  EXPECT_EQ(meta.channel_names, (std::vector<std::string>{"T2W", "ADC", "HBV"}));
  EXPECT_EQ(meta.label_values(), (std::vector<int>{0, 1}));
  EXPECT_EQ(meta.label_name(1), "lesion");
}

TEST(SynthDataset, FilesCarryTheRequestedSizeSpacingAndACentredOrigin) {
  TempDir dir;
  synth::SynthOptions options = tiny("mri");
  options.cases = 1;
  options.size = std::array<int64_t, 3>{20, 16, 6};
  options.spacing = std::array<double, 3>{0.8, 0.7, 3.5};
  options.out = dir / "mri";
  synth::write_synth_dataset(options);
  for (const std::string file : {"imagesTr/mri_000_0000.nii.gz", "imagesTr/mri_000_0002.nii.gz",
                                 "labelsTr/mri_000.nii.gz"}) {
    const auto header = medkd::io::read_image_header(options.out / file);
    EXPECT_EQ(header.size_xyz, (std::array<int64_t, 3>{20, 16, 6})) << file;
    for (int axis = 0; axis < 3; ++axis) {
      EXPECT_NEAR(header.geometry.spacing[axis], (*options.spacing)[axis], 1e-5) << file;
      const double centred = -0.5 * ((*options.size)[axis] - 1) * (*options.spacing)[axis];
      EXPECT_NEAR(header.geometry.origin[axis], centred, 1e-4) << file;
    }
  }
  EXPECT_FALSE(
      medkd::io::read_image_header(options.out / "imagesTr/mri_000_0000.nii.gz").is_integer);
  const auto label = medkd::io::read_image(options.out / "labelsTr/mri_000.nii.gz");
  EXPECT_EQ(label.data.scalar_type(), torch::kUInt8);
}

TEST(SynthDataset, ExistingFolderIsReplacedOnlyWithOverwrite) {
  TempDir dir;
  synth::SynthOptions options = tiny("mri");
  options.cases = 1;
  options.out = dir / "mri";
  synth::write_synth_dataset(options);
  EXPECT_THROW(synth::write_synth_dataset(options), medkd::Error);
  options.overwrite = true;
  options.cases = 2;
  synth::write_synth_dataset(options);
  EXPECT_TRUE(fs::exists(options.out / "labelsTr/mri_001.nii.gz"));
}

// ---- Content ------------------------------------------------------------------------------------

TEST(SynthCases, LabelValuesAreDeclaredAndMostCasesHaveLesions) {
  for (const std::string kind : {"petct", "mri"}) {
    const auto plan = tiny_plan(kind, 2);
    const auto declared = kind == "petct" ? synth::petct_labels() : synth::mri_labels();
    int with_lesions = 0;
    for (int64_t index = 0; index < 10; ++index) {
      const auto labels = label_values(synth::generate_synth_case(plan, index));
      for (uint8_t value : labels) {
        ASSERT_TRUE(std::any_of(declared.begin(), declared.end(),
                                [&](const auto& entry) { return entry.second == value; }))
            << kind << " case " << index << " value " << int(value);
      }
      const bool any = std::any_of(labels.begin(), labels.end(), [](uint8_t v) { return v > 0; });
      if (!synth::synth_case_has_lesions(index)) {
        EXPECT_FALSE(any) << kind << " case " << index;
      }
      with_lesions += any;
    }
    EXPECT_GE(with_lesions, 7) << kind;  // 8 of the 10 cases are drawn with lesions
  }
}

TEST(SynthCases, CtIsInHounsfieldUnitsWithAirSoftTissueAndBone) {
  const auto images = synth::generate_synth_case(tiny_plan("petct"), 0);
  const auto ct = channel_values(images, 0);
  const auto [low, high] = std::minmax_element(ct.begin(), ct.end());
  EXPECT_GE(*low, -1024.0f);
  EXPECT_LE(*high, 3071.0f);
  EXPECT_LT(ct.front(), -900.0f);  // a corner of the field of view is air
  const auto soft =
      std::count_if(ct.begin(), ct.end(), [](float v) { return v > -150 && v < 150; });
  const auto bone = std::count_if(ct.begin(), ct.end(), [](float v) { return v > 300; });
  EXPECT_GT(soft, static_cast<int64_t>(ct.size() / 5));
  EXPECT_GT(bone, 0);
}

TEST(SynthCases, PetHasHotPhysiologicalUptakeOutsideTheLabels) {
  // Brain, tonsils and salivary glands are hot without being tumour: a PET threshold that
  // catches the tumour also catches them. Case 4 has no lesion at all.
  const auto images = synth::generate_synth_case(tiny_plan("petct"), 4);
  const auto pet = channel_values(images, 1);
  const auto labels = label_values(images);
  ASSERT_TRUE(std::all_of(labels.begin(), labels.end(), [](uint8_t v) { return v == 0; }));
  EXPECT_GT(*std::max_element(pet.begin(), pet.end()), 4.0f);
  EXPECT_GE(*std::min_element(pet.begin(), pet.end()), 0.0f);
}

TEST(SynthCases, NoSingleChannelThresholdSegmentsTheTumour) {
  const auto plan = small_plan("petct", {48, 48, 32}, {4, 4, 6});
  std::array<double, 2> mean_dice{0, 0};
  int cases = 0;
  for (int64_t index = 0; index < 4; ++index) {
    const auto images = synth::generate_synth_case(plan, index);
    const auto labels = label_values(images);
    if (std::count(labels.begin(), labels.end(), synth::kPetCtTumour) == 0) continue;
    ++cases;
    for (int channel = 0; channel < 2; ++channel) {
      mean_dice[channel] +=
          best_threshold_dice(channel_values(images, channel), labels, synth::kPetCtTumour);
    }
  }
  ASSERT_GE(cases, 3);
  EXPECT_LT(mean_dice[0] / cases, 0.2) << "CT";
  EXPECT_LT(mean_dice[1] / cases, 0.6) << "PET";
}

TEST(SynthCases, NoSingleChannelThresholdSegmentsProstateLesions) {
  const auto plan = small_plan("mri", {48, 48, 12}, {2, 2, 6});
  std::array<double, 3> mean_dice{0, 0, 0};
  int cases = 0;
  for (int64_t index = 0; index < 4; ++index) {
    const auto images = synth::generate_synth_case(plan, index);
    const auto labels = label_values(images);
    if (std::count(labels.begin(), labels.end(), synth::kMriLesion) == 0) continue;
    ++cases;
    for (int channel = 0; channel < 3; ++channel) {
      mean_dice[channel] +=
          best_threshold_dice(channel_values(images, channel), labels, synth::kMriLesion);
    }
  }
  ASSERT_GE(cases, 3);
  for (int channel = 0; channel < 3; ++channel) {
    EXPECT_LT(mean_dice[channel] / cases, 0.6) << synth::mri_channel_names()[channel];
  }
}

TEST(SynthCases, LesionsHaveLowerAdcAndBrighterDwiThanTheGland) {
  // The gland always covers an ellipsoid of 12 x 9 x 10 mm around the volume's centre.
  const auto plan = small_plan("mri", {64, 64, 12}, {1.5, 1.5, 6});
  const medkd::data::synth::Grid& grid = plan.grid;
  int cases = 0;
  for (int64_t index = 0; index < 4; ++index) {
    const auto images = synth::generate_synth_case(plan, index);
    const auto labels = label_values(images);
    const auto adc = channel_values(images, 1);
    const auto hbv = channel_values(images, 2);
    double lesion_adc = 0, lesion_hbv = 0, gland_adc = 0, gland_hbv = 0;
    int64_t lesion = 0, gland = 0;
    for (int64_t z = 0; z < grid.size[2]; ++z) {
      for (int64_t y = 0; y < grid.size[1]; ++y) {
        for (int64_t x = 0; x < grid.size[0]; ++x) {
          const auto p = grid.point(x, y, z);
          const int64_t i = grid.index(x, y, z);
          if (labels[i] == synth::kMriLesion) {
            lesion_adc += adc[i];
            lesion_hbv += hbv[i];
            ++lesion;
          } else if (std::pow(p[0] / 12, 2) + std::pow(p[1] / 9, 2) + std::pow(p[2] / 10, 2) <= 1) {
            gland_adc += adc[i];
            gland_hbv += hbv[i];
            ++gland;
          }
        }
      }
    }
    if (lesion == 0) continue;
    ++cases;
    EXPECT_LT(lesion_adc / lesion, gland_adc / gland) << "case " << index;
    EXPECT_GT(lesion_hbv / lesion, gland_hbv / gland) << "case " << index;
    EXPECT_LT(lesion_adc / lesion, 1500.0) << "ADC is in 1e-6 mm^2/s";
  }
  EXPECT_GE(cases, 3);
}
