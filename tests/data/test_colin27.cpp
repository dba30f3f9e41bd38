#include "medkd/data/colin27.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image_io.h"
#include "test_support.h"

namespace fs = std::filesystem;
namespace data = medkd::data;
using medkd::testing::error_of;
using medkd::testing::TempDir;

namespace {

// Colin27's axes: index x toward the subject's right, y anterior, z superior (LPS direction).
constexpr std::array<double, 9> kColinDirection{-1, 0, 0, 0, -1, 0, 0, 0, 1};
// KmeansTest's axes: index x toward the left, y superior, z anterior (a coronal acquisition).
constexpr std::array<double, 9> kCoronalDirection{1, 0, 0, 0, 0, -1, 0, 1, 0};

// A [1, Z, Y, X] uint8 image of zeros with the given size (x, y, z) and geometry.
medkd::io::Image zeros(std::array<int64_t, 3> size, std::array<double, 9> direction,
                       std::array<double, 3> origin, std::array<double, 3> spacing = {1, 1, 1}) {
  medkd::io::Image image;
  image.data = torch::zeros({1, size[2], size[1], size[0]}, torch::kUInt8);
  image.geometry.direction = direction;
  image.geometry.origin = origin;
  image.geometry.spacing = spacing;
  return image;
}

void set(medkd::io::Image& image, int64_t x, int64_t y, int64_t z, int value) {
  image.data[0][z][y][x] = value;
}

// World position of voxel (x, y, z).
std::array<double, 3> world(const medkd::io::Geometry& g, std::array<double, 3> index) {
  std::array<double, 3> point = g.origin;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) point[r] += g.direction[r * 3 + c] * index[c] * g.spacing[c];
  }
  return point;
}

// A brain of 20 x 12 x 30 voxels at 1 mm with Colin27's axes and the midline (world x = 0) at
// column 10: a box of brain at x 2..17, y 5..7, z 2..25 (48 voxels a slice) and one voxel in each
// of slices 26 and 27, so the block starting at 26 holds almost no brain.
medkd::io::Image fake_brain() {
  medkd::io::Image brain = zeros({20, 12, 30}, kColinDirection, {10, 0, 0});
  brain.data[0].slice(0, 2, 26).slice(1, 5, 8).slice(2, 2, 18).fill_(60);
  set(brain, 9, 6, 26, 60);
  set(brain, 9, 6, 27, 60);
  return brain;
}

data::Colin27Plan plan_of(const std::string& split, int64_t block_slices, int64_t gap) {
  data::Colin27Options options;
  options.split = split;
  options.block_slices = block_slices;
  options.gap = gap;
  options.out = "unused";
  return data::plan_colin27(options);
}

std::string aal_names_text(const std::string& line_end) {
  std::string text;
  for (int r = 1; r <= 116; ++r)
    text += std::to_string(r) + " Region" + std::to_string(r) + " " + std::to_string(2000 + r) +
            line_end;
  return text;
}

// Fake mricron-data templates: the fake brain, an atlas with region 1 (Precentral_L, frontal) on
// the left half of the brain box and region 92 (Cerebelum_Crus1_R) on part of the right half.
void write_fake_templates(const fs::path& folder) {
  fs::create_directories(folder);
  const medkd::io::Image brain = fake_brain();
  medkd::io::Image aal = zeros({20, 12, 30}, kColinDirection, {10, 0, 0});
  aal.data[0].slice(0, 2, 26).slice(1, 5, 8).slice(2, 2, 10).fill_(1);
  aal.data[0].slice(0, 2, 26).slice(1, 5, 7).slice(2, 11, 18).fill_(92);
  medkd::io::write_image(brain, folder / "ch2bet.nii.gz");
  medkd::io::write_image(aal, folder / "aal.nii.gz");
  medkd::core::write_text_file(folder / "aal.nii.txt", aal_names_text("\r\n"));
}

// A fake second subject of 6 x 5 x 4 voxels at 2 x 2 x 3 mm, stored coronally like KmeansTest.
struct FakeSecondSubject {
  medkd::io::Image t1, kmeans, strip;
};
FakeSecondSubject fake_second_subject() {
  FakeSecondSubject s;
  s.t1 = zeros({6, 5, 4}, kCoronalDirection, {0, 254, 0}, {2, 2, 3});
  s.t1.data = torch::arange(1, 121, torch::kInt16).reshape({1, 4, 5, 6});
  s.kmeans = zeros({6, 5, 4}, kCoronalDirection, {0, 254, 0}, {2, 2, 3});
  s.strip = zeros({6, 5, 4}, kCoronalDirection, {0, 254, 0}, {2, 2, 3});
  set(s.kmeans, 1, 1, 1, 5);  // grey matter inside the brain
  set(s.strip, 1, 1, 1, 6);
  set(s.kmeans, 2, 1, 1, 6);  // white matter inside the brain
  set(s.strip, 2, 1, 1, 6);
  set(s.kmeans, 3, 1, 1, 4);  // CSF in the brain's shell
  set(s.strip, 3, 1, 1, 5);
  set(s.kmeans, 4, 1, 1, 5);  // grey-matter class outside the skull strip: not brain
  set(s.kmeans, 1, 2, 2, 3);  // an outside-brain class inside the strip: not brain
  set(s.strip, 1, 2, 2, 6);
  return s;
}

void write_fake_second_subject(const fs::path& folder) {
  fs::create_directories(folder);
  const FakeSecondSubject s = fake_second_subject();
  medkd::io::write_image(s.t1, folder / "KmeansTest_T1UCharRaw.nii.gz");
  medkd::io::write_image(s.kmeans, folder / "KmeansTest_T1KmeansPrelimSegmentation.nii.gz");
  medkd::io::write_image(s.strip, folder / "KmeansTest_T1RawSkullStrip.nii.gz");
}

std::vector<int64_t> values_of(const torch::Tensor& t) {
  const torch::Tensor flat = t.flatten().to(torch::kLong).contiguous();
  return {flat.data_ptr<int64_t>(), flat.data_ptr<int64_t>() + flat.numel()};
}

}  // namespace

TEST(Colin27, MergedClassesFollowTheLobesOfTheAalTable) {
  EXPECT_EQ(data::merged_class_of_aal_region(1), 1);    // Precentral_L: frontal
  EXPECT_EQ(data::merged_class_of_aal_region(28), 1);   // Rectus_R
  EXPECT_EQ(data::merged_class_of_aal_region(29), 5);   // Insula_L: limbic_insula
  EXPECT_EQ(data::merged_class_of_aal_region(40), 5);   // ParaHippocampal_R
  EXPECT_EQ(data::merged_class_of_aal_region(41), 6);   // Amygdala_L: deep_grey
  EXPECT_EQ(data::merged_class_of_aal_region(43), 4);   // Calcarine_L: occipital
  EXPECT_EQ(data::merged_class_of_aal_region(56), 4);   // Fusiform_R
  EXPECT_EQ(data::merged_class_of_aal_region(57), 2);   // Postcentral_L: parietal
  EXPECT_EQ(data::merged_class_of_aal_region(68), 2);   // Precuneus_R
  EXPECT_EQ(data::merged_class_of_aal_region(69), 1);   // Paracentral_Lobule_L: frontal
  EXPECT_EQ(data::merged_class_of_aal_region(77), 6);   // Thalamus_L
  EXPECT_EQ(data::merged_class_of_aal_region(79), 3);   // Heschl_L: temporal
  EXPECT_EQ(data::merged_class_of_aal_region(88), 3);   // Temporal_Pole_Mid_R
  EXPECT_EQ(data::merged_class_of_aal_region(91), 7);   // Cerebelum_Crus1_L
  EXPECT_EQ(data::merged_class_of_aal_region(116), 7);  // Vermis_10
  EXPECT_NE(error_of([] { data::merged_class_of_aal_region(0); }).find("outside 1..116"),
            std::string::npos);
  EXPECT_NE(error_of([] { data::merged_class_of_aal_region(117); }), "");
}

TEST(Colin27, EveryMergedClassHoldsTheExpectedNumberOfAalRegions) {
  std::map<int, int> regions;
  for (int r = 1; r <= 116; ++r) ++regions[data::merged_class_of_aal_region(r)];
  // frontal 28 + paracentral 2; parietal 12; temporal 12; occipital 14; limbic 12; deep 2 + 8;
  // cerebellum 18 hemispheric + 8 vermis.
  const std::map<int, int> expected = {{1, 30}, {2, 12}, {3, 12}, {4, 14},
                                       {5, 12}, {6, 10}, {7, 26}};
  EXPECT_EQ(regions, expected);
  ASSERT_EQ(data::merged_classes().size(), 8u);
  EXPECT_EQ(data::merged_classes().back().name, "rest_of_brain");
  EXPECT_NE(data::merged_classes_text().find("  7 cerebellum"), std::string::npos);
}

TEST(Colin27, LabelMapMakesBrainOutsideEveryRegionRestOfBrainAndZeroesNonBrain) {
  // Voxels: non-brain with a region, brain without one, brain in region 91, non-brain.
  const torch::Tensor brain = torch::tensor({0, 5, 5, 0}, torch::kUInt8).reshape({1, 1, 1, 4});
  const torch::Tensor aal = torch::tensor({3, 0, 91, 0}, torch::kUInt8).reshape({1, 1, 1, 4});
  EXPECT_EQ(values_of(data::colin27_label_map(brain, aal, data::Colin27Labels::kMerged)),
            (std::vector<int64_t>{0, 8, 7, 0}));
  EXPECT_EQ(values_of(data::colin27_label_map(brain, aal, data::Colin27Labels::kAal)),
            (std::vector<int64_t>{0, 117, 91, 0}));
  const torch::Tensor bad = torch::tensor({0, 0, 120, 0}, torch::kUInt8).reshape({1, 1, 1, 4});
  EXPECT_NE(error_of([&] {
              data::colin27_label_map(brain, bad, data::Colin27Labels::kAal);
            }).find("0..120"),
            std::string::npos);
}

TEST(Colin27, AalNamesAreReadWithWindowsLineEndingsAndMissingRegionsAreRefused) {
  TempDir dir;
  medkd::core::write_text_file(dir / "aal.nii.txt", aal_names_text("\r\n") + "\r\n");
  const auto names = data::read_aal_names(dir / "aal.nii.txt");
  ASSERT_EQ(names.size(), 116u);
  EXPECT_EQ(names.at(1), "Region1");
  EXPECT_EQ(names.at(116), "Region116");

  medkd::core::write_text_file(dir / "short.txt", "1 Precentral_L 2001\n2 Precentral_R 2002\n");
  EXPECT_NE(error_of([&] {
              data::read_aal_names(dir / "short.txt");
            }).find("expected 116 regions, found 2"),
            std::string::npos);
  medkd::core::write_text_file(dir / "bad.txt", "1 Precentral_L 2001\nPrecentral_R\n");
  EXPECT_NE(error_of([&] { data::read_aal_names(dir / "bad.txt"); }).find("bad.txt:2"),
            std::string::npos);
}

TEST(Colin27, DatasetLabelsListRegionsByIndexThenRestOfBrain) {
  std::map<int, std::string> names;
  for (int r = 1; r <= 116; ++r) names[r] = "R" + std::to_string(r);
  const auto aal = data::colin27_dataset_labels(data::Colin27Labels::kAal, names);
  ASSERT_EQ(aal.size(), 118u);
  EXPECT_EQ(aal[0], (std::pair<std::string, int>{"background", 0}));
  EXPECT_EQ(aal[5], (std::pair<std::string, int>{"R5", 5}));
  EXPECT_EQ(aal.back(), (std::pair<std::string, int>{"rest_of_brain", 117}));
  const auto merged = data::colin27_dataset_labels(data::Colin27Labels::kMerged, {});
  ASSERT_EQ(merged.size(), 9u);
  EXPECT_EQ(merged[1], (std::pair<std::string, int>{"frontal", 1}));
}

TEST(Colin27, BlocksSkipNearlyEmptySlicesAndSendEveryThirdBlockToTest) {
  // Blocks of 4 slices 2 apart from the lowest brain slice (2): 2-5, 8-11, 14-17, 20-23, and
  // 26-27, which holds 2 brain voxels, less than 10% of 4 x 48 = 19.2, so is skipped.
  const auto blocks = data::plan_colin27_blocks(fake_brain(), plan_of("blocks", 4, 2));
  ASSERT_EQ(blocks.size(), 4u);
  const std::vector<int64_t> firsts = {2, 8, 14, 20};
  for (size_t k = 0; k < blocks.size(); ++k) {
    EXPECT_EQ(blocks[k].slice_first, firsts[k]);
    EXPECT_EQ(blocks[k].slice_last, firsts[k] + 3);
    EXPECT_EQ(blocks[k].brain_voxels, 4 * 48);
    EXPECT_EQ(blocks[k].test, k == 1) << k;
    // Brain x 2..17, y 5..7 plus 4 voxels, clipped to the 20 x 12 slice; z = the block's slices.
    EXPECT_EQ(blocks[k].box.start, (std::array<int64_t, 3>{0, 1, firsts[k]}));
    EXPECT_EQ(blocks[k].box.size, (std::array<int64_t, 3>{20, 11, 4}));
  }
  EXPECT_EQ(blocks[0].id, "colin27_b00");
  EXPECT_EQ(blocks[3].id, "colin27_b03");
}

TEST(Colin27, HemisphereSplitTrainsOnTheLeftAndLeavesGapColumnsAtTheMidline) {
  // World x = 10 - column (LPS, + is the subject's left): the left hemisphere is columns < 10.
  // A gap of 2 leaves out columns 9 and 10; left blocks use 0..8, right blocks 11..19.
  const auto blocks = data::plan_colin27_blocks(fake_brain(), plan_of("hemisphere", 8, 2));
  // Each side: slices 2-9, 12-19 and 22-25; the voxels of slices 26-27 lie in the gap (column 9).
  ASSERT_EQ(blocks.size(), 6u);
  for (const auto& block : blocks) {
    const bool left = block.id.rfind("colin27_left_b", 0) == 0;
    EXPECT_EQ(block.test, !left) << block.id;
    const int64_t x_last = block.box.start[0] + block.box.size[0] - 1;
    if (left) {
      // Brain columns 2..8 plus 4 voxels, clipped to the left region 0..8.
      EXPECT_EQ(block.box.start[0], 0) << block.id;
      EXPECT_EQ(x_last, 8) << block.id;
    } else {
      // Brain columns 11..17 plus 4 voxels, clipped to the right region 11..19.
      EXPECT_EQ(block.box.start[0], 11) << block.id;
      EXPECT_EQ(x_last, 19) << block.id;
    }
  }
  EXPECT_EQ(blocks[0].id, "colin27_left_b00");
  EXPECT_EQ(blocks[3].id, "colin27_right_b00");
  EXPECT_EQ(blocks[2].slice_first, 22);
  EXPECT_EQ(blocks[2].slice_last, 25);
  EXPECT_EQ(blocks[2].brain_voxels, 4 * 7 * 3);
}

TEST(Colin27, CroppedBlockKeepsTheWorldPositionOfEveryVoxel) {
  medkd::io::Image image = zeros({5, 6, 7}, kColinDirection, {90, 125, -71});
  image.data = torch::arange(5 * 6 * 7, torch::kInt32).reshape({1, 7, 6, 5});
  const data::VoxelBox box{{2, 3, 4}, {2, 2, 3}};
  const medkd::io::Image cropped = data::crop_image(image, box);
  EXPECT_EQ(cropped.size_xyz(), (std::array<int64_t, 3>{2, 2, 3}));
  // Voxel (2, 3, 4) lies 2 mm right (LPS x - 2), 3 mm anterior (y - 3) and 4 mm up of (0, 0, 0).
  EXPECT_EQ(cropped.geometry.origin, (std::array<double, 3>{88, 122, -67}));
  EXPECT_EQ(cropped.data[0][0][0][0].item<int>(), image.data[0][4][3][2].item<int>());
  EXPECT_EQ(cropped.data[0][2][1][1].item<int>(), image.data[0][6][4][3].item<int>());
  EXPECT_NE(error_of([&] {
              data::crop_image(image, {{4, 0, 0}, {2, 1, 1}});
            }).find("does not fit"),
            std::string::npos);
}

TEST(Colin27, ReorientingACoronalImageMovesNoVoxelInTheWorld) {
  medkd::io::Image image = zeros({3, 4, 2}, kCoronalDirection, {0, 254, 0}, {2, 2, 3});
  image.data = torch::arange(24, torch::kInt32).reshape({1, 2, 4, 3});
  const medkd::io::Image out = data::reorient_like(image, kColinDirection);
  EXPECT_EQ(out.size_xyz(), (std::array<int64_t, 3>{3, 2, 4}));
  EXPECT_EQ(out.geometry.spacing, (std::array<double, 3>{2, 3, 2}));
  EXPECT_EQ(out.geometry.direction, kColinDirection);
  // Index x is flipped (to the right), so the new first voxel is the old column 2: world x 4.
  EXPECT_EQ(out.geometry.origin, (std::array<double, 3>{4, 254, 0}));
  for (int64_t z = 0; z < 2; ++z) {
    for (int64_t y = 0; y < 4; ++y) {
      for (int64_t x = 0; x < 3; ++x) {
        const auto p = world(image.geometry, {double(x), double(y), double(z)});
        // Colin's axes are diagonal: index = (p - origin) / (direction * spacing), per axis.
        std::array<int64_t, 3> index;
        for (int a = 0; a < 3; ++a) {
          index[a] = std::llround((p[a] - out.geometry.origin[a]) /
                                  (out.geometry.direction[a * 4] * out.geometry.spacing[a]));
        }
        EXPECT_EQ(out.data[0][index[2]][index[1]][index[0]].item<int>(),
                  image.data[0][z][y][x].item<int>());
      }
    }
  }
}

TEST(Colin27, CrossSubjectCaseLabelsGreyMatterAndRestOnlyInsideTheSkullStrip) {
  const FakeSecondSubject s = fake_second_subject();
  const data::CrossSubjectCase c =
      data::make_cross_subject_case(s.t1, s.kmeans, s.strip, kCoronalDirection);
  // Brain voxels: x 1..3 of row y 1, slice z 1; plus 4 voxels, clipped to the 6 x 5 x 4 grid.
  EXPECT_EQ(c.label.size_xyz(), (std::array<int64_t, 3>{6, 5, 4}));
  EXPECT_EQ(c.label.data[0][1][1][1].item<int>(), 1);  // k-means 5 in strip 6
  EXPECT_EQ(c.label.data[0][1][1][2].item<int>(), 2);  // k-means 6 in strip 6
  EXPECT_EQ(c.label.data[0][1][1][3].item<int>(), 2);  // k-means 4 in strip 5
  EXPECT_EQ(c.label.data.sum().item<int64_t>(), 5);    // nothing else
  EXPECT_EQ(c.image.data[0][1][1][1].item<int>(), s.t1.data[0][1][1][1].item<int>());
  EXPECT_EQ(c.image.data[0][1][1][4].item<int>(), 0);  // grey-matter class outside the strip
  EXPECT_EQ(c.image.data[0][2][2][1].item<int>(), 0);  // class 3 inside the strip
  EXPECT_EQ(c.image.data.count_nonzero().item<int64_t>(), 3);
  EXPECT_EQ(c.image.data.scalar_type(), torch::kInt16);
}

TEST(Colin27, CrossSubjectMappingSendsEveryClassButRestOfBrainToGreyMatter) {
  const std::map<int, int> merged = data::cross_subject_mapping(data::Colin27Labels::kMerged);
  const std::map<int, int> expected = {{0, 0}, {1, 1}, {2, 1}, {3, 1}, {4, 1},
                                       {5, 1}, {6, 1}, {7, 1}, {8, 2}};
  EXPECT_EQ(merged, expected);
  const std::map<int, int> aal = data::cross_subject_mapping(data::Colin27Labels::kAal);
  EXPECT_EQ(aal.size(), 118u);
  EXPECT_EQ(aal.at(116), 1);
  EXPECT_EQ(aal.at(117), 2);

  const auto json =
      nlohmann::json::parse(data::cross_subject_mapping_json(data::Colin27Labels::kMerged));
  EXPECT_EQ(json["labels"]["grey_matter"], 1);
  EXPECT_EQ(json["labels"]["rest_of_brain"], 2);
  EXPECT_EQ(json["from_dataset_labels"]["7"], 1);
  EXPECT_EQ(json["from_dataset_labels"]["8"], 2);
}

TEST(Colin27, PlanRefusesBadOptionsWithTheOptionName) {
  data::Colin27Options options;
  options.out = "out";
  options.labels = "lobes";
  EXPECT_NE(error_of([&] { data::plan_colin27(options); }).find("--labels must be merged or aal"),
            std::string::npos);
  options.labels = "aal";
  options.split = "hemisphere";
  EXPECT_NE(error_of([&] { data::plan_colin27(options); }).find("--labels aal cannot be used"),
            std::string::npos);
  options.split = "blocks";
  options.block_slices = 0;
  EXPECT_NE(error_of([&] { data::plan_colin27(options); }).find("--block-slices"),
            std::string::npos);
  options.block_slices = 16;
  options.gap = -1;
  EXPECT_NE(error_of([&] { data::plan_colin27(options); }).find("--gap"), std::string::npos);
}

TEST(Colin27, DatasetFromFakeTemplatesHasTheNnunetLayoutAndBlocksMapBackIntoTheAtlas) {
  TempDir dir;
  write_fake_templates(dir / "templates");
  write_fake_second_subject(dir / "second");
  data::Colin27Options options;
  options.templates = dir / "templates";
  options.second_subject = dir / "second";
  options.block_slices = 4;
  options.gap = 2;
  options.out = dir / "out";
  const data::Colin27Summary summary = data::write_colin27_dataset(options);
  ASSERT_EQ(summary.blocks.size(), 4u);
  // Brain box 16 x 3 x 24 plus 2 voxels: region 1 (frontal) on 8 x 3 x 24, region 92
  // (cerebellum) on 7 x 2 x 24, the rest of the brain box is rest_of_brain.
  EXPECT_EQ(summary.label_voxels.at(1), 576);
  EXPECT_EQ(summary.label_voxels.at(7), 336);
  EXPECT_EQ(summary.label_voxels.at(8), 16 * 3 * 24 + 2 - 576 - 336);

  const medkd::io::Dataset dataset = medkd::io::open_dataset(dir / "out");
  EXPECT_EQ(dataset.meta.channel_names, (std::vector<std::string>{"T1"}));
  EXPECT_EQ(dataset.meta.num_training, 3);
  EXPECT_EQ(dataset.meta.labels.size(), 9u);
  ASSERT_EQ(dataset.training.size(), 3u);
  ASSERT_EQ(dataset.test.size(), 1u);
  EXPECT_EQ(dataset.test[0].id, "colin27_b01");
  ASSERT_TRUE(dataset.test[0].label.has_value());

  // Block 1 starts at slice 8, column 0, row 1: its origin is that voxel's world position.
  const medkd::io::Image label = medkd::io::read_image(*dataset.test[0].label);
  EXPECT_EQ(label.geometry.origin, (std::array<double, 3>{10, -1, 8}));
  EXPECT_EQ(label.data[0][0][5 - 1][2].item<int>(), 1);   // atlas voxel (2, 5, 8): region 1
  EXPECT_EQ(label.data[0][0][5 - 1][12].item<int>(), 7);  // atlas voxel (12, 5, 8): region 92

  const fs::path cross = dir / "out" / "crosssubject";
  EXPECT_TRUE(fs::exists(cross / "imagesTs" / "kmeanstest_t1_0000.nii.gz"));
  const medkd::io::Image cross_label =
      medkd::io::read_image(cross / "labelsTs" / "kmeanstest_t1.nii.gz");
  EXPECT_EQ(cross_label.geometry.direction, kColinDirection);
  EXPECT_EQ(summary.cross_subject_label_voxels.at(1), 1);
  EXPECT_EQ(summary.cross_subject_label_voxels.at(2), 2);
  const auto mapping = nlohmann::json::parse(medkd::core::read_text_file(cross / "mapping.json"));
  EXPECT_EQ(mapping["from_dataset_labels"]["8"], 2);
}

TEST(Colin27, MissingTemplatesNameThePackageToInstall) {
  TempDir dir;
  data::Colin27Options options;
  options.templates = dir / "nothing";
  options.out = dir / "out";
  const std::string message = error_of([&] { data::write_colin27_dataset(options); });
  EXPECT_NE(message.find("ch2bet.nii.gz"), std::string::npos);
  EXPECT_NE(message.find("install mricron-data (scripts/install-deps.sh)"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "out"));

  write_fake_templates(dir / "templates");
  options.templates = dir / "templates";
  options.second_subject = dir / "nothing";
  EXPECT_NE(error_of([&] {
              data::write_colin27_dataset(options);
            }).find("install insighttoolkit5-examples"),
            std::string::npos);
}

TEST(Colin27, RealPackagesGiveSixBlocksWithLabelsInRange) {
  const fs::path templates = data::kColin27TemplatesFolder;
  const fs::path second = data::kSecondSubjectFolder;
  if (!fs::exists(templates / "aal.nii.gz") ||
      !fs::exists(second / "KmeansTest_T1UCharRaw.nii.gz")) {
    GTEST_SKIP() << "mricron-data or insighttoolkit5-examples is not installed";
  }
  TempDir dir;
  data::Colin27Options options;
  options.out = dir / "out";
  const data::Colin27Summary summary = data::write_colin27_dataset(options);
  // 181 x 217 x 181 at 1 mm, brain from slice 4: blocks at 4, 24, ..., 144; the first (brainstem
  // only) and the last (the vertex) hold under 10% brain.
  ASSERT_EQ(summary.blocks.size(), 6u);
  EXPECT_EQ(summary.blocks.front().slice_first, 24);
  EXPECT_EQ(summary.blocks.back().slice_last, 139);
  EXPECT_EQ(summary.label_voxels.rbegin()->first, 8);
  int64_t total = 0;
  for (const auto& [value, voxels] : summary.label_voxels) total += voxels;
  EXPECT_EQ(total, 181 * 217 * 181);
  EXPECT_EQ(summary.cross_subject_label_voxels.at(1), 57084);  // k-means class 5
  EXPECT_EQ(summary.cross_subject_label_voxels.at(2), 71262);  // classes 4 and 6

  const medkd::io::Dataset dataset = medkd::io::open_dataset(dir / "out");
  EXPECT_EQ(dataset.training.size(), 4u);
  EXPECT_EQ(dataset.test.size(), 2u);
  for (const auto& c : dataset.test) {
    const medkd::io::Image label = medkd::io::read_image(*c.label);
    EXPECT_GE(label.data.min().item<int>(), 0);
    EXPECT_LE(label.data.max().item<int>(), 8);
    EXPECT_EQ(label.size_xyz()[2], 16);
  }
}
