#include "medkd/models/unet_plus_plus.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::UNetPlusPlus;
using medkd::models::UNetPlusPlusOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

namespace {

std::vector<std::string> tap_names(const UNetPlusPlus& net) {
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  return names;
}

}  // namespace

TEST(UNetPlusPlus, ParameterCountMatchesTheReferenceNestedUNetWithFilters32To512) {
  // 4uiiurz1/pytorch-nested-unet archs.py, NestedUNet(input_channels=3, num_classes=1,
  // deepsupervision=False), nb_filter [32, 64, 128, 256, 512], counted layer by layer. A VGGBlock
  // (in -> f -> f) has 9·in·f + f (conv1) + 2f (bn1) + 9·f·f + f (conv2) + 2f (bn2) parameters.
  //   backbone conv0_0 (3) 10,272   conv1_0 (32) 55,680   conv2_0 (64) 221,952
  //            conv3_0 (128) 886,272   conv4_0 (256) 3,542,016
  //   column 1 conv0_1 (96) 37,056   conv1_1 (192) 147,840   conv2_1 (384) 590,592
  //            conv3_1 (768) 2,360,832
  //   column 2 conv0_2 (128) 46,272   conv1_2 (256) 184,704   conv2_2 (512) 738,048
  //   column 3 conv0_3 (160) 55,488   conv1_3 (320) 221,568
  //   column 4 conv0_4 (192) 64,704
  //   final 1×1 32 -> 1: 33
  // (in parentheses the block's input channels, j·f_i + f_{i+1} for a nested node)
  UNetPlusPlus net(UNetPlusPlusOptions(2, 3, 1).filters({32, 64, 128, 256, 512}));
  EXPECT_EQ(parameter_count(*net), 9163329);
  // With deep supervision final is replaced by final1 … final4, 33 each.
  UNetPlusPlus supervised(
      UNetPlusPlusOptions(2, 3, 1).filters({32, 64, 128, 256, 512}).deep_supervision(true));
  EXPECT_EQ(parameter_count(*supervised), 9163329 - 33 + 4 * 33);
}

TEST(UNetPlusPlus, DefaultFiltersGiveTheNestedUNetThatHlfdTrainsAsItsTeacher) {
  // bigmb/Unet-Segmentation-Pytorch-Nest-of-Unets NestedUNet(in_ch=3, out_ch=1), n1 = 64:
  // the same blocks as above at twice the width, 36,629,633 parameters (the same per-block
  // formula; e.g. conv4_0 (512 -> 1024) has 9·512·1024 + 3·1024 + 9·1024·1024 + 3·1024).
  UNetPlusPlus net(UNetPlusPlusOptions(2, 3, 1));
  EXPECT_EQ(parameter_count(*net), 36629633);
  // HLFD (vangorade/RethinkingKD_ISBI24, networks/__init__.py): NestedUNet(in_ch=1, out_ch=2):
  // conv0_0.conv1 loses 2·9·64 weights, final gains 64 + 1.
  UNetPlusPlus teacher(UNetPlusPlusOptions(2, 1, 2));
  EXPECT_EQ(parameter_count(*teacher), 36629633 - 2 * 9 * 64 + 65);
}

TEST(UNetPlusPlus, LayerNamesFollowTheReference) {
  UNetPlusPlus net(UNetPlusPlusOptions(2, 1, 2).filters({4, 8, 16, 32, 64}));
  const auto params = net->named_parameters();
  for (const char* name :
       {"conv0_0.conv1.weight", "conv0_0.bn1.weight", "conv4_0.conv2.bias", "conv3_1.bn2.bias",
        "conv1_3.conv1.weight", "conv0_4.conv2.weight", "final.weight", "final.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  EXPECT_TRUE(net->named_buffers().contains("conv2_2.bn1.running_mean"));
  // Nested node X(1, 3) sees three same-level nodes and the upsampled X(2, 2): 3·8 + 16.
  EXPECT_EQ(params["conv1_3.conv1.weight"].sizes(), (std::vector<int64_t>{8, 40, 3, 3}));

  UNetPlusPlus supervised(UNetPlusPlusOptions(3, 1, 2).filters({4, 8, 16}).deep_supervision(true));
  const auto heads = supervised->named_parameters();
  EXPECT_TRUE(heads.contains("final1.weight") && heads.contains("final2.weight"));
  EXPECT_FALSE(heads.contains("final.weight"));
  EXPECT_EQ(heads["conv0_2.conv1.weight"].sizes(), (std::vector<int64_t>{4, 16, 3, 3, 3}));
}

TEST(UNetPlusPlus, TapsServeHlfdBackboneDecoderAndNestedNodes) {
  UNetPlusPlus net(UNetPlusPlusOptions(2, 1, 2).filters({4, 8, 16, 32, 64}).deep_supervision(true));
  EXPECT_EQ(tap_names(net),
            (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "dec.0", "dec.1",
                                      "dec.2", "dec.3", "x0_1", "x1_1", "x2_1", "x0_2", "x1_2",
                                      "x0_3", "logits", "ds.1", "ds.2", "ds.3"}));
  // dec.k is the last node of its level, coarsest first: X(3,1), X(2,2), X(1,3), X(0,4).
  EXPECT_EQ(net->resolve_tap("dec.0").stride, 8);
  EXPECT_EQ(net->resolve_tap("dec.0").channels, 32);
  EXPECT_EQ(net->resolve_tap("dec.2").stride, 2);
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.3");
  EXPECT_EQ(net->resolve_tap("dec.last").stride, 1);
  EXPECT_EQ(net->resolve_tap("bottleneck").name, "enc.4");
  EXPECT_EQ(net->resolve_tap("bottleneck").stride, 16);
  EXPECT_EQ(net->resolve_tap("x1_1").stride, 2);
  EXPECT_EQ(net->resolve_tap("x1_1").channels, 8);
  for (const char* head : {"ds.1", "ds.2", "ds.3"}) EXPECT_EQ(net->resolve_tap(head).stride, 1);
}

TEST(UNetPlusPlus, LogitsAreTheFinalHeadOfTheLastNodeAndHeadsReadTheNestedNodes) {
  torch::manual_seed(0);
  UNetPlusPlus net(UNetPlusPlusOptions(2, 1, 2).filters({2, 4, 8, 8}).deep_supervision(true));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({1, 1, 16, 16});
  medkd::models::Taps taps;
  const auto logits = net->forward_with_taps(x, taps, {"dec.last", "x0_1", "x0_2", "ds.1", "ds.2"});
  const auto head = [&](const std::string& name, const torch::Tensor& input) {
    return net->named_children()[name]->as<medkd::nn::Conv>()->forward(input);
  };
  EXPECT_TRUE(torch::allclose(logits, head("final3", taps.at("dec.last"))));
  EXPECT_TRUE(torch::allclose(taps.at("ds.1"), head("final2", taps.at("x0_2"))));
  EXPECT_TRUE(torch::allclose(taps.at("ds.2"), head("final1", taps.at("x0_1"))));
  const auto outputs = net->forward_with_deep_supervision(x);
  ASSERT_EQ(outputs.size(), 3u);
  for (const auto& output : outputs) EXPECT_EQ(output.sizes(), logits.sizes());
}

TEST(UNetPlusPlus, BadOptionsAndInputsAreErrorsNamingThem) {
  EXPECT_NE(error_of([] {
              UNetPlusPlus(UNetPlusPlusOptions(2, 1, 2).filters({8}));
            }).find("filters needs at least 2 levels, got 1"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              UNetPlusPlus(UNetPlusPlusOptions(2, 1, 2).filters({8, 0}));
            }).find("filters must be >= 1, got 0"),
            std::string::npos);
  UNetPlusPlus net(UNetPlusPlusOptions(2, 1, 2).filters({2, 4, 8, 8}));
  const auto message = error_of([&] { net->forward(torch::randn({1, 1, 16, 12})); });
  EXPECT_NE(message.find("divisible by [8, 8]"), std::string::npos) << message;

  const auto& zoo = medkd::models::default_model_registry();
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("unet_plus_plus", "{filters: wide}"));
            }).find("unet_plus_plus option 'filters' must be a list of integers"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("unet_plus_plus", "{deep_supervision: 3}"));
            }).find("'deep_supervision' must be true or false"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("unet_plus_plus", "{depth: 4}"));
            }).find("unknown option 'depth'"),
            std::string::npos);
}

TEST(UNetPlusPlus, OptionsAreReadFromAConfig) {
  const auto options = medkd::models::unet_plus_plus_options_from_config(
      model_config("unet_plus_plus", "{filters: [4, 8, 16], deep_supervision: true}"));
  EXPECT_EQ(options.filters(), (std::vector<int64_t>{4, 8, 16}));
  EXPECT_TRUE(options.deep_supervision());
  const auto defaults =
      medkd::models::unet_plus_plus_options_from_config(model_config("unet_plus_plus", "{}"));
  EXPECT_EQ(defaults.filters(), (std::vector<int64_t>{64, 128, 256, 512, 1024}));
  EXPECT_FALSE(defaults.deep_supervision());
}
