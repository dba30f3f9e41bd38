// The counted layers compute what their LibTorch counterparts compute.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "medkd/nn/layers.h"

namespace medkd::nn {
namespace {

TEST(Layers, ConvMatchesTorchConv3dWithStridePaddingAndGroups) {
  torch::manual_seed(0);
  Conv conv(ConvOptions(3, 4, 6, {3, 1, 3}).stride({1, 2, 2}).padding({1, 0, 1}).groups(2));
  EXPECT_EQ(conv->weight.sizes(), torch::IntArrayRef({6, 2, 3, 1, 3}));
  const auto x = torch::randn({2, 4, 5, 6, 7});
  const auto expected = torch::conv3d(x, conv->weight, conv->bias, {1, 2, 2}, {1, 0, 1}, 1, 2);
  EXPECT_TRUE(torch::allclose(conv(x), expected));
}

TEST(Layers, TransposedConvHasPyTorchsWeightLayoutAndOutputSize) {
  Conv up(ConvOptions(2, 8, 4, {2}).stride({2}).transposed(true));
  EXPECT_EQ(up->weight.sizes(), torch::IntArrayRef({8, 4, 2, 2}));
  EXPECT_EQ(up(torch::randn({1, 8, 3, 5})).sizes(), torch::IntArrayRef({1, 4, 6, 10}));
}

TEST(Layers, DefaultInitialisationBoundsFollowFanIn) {
  Conv conv(ConvOptions(3, 2, 3, {3}));
  const double bound = 1.0 / std::sqrt(2.0 * 27.0);  // kaiming_uniform(a=√5) = 1/√fan_in
  EXPECT_LE(conv->weight.abs().max().item<double>(), bound + 1e-7);
  EXPECT_LE(conv->bias.abs().max().item<double>(), bound + 1e-7);
}

TEST(Layers, LinearMatchesTorchLinear) {
  Linear linear(5, 3);
  const auto x = torch::randn({2, 7, 5});
  EXPECT_TRUE(torch::allclose(linear(x), torch::linear(x, linear->weight, linear->bias)));
}

TEST(Layers, ChannelLayerNormNormalisesEachVoxelOverChannels) {
  Norm norm(NormOptions(NormType::kLayerChannels, 4).eps(1e-6));
  const auto y = norm(torch::randn({2, 4, 3, 3}));
  EXPECT_LT(y.mean(1).abs().max().item<double>(), 1e-5);
  EXPECT_NEAR(y.var(1, /*unbiased=*/false).mean().item<double>(), 1.0, 1e-3);
}

TEST(Layers, BatchNormTracksRunningStatisticsLikePyTorch) {
  Norm norm(NormOptions(NormType::kBatch, 2));
  norm->train();
  norm(torch::full({4, 2, 3, 3}, 2.0));
  EXPECT_EQ(norm->num_batches_tracked.item<int64_t>(), 1);
  EXPECT_NEAR(norm->running_mean[0].item<double>(), 0.2, 1e-6);  // 0.9·0 + 0.1·2
}

TEST(Layers, AttentionIsSoftmaxOfScaledScoresTimesValues) {
  const auto q = torch::randn({2, 3, 4, 8}), k = torch::randn({2, 3, 5, 8}),
             v = torch::randn({2, 3, 5, 6}), bias = torch::randn({3, 4, 5});
  const auto expected = torch::softmax(torch::matmul(q, k.transpose(-2, -1)) * 0.5 + bias, -1).matmul(v);
  EXPECT_TRUE(torch::allclose(attention(q, k, v, 0.5, bias), expected, 1e-5, 1e-6));
}

TEST(Layers, PoolingWorksIn2dAnd3d) {
  EXPECT_EQ(max_pool(torch::randn({1, 2, 4, 6}), {2}, {2}).sizes(), torch::IntArrayRef({1, 2, 2, 3}));
  const auto x = torch::arange(8.0).reshape({1, 1, 2, 2, 2});
  EXPECT_DOUBLE_EQ(avg_pool(x, {2}, {2}).item<double>(), 3.5);
}

TEST(Layers, BadArgumentsAreClearErrors) {
  EXPECT_THROW(Conv(ConvOptions(3, 3, 4, {3}).groups(2)), std::exception);
  EXPECT_THROW(Conv(ConvOptions(4, 3, 4, {3})), std::exception);
  EXPECT_THROW(Linear(4, 2)(torch::randn({3, 5})), std::exception);
}

}  // namespace
}  // namespace medkd::nn
