#include "medkd/models/resnet_unet.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::ResNetUNet;
using medkd::models::ResNetUNetOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

TEST(ResNetUNet, EncoderHasTorchvisionResNetParameterCountsWithoutTheClassifier) {
  // torchvision resnet18: 11,689,512 parameters, resnet34: 21,797,672; both with the 1000-class
  // fc (512·1000 + 1000 = 513,000), which the encoder drops.
  EXPECT_EQ(parameter_count(*ResNetUNet(ResNetUNetOptions(2, 3, 1).depth(18)), "encoder."),
            11689512 - 513000);
  EXPECT_EQ(parameter_count(*ResNetUNet(ResNetUNetOptions(2, 3, 1).depth(34)), "encoder."),
            21797672 - 513000);
}

TEST(ResNetUNet, ParameterCountMatchesSegmentationModelsPytorchUnet) {
  // smp.Unet(encoder_name="resnet34", in_channels=3, classes=1): 24,436,369 parameters.
  // Decoder (decoder_channels 256, 128, 64, 32, 16; 3×3 convs without bias, then BN 2·c):
  //   block 0: (512 + 256) -> 256: 1,769,472 + 512, 256 -> 256: 589,824 + 512   2,360,320
  //   block 1: (256 + 128) -> 128:   442,368 + 256, 128 -> 128: 147,456 + 256     590,336
  //   block 2: (128 +  64) ->  64:   110,592 + 128,  64 ->  64:  36,864 + 128     147,712
  //   block 3: ( 64 +  64) ->  32:    36,864 +  64,  32 ->  32:   9,216 +  64      46,208
  //   block 4: ( 32 +   0) ->  16:     4,608 +  32,  16 ->  16:   2,304 +  32       6,976
  //                                                                              3,151,552
  //   segmentation head: 3×3 conv 16 -> 1 with bias: 145
  // = 21,284,672 + 3,151,552 + 145.
  ResNetUNet resnet34(ResNetUNetOptions(2, 3, 1));
  EXPECT_EQ(parameter_count(*resnet34, "decoder."), 3151552);
  EXPECT_EQ(parameter_count(*resnet34), 24436369);
  // smp.Unet(encoder_name="resnet18", classes=1): 11,176,512 + 3,151,552 + 145 = 14,328,209.
  EXPECT_EQ(parameter_count(*ResNetUNet(ResNetUNetOptions(2, 3, 1).depth(18))), 14328209);
}

TEST(ResNetUNet, LayerNamesFollowTorchvisionAndSmp) {
  ResNetUNet net(ResNetUNetOptions(2, 1, 2).encoder_channels({4, 8, 8, 16}));
  const auto params = net->named_parameters();
  for (const char* name : {"encoder.conv1.weight", "encoder.bn1.weight",
                           "encoder.layer1.0.conv1.weight", "encoder.layer2.0.downsample.0.weight",
                           "encoder.layer2.0.downsample.1.bias", "encoder.layer3.5.conv2.weight",
                           "encoder.layer4.2.bn2.weight", "decoder.blocks.0.conv1.0.weight",
                           "decoder.blocks.0.conv1.1.weight", "decoder.blocks.4.conv2.0.weight",
                           "segmentation_head.0.weight", "segmentation_head.0.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  // layer1 keeps the stem's width and resolution: no downsample; decoder convs have no bias.
  EXPECT_FALSE(params.contains("encoder.layer1.0.downsample.0.weight"));
  EXPECT_FALSE(params.contains("decoder.blocks.0.conv1.0.bias"));
  EXPECT_FALSE(params.contains("encoder.conv1.bias"));
  // ResNet-18 has two blocks in layer3.
  ResNetUNet shallow(ResNetUNetOptions(2, 1, 2).depth(18).encoder_channels({4, 8, 8, 16}));
  EXPECT_FALSE(shallow->named_parameters().contains("encoder.layer3.2.conv1.weight"));
}

TEST(ResNetUNet, ThreeDimensionalModelUsesCubicKernelsEverywhere) {
  ResNetUNet net(ResNetUNetOptions(3, 2, 3).depth(18).encoder_channels({4, 8, 8, 16}));
  auto params = net->named_parameters();
  EXPECT_EQ(params["encoder.conv1.weight"].sizes(), (std::vector<int64_t>{4, 2, 7, 7, 7}));
  EXPECT_EQ(params["encoder.layer2.0.conv1.weight"].sizes(), (std::vector<int64_t>{8, 4, 3, 3, 3}));
  EXPECT_EQ(params["encoder.layer2.0.downsample.0.weight"].sizes(),
            (std::vector<int64_t>{8, 4, 1, 1, 1}));
  // Block 0 takes layer4 (16) and the layer3 skip (8).
  EXPECT_EQ(params["decoder.blocks.0.conv1.0.weight"].sizes(),
            (std::vector<int64_t>{256, 24, 3, 3, 3}));
  EXPECT_EQ(params["segmentation_head.0.weight"].sizes(), (std::vector<int64_t>{3, 16, 3, 3, 3}));
}

TEST(ResNetUNet, TapsAreTheEncoderStagesAndTheDecoderBlocks) {
  ResNetUNet net(ResNetUNetOptions(2, 1, 2).encoder_channels({4, 8, 16, 32}));
  const std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> expected = {
      {"enc.0", {4, 2}},   {"enc.1", {4, 4}},    {"enc.2", {8, 8}},   {"enc.3", {16, 16}},
      {"enc.4", {32, 32}}, {"dec.0", {256, 16}}, {"dec.1", {128, 8}}, {"dec.2", {64, 4}},
      {"dec.3", {32, 2}},  {"dec.4", {16, 1}},   {"logits", {2, 1}}};
  const auto specs = net->tap_specs();
  ASSERT_EQ(specs.size(), expected.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, expected[i].first);
    EXPECT_EQ(specs[i].channels, expected[i].second.first) << specs[i].name;
    EXPECT_EQ(specs[i].stride, expected[i].second.second) << specs[i].name;
  }
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.4");
  EXPECT_EQ(net->resolve_tap("bottleneck").name, "enc.4");
}

TEST(ResNetUNet, BadOptionsAndInputsAreErrorsNamingThem) {
  EXPECT_NE(error_of([] {
              ResNetUNet(ResNetUNetOptions(2, 1, 2).depth(50));
            }).find("depth must be 18 or 34 (basic-block ResNets), got 50"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ResNetUNet(ResNetUNetOptions(2, 1, 2).encoder_channels({4, 8, 8}));
            }).find("encoder_channels needs 4 entries"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ResNetUNet(ResNetUNetOptions(2, 1, 2).decoder_channels({8, 8, 8, 8}));
            }).find("decoder_channels needs 5 entries"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ResNetUNet(ResNetUNetOptions(2, 1, 2).decoder_channels({8, 8, 0, 8, 8}));
            }).find("decoder_channels must be >= 1, got 0"),
            std::string::npos);
  ResNetUNet net(ResNetUNetOptions(2, 1, 2)
                     .depth(18)
                     .encoder_channels({2, 2, 2, 2})
                     .decoder_channels({2, 2, 2, 2, 2}));
  const auto message = error_of([&] { net->forward(torch::randn({1, 1, 48, 32})); });
  EXPECT_NE(message.find("divisible by [32, 32]"), std::string::npos) << message;

  const auto& zoo = medkd::models::default_model_registry();
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("resnet_unet", "{depth: deep}"));
            }).find("resnet_unet option 'depth' must be 18 or 34, got 'deep'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("resnet_unet", "{decoder_channels: 16}"));
            }).find("'decoder_channels' must be a list of 5 integers"),
            std::string::npos);
}

TEST(ResNetUNet, OptionsAreReadFromAConfig) {
  const auto options = medkd::models::resnet_unet_options_from_config(model_config(
      "resnet_unet",
      "{depth: 18, encoder_channels: [4, 8, 8, 16], decoder_channels: [16, 8, 8, 4, 4]}"));
  EXPECT_EQ(options.depth(), 18);
  EXPECT_EQ(options.encoder_channels(), (std::vector<int64_t>{4, 8, 8, 16}));
  EXPECT_EQ(options.decoder_channels(), (std::vector<int64_t>{16, 8, 8, 4, 4}));
  const auto defaults =
      medkd::models::resnet_unet_options_from_config(model_config("resnet_unet", "{}"));
  EXPECT_EQ(defaults.depth(), 34);  // smp's default encoder
  EXPECT_EQ(defaults.decoder_channels(), (std::vector<int64_t>{256, 128, 64, 32, 16}));
}
