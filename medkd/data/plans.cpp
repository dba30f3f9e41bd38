#include "medkd/data/plans.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/io/image.h"

namespace medkd::data {

namespace {

// Bumped whenever preprocessing code changes what it writes, so old caches are rebuilt.
constexpr int kPreprocessingVersion = 1;
constexpr int kPlansFormatVersion = 1;
// nnU-Net's ANISO_THRESHOLD.
constexpr double kAnisotropyThreshold = 3.0;

// numpy.percentile with linear interpolation.
double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double position = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto below = static_cast<size_t>(std::floor(position));
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

int64_t voxels(const std::array<int64_t, 3>& size) { return size[0] * size[1] * size[2]; }

using core::read_field;

// 64-bit FNV-1a: stable across runs, platforms and compilers, unlike std::hash.
std::string fnv1a_hex(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return out;
}

nlohmann::ordered_json normalization_to_json(const std::string& name,
                                             const ChannelNormalization& n) {
  nlohmann::ordered_json json{{"name", name}, {"scheme", n.scheme}};
  if (n.scheme == "ct") {
    json["clip_low"] = n.clip_low;
    json["clip_high"] = n.clip_high;
    json["mean"] = n.mean;
    json["std"] = n.std;
  }
  return json;
}

}  // namespace

std::array<double, 3> Plan::spacing_for(const std::array<double, 3>& case_spacing) const {
  std::array<double, 3> spacing = target_spacing;
  if (dims == 2) spacing[2] = case_spacing[2];
  return spacing;
}

std::string Plan::preprocessing_hash() const {
  nlohmann::ordered_json json;
  json["preprocessing_version"] = kPreprocessingVersion;
  json["dims"] = dims;
  json["target_spacing"] = target_spacing;
  json["channels"] = nlohmann::ordered_json::array();
  for (size_t c = 0; c < normalization.size(); ++c)
    json["channels"].push_back(normalization_to_json(
        c < channel_names.size() ? channel_names[c] : std::string(), normalization[c]));
  json["label_values"] = label_values;
  json["image_resampling"] = to_string(image_resampling);
  json["label_resampling"] = to_string(label_resampling);
  // dump() prints doubles with round-trip precision, so equal plans give equal text.
  return fnv1a_hex(json.dump());
}

void Plan::validate(const std::string& source) const {
  MEDKD_CHECK(dims == 2 || dims == 3, source, ": dims must be 2 or 3, got ", dims);
  for (int axis = 0; axis < 3; ++axis) {
    MEDKD_CHECK(std::isfinite(target_spacing[axis]) && target_spacing[axis] > 0, source,
                ": target_spacing must be three positive numbers, got ",
                io::format_triple(target_spacing));
    MEDKD_CHECK(patch_size[axis] > 0, source, ": patch_size must be positive, got ",
                io::format_size(patch_size));
    MEDKD_CHECK(patch_divisor[axis] > 0, source, ": patch_divisor must be positive, got ",
                io::format_size(patch_divisor));
    MEDKD_CHECK(median_shape[axis] > 0, source, ": median_shape must be positive, got ",
                io::format_size(median_shape));
  }
  MEDKD_CHECK(dims == 3 || patch_size[2] == 1, source, ": a 2-D plan has patch_size z = 1, got ",
              io::format_size(patch_size));
  MEDKD_CHECK(batch_size >= 1, source, ": batch_size must be >= 1, got ", batch_size);
  MEDKD_CHECK(!channel_names.empty(), source, ": no channels");
  MEDKD_CHECK(normalization.size() == channel_names.size(), source, ": ", channel_names.size(),
              " channel(s) but ", normalization.size(), " normalisation entries");
  for (size_t c = 0; c < normalization.size(); ++c)
    normalization[c].validate(str(source, ": channels[", c, "] (", channel_names[c], ")"));
  MEDKD_CHECK(label_values.size() >= 2 && label_values.size() <= 256, source,
              ": needs background and 1..255 foreground labels, got ", label_values.size(),
              " label(s)");
  MEDKD_CHECK(label_names.size() == label_values.size(), source, ": ", label_values.size(),
              " label value(s) but ", label_names.size(), " name(s)");
  MEDKD_CHECK(label_values[0] == 0, source, ": the first label must be background (0), got ",
              label_values[0]);
  for (size_t i = 1; i < label_values.size(); ++i) {
    MEDKD_CHECK(label_values[i] > label_values[i - 1], source,
                ": label values must be ascending and distinct, got ", label_values[i - 1],
                " then ", label_values[i]);
  }
}

void PlanOptions::validate() const {
  MEDKD_CHECK(dims == 2 || dims == 3, "plan dims must be 2 or 3, got ", dims);
  if (target_spacing) {
    for (const double s : *target_spacing)
      MEDKD_CHECK(std::isfinite(s) && s > 0, "target spacing must be positive, got ",
                  io::format_triple(*target_spacing));
  }
  if (patch_size) {
    for (const int64_t s : *patch_size)
      MEDKD_CHECK(s > 0, "patch size must be positive, got ", io::format_size(*patch_size));
    MEDKD_CHECK(dims == 3 || (*patch_size)[2] == 1, "a 2-D patch size has z = 1, got ",
                io::format_size(*patch_size));
  }
  if (batch_size) MEDKD_CHECK(*batch_size >= 1, "batch size must be >= 1, got ", *batch_size);
  MEDKD_CHECK(batch_voxels > 0, "batch voxel budget must be positive, got ", batch_voxels);
  MEDKD_CHECK(min_batch_size >= 1, "minimum batch size must be >= 1, got ", min_batch_size);
  MEDKD_CHECK(max_batch_fraction_of_dataset > 0, "max batch fraction must be positive, got ",
              max_batch_fraction_of_dataset);
  MEDKD_CHECK(divisor_inplane >= 1 && divisor_z >= 1, "patch divisors must be >= 1, got ",
              divisor_inplane, " and ", divisor_z);
  parse_image_interpolation(image_resampling, "image resampling");
  parse_label_interpolation(label_resampling, "label resampling");
}

std::array<double, 3> target_spacing_for(const std::vector<std::array<double, 3>>& spacings,
                                         const std::vector<std::array<int64_t, 3>>& sizes) {
  MEDKD_CHECK(!spacings.empty() && spacings.size() == sizes.size(),
              "target spacing needs one size per spacing and at least one case");
  std::array<double, 3> target{};
  std::array<double, 3> median_size{};
  for (int axis = 0; axis < 3; ++axis) {
    std::vector<double> axis_spacings, axis_sizes;
    for (size_t i = 0; i < spacings.size(); ++i) {
      axis_spacings.push_back(spacings[i][axis]);
      axis_sizes.push_back(static_cast<double>(sizes[i][axis]));
    }
    target[axis] = percentile(axis_spacings, 50.0);
    median_size[axis] = percentile(axis_sizes, 50.0);
  }
  // The coarsest axis (first one on ties, like numpy.argmax) against the other two.
  const int worst =
      static_cast<int>(std::max_element(target.begin(), target.end()) - target.begin());
  double max_other_spacing = 0.0;
  double min_other_size = std::numeric_limits<double>::infinity();
  for (int axis = 0; axis < 3; ++axis) {
    if (axis == worst) continue;
    max_other_spacing = std::max(max_other_spacing, target[axis]);
    min_other_size = std::min(min_other_size, median_size[axis]);
  }
  const bool anisotropic_spacing = target[worst] > kAnisotropyThreshold * max_other_spacing;
  const bool anisotropic_voxels = median_size[worst] * kAnisotropyThreshold < min_other_size;
  if (anisotropic_spacing && anisotropic_voxels) {
    std::vector<double> worst_spacings;
    for (const auto& s : spacings) worst_spacings.push_back(s[worst]);
    double spacing = percentile(worst_spacings, 10.0);
    // Never finer than the other axes: that would upsample the thick axis beyond the in-plane
    // resolution (nnU-Net adds 1e-5 to keep the axis recognisably the coarsest).
    if (spacing < max_other_spacing) spacing = std::max(max_other_spacing, spacing) + 1e-5;
    target[worst] = spacing;
  }
  return target;
}

Plan make_plan(const DatasetFingerprint& fingerprint, const PlanOptions& options) {
  options.validate();
  MEDKD_CHECK(!fingerprint.cases.empty(), "cannot plan from a fingerprint without cases");
  MEDKD_CHECK(fingerprint.foreground_intensities.size() == fingerprint.channel_names.size(),
              "fingerprint has ", fingerprint.channel_names.size(), " channel(s) but ",
              fingerprint.foreground_intensities.size(), " intensity statistics");
  Plan plan;
  plan.dims = options.dims;
  plan.channel_names = fingerprint.channel_names;
  plan.label_values = fingerprint.label_values;
  plan.label_names = fingerprint.label_names;
  // Class 0 is background whether or not dataset.json declares it.
  if (plan.label_values.empty() || plan.label_values.front() != 0) {
    plan.label_values.insert(plan.label_values.begin(), 0);
    plan.label_names.insert(plan.label_names.begin(), "background");
  }
  plan.image_resampling = parse_image_interpolation(options.image_resampling, "image resampling");
  plan.label_resampling = parse_label_interpolation(options.label_resampling, "label resampling");

  std::vector<std::array<double, 3>> spacings;
  std::vector<std::array<int64_t, 3>> sizes;
  for (const auto& c : fingerprint.cases) {
    spacings.push_back(c.spacing);
    sizes.push_back(c.size_after_crop);
  }
  plan.target_spacing = options.target_spacing.value_or(target_spacing_for(spacings, sizes));

  for (size_t c = 0; c < fingerprint.channel_names.size(); ++c) {
    ChannelNormalization n;
    n.scheme = normalization_scheme_for_channel(fingerprint.channel_names[c]);
    if (n.scheme == "ct") {
      const IntensityStatistics& s = fingerprint.foreground_intensities[c];
      MEDKD_CHECK(s.count > 0, "channel ", c, " (", fingerprint.channel_names[c],
                  ") is normalised as CT, which needs foreground voxels, but no training label "
                  "has any");
      n.clip_low = s.percentile_00_5;
      n.clip_high = s.percentile_99_5;
      n.mean = s.mean;
      n.std = s.std;
    }
    plan.normalization.push_back(n);
  }

  // Median cropped shape at the spacing each case will have.
  std::array<std::vector<double>, 3> resampled;
  for (const auto& c : fingerprint.cases) {
    const auto size = resampled_size(c.size_after_crop, c.spacing, plan.spacing_for(c.spacing));
    for (int axis = 0; axis < 3; ++axis) resampled[axis].push_back(static_cast<double>(size[axis]));
  }
  for (int axis = 0; axis < 3; ++axis)
    plan.median_shape[axis] = std::max<int64_t>(1, std::llround(percentile(resampled[axis], 50)));

  const bool two_d = plan.dims == 2;
  plan.patch_divisor = {options.divisor_inplane, options.divisor_inplane,
                        two_d ? 1 : options.divisor_z};
  if (options.patch_size) {
    plan.patch_size = *options.patch_size;
  } else {
    for (int axis = 0; axis < 3; ++axis)
      plan.patch_size[axis] = round_up(plan.median_shape[axis], plan.patch_divisor[axis]);
    if (two_d) plan.patch_size[2] = 1;
    // Shrink the axis that is longest in millimetres (ties: more voxels, then x before y before
    // z) by one divisor step until the smallest batch fits the budget; keeping patches roughly
    // isotropic in mm gives the network the same context in every direction.
    while (options.min_batch_size * voxels(plan.patch_size) > options.batch_voxels) {
      int best = -1;
      for (int axis = 0; axis < (two_d ? 2 : 3); ++axis) {
        if (plan.patch_size[axis] <= plan.patch_divisor[axis]) continue;
        if (best < 0) {
          best = axis;
          continue;
        }
        const double extent = plan.patch_size[axis] * plan.target_spacing[axis];
        const double best_extent = plan.patch_size[best] * plan.target_spacing[best];
        if (extent > best_extent * (1 + 1e-9) ||
            (extent > best_extent * (1 - 1e-9) && plan.patch_size[axis] > plan.patch_size[best]))
          best = axis;
      }
      if (best < 0) break;  // every axis at its minimum: accept the budget overrun
      plan.patch_size[best] -= plan.patch_divisor[best];
    }
  }

  if (options.batch_size) {
    plan.batch_size = *options.batch_size;
  } else {
    const int64_t patch_voxels = voxels(plan.patch_size);
    const int64_t fits = options.batch_voxels / patch_voxels;
    const double dataset_voxels = static_cast<double>(voxels(plan.median_shape)) *
                                  static_cast<double>(fingerprint.cases.size());
    const auto dataset_cap = static_cast<int64_t>(
        std::llround(dataset_voxels * options.max_batch_fraction_of_dataset / patch_voxels));
    plan.batch_size = std::max(options.min_batch_size, std::min(fits, dataset_cap));
  }
  plan.validate("plan");
  return plan;
}

nlohmann::ordered_json plan_to_json(const Plan& plan) {
  nlohmann::ordered_json json;
  json["format"] = "medkd-plans";
  json["version"] = kPlansFormatVersion;
  json["dims"] = plan.dims;
  json["target_spacing"] = plan.target_spacing;
  json["patch_size"] = plan.patch_size;
  json["patch_divisor"] = plan.patch_divisor;
  json["batch_size"] = plan.batch_size;
  json["median_shape"] = plan.median_shape;
  json["image_resampling"] = to_string(plan.image_resampling);
  json["label_resampling"] = to_string(plan.label_resampling);
  json["channels"] = nlohmann::ordered_json::array();
  for (size_t c = 0; c < plan.normalization.size(); ++c)
    json["channels"].push_back(normalization_to_json(plan.channel_names[c], plan.normalization[c]));
  json["labels"] = nlohmann::ordered_json::array();
  for (size_t i = 0; i < plan.label_values.size(); ++i)
    json["labels"].push_back({{"name", plan.label_names[i]}, {"value", plan.label_values[i]}});
  json["num_classes"] = plan.num_classes();
  // For people comparing a cache folder with a plan; ignored when reading.
  json["preprocessing_hash"] = plan.preprocessing_hash();
  return json;
}

Plan plan_from_json(const nlohmann::json& json, const std::string& source) {
  MEDKD_CHECK(json.is_object(), source, ": a plan is a JSON object");
  const int version = read_field<int>(json, "version", source);
  MEDKD_CHECK(version == kPlansFormatVersion, source, ": plans version ", version,
              " is not supported (this medkd reads version ", kPlansFormatVersion, ")");
  Plan plan;
  plan.dims = read_field<int>(json, "dims", source);
  plan.target_spacing = read_field<std::array<double, 3>>(json, "target_spacing", source);
  plan.patch_size = read_field<std::array<int64_t, 3>>(json, "patch_size", source);
  plan.patch_divisor = read_field<std::array<int64_t, 3>>(json, "patch_divisor", source);
  plan.batch_size = read_field<int64_t>(json, "batch_size", source);
  plan.median_shape = read_field<std::array<int64_t, 3>>(json, "median_shape", source);
  plan.image_resampling = parse_image_interpolation(
      read_field<std::string>(json, "image_resampling", source), source + ": image_resampling");
  plan.label_resampling = parse_label_interpolation(
      read_field<std::string>(json, "label_resampling", source), source + ": label_resampling");
  const auto channels = read_field<nlohmann::json>(json, "channels", source);
  MEDKD_CHECK(channels.is_array(), source, ": channels must be an array");
  for (size_t c = 0; c < channels.size(); ++c) {
    const std::string where = str(source, ": channels[", c, "]");
    plan.channel_names.push_back(read_field<std::string>(channels[c], "name", where));
    ChannelNormalization n;
    n.scheme = read_field<std::string>(channels[c], "scheme", where);
    if (n.scheme == "ct") {
      n.clip_low = read_field<double>(channels[c], "clip_low", where);
      n.clip_high = read_field<double>(channels[c], "clip_high", where);
      n.mean = read_field<double>(channels[c], "mean", where);
      n.std = read_field<double>(channels[c], "std", where);
    }
    plan.normalization.push_back(n);
  }
  const auto labels = read_field<nlohmann::json>(json, "labels", source);
  MEDKD_CHECK(labels.is_array(), source, ": labels must be an array");
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string where = str(source, ": labels[", i, "]");
    plan.label_names.push_back(read_field<std::string>(labels[i], "name", where));
    plan.label_values.push_back(read_field<int>(labels[i], "value", where));
  }
  const auto num_classes = read_field<int64_t>(json, "num_classes", source);
  MEDKD_CHECK(num_classes == plan.num_classes(), source, ": num_classes is ", num_classes, " but ",
              plan.num_classes(), " label(s) are listed");
  plan.validate(source);
  return plan;
}

void save_plan(const Plan& plan, const std::filesystem::path& path) {
  plan.validate(path.string());
  core::write_text_file(path, plan_to_json(plan).dump(2) + "\n");
}

Plan load_plan(const std::filesystem::path& path) {
  return plan_from_json(core::read_json_file(path), path.string());
}

}  // namespace medkd::data
