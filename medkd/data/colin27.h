// `medkd data colin27`: a real brain MRI dataset in the nnU-Net v2 raw layout, built from files
// that Debian packages install, so experiments can leave synthetic data without a download.
//
// Subject 1 (train and test): Colin27, the MNI single-subject T1 at 1 mm (Holmes et al. 1998),
// brain-extracted (ch2bet), with the AAL atlas (Tzourio-Mazoyer et al. 2002), whose 116 regions
// were drawn on this same brain, as labels. Both come from mricron-data. The volume is cut into
// blocks of axial slices with a gap between blocks, so that no test slice has a training
// neighbour; or into the left (train) and right (test) hemispheres.
//
// Subject 2 (cross-subject test only): ITK's KmeansTest T1 (insighttoolkit5-examples), another
// person on another scanner at 2 x 2 x 3 mm, with k-means tissue classes. Only grey matter vs the
// rest of the brain can be compared there, so DIR/crosssubject/mapping.json says which dataset
// label merges into which cross-subject label.
//
//   DIR/dataset.json                          channel 0 "T1", labels, numTraining, ".nii.gz"
//   DIR/imagesTr/colin27_b03_0000.nii.gz      cropped blocks of the brain-extracted T1
//   DIR/labelsTr/colin27_b03.nii.gz           merged (default) or AAL labels, uint8
//   DIR/imagesTs/, DIR/labelsTs/              the test blocks
//   DIR/crosssubject/imagesTs/, labelsTs/     the second subject (labels 1 grey matter, 2 rest)
//   DIR/crosssubject/mapping.json             dataset label -> cross-subject label
//
// See docs/data.md for provenance, licences, the label table and what the data can show.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "medkd/io/dataset.h"
#include "medkd/io/image.h"

namespace medkd::data {

// Where Debian installs the inputs.
inline constexpr const char* kColin27TemplatesFolder = "/usr/share/mricron/templates";
inline constexpr const char* kSecondSubjectFolder =
    "/usr/share/doc/insighttoolkit5-examples/examples/Data";

// What the user asked for, as text; plan_colin27() checks it once.
struct Colin27Options {
  std::filesystem::path templates = kColin27TemplatesFolder;    // ch2bet, aal, aal.nii.txt
  std::filesystem::path second_subject = kSecondSubjectFolder;  // KmeansTest_T1*.nii.gz
  std::string labels = "merged";  // "merged" (8 classes) or "aal" (116 regions + rest)
  std::string split = "blocks";   // "blocks" or "hemisphere"
  int64_t block_slices = 16;      // axial slices per block
  int64_t gap = 4;                // slices left out between blocks (and columns at the midline)
  std::filesystem::path out;
  bool overwrite = false;  // replace an existing non-empty folder
};

enum class Colin27Labels { kMerged, kAal };
enum class Colin27Split { kBlocks, kHemisphere };

// The options after checking.
struct Colin27Plan {
  std::filesystem::path templates;
  std::filesystem::path second_subject;
  Colin27Labels labels = Colin27Labels::kMerged;
  Colin27Split split = Colin27Split::kBlocks;
  int64_t block_slices = 16;
  int64_t gap = 4;
  std::filesystem::path out;
  bool overwrite = false;
};

// Throws medkd::Error naming the option and the value received.
Colin27Plan plan_colin27(const Colin27Options& options);

// ---- Labels -----------------------------------------------------------------------------------

// One class of the merged scheme.
struct MergedClass {
  int value = 0;
  std::string name;     // dataset.json name, e.g. "frontal"
  std::string regions;  // the AAL regions it holds, for --help and docs/data.md
};

// The merged classes 1..8, in value order; "rest_of_brain" (8) is the brain mask minus every AAL
// region. The table lives here only: --help and docs/data.md print it.
const std::vector<MergedClass>& merged_classes();
// The merged class (1..7) of AAL region 1..116; medkd::Error for another index.
int merged_class_of_aal_region(int aal_index);
// The table as text, one class a line: "  1 frontal       Precentral, ...".
std::string merged_classes_text();

// Label value of "rest of brain" when every AAL region keeps its own index.
inline constexpr int kAalRestOfBrain = 117;

// AAL region names from aal.nii.txt ("1 Precentral_L 2001" a line; CRLF tolerated). Every index
// 1..116 must appear once; medkd::Error naming the file and the line otherwise.
std::map<int, std::string> read_aal_names(const std::filesystem::path& path);

// Label map of the atlas: inside the brain (brain > 0) an AAL region becomes its merged class or
// keeps its index, and a brain voxel outside every region becomes "rest of brain" (8 or 117).
// Outside the brain everything is 0: the image is zero there, so an atlas label there could not
// be learnt. brain and aal: [1, Z, Y, X] integer, same shape. Returns [1, Z, Y, X] uint8.
torch::Tensor colin27_label_map(const torch::Tensor& brain, const torch::Tensor& aal,
                                Colin27Labels scheme);

// dataset.json labels: background, then the classes (or regions, then rest_of_brain).
std::vector<std::pair<std::string, int>> colin27_dataset_labels(
    Colin27Labels scheme, const std::map<int, std::string>& aal_names);

// ---- Cases ------------------------------------------------------------------------------------

// A box of voxels, index (x, y, z) start and size.
struct VoxelBox {
  std::array<int64_t, 3> start{0, 0, 0};
  std::array<int64_t, 3> size{0, 0, 0};
};

// One case cut from the atlas volume.
struct Colin27Block {
  std::string id;     // "colin27_b03", "colin27_left_b02"
  bool test = false;  // imagesTs/ rather than imagesTr/
  VoxelBox box;       // cropped box in the template's voxel grid
  int64_t slice_first = 0;
  int64_t slice_last = 0;  // inclusive, index z
  int64_t brain_voxels = 0;
};

// Blocks of plan.block_slices axial slices from the lowest brain slice up, plan.gap slices apart;
// a block whose brain voxels are fewer than 10% of (its slices x the largest brain area of one
// slice) is skipped. kBlocks: every third kept block (the 2nd, 5th, 8th, ... from below) is a test
// block. kHemisphere: the columns left of the midline (world x = 0) are cut into training blocks
// and those right of it into test blocks, with plan.gap columns left out at the midline. Each
// block is cropped in-plane to its brain's bounding box plus 4 voxels (within its region).
// brain: [1, Z, Y, X]; its geometry must have index x along world x and index z along world z.
std::vector<Colin27Block> plan_colin27_blocks(const io::Image& brain, const Colin27Plan& plan);

// The voxels of `box` with the geometry that places them where they were: a cropped case maps
// back into the atlas space.
io::Image crop_image(const io::Image& image, const VoxelBox& box);

// The image with its voxel axes permuted and flipped (no interpolation) so that index axis j runs
// along the world axis, and in the sense, of column j of `reference_direction`; the geometry
// changes with it, so every voxel keeps its world position. medkd::Error when the image's axes are
// oblique (more than 45 degrees from every reference axis).
io::Image reorient_like(const io::Image& image, const std::array<double, 9>& reference_direction);

// ---- Cross-subject test ---------------------------------------------------------------------

// Cross-subject label values.
inline constexpr int kCrossGreyMatter = 1;
inline constexpr int kCrossRestOfBrain = 2;

// The second subject as one test case: the T1 masked by its skull strip (zero outside, like
// ch2bet), labels 1 grey matter (k-means class 5) and 2 rest of brain (classes 4 CSF and 6 white
// matter), reoriented to the template's axes and cropped to the brain plus 4 voxels.
struct CrossSubjectCase {
  io::Image image;  // [1, Z, Y, X], the T1's type
  io::Image label;  // [1, Z, Y, X] uint8
};
CrossSubjectCase make_cross_subject_case(const io::Image& t1, const io::Image& kmeans,
                                         const io::Image& skull_strip,
                                         const std::array<double, 9>& reference_direction);

// Dataset label -> cross-subject label (0 -> 0); every region or cortical/deep/cerebellar class
// -> 1, rest_of_brain -> 2.
std::map<int, int> cross_subject_mapping(Colin27Labels scheme);
// mapping.json: {"labels": {...}, "from_dataset_labels": {"0": 0, "1": 1, ...}, "description"}.
std::string cross_subject_mapping_json(Colin27Labels scheme);

// ---- The whole dataset ------------------------------------------------------------------------

// What was written, for the command's summary.
struct Colin27Summary {
  Colin27Plan plan;
  std::vector<Colin27Block> blocks;
  std::map<int, int64_t> label_voxels;  // over the whole atlas volume, by label value
  std::array<int64_t, 3> cross_subject_size{0, 0, 0};
  std::map<int, int64_t> cross_subject_label_voxels;
};

// Reads the inputs (medkd::Error naming the missing file and the package to install), cuts the
// cases and writes the folder atomically.
Colin27Summary write_colin27_dataset(const Colin27Options& options);

}  // namespace medkd::data
