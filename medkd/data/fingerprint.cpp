#include "medkd/data/fingerprint.h"

#include <algorithm>
#include <cmath>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/core/threads.h"
#include "medkd/data/preprocessing.h"
#include "medkd/io/image_io.h"

namespace medkd::data {

namespace {

// One case's contribution: its shape and its sampled foreground intensities per channel.
struct CaseSample {
  CaseFingerprint shape;
  std::vector<std::vector<float>> intensities;  // [channel][sample]
};

CaseSample fingerprint_case(const io::CaseFiles& files, int64_t num_channels, int64_t samples,
                            core::Rng rng) {
  const io::Image image = io::read_channels(files.images);  // [C, Z, Y, X] float32
  MEDKD_CHECK(image.channels() == num_channels, "case ", files.id, " has ", image.channels(),
              " channel(s), dataset.json declares ", num_channels);
  MEDKD_CHECK(files.label.has_value(), "training case ", files.id, " has no label");
  const io::Image label = io::read_image(*files.label);  // [1, Z, Y, X]
  MEDKD_CHECK(label.size_xyz() == image.size_xyz(), files.label->string(), ": label size ",
              io::format_size(label.size_xyz()), " differs from the image size ",
              io::format_size(image.size_xyz()));

  CaseSample out;
  out.shape.id = files.id;
  out.shape.spacing = image.geometry.spacing;
  out.shape.size = image.size_xyz();
  out.shape.size_after_crop = nonzero_bounding_box(image.data).size();

  // nnU-Net (collect_foreground_intensities) draws the same number of foreground voxels from every
  // case, with replacement, so small lesions weigh as much as large ones.
  const torch::Tensor foreground =
      torch::nonzero(label.data[0].reshape({-1}) > 0).reshape({-1});  // [F] flat indices
  out.shape.foreground_voxels = foreground.numel();
  out.intensities.resize(static_cast<size_t>(num_channels));
  if (foreground.numel() == 0 || samples == 0) return out;
  std::vector<int64_t> picks(static_cast<size_t>(samples));
  for (auto& pick : picks) pick = rng.integer(0, foreground.numel() - 1);
  const torch::Tensor chosen = foreground.index_select(0, torch::tensor(picks));  // [S]
  for (int64_t c = 0; c < num_channels; ++c) {
    const torch::Tensor values =
        image.data[c].reshape({-1}).index_select(0, chosen).contiguous();  // [S] float32
    out.intensities[c].assign(values.data_ptr<float>(), values.data_ptr<float>() + samples);
  }
  return out;
}

using core::read_field;

}  // namespace

double percentile_of_sorted(const std::vector<float>& sorted, double q) {
  MEDKD_CHECK(!sorted.empty(), "percentile of no values");
  MEDKD_CHECK(q >= 0 && q <= 100, "percentile must be in [0, 100], got ", q);
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (static_cast<double>(sorted[above]) - sorted[below]);
}

IntensityStatistics intensity_statistics(std::vector<float>& values) {
  IntensityStatistics stats;
  if (values.empty()) return stats;
  std::sort(values.begin(), values.end());
  stats.count = static_cast<int64_t>(values.size());
  double sum = 0.0;
  for (const float v : values) sum += v;
  stats.mean = sum / static_cast<double>(values.size());
  double squares = 0.0;
  for (const float v : values) squares += (v - stats.mean) * (v - stats.mean);
  stats.std = std::sqrt(squares / static_cast<double>(values.size()));
  stats.min = values.front();
  stats.max = values.back();
  stats.median = percentile_of_sorted(values, 50.0);
  stats.percentile_00_5 = percentile_of_sorted(values, 0.5);
  stats.percentile_99_5 = percentile_of_sorted(values, 99.5);
  return stats;
}

void FingerprintOptions::validate() const {
  MEDKD_CHECK(threads >= 0, "fingerprint threads must be >= 0, got ", threads);
  MEDKD_CHECK(max_foreground_samples_per_case >= 0,
              "max_foreground_samples_per_case must be >= 0, got ",
              max_foreground_samples_per_case);
}

DatasetFingerprint fingerprint_dataset(const io::Dataset& dataset,
                                       const FingerprintOptions& options) {
  options.validate();
  MEDKD_CHECK(!dataset.training.empty(), dataset.root.string(),
              ": no training cases to fingerprint");
  DatasetFingerprint fingerprint;
  fingerprint.channel_names = dataset.meta.channel_names;
  fingerprint.label_values = dataset.meta.label_values();
  for (const int value : fingerprint.label_values)
    fingerprint.label_names.push_back(dataset.meta.label_name(value));
  const auto num_channels = static_cast<int64_t>(fingerprint.channel_names.size());

  const auto count = static_cast<int64_t>(dataset.training.size());
  std::vector<CaseSample> samples(static_cast<size_t>(count));
  const core::Rng rng(options.seed);
  core::ProgressOptions progress_options;
  progress_options.quiet = options.quiet;
  core::ProgressBar progress("fingerprint", count, progress_options);
  core::parallel_for(count, options.threads, [&](int64_t i) {
    // A child generator per case: the samples do not depend on the number of threads.
    samples[i] =
        fingerprint_case(dataset.training[i], num_channels, options.max_foreground_samples_per_case,
                         rng.child(static_cast<uint64_t>(i)));
    progress.advance(1, dataset.training[i].id);
  });
  progress.finish();

  for (auto& sample : samples) fingerprint.cases.push_back(sample.shape);
  for (int64_t c = 0; c < num_channels; ++c) {
    std::vector<float> pooled;
    for (auto& sample : samples) {
      pooled.insert(pooled.end(), sample.intensities[c].begin(), sample.intensities[c].end());
      std::vector<float>().swap(sample.intensities[c]);  // release as we go
    }
    fingerprint.foreground_intensities.push_back(intensity_statistics(pooled));
  }
  return fingerprint;
}

nlohmann::ordered_json fingerprint_to_json(const DatasetFingerprint& fingerprint) {
  nlohmann::ordered_json json;
  json["channel_names"] = fingerprint.channel_names;
  json["label_values"] = fingerprint.label_values;
  json["label_names"] = fingerprint.label_names;
  json["foreground_intensities"] = nlohmann::ordered_json::array();
  for (const auto& s : fingerprint.foreground_intensities) {
    json["foreground_intensities"].push_back({{"count", s.count},
                                              {"mean", s.mean},
                                              {"std", s.std},
                                              {"min", s.min},
                                              {"max", s.max},
                                              {"median", s.median},
                                              {"percentile_00_5", s.percentile_00_5},
                                              {"percentile_99_5", s.percentile_99_5}});
  }
  json["cases"] = nlohmann::ordered_json::array();
  for (const auto& c : fingerprint.cases) {
    json["cases"].push_back({{"id", c.id},
                             {"spacing", c.spacing},
                             {"size", c.size},
                             {"size_after_crop", c.size_after_crop},
                             {"foreground_voxels", c.foreground_voxels}});
  }
  return json;
}

DatasetFingerprint fingerprint_from_json(const nlohmann::json& json, const std::string& source) {
  DatasetFingerprint fingerprint;
  fingerprint.channel_names = read_field<std::vector<std::string>>(json, "channel_names", source);
  fingerprint.label_values = read_field<std::vector<int>>(json, "label_values", source);
  fingerprint.label_names = read_field<std::vector<std::string>>(json, "label_names", source);
  MEDKD_CHECK(fingerprint.label_names.size() == fingerprint.label_values.size(), source,
              ": label_names and label_values differ in length");
  const auto intensities = read_field<nlohmann::json>(json, "foreground_intensities", source);
  MEDKD_CHECK(intensities.is_array() && intensities.size() == fingerprint.channel_names.size(),
              source, ": foreground_intensities must have one entry per channel (",
              fingerprint.channel_names.size(), ")");
  for (size_t c = 0; c < intensities.size(); ++c) {
    const std::string where = str(source, ": foreground_intensities[", c, "]");
    const auto& j = intensities[c];
    IntensityStatistics s;
    s.count = read_field<int64_t>(j, "count", where);
    s.mean = read_field<double>(j, "mean", where);
    s.std = read_field<double>(j, "std", where);
    s.min = read_field<double>(j, "min", where);
    s.max = read_field<double>(j, "max", where);
    s.median = read_field<double>(j, "median", where);
    s.percentile_00_5 = read_field<double>(j, "percentile_00_5", where);
    s.percentile_99_5 = read_field<double>(j, "percentile_99_5", where);
    fingerprint.foreground_intensities.push_back(s);
  }
  const auto cases = read_field<nlohmann::json>(json, "cases", source);
  MEDKD_CHECK(cases.is_array(), source, ": cases must be an array");
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string where = str(source, ": cases[", i, "]");
    CaseFingerprint c;
    c.id = read_field<std::string>(cases[i], "id", where);
    c.spacing = read_field<std::array<double, 3>>(cases[i], "spacing", where);
    c.size = read_field<std::array<int64_t, 3>>(cases[i], "size", where);
    c.size_after_crop = read_field<std::array<int64_t, 3>>(cases[i], "size_after_crop", where);
    c.foreground_voxels = read_field<int64_t>(cases[i], "foreground_voxels", where);
    for (int axis = 0; axis < 3; ++axis) {
      MEDKD_CHECK(c.spacing[axis] > 0 && c.size[axis] > 0 && c.size_after_crop[axis] > 0, where,
                  ": spacing and sizes must be positive");
    }
    fingerprint.cases.push_back(c);
  }
  return fingerprint;
}

void save_fingerprint(const DatasetFingerprint& fingerprint, const std::filesystem::path& path) {
  core::write_text_file(path, fingerprint_to_json(fingerprint).dump(2) + "\n");
}

DatasetFingerprint load_fingerprint(const std::filesystem::path& path) {
  return fingerprint_from_json(core::read_json_file(path), path.string());
}

}  // namespace medkd::data
