#include "medkd/models/resnet18_plain.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::ResNet18Plain;
using medkd::models::ResNet18PlainOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

namespace {

torch::Tensor bilinear(const torch::Tensor& x, std::vector<int64_t> size) {
  namespace F = torch::nn::functional;
  return F::interpolate(
      x, F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(true));
}

}  // namespace

TEST(ResNet18Plain, ParameterCountIsTorchvisionResNet18WithoutFcPlusTheOneByOneHead) {
  // HLFD's Resnet18(num_classes=2) (vangorade/RethinkingKD_ISBI24, networks/resnet18.py):
  // torchvision resnet18 (11,689,512) less fc (513,000), plus last_conv 512·2 + 2 = 1,026.
  EXPECT_EQ(parameter_count(*ResNet18Plain(ResNet18PlainOptions(2, 3, 2))),
            11689512 - 513000 + 1026);
  // With one input channel (the CT slices HLFD feeds, here without the code's 3× repeat) conv1
  // has 64·1·7·7 instead of 64·3·7·7 weights.
  EXPECT_EQ(parameter_count(*ResNet18Plain(ResNet18PlainOptions(2, 1, 2))),
            11689512 - 513000 + 1026 - 2 * 64 * 49);
}

TEST(ResNet18Plain, LayerNamesAreTorchvisionsAtTheTopLevel) {
  ResNet18Plain net(ResNet18PlainOptions(2, 1, 2).encoder_channels({4, 8, 8, 16}));
  const auto params = net->named_parameters();
  for (const char* name :
       {"conv1.weight", "bn1.bias", "layer1.1.conv2.weight", "layer4.0.downsample.0.weight",
        "layer4.1.bn2.weight", "last_conv.weight", "last_conv.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  EXPECT_FALSE(params.contains("layer1.2.conv1.weight"));  // ResNet-18: two blocks per layer
  EXPECT_FALSE(params.contains("fc.weight"));
  EXPECT_EQ(params["last_conv.weight"].sizes(), (std::vector<int64_t>{2, 16, 1, 1}));
}

TEST(ResNet18Plain, DecoderTapsAreTheEncoderStagesUpsampledToTheInput) {
  torch::manual_seed(0);
  ResNet18Plain net(ResNet18PlainOptions(2, 1, 2).encoder_channels({4, 8, 8, 16}));
  net->eval();
  torch::NoGradGuard no_grad;
  medkd::models::Taps taps;
  const auto logits = net->forward_with_taps(
      torch::randn({2, 1, 64, 32}), taps,
      {"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "dec.0", "dec.1", "dec.2", "dec.last"});
  EXPECT_EQ(taps.at("enc.0").sizes(), (std::vector<int64_t>{2, 4, 32, 16}));
  EXPECT_EQ(taps.at("enc.4").sizes(), (std::vector<int64_t>{2, 16, 2, 1}));
  // s_d5 … s_d2 of the HLFD code: layer3, layer2, layer1, stem, bilinear, align_corners=True.
  EXPECT_TRUE(torch::allclose(taps.at("dec.0"), bilinear(taps.at("enc.3"), {64, 32})));
  EXPECT_TRUE(torch::allclose(taps.at("dec.1"), bilinear(taps.at("enc.2"), {64, 32})));
  EXPECT_TRUE(torch::allclose(taps.at("dec.2"), bilinear(taps.at("enc.1"), {64, 32})));
  EXPECT_TRUE(torch::allclose(taps.at("dec.last"), bilinear(taps.at("enc.0"), {64, 32})));
  // The output is last_conv on layer4, upsampled the same way.
  const auto head = net->named_children()["last_conv"]->as<medkd::nn::Conv>();
  EXPECT_TRUE(torch::allclose(logits, bilinear(head->forward(taps.at("enc.4")), {64, 32})));

  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.3");
  EXPECT_EQ(net->resolve_tap("dec.0").channels, 8);
  EXPECT_EQ(net->resolve_tap("dec.0").stride, 1);
  EXPECT_EQ(net->resolve_tap("bottleneck").stride, 32);
}

TEST(ResNet18Plain, BadOptionsAndInputsAreErrorsNamingThem) {
  EXPECT_NE(error_of([] {
              ResNet18Plain(ResNet18PlainOptions(2, 1, 2).encoder_channels({4, 8, 8, 16, 32}));
            }).find("resnet18_plain: encoder_channels needs 4 entries"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ResNet18Plain(ResNet18PlainOptions(2, 1, 2).encoder_channels({4, -1, 8, 16}));
            }).find("encoder_channels must be >= 1, got -1"),
            std::string::npos);
  ResNet18Plain net(ResNet18PlainOptions(3, 1, 2).encoder_channels({2, 2, 2, 2}));
  const auto message = error_of([&] { net->forward(torch::randn({1, 1, 32, 32, 16})); });
  EXPECT_NE(message.find("divisible by [32, 32, 32]"), std::string::npos) << message;

  const auto& zoo = medkd::models::default_model_registry();
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("resnet18_plain", "{encoder_channels: [a, b]}"));
            }).find("resnet18_plain option 'encoder_channels' must be a list of 4 integers"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("resnet18_plain", "{depth: 34}"));
            }).find("unknown option 'depth'"),
            std::string::npos);
}
