#include "medkd/models/unet.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::ModelConfig;
using medkd::models::UNet;
using medkd::models::UNetOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

TEST(UNet, ParameterCountOfATwoLevelUNetMatchesTheHandCount) {
  // 2-D, 1 -> 2 classes, channels {2, 4}, one conv per stage, 3x3 kernels, affine instance norm:
  //   enc.0 conv 1->2: 9·1·2 + 2 = 20, norm 2·2 = 4                    24
  //   enc.1 conv 2->4 (stride 2): 9·2·4 + 4 = 76, norm 8               84
  //   transposed conv 4->2, kernel 2x2: 4·4·2 + 2                      34
  //   dec.0 conv 4->2: 9·4·2 + 2 = 74, norm 4                          78
  //   head 1x1 2->2: 2·2 + 2                                            6
  UNet net(UNetOptions(2, 1, 2).channels({2, 4}).blocks_per_stage(1));
  EXPECT_EQ(parameter_count(*net), 24 + 84 + 34 + 78 + 6);
  // Max pooling has no parameters and replaces only the stride of the same conv.
  UNet pooled(UNetOptions(2, 1, 2).channels({2, 4}).blocks_per_stage(1).downsampling(
      medkd::models::Downsampling::kMaxPool));
  EXPECT_EQ(parameter_count(*pooled), 226);
}

TEST(UNet, DeepSupervisionAddsOneHeadPerCoarserDecoderStage) {
  // channels {2, 4, 8}: 970 without heads beyond the final one; ds.1 is a 1x1 conv 4 -> 2 (10).
  UNet plain(UNetOptions(2, 1, 2).channels({2, 4, 8}).blocks_per_stage(1));
  UNet supervised(
      UNetOptions(2, 1, 2).channels({2, 4, 8}).blocks_per_stage(1).deep_supervision(true));
  EXPECT_EQ(parameter_count(*plain), 970);
  EXPECT_EQ(parameter_count(*supervised), 970 + 10);
}

TEST(UNet, DefaultThreeDimensionalUNetHasNnUNetSizeAndLayerNames) {
  UNet net(UNetOptions(3, 2, 3));
  EXPECT_EQ(parameter_count(*net), 16547587);  // channels 32..320, 2 convs per stage
  const auto params = net->named_parameters();
  for (const char* name : {"encoder.stages.0.0.convs.0.conv.weight",
                           "encoder.stages.4.0.convs.1.norm.weight", "decoder.transpconvs.0.weight",
                           "decoder.stages.3.convs.1.conv.bias", "decoder.seg_layers.0.weight"})
    EXPECT_TRUE(params.contains(name)) << name;
}

TEST(UNet, TapsFollowTheCanonicalNamesAndStrides) {
  UNet net(UNetOptions(2, 1, 3).channels({4, 8, 16}).deep_supervision(true));
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "dec.0", "dec.1", "logits",
                                             "ds.1"}));
  EXPECT_EQ(net->resolve_tap("bottleneck").name, "enc.2");
  EXPECT_EQ(net->resolve_tap("enc.-2").name, "enc.1");
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.1");
  EXPECT_EQ(net->resolve_tap("dec.-2").name, "dec.0");
  EXPECT_EQ(net->resolve_tap("bottleneck").stride, 4);
  EXPECT_EQ(net->resolve_tap("dec.0").channels, 8);
  EXPECT_EQ(net->resolve_tap("ds.1").stride, 2);
  const std::string message = error_of([&] { net->resolve_tap("enc.7"); });
  EXPECT_NE(message.find("unknown tap 'enc.7'"), std::string::npos) << message;
  EXPECT_NE(message.find("enc.0, enc.1, enc.2, dec.0"), std::string::npos) << message;
  EXPECT_NE(error_of([&] { net->resolve_tap("enc.-4"); }), "");
}

TEST(UNet, PoolZKeepsThinSlicesUnpooledUntilTheInPlaneResolutionCatchesUp) {
  UNet net(UNetOptions(3, 1, 2).channels({4, 8, 16}).blocks_per_stage(1).pool_z({1, 2}));
  const auto bottleneck = net->resolve_tap("bottleneck");
  EXPECT_EQ(bottleneck.stride, 4);
  EXPECT_EQ(bottleneck.axis_strides, (std::vector<int64_t>{2, 4, 4}));
  EXPECT_EQ(net->resolve_tap("enc.1").strides(3), (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(net->resolve_tap("enc.0").strides(3), (std::vector<int64_t>{1, 1, 1}));

  medkd::models::Taps taps;
  const auto logits =
      net->forward_with_taps(torch::randn({1, 1, 6, 16, 16}), taps, {"enc.1", "bottleneck"});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 2, 6, 16, 16}));
  EXPECT_EQ(taps.at("enc.1").sizes(), (std::vector<int64_t>{1, 8, 6, 8, 8}));
  EXPECT_EQ(taps.at("bottleneck").sizes(), (std::vector<int64_t>{1, 16, 3, 4, 4}));
}

TEST(UNet, DeepSupervisionOutputsAreFinestFirst) {
  UNet net(
      UNetOptions(2, 2, 3).channels({4, 8, 16, 32}).blocks_per_stage(1).deep_supervision(true));
  const auto outputs = net->forward_with_deep_supervision(torch::randn({2, 2, 16, 16}));
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs[0].sizes(), (std::vector<int64_t>{2, 3, 16, 16}));
  EXPECT_EQ(outputs[1].sizes(), (std::vector<int64_t>{2, 3, 8, 8}));
  EXPECT_EQ(outputs[2].sizes(), (std::vector<int64_t>{2, 3, 4, 4}));
  // Without heads there is only the logits.
  UNet plain(UNetOptions(2, 2, 3).channels({4, 8}).blocks_per_stage(1));
  EXPECT_EQ(plain->forward_with_deep_supervision(torch::randn({1, 2, 8, 8})).size(), 1u);
}

TEST(UNet, BadInputsNameWhatIsWrong) {
  UNet net(UNetOptions(2, 2, 3).channels({4, 8, 16}).blocks_per_stage(1));
  std::string message = error_of([&] { net->forward(torch::randn({1, 2, 18, 16})); });
  EXPECT_NE(message.find("divisible by [4, 4]"), std::string::npos) << message;
  message = error_of([&] { net->forward(torch::randn({1, 3, 16, 16})); });
  EXPECT_NE(message.find("expects 2 input channel(s), got 3"), std::string::npos) << message;
  message = error_of([&] { net->forward(torch::randn({1, 2, 16, 16, 16})); });
  EXPECT_NE(message.find("2-D"), std::string::npos) << message;
}

TEST(UNet, BadOptionsAreErrorsNamingTheOption) {
  EXPECT_NE(error_of([] { UNet(UNetOptions(4, 1, 2)); }).find("spatial_dims must be 2 or 3, got 4"),
            std::string::npos);
  EXPECT_NE(error_of([] { UNet(UNetOptions(2, 1, 2).channels({8})); }).find("at least 2 levels"),
            std::string::npos);
  EXPECT_NE(error_of([] { UNet(UNetOptions(2, 1, 2).pool_z({1})); }).find("3-D models only"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              UNet(UNetOptions(3, 1, 2).channels({4, 8}).pool_z({3}));
            }).find("1 or 2, got 3"),
            std::string::npos);
  EXPECT_NE(error_of([] { UNet(UNetOptions(3, 1, 2).kernel_size(2)); }).find("odd"),
            std::string::npos);
}

TEST(UNet, OptionsAreReadFromAConfig) {
  const auto options = medkd::models::unet_options_from_config(
      model_config("unet",
                   "{channels: [4, 8, 16], blocks_per_stage: 3, norm: batch, activation: relu, "
                   "downsampling: max_pool, deep_supervision: true, pool_z: [false, true]}",
                   3));
  EXPECT_EQ(options.channels(), (std::vector<int64_t>{4, 8, 16}));
  EXPECT_EQ(options.blocks_per_stage(), 3);
  EXPECT_EQ(options.norm(), medkd::nn::NormKind::kBatch);
  EXPECT_EQ(options.activation(), medkd::nn::ActivationKind::kRelu);
  EXPECT_EQ(options.downsampling(), medkd::models::Downsampling::kMaxPool);
  EXPECT_TRUE(options.deep_supervision());
  EXPECT_EQ(options.pool_z(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(
      medkd::models::unet_options_from_config(model_config("unet", "{pool_z: [1, 2]}", 3)).pool_z(),
      (std::vector<int64_t>{1, 2}));

  std::string message = error_of(
      [] { medkd::models::unet_options_from_config(model_config("unet", "{chanels: [4]}")); });
  EXPECT_NE(message.find("unknown unet option 'chanels'"), std::string::npos) << message;
  EXPECT_NE(message.find("valid: channels, blocks_per_stage"), std::string::npos) << message;
  message = error_of(
      [] { medkd::models::unet_options_from_config(model_config("unet", "{channels: wide}")); });
  EXPECT_NE(message.find("'channels' must be a list of integers"), std::string::npos) << message;
  message = error_of(
      [] { medkd::models::unet_options_from_config(model_config("unet", "{norm: group}")); });
  EXPECT_NE(message.find("unknown norm 'group' (valid: instance, batch)"), std::string::npos)
      << message;
}

TEST(UNet, RegistryRejectsUnknownNamesAndKeysListingTheValidOnes) {
  const auto& zoo = medkd::models::default_model_registry();
  const auto names = zoo.names();
  EXPECT_NE(std::find(names.begin(), names.end(), "unet"), names.end());
  ModelConfig config = model_config("unet", "{}");
  config.name = "unnet";
  std::string message = error_of([&] { zoo.create(config); });
  EXPECT_NE(message.find("unknown model 'unnet' (known: "), std::string::npos) << message;
  EXPECT_NE(message.find("unet"), std::string::npos) << message;
  message = error_of([&] { zoo.create(model_config("unet", "{depth: 4}")); });
  EXPECT_NE(message.find("unknown option 'depth' for model 'unet' (valid: channels"),
            std::string::npos)
      << message;
  auto net = zoo.create(model_config("unet", "{channels: [4, 8]}"));
  EXPECT_EQ(net->name(), "unet");
  EXPECT_EQ(net->num_classes(), 2);
  EXPECT_EQ(net->forward(torch::randn({1, 1, 8, 8})).sizes(), (std::vector<int64_t>{1, 2, 8, 8}));
}

TEST(UNet, ModelConfigSurvivesAJsonRoundTrip) {
  ModelConfig config = model_config("unet",
                                    "{channels: [4, 8], deep_supervision: true, "
                                    "norm: batch, pool_z: [false], note: '12'}",
                                    3);
  config.in_channels = 2;
  const auto json = medkd::models::model_config_to_json(config);
  EXPECT_EQ(json["options"]["channels"], nlohmann::json({4, 8}));
  EXPECT_EQ(json["options"]["deep_supervision"], true);
  EXPECT_EQ(json["options"]["note"], "12");  // quoted in YAML: stays a string
  const ModelConfig back =
      medkd::models::model_config_from_json(nlohmann::json::parse(json.dump()));
  EXPECT_EQ(back.name, "unet");
  EXPECT_EQ(back.spatial_dims, 3);
  EXPECT_EQ(back.in_channels, 2);
  EXPECT_EQ(back.num_classes, 2);
  EXPECT_EQ(back.options["channels"].as<std::vector<int64_t>>(), (std::vector<int64_t>{4, 8}));
  EXPECT_TRUE(back.options["deep_supervision"].as<bool>());
  EXPECT_EQ(medkd::models::model_config_to_json(back), json);

  const std::string message = error_of([] {
    medkd::models::model_config_from_json(nlohmann::json{{"name", "unet"}});
  });
  EXPECT_NE(message.find("missing field 'spatial_dims'"), std::string::npos) << message;
}

TEST(UNet, ModelConfigIsReadFromYaml) {
  const auto config = medkd::models::model_config_from_yaml(
      YAML::Load("{model: unet, spatial_dims: 2, in_channels: 3, num_classes: 4, options: "
                 "{channels: [4, 8]}}"));
  EXPECT_EQ(config.name, "unet");
  EXPECT_EQ(config.spatial_dims, 2);
  EXPECT_EQ(config.in_channels, 3);
  EXPECT_EQ(config.num_classes, 4);
  EXPECT_EQ(config.options["channels"].size(), 2u);
  const std::string message = error_of(
      [] { medkd::models::model_config_from_yaml(YAML::Load("{model: unet, classes: 3}")); });
  EXPECT_NE(message.find("unknown key 'classes'"), std::string::npos) << message;
}

TEST(UNet, CopiesOfAModelConfigDoNotShareOptions) {
  const ModelConfig original = model_config("unet", "{channels: [4, 8]}");
  ModelConfig copy = original;
  copy.options["channels"] = YAML::Load("[2, 4]");
  copy.options["deep_supervision"] = true;
  EXPECT_EQ(original.options["channels"].as<std::vector<int64_t>>(), (std::vector<int64_t>{4, 8}));
  EXPECT_FALSE(original.options["deep_supervision"]);
  ModelConfig assigned;
  assigned = original;
  assigned.options.reset(YAML::Load("{}"));
  EXPECT_TRUE(original.options["channels"]);
  // Building a model leaves the caller's config as it was.
  medkd::models::default_model_registry().create(original);
  EXPECT_EQ(original.options.size(), 1u);
  EXPECT_EQ(original.options["channels"].size(), 2u);
}
