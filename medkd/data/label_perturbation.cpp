#include "medkd/data/label_perturbation.h"

#include <torch/torch.h>

#include "medkd/core/error.h"

namespace medkd::data {

namespace F = torch::nn::functional;

void LabelPerturbationOptions::validate() const {
  MEDKD_CHECK(max_shift >= 0, "--max-shift must be >= 0, got ", max_shift);
  for (const auto& [name, p] : {std::pair<const char*, double>{"--dilate", dilate_probability},
                                {"--erode", erode_probability},
                                {"--drop", drop_probability}})
    MEDKD_CHECK(p >= 0 && p <= 1, name, " must be a probability in [0, 1], got ", p);
  MEDKD_CHECK(dilate_probability + erode_probability <= 1, "--dilate + --erode must be <= 1, got ",
              dilate_probability + erode_probability);
}

namespace {

// One-voxel dilation with a 6-connected (face) structuring element; z is skipped for 2-D maps.
torch::Tensor dilate(const torch::Tensor& mask) {  // [1, 1, Z, Y, X] float
  torch::Tensor out = mask.clone();
  for (int axis = 2; axis < 5; ++axis) {
    if (mask.size(axis) == 1) continue;
    std::vector<int64_t> kernel{1, 1, 1}, padding{0, 0, 0};
    kernel[axis - 2] = 3;
    padding[axis - 2] = 1;
    out = torch::maximum(
        out, F::max_pool3d(mask, F::MaxPool3dFuncOptions(kernel).stride(1).padding(padding)));
  }
  return out;
}

torch::Tensor erode(const torch::Tensor& mask) { return 1 - dilate(1 - mask); }

}  // namespace

io::Image perturb_labels(const io::Image& labels, const LabelPerturbationOptions& options,
                         core::Rng& rng) {
  options.validate();
  MEDKD_CHECK(labels.channels() == 1, "label maps have one channel, got ", labels.channels());
  torch::NoGradGuard no_grad;
  const torch::Tensor values = labels.data.to(torch::kInt64);
  const torch::Tensor present = std::get<0>(torch::_unique(values));
  torch::Tensor out = torch::zeros_like(values);
  for (int64_t i = 0; i < present.numel(); ++i) {
    const int64_t label = present[i].item<int64_t>();
    if (label == 0) continue;
    if (rng.bernoulli(options.drop_probability)) continue;
    torch::Tensor mask = (values == label).to(torch::kFloat32).unsqueeze(0);  // [1, 1, Z, Y, X]
    const double r = rng.uniform();
    if (r < options.dilate_probability)
      mask = dilate(mask);
    else if (r < options.dilate_probability + options.erode_probability)
      mask = erode(mask);
    for (int axis = 2; axis < 5; ++axis) {
      const int64_t shift =
          mask.size(axis) > 1 ? rng.integer(-options.max_shift, options.max_shift) : 0;
      if (shift == 0) continue;
      // Shift without wrap-around: roll, then clear the slab that came round from the far side.
      mask = torch::roll(mask, {shift}, {axis});
      const int64_t n = mask.size(axis);
      if (shift > 0)
        mask.narrow(axis, 0, std::min(shift, n)).zero_();
      else
        mask.narrow(axis, std::max<int64_t>(0, n + shift), std::min(-shift, n)).zero_();
    }
    out.masked_fill_(mask.squeeze(0) > 0.5, label);
  }
  return io::Image{out.to(labels.data.scalar_type()), labels.geometry};
}

}  // namespace medkd::data
