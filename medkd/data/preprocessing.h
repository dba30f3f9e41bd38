// Plan-driven preprocessing of one case, its inverse for predictions, and the on-disk cache that
// lets training read every NIfTI file once.
//
// preprocess_case(), in this order:
//   1. label values -> class indices (plan.label_values[i] -> i);
//   2. resample image and label to the plan's spacing (resampling.h; 2-D plans keep z);
//   3. crop both to the bounding box of voxels where any channel is non-zero;
//   4. normalise each channel (normalization.h);
//   5. sample up to 10,000 voxel locations per foreground class for foreground-centred patches.
// nnU-Net crops first and resamples last (its crop lives on the original grid); we resample
// first so that the crop is an exact integer box in the target grid, which makes
// restore_to_original() an exact inverse of steps 2-3 up to interpolation. Normalising after the
// crop also keeps z-score statistics off the zero background.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/data/plans.h"
#include "medkd/data/preprocessed_case.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image.h"

namespace medkd::data {

// A box of voxels in (x, y, z) order, `end` exclusive.
struct BoundingBox {
  std::array<int64_t, 3> begin{};
  std::array<int64_t, 3> end{};
  std::array<int64_t, 3> size() const {
    return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]};
  }
};

// Bounding box of the voxels of `image` [C, Z, Y, X] where any channel is non-zero (nnU-Net's
// crop_to_nonzero); the whole image when every voxel is zero.
BoundingBox nonzero_bounding_box(const torch::Tensor& image);

// At most this many locations per class, or 1 % of the class's voxels if more (nnU-Net's
// DefaultPreprocessor._sample_foreground_locations).
constexpr int64_t kClassLocationsPerClass = 10000;

// Preprocesses `image` [C, Z, Y, X] and, if given, its label map [1, Z, Y, X] (dataset label
// values; same size as the image). `id` names the case in errors; `rng` picks the sampled class
// locations. A label value the plan does not declare is a medkd::Error naming the case.
PreprocessedCase preprocess_case(const io::Image& image, const io::Image* label, const Plan& plan,
                                 const std::string& id, core::Rng& rng);

// Puts per-class probabilities predicted on a preprocessed case, `scores` [K, Z, Y, X] on its
// cropped grid at the target spacing, back onto the original grid: outside the crop the
// background has probability 1, then every class is resampled linearly to the original size.
// Returns [K, Z', Y', X'] float32 with exactly the original geometry; argmax over K gives the
// segmentation (class indices; map them through plan.label_values for dataset values).
io::Image restore_to_original(const torch::Tensor& scores, const PreprocessedCase& preprocessed);

// Preprocessed cases on disk, one entry per case in `folder`:
//   {id}.pt    the tensors (image, label, class locations), a LibTorch archive
//   {id}.json  geometry, crop, plan hash and the size and time of every source file; written
//              after the tensors, so its presence marks a complete entry
//   plan_hash  the plan's preprocessing_hash(); opening the folder with another plan deletes
//              every entry (plans.json beside it is the plan that wrote them)
// An entry is also rebuilt when a source file still exists but its size or modification time
// changed. Entries are written atomically, so an interrupted run leaves only whole entries, and
// different cases may be filled from different threads at once.
class PreprocessedCache {
 public:
  // `seed` drives the sampled class locations (per case, independent of the order of creation).
  PreprocessedCache(std::filesystem::path folder, Plan plan, uint64_t seed = 0);

  const std::filesystem::path& folder() const { return folder_; }
  const Plan& plan() const { return plan_; }

  // True when a valid entry for the case exists (reads only its .json).
  bool contains(const io::CaseFiles& files) const;

  // The cached case; reads and preprocesses the source files only when no valid entry exists.
  std::shared_ptr<const PreprocessedCase> get_or_create(const io::CaseFiles& files);

  // Fills the cache up front, `threads` cases at a time (0 = core::num_threads()); returns the
  // number of entries created.
  int64_t preprocess_all(const std::vector<io::CaseFiles>& cases, int threads,
                         const core::ProgressOptions& progress = {});

 private:
  std::filesystem::path tensors_path(const std::string& id) const;
  std::filesystem::path metadata_path(const std::string& id) const;
  // Reads the sources, preprocesses them and writes the entry.
  std::shared_ptr<const PreprocessedCase> create(const io::CaseFiles& files) const;

  std::filesystem::path folder_;
  Plan plan_;
  std::string plan_hash_;
  uint64_t seed_;
};

}  // namespace medkd::data
