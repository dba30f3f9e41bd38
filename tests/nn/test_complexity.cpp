// Analytic parameter and MAC counts, checked against hand-computed layers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "medkd/nn/complexity.h"
#include "medkd/nn/layers.h"

namespace medkd::nn {
namespace {

// A module whose forward is a given function of its children.
struct Net : torch::nn::Module {
  std::function<torch::Tensor(const torch::Tensor&)> body;
};

ComplexityReport count(Net& net, std::vector<int64_t> shape) {
  return count_complexity(net, shape, net.body);
}

TEST(Complexity, ConvMacsAreOutputVoxelsTimesChannelsTimesKernel) {
  Net net;
  auto conv = net.register_module("conv", Conv(ConvOptions(3, 2, 4, {3}).padding({1}).stride({2})));
  net.body = [&](const torch::Tensor& x) { return conv->forward(x); };
  const auto r = count(net, {1, 2, 8, 8, 8});
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].name, "conv");
  EXPECT_EQ(r.layers[0].kind, "conv");
  EXPECT_EQ(r.layers[0].output_shape, (std::vector<int64_t>{1, 4, 4, 4, 4}));
  EXPECT_EQ(r.macs, 64 * 4 * 2 * 27);  // 4³ voxels × 4 out × 2 in × 3³
  EXPECT_EQ(r.params, 4 * 2 * 27 + 4);
  EXPECT_EQ(r.layers[0].params, r.params);
  EXPECT_DOUBLE_EQ(r.flops(), 2.0 * r.macs);
  EXPECT_EQ(r.output_shape, (std::vector<int64_t>{1, 4, 4, 4, 4}));
}

TEST(Complexity, GroupedAndTransposedConvsAreCountedPerGroupAndPerInputVoxel) {
  Net net;
  auto depthwise = net.register_module("dw", Conv(ConvOptions(2, 6, 6, {7}).padding({3}).groups(6)));
  auto up = net.register_module("up", Conv(ConvOptions(2, 6, 3, {2}).stride({2}).transposed(true)));
  net.body = [&](const torch::Tensor& x) { return up->forward(depthwise->forward(x)); };
  const auto r = count(net, {2, 6, 5, 5});
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.layers[0].macs, 2 * 25 * 6 * 1 * 49);
  EXPECT_EQ(r.layers[1].kind, "transposed_conv");
  EXPECT_EQ(r.layers[1].macs, 2 * 25 * 6 * 3 * 4);
  EXPECT_EQ(r.layers[1].output_shape, (std::vector<int64_t>{2, 3, 10, 10}));
}

TEST(Complexity, LinearAttentionNormAndPoolHaveTheirDocumentedCosts) {
  Net net;
  auto qkv = net.register_module("qkv", Linear(8, 24));
  auto norm = net.register_module("norm", Norm(NormOptions(NormType::kLayer, 8)));
  net.body = [&](const torch::Tensor& x) {
    const auto tokens = norm->forward(x.flatten(2).transpose(1, 2));  // [1, 16, 8]
    const auto parts = qkv->forward(tokens).reshape({1, 16, 3, 2, 4}).permute({2, 0, 3, 1, 4});
    const auto a = attention(parts[0], parts[1], parts[2], 0.5, {}, &net);  // [1, 2, 16, 4]
    return max_pool(a.reshape({1, 8, 4, 4}), {2}, {2});
  };
  const auto r = count(net, {1, 8, 4, 4});
  ASSERT_EQ(r.layers.size(), 4u);
  EXPECT_EQ(r.layers[0].macs, 16 * 8 * 2);      // norm: normalise + affine per element
  EXPECT_EQ(r.layers[1].macs, 16 * 8 * 24);     // linear
  EXPECT_EQ(r.layers[2].kind, "attention");
  EXPECT_EQ(r.layers[2].macs, 2 * 16 * 16 * (4 + 4));  // heads × N × M × (d + e)
  EXPECT_EQ(r.layers[3].macs, 8 * 2 * 2 * 4);   // output elements × window
}

TEST(Complexity, AHeavyOpOutsideTheCountedLayersIsAnError) {
  Net net;
  auto w = net.register_parameter("w", torch::randn({4, 2, 3, 3}));
  net.body = [&](const torch::Tensor& x) { return torch::conv2d(x, w); };
  try {
    count(net, {1, 2, 6, 6});
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("aten::conv2d"), std::string::npos) << e.what();
  }
}

TEST(Complexity, CountingRestoresTrainingModeAndLeavesComputationIntact) {
  Net net;
  auto conv = net.register_module("conv", Conv(ConvOptions(2, 1, 1, {1})));
  net.body = [&](const torch::Tensor& x) { return conv->forward(x); };
  net.train();
  count(net, {1, 1, 2, 2});
  EXPECT_TRUE(net.is_training());
  EXPECT_GT(conv->forward(torch::ones({1, 1, 2, 2})).abs().sum().item<double>(), 0.0);
}

}  // namespace
}  // namespace medkd::nn
