// Nearest or (bi/tri)linear resampling of feature maps [N, C, *spatial] (2 or 3 spatial axes),
// by a factor or to a size: the upsamplings of the zoo's decoders and of distillation.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace medkd::nn {

enum class Interpolation { kNearest, kLinear };  // linear: bilinear in 2-D, trilinear in 3-D

// Every spatial axis scaled by `factor`. `align_corners` applies to linear interpolation only
// (PyTorch's meaning). [N, C, *S] -> [N, C, *floor(S · factor)]
torch::Tensor upsample(const torch::Tensor& x, double factor, Interpolation mode,
                       bool align_corners = false);

// Resampled to `size` (one entry per spatial axis, tensor order). [N, C, *S] -> [N, C, *size]
torch::Tensor resize(const torch::Tensor& x, const std::vector<int64_t>& size, Interpolation mode,
                     bool align_corners = false);

}  // namespace medkd::nn
