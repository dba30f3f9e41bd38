// Parameters, multiply-accumulates and FLOPs of a network for a given input size, per layer.
//
//   auto report = medkd::nn::count_complexity(*model, {1, 2, 144, 144, 144},
//                                             [&](const torch::Tensor& x) { return model->forward(x); });
//   report.params, report.macs, report.flops(), report.layers (in execution order)
//
// The network runs its own forward() while a ComplexityCounter is active: the layers of
// nn/layers.h add their cost and skip their arithmetic, so counting takes the time of allocating
// the activations, not of computing them. What is counted (docs/complexity.md):
//   conv          output voxels × out channels × in channels / groups × kernel volume
//   transposed    input voxels × in channels × out channels / groups × kernel volume
//   linear        rows × in × out
//   attention     q kᵀ and (softmax) v: 2 × rows × keys × head width per head
//   norm          one MAC per element to normalise, one more with an affine transform
//   pooling       one per input element covered by a window (comparisons or additions)
// Biases, activations, softmax, additions, concatenation and interpolation are not counted, as
// in fvcore and ptflops. FLOPs = 2 × MACs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace medkd::nn {

struct LayerCost {
  std::string name;  // the module's path in the network ("encoder.stages.0.0.convs.0.conv")
  std::string kind;  // conv | transposed_conv | linear | norm | pool | attention | matmul
  std::vector<int64_t> output_shape;
  int64_t params = 0;  // the module's own parameters (0 for functional ops)
  int64_t macs = 0;
};

struct ComplexityReport {
  std::vector<LayerCost> layers;  // in execution order; a module run twice appears twice
  int64_t params = 0;             // every parameter of the network
  int64_t macs = 0;               // the sum over `layers`
  std::vector<int64_t> output_shape;
  double flops() const { return 2.0 * double(macs); }
};

// Runs `forward` (the forward pass of `model`) on zeros of `input_shape` ([N, C, *spatial]) with
// `model` in eval mode and counting active, and returns the counts; the model's train/eval mode is
// restored. Module names in the report are paths within `model`. A heavy ATen op (convolution,
// matrix product, norm, pooling) executed outside nn/layers.h during the count is a medkd::Error
// naming it: the count would be wrong.
ComplexityReport count_complexity(torch::nn::Module& model, const std::vector<int64_t>& input_shape,
                                  const std::function<torch::Tensor(const torch::Tensor&)>& forward);

namespace detail {
// Whether the layers of this thread should count instead of compute.
bool counting();
// Adds one entry; `module` is looked up in the network's module names.
void record(const torch::nn::Module* module, const std::string& kind,
            std::vector<int64_t> output_shape, int64_t macs);
}  // namespace detail

}  // namespace medkd::nn
