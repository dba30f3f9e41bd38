#include "medkd/data/augment.h"

#include <ATen/CPUGeneratorImpl.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

#include "medkd/core/error.h"

namespace medkd::data {

namespace F = torch::nn::functional;

namespace {

constexpr double kPi = 3.14159265358979323846;
const char* const kAxisNames = "xyz";

// The one list of option names: YAML parsing, YAML and JSON output all walk it.
using FieldPointer = std::variant<bool*, double*, std::array<double, 2>*, std::array<bool, 3>*>;
struct Field {
  const char* name;
  FieldPointer value;
};

std::vector<Field> fields(AugmentOptions& o) {
  return {{"enabled", &o.enabled},
          {"mirror_probability", &o.mirror_probability},
          {"mirror_axes", &o.mirror_axes},
          {"rot90_probability", &o.rot90_probability},
          {"rotation_probability", &o.rotation_probability},
          {"rotation_degrees", &o.rotation_degrees},
          {"rotation_out_of_plane_degrees", &o.rotation_out_of_plane_degrees},
          {"scale_probability", &o.scale_probability},
          {"scale_range", &o.scale_range},
          {"noise_probability", &o.noise_probability},
          {"noise_std_range", &o.noise_std_range},
          {"blur_probability", &o.blur_probability},
          {"blur_sigma_range", &o.blur_sigma_range},
          {"brightness_probability", &o.brightness_probability},
          {"brightness_range", &o.brightness_range},
          {"contrast_probability", &o.contrast_probability},
          {"contrast_range", &o.contrast_range},
          {"gamma_probability", &o.gamma_probability},
          {"gamma_inverted_probability", &o.gamma_inverted_probability},
          {"gamma_range", &o.gamma_range},
          {"gamma_retain_stats", &o.gamma_retain_stats}};
}

std::string valid_keys() {
  AugmentOptions defaults;
  std::string keys;
  for (const Field& field : fields(defaults))
    keys += (keys.empty() ? "" : ", ") + std::string(field.name);
  return keys;
}

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

template <typename T>
T scalar(const YAML::Node& node, const char* name, const char* expected) {
  try {
    MEDKD_CHECK(node.IsScalar(), "");
    return node.as<T>();
  } catch (const std::exception&) {
    throw Error(
        str("augmentation option ", name, " must be ", expected, ", got ", yaml_text(node)));
  }
}

void parse(const YAML::Node& node, const char* name, bool* value) {
  *value = scalar<bool>(node, name, "true or false");
}
void parse(const YAML::Node& node, const char* name, double* value) {
  *value = scalar<double>(node, name, "a number");
}
void parse(const YAML::Node& node, const char* name, std::array<double, 2>* value) {
  MEDKD_CHECK(node.IsSequence() && node.size() == 2, "augmentation option ", name,
              " must be a range [lo, hi], got ", yaml_text(node));
  for (size_t i = 0; i < 2; ++i) (*value)[i] = scalar<double>(node[i], name, "a range of numbers");
}
void parse(const YAML::Node& node, const char* name, std::array<bool, 3>* value) {
  MEDKD_CHECK(node.IsSequence(), "augmentation option ", name,
              " must be a list of axes among x, y, z, got ", yaml_text(node));
  *value = {false, false, false};
  for (const YAML::Node& item : node) {
    const std::string axis = scalar<std::string>(item, name, "a list of axes among x, y, z");
    MEDKD_CHECK(axis.size() == 1 && std::string("xyz").find(axis) != std::string::npos,
                "augmentation option ", name, " must list axes among x, y, z, got ", axis);
    (*value)[std::string("xyz").find(axis)] = true;
  }
}

// A CPU generator for torch's random tensor functions, seeded from `rng`: torch's default
// generator is process-global, so drawing from it in loader threads would make runs depend on
// scheduling.
at::Generator tensor_generator(core::Rng& rng) {
  return at::make_generator<at::CPUGeneratorImpl>(rng.engine()());
}

// A factor drawn as batchgenerators does for contrast and gamma: below or above 1 with equal odds
// when the range spans 1, so that a range like [0.7, 1.5] does not mostly increase.
double factor_around_one(const std::array<double, 2>& range, core::Rng& rng) {
  if (range[0] >= 1 || range[1] <= 1) return rng.uniform(range[0], range[1]);
  return rng.uniform() < 0.5 ? rng.uniform(range[0], 1.0) : rng.uniform(1.0, range[1]);
}

// Rotates (axial plane, then out of plane) and scales by resampling: output voxel at offset v from
// the patch centre takes the input at A v, with A = R / scale in voxel units (x, y, z). affine_grid
// works in coordinates normalised to [-1, 1] per axis, so A is conjugated by the voxel sizes to
// keep non-cubic patches from being sheared.
void rotate_and_scale(torch::Tensor& image, torch::Tensor& label, int dims, double axial_radians,
                      double x_radians, double y_radians, double scale) {
  const int n = dims;  // spatial axes, in (x, y[, z]) order below
  auto rotation = [](int a, int b, double angle, int size) {
    std::vector<std::vector<double>> r(size, std::vector<double>(size, 0.0));
    for (int i = 0; i < size; ++i) r[i][i] = 1.0;
    r[a][a] = std::cos(angle);
    r[a][b] = -std::sin(angle);
    r[b][a] = std::sin(angle);
    r[b][b] = std::cos(angle);
    return r;
  };
  auto multiply = [n](const std::vector<std::vector<double>>& p,
                      const std::vector<std::vector<double>>& q) {
    std::vector<std::vector<double>> r(n, std::vector<double>(n, 0.0));
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        for (int k = 0; k < n; ++k) r[i][j] += p[i][k] * q[k][j];
    return r;
  };
  std::vector<std::vector<double>> a = rotation(0, 1, axial_radians, n);
  if (dims == 3)
    a = multiply(multiply(a, rotation(1, 2, x_radians, n)), rotation(2, 0, y_radians, n));

  std::vector<int64_t> size(n);  // (x, y[, z]) voxels
  for (int i = 0; i < n; ++i) size[i] = image.size(image.dim() - 1 - i);
  torch::Tensor theta = torch::zeros({1, n, n + 1}, torch::kFloat64);  // [1, n, n + 1]
  auto t = theta.accessor<double, 3>();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      t[0][i][j] = a[i][j] / scale * static_cast<double>(size[j]) / static_cast<double>(size[i]);

  std::vector<int64_t> grid_size{1, image.size(0)};
  for (int64_t d = 1; d < image.dim(); ++d) grid_size.push_back(image.size(d));
  const torch::Tensor grid =
      F::affine_grid(theta.to(image.scalar_type()), grid_size, /*align_corners=*/false);
  image = F::grid_sample(image.unsqueeze(0), grid,
                         F::GridSampleFuncOptions()
                             .mode(torch::kBilinear)
                             .padding_mode(torch::kZeros)
                             .align_corners(false))
              .squeeze(0);  // [C, *spatial]
  label = F::grid_sample(label.unsqueeze(0).to(grid.scalar_type()), grid,
                         F::GridSampleFuncOptions()
                             .mode(torch::kNearest)
                             .padding_mode(torch::kZeros)
                             .align_corners(false))
              .squeeze(0)
              .round()
              .to(label.scalar_type());  // [1, *spatial]
}

// Separable Gaussian blur of one channel [*spatial], kernel truncated at 4σ like scipy's
// gaussian_filter, borders extended by replication.
torch::Tensor gaussian_blur(const torch::Tensor& channel, double sigma) {
  const int64_t radius = std::max<int64_t>(1, static_cast<int64_t>(4.0 * sigma + 0.5));
  torch::Tensor kernel = torch::arange(-radius, radius + 1, channel.options());
  kernel = torch::exp(-kernel * kernel / (2.0 * sigma * sigma));
  kernel = (kernel / kernel.sum()).view({1, 1, -1});  // [1, 1, 2r + 1]
  torch::Tensor out = channel;
  for (int64_t axis = 0; axis < channel.dim(); ++axis) {
    torch::Tensor moved = out.movedim(axis, -1).contiguous();
    const auto moved_shape = moved.sizes().vec();
    torch::Tensor rows = moved.reshape({-1, 1, moved.size(-1)});  // [rows, 1, L]
    rows = F::pad(rows, F::PadFuncOptions({radius, radius}).mode(torch::kReplicate));
    rows = F::conv1d(rows, kernel);  // [rows, 1, L]
    out = rows.reshape(moved_shape).movedim(-1, axis);
  }
  return out;
}

// batchgenerators' augment_gamma for one channel.
torch::Tensor gamma_transform(torch::Tensor x, double gamma, bool inverted, bool retain_stats) {
  constexpr double kEpsilon = 1e-7;
  if (inverted) x = -x;
  const torch::Tensor mean = x.mean(), stddev = x.std(/*unbiased=*/false);
  const torch::Tensor low = x.min(), range = x.max() - low + kEpsilon;
  x = torch::pow((x - low) / range, gamma) * range + low;
  if (retain_stats) x = (x - x.mean()) / (x.std(/*unbiased=*/false) + 1e-8) * stddev + mean;
  return inverted ? -x : x;
}

}  // namespace

void AugmentOptions::validate() const {
  for (auto [name, p] : {std::pair<const char*, double>{"mirror_probability", mirror_probability},
                         {"rot90_probability", rot90_probability},
                         {"rotation_probability", rotation_probability},
                         {"scale_probability", scale_probability},
                         {"noise_probability", noise_probability},
                         {"blur_probability", blur_probability},
                         {"brightness_probability", brightness_probability},
                         {"contrast_probability", contrast_probability},
                         {"gamma_probability", gamma_probability},
                         {"gamma_inverted_probability", gamma_inverted_probability}})
    MEDKD_CHECK(p >= 0 && p <= 1, "augmentation option ", name, " must be in [0, 1], got ", p);
  for (auto [name, degrees] : {std::pair<const char*, double>{"rotation_degrees", rotation_degrees},
                               {"rotation_out_of_plane_degrees", rotation_out_of_plane_degrees}})
    MEDKD_CHECK(degrees >= 0 && degrees <= 180, "augmentation option ", name,
                " must be in [0, 180], got ", degrees);
  for (auto [name, range, lowest] :
       {std::tuple<const char*, std::array<double, 2>, double>{"scale_range", scale_range, 1e-6},
        {"noise_std_range", noise_std_range, 0.0},
        {"blur_sigma_range", blur_sigma_range, 0.0},
        {"brightness_range", brightness_range, 0.0},
        {"contrast_range", contrast_range, 0.0},
        {"gamma_range", gamma_range, 1e-6}})
    MEDKD_CHECK(std::isfinite(range[0]) && std::isfinite(range[1]) && range[0] >= lowest &&
                    range[0] <= range[1],
                "augmentation option ", name, " must be a range [lo, hi] with ",
                lowest == 0.0 ? "0 <= lo <= hi" : "0 < lo <= hi", ", got [", range[0], ", ",
                range[1], "]");
}

AugmentOptions AugmentOptions::from_yaml(const YAML::Node& node) {
  AugmentOptions options;
  if (!node || node.IsNull()) return options;
  MEDKD_CHECK(node.IsMap(), "augmentation must be a map of options, got ", yaml_text(node));
  std::vector<Field> known = fields(options);
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    auto field =
        std::find_if(known.begin(), known.end(), [&](const Field& f) { return key == f.name; });
    MEDKD_CHECK(field != known.end(), "unknown augmentation option '", key,
                "'; valid options: ", valid_keys());
    std::visit([&](auto* value) { parse(entry.second, field->name, value); }, field->value);
  }
  options.validate();
  return options;
}

std::string AugmentOptions::to_yaml() const {
  AugmentOptions copy = *this;
  YAML::Emitter out;
  out.SetDoublePrecision(15);
  out << YAML::Flow << YAML::BeginMap;
  for (const Field& field : fields(copy)) {
    out << YAML::Key << field.name << YAML::Value;
    std::visit(
        [&](auto* value) {
          using T = std::decay_t<decltype(*value)>;
          if constexpr (std::is_same_v<T, std::array<double, 2>>) {
            out << YAML::Flow << YAML::BeginSeq << (*value)[0] << (*value)[1] << YAML::EndSeq;
          } else if constexpr (std::is_same_v<T, std::array<bool, 3>>) {
            out << YAML::Flow << YAML::BeginSeq;
            for (int axis = 0; axis < 3; ++axis)
              if ((*value)[axis]) out << std::string(1, kAxisNames[axis]);
            out << YAML::EndSeq;
          } else {
            out << *value;
          }
        },
        field.value);
  }
  out << YAML::EndMap;
  return out.c_str();
}

std::string AugmentOptions::to_json() const {
  AugmentOptions copy = *this;
  nlohmann::json out = nlohmann::json::object();
  for (const Field& field : fields(copy)) {
    std::visit(
        [&](auto* value) {
          using T = std::decay_t<decltype(*value)>;
          if constexpr (std::is_same_v<T, std::array<bool, 3>>) {
            nlohmann::json axes = nlohmann::json::array();
            for (int axis = 0; axis < 3; ++axis)
              if ((*value)[axis]) axes.push_back(std::string(1, kAxisNames[axis]));
            out[field.name] = axes;
          } else {
            out[field.name] = *value;
          }
        },
        field.value);
  }
  return out.dump();
}

void augment(torch::Tensor& image, torch::Tensor& label, const AugmentOptions& options, int dims,
             core::Rng& rng) {
  MEDKD_CHECK(dims == 2 || dims == 3, "augmentation dims must be 2 or 3, got ", dims);
  MEDKD_CHECK(image.defined() && image.dim() == dims + 1, "augmentation of a ", dims,
              "-D patch needs an image [C, *spatial] with ", dims + 1, " dimensions, got ",
              image.defined() ? image.sizes() : torch::IntArrayRef{});
  MEDKD_CHECK(label.defined() && label.dim() == dims + 1 && label.size(0) == 1 &&
                  label.sizes().slice(1) == image.sizes().slice(1),
              "augmentation: label ", label.defined() ? label.sizes() : torch::IntArrayRef{},
              " does not match image ", image.sizes());
  if (!options.enabled) return;
  options.validate();
  torch::NoGradGuard no_grad;
  const int64_t channels = image.size(0);

  // Spatial: one resampling for rotation and scaling together.
  const bool rotate = rng.bernoulli(options.rotation_probability);
  const bool scale = rng.bernoulli(options.scale_probability);
  if (rotate || scale) {
    double axial = 0, around_x = 0, around_y = 0, factor = 1;
    if (rotate) {
      const double radians = kPi / 180.0;
      axial = rng.uniform(-options.rotation_degrees, options.rotation_degrees) * radians;
      if (dims == 3) {
        const double out_of_plane = options.rotation_out_of_plane_degrees;
        around_x = rng.uniform(-out_of_plane, out_of_plane) * radians;
        around_y = rng.uniform(-out_of_plane, out_of_plane) * radians;
      }
    }
    if (scale) factor = rng.uniform(options.scale_range[0], options.scale_range[1]);
    rotate_and_scale(image, label, dims, axial, around_x, around_y, factor);
  }
  if (rng.bernoulli(options.rot90_probability)) {
    // A quarter turn of a non-square plane would change the patch shape: only half turns there.
    const bool square = image.size(-1) == image.size(-2);
    const int64_t turns = square ? rng.integer(1, 3) : 2;
    image = torch::rot90(image, turns, {-2, -1});
    label = torch::rot90(label, turns, {-2, -1});
  }

  // Intensity: image only, out of place so that the caller's storage is never written.
  if (rng.bernoulli(options.noise_probability)) {
    const double stddev = rng.uniform(options.noise_std_range[0], options.noise_std_range[1]);
    image = image + torch::randn(image.sizes(), tensor_generator(rng), image.options()) * stddev;
  }
  auto per_channel = [&](const auto& transform) {
    std::vector<torch::Tensor> out;
    for (int64_t c = 0; c < channels; ++c) out.push_back(transform(image[c]));
    image = torch::stack(out);  // [C, *spatial]
  };
  if (rng.bernoulli(options.blur_probability))
    per_channel([&](const torch::Tensor& x) {
      const double sigma = rng.uniform(options.blur_sigma_range[0], options.blur_sigma_range[1]);
      return sigma > 0 ? gaussian_blur(x, sigma) : x;
    });
  if (rng.bernoulli(options.brightness_probability))
    per_channel([&](const torch::Tensor& x) {
      return x * rng.uniform(options.brightness_range[0], options.brightness_range[1]);
    });
  if (rng.bernoulli(options.contrast_probability))
    per_channel([&](const torch::Tensor& x) {
      // Preserves the channel's value range, as nnU-Net does.
      const double factor = factor_around_one(options.contrast_range, rng);
      const torch::Tensor mean = x.mean();
      return ((x - mean) * factor + mean).clamp(x.min().item<double>(), x.max().item<double>());
    });
  for (const bool inverted : {true, false}) {
    const double p = inverted ? options.gamma_inverted_probability : options.gamma_probability;
    if (rng.bernoulli(p))
      per_channel([&](const torch::Tensor& x) {
        return gamma_transform(x, factor_around_one(options.gamma_range, rng), inverted,
                               options.gamma_retain_stats);
      });
  }

  // Mirroring last, as in nnU-Net; axes (x, y, z) are tensor dimensions -1, -2, -3.
  for (int axis = 0; axis < dims; ++axis) {
    if (!options.mirror_axes[axis] || !rng.bernoulli(options.mirror_probability)) continue;
    image = torch::flip(image, {-1 - axis});
    label = torch::flip(label, {-1 - axis});
  }
  image = image.contiguous();
  label = label.contiguous();
}

}  // namespace medkd::data
