// The plan: every decision about how a dataset is preprocessed and cut into training patches,
// derived once from its fingerprint (nnU-Net v2's ExperimentPlanner), saved as plans.json beside
// every model and applied unchanged at prediction.
//
// What make_plan() decides, and why:
//   - target spacing: the per-axis median of the training spacings. When one axis is much coarser
//     than the others (its median spacing > 3 x the largest other one, and its median size < 1/3 of
//     the smallest other one), the 10th percentile of that axis' spacings is used instead, so the
//     few thin-slice cases are not blurred to the thick-slice majority and thick-slice cases are
//     not interpolated into many invented slices either (nnU-Net's
//     determine_fullres_target_spacing);
//   - normalisation per channel by its dataset.json name (normalization.h);
//   - patch size: the median case shape at the target spacing, rounded up to a multiple of
//     `divisor` per axis (the encoder halves each axis log2(divisor) times), then shrunk along the
//     axis that is longest in millimetres until `min_batch_size` patches fit the voxel budget;
//   - batch size: as many patches as fit the budget, but never more than cover 5 % of the
//     dataset's voxels (nnU-Net's cap against overfitting small datasets), and at least
//     `min_batch_size`.
// 2-D plans train on axial slices: z is never resampled, the patch has z = 1.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "medkd/data/fingerprint.h"
#include "medkd/data/normalization.h"
#include "medkd/data/resampling.h"

namespace medkd::data {

struct Plan {
  int dims = 3;                                     // 2: slices, 3: volumes
  std::array<double, 3> target_spacing{1, 1, 1};    // (x, y, z) mm; z not applied when dims == 2
  std::vector<std::string> channel_names;           // dataset.json order
  std::vector<ChannelNormalization> normalization;  // one per channel
  std::vector<int> label_values;                    // class index i <-> dataset label value
  std::vector<std::string> label_names;             // same order; background (0) first
  std::array<int64_t, 3> patch_size{1, 1, 1};       // (x, y, z) voxels; z = 1 when dims == 2
  std::array<int64_t, 3> patch_divisor{1, 1, 1};    // every patch axis is a multiple of these
  int64_t batch_size = 2;
  std::array<int64_t, 3> median_shape{1, 1, 1};  // (x, y, z) median cropped case, resampled
  ImageInterpolation image_resampling = ImageInterpolation::kCubic;
  LabelInterpolation label_resampling = LabelInterpolation::kLinearOneHot;

  int64_t num_classes() const { return static_cast<int64_t>(label_values.size()); }
  int64_t num_channels() const { return static_cast<int64_t>(channel_names.size()); }

  // The spacing cases are resampled to: the target spacing, except that 2-D plans keep the case's
  // own z spacing.
  std::array<double, 3> spacing_for(const std::array<double, 3>& case_spacing) const;

  // A stable hex digest of everything that changes preprocessed voxels (dims, target spacing,
  // normalisation, labels, resampling, and the cache format version), but not of patch or batch
  // size. A cache of preprocessed cases is valid exactly while this stays the same.
  std::string preprocessing_hash() const;

  // medkd::Error naming `source` and the field on any inconsistency.
  void validate(const std::string& source = "plan") const;
};

struct PlanOptions {
  int dims = 3;
  std::optional<std::array<double, 3>> target_spacing;  // (x, y, z) mm; overrides the rule above
  std::optional<std::array<int64_t, 3>> patch_size;     // (x, y, z) voxels; overrides the search
  std::optional<int64_t> batch_size;                    // overrides the budget
  // Memory budget: batch_size x patch voxels stays below this. The default, two 64x64x48 patches,
  // is what a CPU or a small GPU trains a 3-D U-Net on; the standard synthetic PET/CT dataset
  // (96x96x64 at 2x2x3 mm) gets exactly that plan.
  int64_t batch_voxels = 2 * 64 * 64 * 48;
  int64_t min_batch_size = 2;
  double max_batch_fraction_of_dataset = 0.05;
  // Patch axes are multiples of these: 16 = four poolings in-plane; z gets three (8) because
  // clinical volumes often have few slices. 2-D plans ignore divisor_z.
  int64_t divisor_inplane = 16;
  int64_t divisor_z = 8;
  std::string image_resampling = "cubic";          // nnU-Net: order 3 for images
  std::string label_resampling = "linear_onehot";  // nnU-Net: order 1 on one-hot labels

  void validate() const;  // medkd::Error naming the option
};

// nnU-Net's target-spacing rule on (x, y, z) spacings and cropped sizes of the cases.
std::array<double, 3> target_spacing_for(const std::vector<std::array<double, 3>>& spacings,
                                         const std::vector<std::array<int64_t, 3>>& sizes);

Plan make_plan(const DatasetFingerprint& fingerprint, const PlanOptions& options = {});

// JSON round trip and plans.json on disk (written atomically); reading validates the plan and
// names the file and key on any problem.
nlohmann::ordered_json plan_to_json(const Plan& plan);
Plan plan_from_json(const nlohmann::json& json, const std::string& source = "plan");
void save_plan(const Plan& plan, const std::filesystem::path& path);
Plan load_plan(const std::filesystem::path& path);

}  // namespace medkd::data
