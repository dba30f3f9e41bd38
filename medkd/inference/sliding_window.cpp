#include "medkd/inference/sliding_window.h"

#include <cmath>

#include "medkd/core/error.h"

namespace medkd::inference {

using torch::indexing::Slice;

void SlidingWindowOptions::validate(int64_t spatial_dims) const {
  MEDKD_CHECK(int64_t(window.size()) == spatial_dims, "sliding window: window has ", window.size(),
              " axes, the image has ", spatial_dims, " spatial axes");
  for (int64_t w : window)
    MEDKD_CHECK(w > 0, "sliding window: window sizes must be positive, got ", w);
  MEDKD_CHECK(overlap >= 0 && overlap < 1, "sliding window: overlap must be in [0, 1), got ",
              overlap);
  MEDKD_CHECK(sigma_scale > 0, "sliding window: sigma_scale must be positive, got ", sigma_scale);
  MEDKD_CHECK(batch_size > 0, "sliding window: batch_size must be positive, got ", batch_size);
}

std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap) {
  if (size <= window) return {0};
  const double max_step = std::max(1.0, double(window) * (1.0 - overlap));
  const int64_t steps = static_cast<int64_t>(std::ceil(double(size - window) / max_step)) + 1;
  std::vector<int64_t> starts;
  const double actual_step = double(size - window) / double(steps - 1);
  for (int64_t i = 0; i < steps; ++i)
    starts.push_back(static_cast<int64_t>(std::llround(i * actual_step)));
  return starts;
}

torch::Tensor gaussian_importance_map(const std::vector<int64_t>& window, double sigma_scale) {
  // Separable: the product of one 1-D Gaussian per axis, broadcast to [*window].
  torch::Tensor map = torch::ones(window, torch::kFloat64);
  for (size_t a = 0; a < window.size(); ++a) {
    const double sigma = window[a] * sigma_scale;
    const double centre = (window[a] - 1) / 2.0;
    const torch::Tensor coords = torch::arange(window[a], torch::kFloat64);
    std::vector<int64_t> shape(window.size(), 1);
    shape[a] = window[a];
    map = map * torch::exp(-(coords - centre).pow(2) / (2 * sigma * sigma)).view(shape);
  }
  map = map / map.max();
  // Where only one window covers a voxel, a weight near zero would amplify rounding noise.
  return torch::clamp_min(map, 1e-3).to(torch::kFloat32);
}

torch::Tensor sliding_window(const torch::Tensor& image,
                             const std::function<torch::Tensor(const torch::Tensor&)>& network,
                             const SlidingWindowOptions& options) {
  const int64_t dims = image.dim() - 1;
  options.validate(dims);
  // Pad each axis up to the window: [C, *padded]
  std::vector<int64_t> padded_size, pad;  // pad in torch's order: last axis first, (before, after)
  for (int64_t a = 0; a < dims; ++a)
    padded_size.push_back(std::max(image.size(a + 1), options.window[a]));
  for (int64_t a = dims - 1; a >= 0; --a) {
    const int64_t missing = padded_size[a] - image.size(a + 1);
    pad.push_back(missing / 2);
    pad.push_back(missing - missing / 2);
  }
  torch::Tensor padded = torch::constant_pad_nd(image, pad, 0.0);

  std::vector<std::vector<int64_t>> starts;
  for (int64_t a = 0; a < dims; ++a)
    starts.push_back(window_starts(padded_size[a], options.window[a], options.overlap));
  std::vector<std::vector<int64_t>> corners{{}};
  for (int64_t a = 0; a < dims; ++a) {
    std::vector<std::vector<int64_t>> next;
    for (const auto& c : corners)
      for (int64_t s : starts[a]) {
        auto d = c;
        d.push_back(s);
        next.push_back(d);
      }
    corners = std::move(next);
  }

  const torch::Tensor weight =
      options.gaussian
          ? gaussian_importance_map(options.window, options.sigma_scale).to(image.device())
          : torch::ones(options.window, image.options().dtype(torch::kFloat32));
  torch::Tensor accumulated, weights;
  auto window_slices = [&](const std::vector<int64_t>& corner, bool with_channel) {
    std::vector<torch::indexing::TensorIndex> index;
    if (with_channel) index.emplace_back(Slice());
    for (int64_t a = 0; a < dims; ++a)
      index.emplace_back(Slice(corner[a], corner[a] + options.window[a]));
    return index;
  };
  for (size_t first = 0; first < corners.size(); first += size_t(options.batch_size)) {
    const size_t last = std::min(corners.size(), first + size_t(options.batch_size));
    std::vector<torch::Tensor> windows;
    for (size_t w = first; w < last; ++w)
      windows.push_back(padded.index(window_slices(corners[w], true)));
    const torch::Tensor outputs =
        network(torch::stack(windows)).to(torch::kFloat32);  // [B, K, *window]
    if (!accumulated.defined()) {
      std::vector<int64_t> shape{outputs.size(1)};
      shape.insert(shape.end(), padded_size.begin(), padded_size.end());
      accumulated = torch::zeros(shape, outputs.options());
      weights = torch::zeros(padded_size, outputs.options());
    }
    for (size_t w = first; w < last; ++w) {
      accumulated.index(window_slices(corners[w], true)).add_(outputs[int64_t(w - first)] * weight);
      weights.index(window_slices(corners[w], false)).add_(weight);
    }
  }
  torch::Tensor blended = accumulated / weights.unsqueeze(0);
  // Crop the padding away again.
  std::vector<torch::indexing::TensorIndex> crop{Slice()};
  for (int64_t a = 0; a < dims; ++a) {
    const int64_t before = (padded_size[a] - image.size(a + 1)) / 2;
    crop.emplace_back(Slice(before, before + image.size(a + 1)));
  }
  return blended.index(crop).contiguous();
}

std::function<torch::Tensor(const torch::Tensor&)> with_mirroring(
    std::function<torch::Tensor(const torch::Tensor&)> network, std::vector<int64_t> axes) {
  return [network = std::move(network), axes = std::move(axes)](const torch::Tensor& batch) {
    torch::Tensor sum;
    const int64_t combinations = int64_t(1) << axes.size();
    for (int64_t mask = 0; mask < combinations; ++mask) {
      std::vector<int64_t> flip;
      for (size_t i = 0; i < axes.size(); ++i)
        if (mask & (int64_t(1) << i)) flip.push_back(axes[i] + 2);  // [B, C, *spatial]
      torch::Tensor out = flip.empty() ? network(batch) : network(batch.flip(flip)).flip(flip);
      sum = sum.defined() ? sum + out : out;
    }
    return sum / double(combinations);
  };
}

}  // namespace medkd::inference
