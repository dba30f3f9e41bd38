// `medkd dataset check`: walks an nnU-Net-style dataset and lists every problem it finds, each
// naming the file, instead of stopping at the first one. Reading every voxel is what catches
// truncated files and NaN/Inf values, so this reads the whole dataset once.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "medkd/io/dataset.h"

namespace medkd::io {

struct DatasetProblem {
  std::filesystem::path file;
  std::string message;
};

struct DatasetCheckOptions {
  // Relative tolerance for spacing; origins and directions scale from it (see Geometry).
  double tolerance = 1e-4;
  int threads = 0;  // 0 = one per core
  bool quiet = false;
};

struct DatasetCheckReport {
  std::vector<DatasetProblem> problems;  // sorted by file
  DatasetJson meta;                      // as read (empty if dataset.json failed)
  int training_cases = 0;                // cases with images and a label
  int test_cases = 0;
  int unlabelled_cases = 0;             // imagesUl/
  std::map<int, int64_t> label_voxels;  // value -> voxels over all training labels
  std::array<double, 3> min_spacing{0, 0, 0}, max_spacing{0, 0, 0};
  std::array<int64_t, 3> min_size{0, 0, 0}, max_size{0, 0, 0};

  bool ok() const { return problems.empty(); }
};

DatasetCheckReport check_dataset(const std::filesystem::path& root,
                                 const DatasetCheckOptions& options = {});

// A human-readable summary: counts, channels, labels with voxel fractions, spacing and size ranges.
std::string format_dataset_summary(const DatasetCheckReport& report);

}  // namespace medkd::io
