// Sliding-window inference: a network trained on patches segments a whole volume by running on
// overlapping windows and blending their outputs with a Gaussian importance map, which weights
// window centres (where the network saw context on every side) over window borders.
// nnU-Net's defaults: step = half the window (overlap 0.5), σ = 1/8 of the window per axis.
#pragma once

#include <torch/torch.h>

#include <array>
#include <functional>
#include <vector>

namespace medkd::inference {

struct SlidingWindowOptions {
  std::vector<int64_t> window;  // spatial window size, same order as the tensor's spatial axes
  double overlap = 0.5;         // fraction of the window shared by neighbouring windows, [0, 1)
  double sigma_scale = 0.125;   // Gaussian σ as a fraction of the window, per axis
  int64_t batch_size = 2;       // windows evaluated per network call
  bool gaussian = true;         // false: plain average

  void validate(int64_t spatial_dims) const;
};

// Window start positions along one axis of length `size`: evenly spread, first at 0, last at
// size − window, with steps of at most window × (1 − overlap). One position if size ≤ window.
std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap);

// Importance map [*window] (float32), maximum 1, strictly positive everywhere.
torch::Tensor gaussian_importance_map(const std::vector<int64_t>& window, double sigma_scale);

// Runs `network` ([B, C, *window] -> [B, K, *window]) over `image` [C, *spatial] and returns the
// blended outputs [K, *spatial]. The image is zero-padded when smaller than the window and the
// padding is cropped away again.
torch::Tensor sliding_window(const torch::Tensor& image,
                             const std::function<torch::Tensor(const torch::Tensor&)>& network,
                             const SlidingWindowOptions& options);

// Mirroring test-time augmentation: the average of `network` over every combination of flips of
// the spatial axes listed in `axes` (indices into the spatial axes), each flipped back.
std::function<torch::Tensor(const torch::Tensor&)> with_mirroring(
    std::function<torch::Tensor(const torch::Tensor&)> network, std::vector<int64_t> axes);

}  // namespace medkd::inference
