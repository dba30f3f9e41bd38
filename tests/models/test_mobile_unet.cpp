#include "medkd/models/mobile_unet.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::MobileUNet;
using medkd::models::MobileUNetOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

TEST(MobileUNet, WidthsAreRoundedAsTorchvisionRoundsThem) {
  using medkd::models::make_divisible;
  EXPECT_EQ(make_divisible(32 * 1.0), 32);
  EXPECT_EQ(make_divisible(16 * 0.25), 8);   // never below the divisor
  EXPECT_EQ(make_divisible(24 * 0.5), 16);   // 12 rounds half up
  EXPECT_EQ(make_divisible(96 * 0.35), 32);  // 33.6 rounds down
  EXPECT_EQ(make_divisible(11.0), 16);       // 8 would lose more than 10%
  EXPECT_EQ(make_divisible(1280 * 1.4), 1792);
}

TEST(MobileUNet, EncoderHasTorchvisionMobileNetV2FeatureParameterCounts) {
  // torchvision mobilenet_v2(): 3,504,872 parameters, of which the classifier
  // Linear(1280, 1000) has 1,281,000: `features` has 2,223,872.
  EXPECT_EQ(parameter_count(*MobileUNet(MobileUNetOptions(2, 3, 1)), "features."),
            3504872 - 1281000);
  // Without features.18 (1×1 conv 320 -> 1280, BN): 409,600 + 2,560 fewer.
  EXPECT_EQ(parameter_count(*MobileUNet(MobileUNetOptions(2, 3, 1).last_conv(false)), "features."),
            2223872 - 412160);
  // mobilenet_v2(width_mult=0.5).features, counted layer by layer with torchvision's rounding:
  // widths 16, 8, 16×2, 16×3, 32×4, 48×3, 80×3, 160, then 1280 (never narrowed): 687,680.
  EXPECT_EQ(parameter_count(*MobileUNet(MobileUNetOptions(2, 3, 1).width(0.5)), "features."),
            687680);
}

TEST(MobileUNet, DecoderParameterCountMatchesTheHandCount) {
  // Default decoder widths mirror the encoder: 96, 32, 24, 16, 16. A separable conv in -> out has
  // 9·in + 2·in (depthwise, BN) + in·out + 2·out (pointwise, BN) parameters.
  //   block 0: (1280 + 96) -> 96: 15,136 + 132,288;   96 -> 96:  1,056 +  9,408   157,888
  //   block 1: (  96 + 32) -> 32:  1,408 +   4,160;   32 -> 32:    352 +  1,088     7,008
  //   block 2: (  32 + 24) -> 24:    616 +   1,392;   24 -> 24:    264 +    624     2,896
  //   block 3: (  24 + 16) -> 16:    440 +     672;   16 -> 16:    176 +    288     1,576
  //   block 4: (  16 +  0) -> 16:    176 +     288;   16 -> 16:    176 +    288       928
  //                                                                               170,296
  //   head: 1×1 conv 16 -> 1 with bias: 17
  MobileUNet net(MobileUNetOptions(2, 3, 1));
  EXPECT_EQ(parameter_count(*net, "decoder."), 170296);
  EXPECT_EQ(parameter_count(*net), 2223872 + 170296 + 17);
  // Without the 1280-channel conv, block 0 reads 320 channels: (320 + 96) -> 96 is
  // 4,576 + 40,128, the rest as above (1,056 + 9,408 + 7,008 + 2,896 + 1,576 + 928).
  MobileUNet light(MobileUNetOptions(2, 3, 1).last_conv(false));
  EXPECT_EQ(parameter_count(*light, "decoder."),
            4576 + 40128 + 1056 + 9408 + 7008 + 2896 + 1576 + 928);
}

TEST(MobileUNet, LayerNamesAndShapesFollowTorchvision) {
  MobileUNet net(MobileUNetOptions(2, 1, 2));
  auto params = net->named_parameters();
  const auto shape = [&](const std::string& name) { return params[name].sizes().vec(); };
  EXPECT_EQ(shape("features.0.0.weight"), (std::vector<int64_t>{32, 1, 3, 3}));
  EXPECT_EQ(shape("features.1.conv.0.0.weight"), (std::vector<int64_t>{32, 1, 3, 3}));  // t = 1
  EXPECT_EQ(shape("features.1.conv.1.weight"), (std::vector<int64_t>{16, 32, 1, 1}));
  EXPECT_EQ(shape("features.2.conv.0.0.weight"), (std::vector<int64_t>{96, 16, 1, 1}));  // expand
  EXPECT_EQ(shape("features.2.conv.1.0.weight"), (std::vector<int64_t>{96, 1, 3, 3}));  // depthwise
  EXPECT_EQ(shape("features.2.conv.2.weight"), (std::vector<int64_t>{24, 96, 1, 1}));   // project
  EXPECT_EQ(shape("features.17.conv.2.weight"), (std::vector<int64_t>{320, 960, 1, 1}));
  EXPECT_EQ(shape("features.18.0.weight"), (std::vector<int64_t>{1280, 320, 1, 1}));
  EXPECT_EQ(shape("decoder.blocks.0.conv1.depthwise.0.weight"),
            (std::vector<int64_t>{1376, 1, 3, 3}));
  EXPECT_EQ(shape("decoder.blocks.0.conv1.pointwise.0.weight"),
            (std::vector<int64_t>{96, 1376, 1, 1}));
  EXPECT_EQ(shape("segmentation_head.0.weight"), (std::vector<int64_t>{2, 16, 1, 1}));
  EXPECT_TRUE(params.contains("features.3.conv.3.bias"));   // the projection's BN
  EXPECT_FALSE(params.contains("features.2.conv.2.bias"));  // convs before BN have no bias

  MobileUNet volumetric(MobileUNetOptions(3, 1, 2).width(0.25).last_conv(false));
  EXPECT_EQ(volumetric->named_parameters()["features.2.conv.1.0.weight"].sizes(),
            (std::vector<int64_t>{48, 1, 3, 3, 3}));
  EXPECT_FALSE(volumetric->named_parameters().contains("features.18.0.weight"));
}

TEST(MobileUNet, TapsAreTheSmpStagesAndTheDecoderBlocks) {
  const auto check = [](const MobileUNet& net, const std::vector<int64_t>& channels) {
    const std::vector<std::string> names = {"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "dec.0",
                                            "dec.1", "dec.2", "dec.3", "dec.4", "logits"};
    const std::vector<int64_t> strides = {2, 4, 8, 16, 32, 16, 8, 4, 2, 1, 1};
    const auto specs = net->tap_specs();
    ASSERT_EQ(specs.size(), names.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      EXPECT_EQ(specs[i].name, names[i]);
      EXPECT_EQ(specs[i].channels, channels[i]) << names[i];
      EXPECT_EQ(specs[i].stride, strides[i]) << names[i];
    }
  };
  check(MobileUNet(MobileUNetOptions(2, 1, 2)), {16, 24, 32, 96, 1280, 96, 32, 24, 16, 16, 2});
  check(MobileUNet(MobileUNetOptions(2, 1, 2).last_conv(false).decoder_channels({8, 8, 8, 4, 4})),
        {16, 24, 32, 96, 320, 8, 8, 8, 4, 4, 2});
  check(MobileUNet(MobileUNetOptions(2, 1, 2).width(0.25)), {8, 8, 8, 24, 1280, 24, 8, 8, 8, 8, 2});
}

TEST(MobileUNet, InvertedResidualsAddTheirInputOnlyWhereShapesAgree) {
  torch::manual_seed(0);
  // 24 -> 24, stride 1: residual; with zero projection weights the block is the identity.
  medkd::models::InvertedResidual same(2, 24, 24, 1, 6);
  medkd::models::InvertedResidual strided(2, 24, 24, 2, 6);
  for (auto& block : {same, strided}) {
    torch::NoGradGuard no_grad;
    block->named_parameters()["conv.2.weight"].zero_();
  }
  same->eval();
  strided->eval();
  const auto x = torch::randn({1, 24, 8, 8});
  EXPECT_TRUE(torch::allclose(same->forward(x), x));
  EXPECT_EQ(strided->forward(x).sizes(), (std::vector<int64_t>{1, 24, 4, 4}));
  EXPECT_EQ(strided->forward(x).abs().max().item<float>(), 0.0f);  // no residual
}

TEST(MobileUNet, BadOptionsAndInputsAreErrorsNamingThem) {
  EXPECT_NE(error_of([] {
              MobileUNet(MobileUNetOptions(2, 1, 2).width(0.0));
            }).find("mobile_unet: width must be > 0, got 0"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              MobileUNet(MobileUNetOptions(2, 1, 2).decoder_channels({8, 8, 8}));
            }).find("decoder_channels needs 5 entries (one per decoder block) or none, got 3"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              MobileUNet(MobileUNetOptions(2, 1, 2).decoder_channels({8, 8, 8, 8, 0}));
            }).find("decoder_channels must be >= 1, got 0"),
            std::string::npos);
  MobileUNet net(MobileUNetOptions(2, 1, 2).width(0.25).last_conv(false));
  const auto message = error_of([&] { net->forward(torch::randn({1, 1, 32, 40})); });
  EXPECT_NE(message.find("divisible by [32, 32]"), std::string::npos) << message;

  const auto& zoo = medkd::models::default_model_registry();
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("mobile_unet", "{width: narrow}"));
            }).find("mobile_unet option 'width' must be a number, got 'narrow'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              zoo.create(model_config("mobile_unet", "{last_conv: maybe}"));
            }).find("'last_conv' must be true or false"),
            std::string::npos);
}

TEST(MobileUNet, OptionsAreReadFromAConfig) {
  const auto options = medkd::models::mobile_unet_options_from_config(model_config(
      "mobile_unet", "{width: 0.5, last_conv: false, decoder_channels: [16, 8, 8, 4, 4]}"));
  EXPECT_DOUBLE_EQ(options.width(), 0.5);
  EXPECT_FALSE(options.last_conv());
  EXPECT_EQ(options.decoder_channels(), (std::vector<int64_t>{16, 8, 8, 4, 4}));
  const auto defaults =
      medkd::models::mobile_unet_options_from_config(model_config("mobile_unet", "{}"));
  EXPECT_DOUBLE_EQ(defaults.width(), 1.0);
  EXPECT_TRUE(defaults.last_conv());
  EXPECT_TRUE(defaults.decoder_channels().empty());
}
