#include "medkd/models/ux_net.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::UXNet;
using medkd::models::UXNetOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

namespace {

UXNetOptions tiny(int dims) {
  return UXNetOptions(dims, 2, 3)
      .feat_size({2, 4, 8, 8})
      .hidden_size(8)
      .depths({1, 1, 1, 1})
      .kernel_size(3);
}

}  // namespace

TEST(UXNet, ParameterCountOfATinyTwoDimensionalModelMatchesTheHandCount) {
  // 2-D, 1 channel, 1 class, feat_size [1, 2, 2, 2], hidden_size 2, one block per stage, 3²
  // depthwise kernels:
  //   stem conv 7² 1->1 (50) + layer norm (2)                                       52
  //   downsampling: norm 2 + conv 2² 1->2 (10); norm 4 + conv 2->2 (18), twice      56
  //   ux_blocks, 26·dim each (dwconv 9d + d, norm 2d, pwconv1 4d + 4d, pwconv2
  //     4d + d, gamma d) for dims 1, 2, 2, 2                                        182
  //   norm0..norm3                                                                    14
  //   encoder1 1->1 (18), encoder2 1->2 (18 + 36 + residual 1×1 2 = 56),
  //     encoder3..5 2->2 (72 each); no bias, instance norm without parameters       290
  //   decoder5..3: transposed conv 2² 2->2 (16) + block 4->2 (72 + 36 + 8), each
  //     132; decoder2: 8 + block 2->1 (18 + 9 + 2) = 37; decoder1 1->1 18           451
  //   out 1->1 with bias                                                               2
  UXNet net(UXNetOptions(2, 1, 1)
                .feat_size({1, 2, 2, 2})
                .hidden_size(2)
                .depths({1, 1, 1, 1})
                .kernel_size(3));
  EXPECT_EQ(parameter_count(*net), 52 + 56 + 182 + 14 + 290 + 451 + 2);
}

TEST(UXNet, DefaultConfigurationHasTheReferenceParameterCount) {
  // MASILab/3DUX-Net UXNET(in_chans=1, out_chans=13, depths=[2,2,2,2],
  // feat_size=[48,96,192,384], hidden_size=768) with MONAI's UNETR blocks, norm_name "instance"
  // (InstanceNorm3d without affine parameters), res_block=True, counted layer by layer:
  //   uxnet_3d stem Conv3d(1, 48, 7, stride 2) 16,512 + LayerNorm 96                   16,608
  //   downsample_layers LayerNorm + Conv3d(k2, s2): 48->96 37,056, 96->192 147,840,
  //     192->384 590,592                                                              775,488
  //   stages: 2 ux_blocks per stage of 360·dim (dwconv 343d + d, norm 2d, pwconv1 with
  //     groups=dim 4d + 4d, pwconv2 4d + d, gamma d) for 48, 96, 192, 384              518,400
  //   norm0..norm3                                                                      1,440
  //   encoder1..5 UnetResBlock (conv1 + conv2 3³ without bias, 1×1 conv3 when the width
  //     changes): 1->48 63,552, 48->96 377,856, 96->192 1,511,424, 192->384 6,045,696,
  //     384->768 24,182,784                                                        32,181,312
  //   decoder5..2 UnetrUpBlock (ConvTranspose3d k2 without bias + UnetResBlock 2·out -> out):
  //     768->384 14,598,144, 384->192 3,649,536, 192->96 912,384, 96->48 228,096;
  //     decoder1 48->48 124,416                                                    19,512,576
  //   out UnetOutBlock Conv3d(48, 13, 1)                                                   637
  //   total 53,006,461 (the paper: 53.0 M)
  UXNet net(UXNetOptions(3, 1, 13));
  EXPECT_EQ(parameter_count(*net), 53006461);
}

TEST(UXNet, LightPresetHasEightTimesFewerParameters) {
  const auto& zoo = medkd::models::default_model_registry();
  // feat_size [16, 32, 64, 128], hidden_size 256, otherwise the defaults: stem 5,536,
  // downsampling 86,464, stages 172,800, stage norms 480, encoders 3,576,000, decoders 2,168,064,
  // out 16·13 + 13 = 221: 6,009,565, 8.8× fewer than 53,006,461.
  auto light = zoo.create(model_config("ux_net_light", "{}", 3, 1, 13));
  EXPECT_EQ(light->name(), "ux_net_light");
  EXPECT_EQ(parameter_count(*light), 6009565);
  // Teach-Former's HECKTOR setting (CT + PET, 2 classes): 6,015,314 against S3's 5.12 M.
  EXPECT_EQ(parameter_count(*zoo.create(model_config("ux_net_light", "{}", 3, 2))), 6015314);
}

TEST(UXNet, OutputBlockFollowsTheFirstStageWidth) {
  // The reference hard-codes 48 input channels here; the light preset's 16 must be used instead.
  const auto& zoo = medkd::models::default_model_registry();
  auto light = zoo.create(model_config("ux_net_light", "{}", 3, 1, 13));
  const auto params = light->named_parameters();
  ASSERT_TRUE(params.contains("out.conv.conv.weight"));
  EXPECT_EQ(params["out.conv.conv.weight"].sizes(), (std::vector<int64_t>{13, 16, 1, 1, 1}));
}

TEST(UXNet, LayerNamesAndShapesFollowTheReferenceImplementation) {
  UXNet net(UXNetOptions(3, 1, 13));
  const auto params = net->named_parameters();
  for (const char* name :
       {"uxnet_3d.downsample_layers.0.0.weight", "uxnet_3d.downsample_layers.0.1.bias",
        "uxnet_3d.downsample_layers.3.0.weight", "uxnet_3d.downsample_layers.3.1.weight",
        "uxnet_3d.stages.3.1.gamma", "uxnet_3d.norm2.weight", "encoder1.layer.conv1.conv.weight",
        "encoder5.layer.conv3.conv.weight", "decoder5.transp_conv.conv.weight",
        "decoder2.conv_block.conv3.conv.weight", "decoder1.layer.conv2.conv.weight",
        "out.conv.conv.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  // 7³ depthwise conv; the pointwise convs have groups = dim, so each channel expands on its own.
  EXPECT_EQ(params["uxnet_3d.stages.0.0.dwconv.weight"].sizes(),
            (std::vector<int64_t>{48, 1, 7, 7, 7}));
  EXPECT_EQ(params["uxnet_3d.stages.0.0.pwconv1.weight"].sizes(),
            (std::vector<int64_t>{192, 1, 1, 1, 1}));
  EXPECT_EQ(params["uxnet_3d.stages.0.0.pwconv2.weight"].sizes(),
            (std::vector<int64_t>{48, 4, 1, 1, 1}));
  EXPECT_NEAR(params["uxnet_3d.stages.1.0.gamma"][0].item<double>(), 1e-6, 1e-12);
  // MONAI convs have no bias before their norm; the decoder1 block keeps its width: no conv3.
  EXPECT_FALSE(params.contains("encoder1.layer.conv1.conv.bias"));
  EXPECT_FALSE(params.contains("decoder1.layer.conv3.conv.weight"));
}

TEST(UXNet, LayerScaleZeroAndPlainBlocksDropTheirParameters) {
  // No gamma: 4 stages × 1 block × dim; plain UnetBasicBlocks drop the residual 1×1 convs
  // (encoder1 2->2 none, encoder2 2->4: 8, encoder3 4->8: 32, encoder5 8->8 none, decoder5..3
  // 16->8: 128, 16->8: 128, 8->4: 32, decoder2 4->2: 8).
  UXNet full(tiny(3));
  UXNet no_gamma(tiny(3).layer_scale_init_value(0));
  UXNet plain(tiny(3).res_block(false));
  EXPECT_EQ(parameter_count(*full) - parameter_count(*no_gamma), 2 + 4 + 8 + 8);
  EXPECT_EQ(parameter_count(*full) - parameter_count(*plain), 8 + 32 + 128 + 128 + 32 + 8);
}

TEST(UXNet, TapsAreTheFiveEncodersAndFiveDecoders) {
  UXNet net(tiny(3));
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "dec.0",
                                             "dec.1", "dec.2", "dec.3", "dec.4", "logits"}));
  const auto bottleneck = net->resolve_tap("bottleneck");
  EXPECT_EQ(bottleneck.name, "enc.4");
  EXPECT_EQ(bottleneck.channels, 8);  // hidden_size
  EXPECT_EQ(bottleneck.stride, 16);
  EXPECT_EQ(net->resolve_tap("dec.0").stride, 8);
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.4");
  EXPECT_EQ(net->resolve_tap("dec.last").stride, 1);
}

TEST(UXNet, InputNotDivisibleBySixteenIsAnError) {
  UXNet net(tiny(2));
  const auto message = error_of([&] { net->forward(torch::zeros({1, 2, 24, 32})); });
  EXPECT_NE(message.find("divisible"), std::string::npos) << message;
}

TEST(UXNet, BadOptionValuesAreErrorsNamingTheOption) {
  const auto fails_with = [](const UXNetOptions& options, const std::string& expected) {
    const auto message = error_of([&] { UXNet net(options); });
    EXPECT_NE(message.find(expected), std::string::npos) << "got: '" << message << "'";
  };
  fails_with(tiny(3).feat_size({2, 4, 8}), "feat_size");
  fails_with(tiny(3).feat_size({2, 0, 8, 8}), "feat_size");
  fails_with(tiny(3).depths({1, 1, 1, 1, 1}), "depths");
  fails_with(tiny(3).depths({1, 0, 1, 1}), "depths");
  fails_with(tiny(3).hidden_size(0), "hidden_size");
  fails_with(tiny(3).kernel_size(4), "kernel_size");
  fails_with(tiny(3).layer_scale_init_value(-1), "layer_scale_init_value");
}

TEST(UXNet, ConfigOptionsAreReadAndCheckedByName) {
  const auto& zoo = medkd::models::default_model_registry();
  auto model =
      zoo.create(model_config("ux_net",
                              "{feat_size: [2, 4, 4, 8], hidden_size: 8, depths: [1, 2, 1, 1], "
                              "kernel_size: 5, layer_scale_init_value: 0.5, norm: batch, "
                              "res_block: false}"));
  auto& net = dynamic_cast<medkd::models::UXNetImpl&>(*model);
  EXPECT_EQ(net.options.depths(), (std::vector<int64_t>{1, 2, 1, 1}));
  EXPECT_EQ(net.options.kernel_size(), 5);
  EXPECT_DOUBLE_EQ(net.options.layer_scale_init_value(), 0.5);
  EXPECT_EQ(net.options.norm(), medkd::nn::NormKind::kBatch);
  EXPECT_FALSE(net.options.res_block());

  auto message = error_of([&] { zoo.create(model_config("ux_net", "{feat_size: 48}", 3)); });
  EXPECT_NE(message.find("'feat_size'"), std::string::npos) << message;
  message = error_of([&] { zoo.create(model_config("ux_net", "{norm: group}", 3)); });
  EXPECT_NE(message.find("'group'"), std::string::npos) << message;
  message = error_of([&] { zoo.create(model_config("ux_net", "{drop_path_rate: 0.1}", 3)); });
  EXPECT_NE(message.find("'drop_path_rate'"), std::string::npos) << message;
}
