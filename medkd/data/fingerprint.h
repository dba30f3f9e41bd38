// The fingerprint of a dataset: what the planner needs to know about the training cases, gathered
// in one pass over the images (nnU-Net v2's DatasetFingerprintExtractor).
//
//   - per case: voxel spacing, size, and size after cropping to the non-zero region;
//   - per channel: intensity statistics of foreground voxels (label > 0), pooled over the cases
//     from a fixed number of voxels sampled per case, so that every case weighs the same whatever
//     the size of its lesions (nnU-Net samples with replacement for the same reason);
//   - channel names and label values from dataset.json.
//
// The CT normalisation of the plan (clip to the 0.5 / 99.5 percentiles, foreground mean and std)
// comes from these statistics; every other scheme works per image.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "medkd/io/dataset.h"

namespace medkd::data {

// Statistics of a set of intensities. Percentiles interpolate linearly between order statistics
// (numpy.percentile's default), the std divides by n (numpy's ddof = 0), as nnU-Net computes them.
struct IntensityStatistics {
  int64_t count = 0;  // voxels the statistics were computed from (0: all fields are 0)
  double mean = 0.0;
  double std = 0.0;
  double min = 0.0;
  double max = 0.0;
  double median = 0.0;
  double percentile_00_5 = 0.0;
  double percentile_99_5 = 0.0;
};

// Statistics of `values` (reordered in place).
IntensityStatistics intensity_statistics(std::vector<float>& values);

// The q-th percentile (0..100) of ascending `sorted` values with linear interpolation.
double percentile_of_sorted(const std::vector<float>& sorted, double q);

struct CaseFingerprint {
  std::string id;
  std::array<double, 3> spacing{};           // (x, y, z) mm
  std::array<int64_t, 3> size{};             // (x, y, z) voxels as stored
  std::array<int64_t, 3> size_after_crop{};  // (x, y, z) voxels of the non-zero bounding box
  int64_t foreground_voxels = 0;             // label > 0
};

struct DatasetFingerprint {
  std::vector<std::string> channel_names;                   // dataset.json order
  std::vector<int> label_values;                            // ascending, background (0) first
  std::vector<std::string> label_names;                     // same order as label_values
  std::vector<CaseFingerprint> cases;                       // training cases, sorted by id
  std::vector<IntensityStatistics> foreground_intensities;  // one per channel
};

struct FingerprintOptions {
  int threads = 0;  // cases read in parallel; 0 = core::num_threads()
  bool quiet = false;
  // Foreground voxels sampled per case and channel (with replacement); nnU-Net spreads 1e8 over
  // the dataset, we keep 1e4 per case, which pins the 0.5 / 99.5 percentiles well enough for
  // clipping and keeps the fingerprint of a large dataset in a few MB.
  int64_t max_foreground_samples_per_case = 10000;
  uint64_t seed = 0;

  void validate() const;  // medkd::Error naming the option
};

// Reads every training case of `dataset` (images and labels) once.
DatasetFingerprint fingerprint_dataset(const io::Dataset& dataset,
                                       const FingerprintOptions& options = {});

// JSON round trip; reading throws medkd::Error naming `source` and the key.
nlohmann::ordered_json fingerprint_to_json(const DatasetFingerprint& fingerprint);
DatasetFingerprint fingerprint_from_json(const nlohmann::json& json,
                                         const std::string& source = "fingerprint");
void save_fingerprint(const DatasetFingerprint& fingerprint, const std::filesystem::path& path);
DatasetFingerprint load_fingerprint(const std::filesystem::path& path);

}  // namespace medkd::data
