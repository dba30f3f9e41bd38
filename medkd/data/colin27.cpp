#include "medkd/data/colin27.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/io/image_io.h"

namespace medkd::data {

namespace fs = std::filesystem;

namespace {

constexpr int kAalRegions = 116;
constexpr int kMergedRestOfBrain = 8;
// Voxels kept around the brain when a case is cropped: enough for the network to see the edge.
constexpr int64_t kCropMargin = 4;
// A block holding less brain than this share of (its slices x the largest brain area of one slice)
// is mostly empty slices above the vertex or below the brainstem; it would teach only background.
constexpr double kMinBlockBrainShare = 0.1;
constexpr int64_t kMaxBlockSlices = 1000;

// Input files.
constexpr const char* kBrainFile = "ch2bet.nii.gz";
constexpr const char* kAalFile = "aal.nii.gz";
constexpr const char* kAalNamesFile = "aal.nii.txt";
constexpr const char* kSecondT1File = "KmeansTest_T1UCharRaw.nii.gz";
constexpr const char* kSecondKmeansFile = "KmeansTest_T1KmeansPrelimSegmentation.nii.gz";
constexpr const char* kSecondSkullStripFile = "KmeansTest_T1RawSkullStrip.nii.gz";
constexpr const char* kCrossSubjectCaseId = "kmeanstest_t1";

// KmeansTest's k-means classes, read off the file: classes 4-6 exist only inside the skull strip
// (values 5 and 6, exactly), with mean T1 47.7, 75.7 and 101.4. Slices show 6 filling the white
// matter, 5 the cortical ribbon, and 4 the ventricles and the CSF over the cortex.
constexpr int kKmeansCsf = 4;
constexpr int kKmeansGreyMatter = 5;
constexpr int kKmeansWhiteMatter = 6;
// Skull-strip values inside the brain: 6 the brain, 5 its outer shell (a mixture of CSF, grey and
// white matter classes).
constexpr int kSkullStripShell = 5;
constexpr int kSkullStripBrain = 6;

// The merge of AAL regions into lobes, following the grouping of Tzourio-Mazoyer et al. 2002
// (Table 2) with their "central region" split by lobe (precentral and Rolandic operculum to
// frontal, postcentral to parietal), the temporal poles kept with the temporal lobe, and the
// amygdala with the deep grey nuclei.
struct AalRange {
  int first;
  int last;
  int merged_class;
};
constexpr AalRange kAalRanges[] = {
    {1, 28, 1},    // Precentral .. Rectus
    {29, 40, 5},   // Insula, Cingulum, Hippocampus, ParaHippocampal
    {41, 42, 6},   // Amygdala
    {43, 56, 4},   // Calcarine .. Fusiform
    {57, 68, 2},   // Postcentral .. Precuneus
    {69, 70, 1},   // Paracentral_Lobule
    {71, 78, 6},   // Caudate, Putamen, Pallidum, Thalamus
    {79, 90, 3},   // Heschl, Temporal_*
    {91, 116, 7},  // Cerebelum_*, Vermis_*
};

std::string required_file(const fs::path& folder, const char* name, const std::string& package,
                          const std::string& option) {
  const fs::path path = folder / name;
  std::error_code ec;
  MEDKD_CHECK(fs::is_regular_file(path, ec), "missing ", path.string(), ": install ", package,
              " (scripts/install-deps.sh) or point ", option, " at a folder that holds ", name);
  return path.string();
}

void create_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  MEDKD_CHECK(!ec, "cannot create folder ", folder.string(), ": ", ec.message());
}

// [Z, Y, X] of a [1, Z, Y, X] image.
torch::Tensor first_channel(const torch::Tensor& data) {
  MEDKD_CHECK(data.dim() == 4 && data.size(0) == 1, "expected one channel [1, Z, Y, X], got ",
              data.sizes());
  return data[0];
}

// World position of a voxel index (x, y, z).
std::array<double, 3> world_of(const io::Geometry& g, const std::array<double, 3>& index) {
  std::array<double, 3> world = g.origin;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) world[r] += g.direction[r * 3 + c] * index[c] * g.spacing[c];
  }
  return world;
}

// Bounding box (x, y, z) of the true voxels of a [Z, Y, X] mask, grown by `margin` and clipped to
// `limit`; none when the mask is empty.
std::optional<VoxelBox> bounding_box(const torch::Tensor& mask, int64_t margin,
                                     const VoxelBox& limit) {
  if (!mask.any().item<bool>()) return std::nullopt;
  VoxelBox box;
  for (int axis = 0; axis < 3; ++axis) {
    const int dim = 2 - axis;  // x is the last tensor dimension
    std::vector<int64_t> others;
    for (int d = 0; d < 3; ++d) {
      if (d != dim) others.push_back(d);
    }
    const torch::Tensor present = mask.any(others[1]).any(others[0]);  // [size along dim]
    const torch::Tensor where = present.nonzero();
    const int64_t first = where.min().item<int64_t>() + limit.start[axis];
    const int64_t last = where.max().item<int64_t>() + limit.start[axis];
    const int64_t lo = std::max(first - margin, limit.start[axis]);
    const int64_t hi = std::min(last + margin, limit.start[axis] + limit.size[axis] - 1);
    box.start[axis] = lo;
    box.size[axis] = hi - lo + 1;
  }
  return box;
}

torch::Tensor voxels_of(const torch::Tensor& zyx, const VoxelBox& box) {
  return zyx.slice(2, box.start[0], box.start[0] + box.size[0])
      .slice(1, box.start[1], box.start[1] + box.size[1])
      .slice(0, box.start[2], box.start[2] + box.size[2]);
}

std::string block_id(const std::string& prefix, size_t number) {
  std::ostringstream id;
  id << prefix << "_b" << std::setw(2) << std::setfill('0') << number;
  return id.str();
}

// Cuts the columns [x_first, x_first + x_count) of the brain into blocks of axial slices.
std::vector<Colin27Block> blocks_of_region(const torch::Tensor& brain, int64_t x_first,
                                           int64_t x_count, const Colin27Plan& plan,
                                           const std::string& prefix) {
  const int64_t nz = brain.size(0), ny = brain.size(1);
  const VoxelBox region{{x_first, 0, 0}, {x_count, ny, nz}};
  const torch::Tensor region_mask = voxels_of(brain, region);                        // [Z, Y, Xr]
  const torch::Tensor area = region_mask.sum({1, 2}).to(torch::kLong).contiguous();  // [Z]
  const int64_t* per_slice = area.data_ptr<int64_t>();
  int64_t lowest = -1, highest = -1, largest = 0;
  for (int64_t z = 0; z < nz; ++z) {
    if (per_slice[z] == 0) continue;
    if (lowest < 0) lowest = z;
    highest = z;
    largest = std::max(largest, per_slice[z]);
  }
  std::vector<Colin27Block> blocks;
  if (lowest < 0) return blocks;
  const double min_brain = kMinBlockBrainShare * static_cast<double>(plan.block_slices * largest);
  for (int64_t first = lowest; first <= highest; first += plan.block_slices + plan.gap) {
    const int64_t last = std::min(first + plan.block_slices - 1, highest);
    int64_t brain_voxels = 0;
    for (int64_t z = first; z <= last; ++z) brain_voxels += per_slice[z];
    if (static_cast<double>(brain_voxels) < min_brain) continue;
    VoxelBox slab = region;
    slab.start[2] = first;
    slab.size[2] = last - first + 1;
    std::optional<VoxelBox> box = bounding_box(voxels_of(brain, slab), kCropMargin, slab);
    // The crop keeps every slice of the block, with or without brain, so blocks tile the volume.
    box->start[2] = first;
    box->size[2] = last - first + 1;
    Colin27Block block;
    block.id = block_id(prefix, blocks.size());
    block.box = *box;
    block.slice_first = first;
    block.slice_last = last;
    block.brain_voxels = brain_voxels;
    blocks.push_back(block);
  }
  return blocks;
}

void count_labels(const torch::Tensor& labels, std::map<int, int64_t>& counts) {
  const torch::Tensor histogram = torch::bincount(labels.flatten().to(torch::kLong));
  const auto* values = histogram.data_ptr<int64_t>();
  for (int64_t v = 0; v < histogram.numel(); ++v) {
    if (values[v] > 0) counts[static_cast<int>(v)] += values[v];
  }
}

io::Image read_matching(const std::string& path, const io::Image& reference,
                        const std::string& reference_path) {
  io::Image image = io::read_image(path);
  MEDKD_CHECK(image.size_xyz() == reference.size_xyz(), path, ": size ",
              io::format_size(image.size_xyz()), " differs from ", reference_path, " (",
              io::format_size(reference.size_xyz()), ")");
  const std::string difference = image.geometry.difference(reference.geometry);
  MEDKD_CHECK(difference.empty(), path, ": geometry differs from ", reference_path, ": ",
              difference);
  MEDKD_CHECK(image.is_integer(), path, ": expected an integer label map, got floating point");
  return image;
}

std::string describe_split(const Colin27Plan& plan) {
  if (plan.split == Colin27Split::kHemisphere) {
    return str("left hemisphere (world x > 0 in LPS, AAL *_L) for training and right for test, ",
               plan.gap, " columns left out at the midline, each cut into blocks of ",
               plan.block_slices, " axial slices ", plan.gap, " slices apart");
  }
  return str("blocks of ", plan.block_slices, " axial slices ", plan.gap,
             " slices apart; every third block (2nd, 5th, ...) is a test block");
}

}  // namespace

Colin27Plan plan_colin27(const Colin27Options& options) {
  Colin27Plan plan;
  if (options.labels == "merged") {
    plan.labels = Colin27Labels::kMerged;
  } else if (options.labels == "aal") {
    plan.labels = Colin27Labels::kAal;
  } else {
    throw Error(str("--labels must be merged or aal, got '", options.labels, "'"));
  }
  if (options.split == "blocks") {
    plan.split = Colin27Split::kBlocks;
  } else if (options.split == "hemisphere") {
    plan.split = Colin27Split::kHemisphere;
  } else {
    throw Error(str("--split must be blocks or hemisphere, got '", options.split, "'"));
  }
  // Every AAL region belongs to one hemisphere (Precentral_L, Precentral_R, ...): the test side's
  // labels would never appear in training.
  MEDKD_CHECK(!(plan.labels == Colin27Labels::kAal && plan.split == Colin27Split::kHemisphere),
              "--labels aal cannot be used with --split hemisphere: every AAL region lies in one "
              "hemisphere, so no test label would appear in training (use --labels merged)");
  MEDKD_CHECK(options.block_slices >= 1 && options.block_slices <= kMaxBlockSlices,
              "--block-slices must be between 1 and ", kMaxBlockSlices, ", got ",
              options.block_slices);
  MEDKD_CHECK(options.gap >= 0 && options.gap <= kMaxBlockSlices, "--gap must be between 0 and ",
              kMaxBlockSlices, ", got ", options.gap);
  MEDKD_CHECK(!options.out.empty(), "--out must name the folder to write the dataset to");
  MEDKD_CHECK(!options.templates.empty(), "--templates must name a folder");
  MEDKD_CHECK(!options.second_subject.empty(), "--second-subject must name a folder");
  plan.templates = options.templates;
  plan.second_subject = options.second_subject;
  plan.block_slices = options.block_slices;
  plan.gap = options.gap;
  plan.out = options.out;
  plan.overwrite = options.overwrite;
  return plan;
}

const std::vector<MergedClass>& merged_classes() {
  static const std::vector<MergedClass> classes = {
      {1, "frontal",
       "Precentral, Frontal_*, Rolandic_Oper, Supp_Motor_Area, Olfactory, Rectus, "
       "Paracentral_Lobule (AAL 1-28, 69-70)"},
      {2, "parietal",
       "Postcentral, Parietal_Sup/Inf, SupraMarginal, Angular, Precuneus (AAL 57-68)"},
      {3, "temporal", "Heschl, Temporal_Sup/Mid/Inf, Temporal_Pole_Sup/Mid (AAL 79-90)"},
      {4, "occipital", "Calcarine, Cuneus, Lingual, Occipital_Sup/Mid/Inf, Fusiform (AAL 43-56)"},
      {5, "limbic_insula",
       "Insula, Cingulum_Ant/Mid/Post, Hippocampus, ParaHippocampal (AAL 29-40)"},
      {6, "deep_grey", "Amygdala, Caudate, Putamen, Pallidum, Thalamus (AAL 41-42, 71-78)"},
      {7, "cerebellum", "Cerebelum_* and Vermis_* (AAL 91-116)"},
      {kMergedRestOfBrain, "rest_of_brain",
       "ch2bet > 0 outside every AAL region: white matter, CSF, brainstem"},
  };
  return classes;
}

int merged_class_of_aal_region(int aal_index) {
  for (const AalRange& range : kAalRanges) {
    if (aal_index >= range.first && aal_index <= range.last) return range.merged_class;
  }
  throw Error(str("AAL region ", aal_index, " is outside 1..", kAalRegions));
}

std::string merged_classes_text() {
  std::ostringstream text;
  for (const MergedClass& c : merged_classes()) {
    text << "  " << c.value << ' ' << std::left << std::setw(14) << c.name << c.regions << '\n';
  }
  return text.str();
}

std::map<int, std::string> read_aal_names(const fs::path& path) {
  std::ifstream in(path);
  MEDKD_CHECK(in, "cannot read ", path.string());
  std::map<int, std::string> names;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::istringstream fields(line);
    int index = 0;
    std::string name;
    MEDKD_CHECK(fields >> index >> name, path.string(), ":", line_number,
                ": expected 'index name code', got '", line, "'");
    MEDKD_CHECK(index >= 1 && index <= kAalRegions, path.string(), ":", line_number,
                ": region index ", index, " is outside 1..", kAalRegions);
    MEDKD_CHECK(names.emplace(index, name).second, path.string(), ":", line_number, ": region ",
                index, " appears twice");
  }
  MEDKD_CHECK(static_cast<int>(names.size()) == kAalRegions, path.string(), ": expected ",
              kAalRegions, " regions, found ", names.size());
  return names;
}

torch::Tensor colin27_label_map(const torch::Tensor& brain, const torch::Tensor& aal,
                                Colin27Labels scheme) {
  MEDKD_CHECK(brain.sizes() == aal.sizes(), "brain ", brain.sizes(), " and atlas ", aal.sizes(),
              " differ in shape");
  const torch::Tensor regions = aal.to(torch::kLong);
  if (regions.numel() > 0) {
    const int64_t lowest = regions.min().item<int64_t>();
    const int64_t highest = regions.max().item<int64_t>();
    MEDKD_CHECK(lowest >= 0 && highest <= kAalRegions, "AAL labels must be 0..", kAalRegions,
                ", found ", lowest, "..", highest);
  }
  // lookup[region] = label; region 0 (no region) inside the brain is "rest of brain".
  torch::Tensor lookup = torch::empty({kAalRegions + 1}, torch::kUInt8);
  auto* table = lookup.data_ptr<uint8_t>();
  const bool merged = scheme == Colin27Labels::kMerged;
  table[0] = static_cast<uint8_t>(merged ? kMergedRestOfBrain : kAalRestOfBrain);
  for (int r = 1; r <= kAalRegions; ++r) {
    table[r] = static_cast<uint8_t>(merged ? merged_class_of_aal_region(r) : r);
  }
  const torch::Tensor labels = lookup.index({regions});
  return torch::where(brain > 0, labels, torch::zeros_like(labels));
}

std::vector<std::pair<std::string, int>> colin27_dataset_labels(
    Colin27Labels scheme, const std::map<int, std::string>& aal_names) {
  std::vector<std::pair<std::string, int>> labels = {{"background", 0}};
  if (scheme == Colin27Labels::kMerged) {
    for (const MergedClass& c : merged_classes()) labels.emplace_back(c.name, c.value);
    return labels;
  }
  for (int r = 1; r <= kAalRegions; ++r) {
    const auto name = aal_names.find(r);
    MEDKD_CHECK(name != aal_names.end(), "AAL region ", r, " has no name");
    labels.emplace_back(name->second, r);
  }
  labels.emplace_back("rest_of_brain", kAalRestOfBrain);
  return labels;
}

std::vector<Colin27Block> plan_colin27_blocks(const io::Image& brain_image,
                                              const Colin27Plan& plan) {
  const io::Geometry& g = brain_image.geometry;
  // Blocks are axial only when index z runs along world z (direction element [2][2]).
  MEDKD_CHECK(std::abs(g.direction[8]) > 0.99,
              "the template's third voxel axis must run along world z (axial slices), direction "
              "column 2 is ",
              g.direction[2], ',', g.direction[5], ',', g.direction[8]);
  const torch::Tensor brain = first_channel(brain_image.data) > 0;  // [Z, Y, X]
  const int64_t nx = brain.size(2);
  if (plan.split == Colin27Split::kBlocks) {
    std::vector<Colin27Block> blocks = blocks_of_region(brain, 0, nx, plan, "colin27");
    for (size_t k = 0; k < blocks.size(); ++k) blocks[k].test = k % 3 == 1;
    return blocks;
  }
  MEDKD_CHECK(std::abs(g.direction[0]) > 0.99,
              "--split hemisphere needs the template's first voxel axis along world x, direction "
              "column 0 is ",
              g.direction[0], ',', g.direction[3], ',', g.direction[6]);
  // World x (LPS: + is the subject's left) of column i is origin_x + d * spacing_x * i.
  const double step = g.direction[0] * g.spacing[0];
  const double midline = -g.origin[0] / step;  // continuous column index of world x = 0
  const int64_t low_end =
      std::clamp<int64_t>(std::llround(midline) - plan.gap / 2, 0, nx);  // exclusive
  const int64_t high_start = std::clamp<int64_t>(low_end + plan.gap, 0, nx);
  // step < 0: the column index grows toward the right, so the low columns are the left ones.
  const bool low_is_left = step < 0;
  std::vector<Colin27Block> left =
      low_is_left ? blocks_of_region(brain, 0, low_end, plan, "colin27_left")
                  : blocks_of_region(brain, high_start, nx - high_start, plan, "colin27_left");
  std::vector<Colin27Block> right =
      low_is_left ? blocks_of_region(brain, high_start, nx - high_start, plan, "colin27_right")
                  : blocks_of_region(brain, 0, low_end, plan, "colin27_right");
  for (auto& block : right) block.test = true;
  left.insert(left.end(), right.begin(), right.end());
  return left;
}

io::Image crop_image(const io::Image& image, const VoxelBox& box) {
  const std::array<int64_t, 3> size = image.size_xyz();
  for (int axis = 0; axis < 3; ++axis) {
    MEDKD_CHECK(box.start[axis] >= 0 && box.size[axis] >= 1 &&
                    box.start[axis] + box.size[axis] <= size[axis],
                "crop box start ", box.start[0], ',', box.start[1], ',', box.start[2], " size ",
                io::format_size(box.size), " does not fit in ", io::format_size(size));
  }
  io::Image cropped;
  cropped.data = image.data.slice(3, box.start[0], box.start[0] + box.size[0])
                     .slice(2, box.start[1], box.start[1] + box.size[1])
                     .slice(1, box.start[2], box.start[2] + box.size[2])
                     .contiguous();  // [C, Z, Y, X]
  cropped.geometry = image.geometry;
  cropped.geometry.origin = world_of(
      image.geometry, {static_cast<double>(box.start[0]), static_cast<double>(box.start[1]),
                       static_cast<double>(box.start[2])});
  return cropped;
}

io::Image reorient_like(const io::Image& image, const std::array<double, 9>& reference_direction) {
  const io::Geometry& g = image.geometry;
  std::array<int, 3> source{};  // output axis j comes from input axis source[j]
  std::array<bool, 3> flip{};
  std::array<bool, 3> used{};
  for (int j = 0; j < 3; ++j) {
    int best = -1;
    double best_dot = 0;
    for (int k = 0; k < 3; ++k) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += g.direction[r * 3 + k] * reference_direction[r * 3 + j];
      if (std::abs(dot) > std::abs(best_dot)) {
        best = k;
        best_dot = dot;
      }
    }
    MEDKD_CHECK(best >= 0 && std::abs(best_dot) > std::sqrt(0.5) && !used[best],
                "cannot reorient: the image's voxel axes are oblique to the reference's (image "
                "direction ",
                g.direction[0], ' ', g.direction[1], ' ', g.direction[2], " / ", g.direction[3],
                ' ', g.direction[4], ' ', g.direction[5], " / ", g.direction[6], ' ',
                g.direction[7], ' ', g.direction[8], ")");
    used[best] = true;
    source[j] = best;
    flip[j] = best_dot < 0;
  }
  // Index axis j is tensor dimension 3 - j of [C, Z, Y, X].
  torch::Tensor data = image.data.permute({0, 3 - source[2], 3 - source[1], 3 - source[0]});
  std::vector<int64_t> flipped_dims;
  for (int j = 0; j < 3; ++j) {
    if (flip[j]) flipped_dims.push_back(3 - j);
  }
  if (!flipped_dims.empty()) data = data.flip(flipped_dims);

  const std::array<int64_t, 3> size = image.size_xyz();
  std::array<double, 3> first_voxel{0, 0, 0};  // input index of the new voxel (0, 0, 0)
  io::Geometry out;
  for (int j = 0; j < 3; ++j) {
    const int k = source[j];
    out.spacing[j] = g.spacing[k];
    for (int r = 0; r < 3; ++r) {
      out.direction[r * 3 + j] = (flip[j] ? -1.0 : 1.0) * g.direction[r * 3 + k];
    }
    if (flip[j]) first_voxel[k] = static_cast<double>(size[k] - 1);
  }
  out.origin = world_of(g, first_voxel);
  return {data.contiguous(), out};
}

CrossSubjectCase make_cross_subject_case(const io::Image& t1, const io::Image& kmeans,
                                         const io::Image& skull_strip,
                                         const std::array<double, 9>& reference_direction) {
  const torch::Tensor classes = kmeans.data.to(torch::kLong);     // [1, Z, Y, X]
  const torch::Tensor strip = skull_strip.data.to(torch::kLong);  // [1, Z, Y, X]
  MEDKD_CHECK(classes.sizes() == t1.data.sizes() && strip.sizes() == t1.data.sizes(),
              "the second subject's T1 ", t1.data.sizes(), ", k-means ", classes.sizes(),
              " and skull strip ", strip.sizes(), " differ in shape");
  const torch::Tensor grey = classes == kKmeansGreyMatter;
  const torch::Tensor rest = (classes == kKmeansCsf) | (classes == kKmeansWhiteMatter);
  const torch::Tensor brain =
      ((strip == kSkullStripBrain) | (strip == kSkullStripShell)) & (grey | rest);
  torch::Tensor label = torch::zeros_like(classes, torch::kUInt8);  // [1, Z, Y, X]
  label.masked_fill_(brain & rest, kCrossRestOfBrain);
  label.masked_fill_(brain & grey, kCrossGreyMatter);
  const torch::Tensor image = torch::where(brain, t1.data, torch::zeros_like(t1.data));

  CrossSubjectCase result;
  result.image = reorient_like({image, t1.geometry}, reference_direction);
  result.label = reorient_like({label, t1.geometry}, reference_direction);
  const io::Image brain_image = reorient_like({brain, t1.geometry}, reference_direction);
  const std::array<int64_t, 3> size = brain_image.size_xyz();
  const std::optional<VoxelBox> box =
      bounding_box(brain_image.data[0], kCropMargin, VoxelBox{{0, 0, 0}, size});
  MEDKD_CHECK(box.has_value(), "the second subject has no brain voxel (skull strip ",
              kSkullStripShell, " or ", kSkullStripBrain, " with k-means class ", kKmeansCsf, "-",
              kKmeansWhiteMatter, ")");
  result.image = crop_image(result.image, *box);
  result.label = crop_image(result.label, *box);
  return result;
}

std::map<int, int> cross_subject_mapping(Colin27Labels scheme) {
  std::map<int, int> mapping = {{0, 0}};
  if (scheme == Colin27Labels::kMerged) {
    for (const MergedClass& c : merged_classes()) {
      mapping[c.value] = c.value == kMergedRestOfBrain ? kCrossRestOfBrain : kCrossGreyMatter;
    }
    return mapping;
  }
  for (int r = 1; r <= kAalRegions; ++r) mapping[r] = kCrossGreyMatter;
  mapping[kAalRestOfBrain] = kCrossRestOfBrain;
  return mapping;
}

std::string cross_subject_mapping_json(Colin27Labels scheme) {
  nlohmann::ordered_json json;
  json["labels"] = {
      {"background", 0}, {"grey_matter", kCrossGreyMatter}, {"rest_of_brain", kCrossRestOfBrain}};
  nlohmann::ordered_json from = nlohmann::ordered_json::object();
  for (const auto& [dataset_label, cross_label] : cross_subject_mapping(scheme)) {
    from[std::to_string(dataset_label)] = cross_label;
  }
  json["from_dataset_labels"] = from;
  json["description"] =
      "Second subject (ITK KmeansTest T1, 2x2x3 mm) with k-means tissue classes inside its skull "
      "strip: grey_matter = class 5, rest_of_brain = classes 4 (CSF) and 6 (white matter). Merge "
      "a prediction's dataset labels with from_dataset_labels before comparing: every AAL region "
      "or cortical, deep grey or cerebellar class -> grey_matter, rest_of_brain -> rest_of_brain.";
  return json.dump(2) + "\n";
}

Colin27Summary write_colin27_dataset(const Colin27Options& options) {
  Colin27Summary summary;
  summary.plan = plan_colin27(options);
  const Colin27Plan& plan = summary.plan;

  const std::string brain_path =
      required_file(plan.templates, kBrainFile, "mricron-data", "--templates");
  const std::string aal_path =
      required_file(plan.templates, kAalFile, "mricron-data", "--templates");
  const std::string names_path =
      required_file(plan.templates, kAalNamesFile, "mricron-data", "--templates");
  const std::string second_package = "insighttoolkit5-examples";
  const std::string t1_path =
      required_file(plan.second_subject, kSecondT1File, second_package, "--second-subject");
  const std::string kmeans_path =
      required_file(plan.second_subject, kSecondKmeansFile, second_package, "--second-subject");
  const std::string strip_path =
      required_file(plan.second_subject, kSecondSkullStripFile, second_package, "--second-subject");

  const io::Image brain = io::read_image(brain_path);
  const io::Image aal = read_matching(aal_path, brain, brain_path);
  const std::map<int, std::string> aal_names = read_aal_names(names_path);
  io::Image labels{colin27_label_map(brain.data, aal.data, plan.labels), brain.geometry};
  count_labels(labels.data, summary.label_voxels);

  summary.blocks = plan_colin27_blocks(brain, plan);
  const auto training = std::count_if(summary.blocks.begin(), summary.blocks.end(),
                                      [](const Colin27Block& b) { return !b.test; });
  MEDKD_CHECK(training > 0 && training < static_cast<int64_t>(summary.blocks.size()), brain_path,
              ": --block-slices ", plan.block_slices, " and --gap ", plan.gap, " leave ", training,
              " training and ", summary.blocks.size() - training,
              " test blocks; both need at least one (use fewer slices per block)");

  const io::Image second_t1 = io::read_image(t1_path);
  const io::Image kmeans = read_matching(kmeans_path, second_t1, t1_path);
  const io::Image strip = read_matching(strip_path, second_t1, t1_path);
  const CrossSubjectCase cross =
      make_cross_subject_case(second_t1, kmeans, strip, brain.geometry.direction);
  summary.cross_subject_size = cross.label.size_xyz();
  count_labels(cross.label.data, summary.cross_subject_label_voxels);

  io::DatasetJson meta;
  meta.channel_names = {"T1"};
  meta.labels = colin27_dataset_labels(plan.labels, aal_names);
  meta.num_training = static_cast<int>(training);
  meta.file_ending = ".nii.gz";
  meta.name = "Colin27 T1 with AAL labels";
  meta.description =
      str("Colin27 brain-extracted T1 at 1 mm (Holmes et al. 1998, MNI; ch2bet from mricron-data) ",
          "with ",
          plan.labels == Colin27Labels::kMerged ? "the AAL regions merged into lobes"
                                                : "the 116 AAL regions",
          " (Tzourio-Mazoyer et al. 2002) plus rest_of_brain. Cases: ", describe_split(plan),
          ". Cross-subject test set in crosssubject/ (see crosssubject/mapping.json). Written by "
          "medkd data colin27; see docs/data.md.");

  core::build_folder_atomically(plan.out, plan.overwrite, [&](const fs::path& folder) {
    for (const char* sub : {"imagesTr", "labelsTr", "imagesTs", "labelsTs", "crosssubject/imagesTs",
                            "crosssubject/labelsTs"}) {
      create_folder(folder / sub);
    }
    io::write_dataset_json(meta, folder / "dataset.json");
    for (const Colin27Block& block : summary.blocks) {
      const std::string images = block.test ? "imagesTs" : "imagesTr";
      const std::string label_folder = block.test ? "labelsTs" : "labelsTr";
      io::write_image(crop_image(brain, block.box),
                      folder / images / io::channel_file_name(block.id, 0, meta.file_ending));
      io::write_image(crop_image(labels, block.box),
                      folder / label_folder / (block.id + meta.file_ending));
    }
    const fs::path cross_folder = folder / "crosssubject";
    io::write_image(cross.image,
                    cross_folder / "imagesTs" /
                        io::channel_file_name(kCrossSubjectCaseId, 0, meta.file_ending));
    io::write_image(cross.label, cross_folder / "labelsTs" /
                                     (std::string(kCrossSubjectCaseId) + meta.file_ending));
    core::write_text_file(cross_folder / "mapping.json", cross_subject_mapping_json(plan.labels));
  });
  return summary;
}

}  // namespace medkd::data
