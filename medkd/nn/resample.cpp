#include "medkd/nn/resample.h"

#include "medkd/core/error.h"

namespace medkd::nn {
namespace {

namespace F = torch::nn::functional;

torch::Tensor interpolate(const torch::Tensor& x, F::InterpolateFuncOptions options,
                          Interpolation mode, bool align_corners) {
  MEDKD_CHECK(x.dim() == 4 || x.dim() == 5, "resampling needs [N, C, *spatial] with 2 or 3 ",
              "spatial axes, got ", x.sizes());
  if (mode == Interpolation::kNearest) {
    options.mode(torch::kNearest);
  } else {
    options.align_corners(align_corners);
    if (x.dim() == 4)
      options.mode(torch::kBilinear);
    else
      options.mode(torch::kTrilinear);
  }
  return F::interpolate(x, options);
}

}  // namespace

torch::Tensor upsample(const torch::Tensor& x, double factor, Interpolation mode,
                       bool align_corners) {
  const auto dims = static_cast<size_t>(std::max<int64_t>(x.dim() - 2, 0));
  return interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>(dims, factor)),
                     mode, align_corners);
}

torch::Tensor resize(const torch::Tensor& x, const std::vector<int64_t>& size, Interpolation mode,
                     bool align_corners) {
  MEDKD_CHECK(int64_t(size.size()) == x.dim() - 2, "cannot resample ", x.sizes(), " to ",
              size.size(), " spatial sizes");
  return interpolate(x, F::InterpolateFuncOptions().size(size), mode, align_corners);
}

}  // namespace medkd::nn
