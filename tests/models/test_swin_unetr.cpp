#include "medkd/models/swin_unetr.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::PatchMergingMode;
using medkd::models::SwinUNETR;
using medkd::models::SwinUNETROptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

// MONAI SwinUNETR(img_size=(96,96,96), in_channels=1, out_channels=14, feature_size=48) (depths
// 2,2,2,2, heads 3,6,12,24, norm_name="instance", downsample="merging"), counted layer by layer
// from monai/networks/nets/swin_unetr.py. The Swin UNETR README quotes 62.2 M.
//   swinViT.patch_embed.proj  48·1·8 + 48                                                  432
//   per block at width C with h heads: norms 4C, qkv 3C² + 3C, proj C² + C, MLP 8C² + 5C,
//     relative position table 13³·h = 2197h: 12C² + 13C + 2197h; patch merging: norm 16C,
//     reduction 8C·2C = 16C². A stage of 2 blocks: 40C² + 42C + 4394h.
//   C = 48, 96, 192, 384 (h = 3, 6, 12, 24): 107,358 + 399,036 + 1,535,352 + 6,019,824
//                                                               swinViT total    8,062,002
//   Conv blocks (no conv bias, instance norm without parameters), f = 48, f² = 2,304:
//   encoder1  res 1->48: 27·48 + 27·48² + 48 (conv3)                                 63,552
//   encoder2  res 48->48: 54·f²                                                     124,416
//   encoder3  res 96->96: 216·f²                                                    497,664
//   encoder4  res 192->192: 864·f²                                                1,990,656
//   encoder10 res 768->768: 13,824·f²                                            31,850,496
//   decoder5  up 768->384: 8·768·384 + 27·768·384 + 27·384² + 768·384 = 6,336·f²  14,598,144
//   decoder4  up 384->192: 1,584·f²                                               3,649,536
//   decoder3  up 192->96: 396·f²                                                    912,384
//   decoder2  up 96->48: 99·f²                                                      228,096
//   decoder1  up 48->48: 8·f² + 27·96·48 + 27·f² + 96·48 = 91·f²                    209,664
//   out       48·14 + 14                                                                686
//   total 8,062,002 + 54,125,294 = 62,187,296.
TEST(SwinUNETR, BraTSConfigurationHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*SwinUNETR(SwinUNETROptions(3, 1, 14))), 62187296);
}

// In general (3-D, 1 input channel, 14 classes, default depths and heads): 26,891·f² (23,491 in
// the conv blocks, 3,400 in the Swin stages) + 681·f (encoder1 28, patch embedding 9, Swin norms
// and biases 630, head 14) + 14 + 197,730 (relative position tables, 4,394 · 45 heads).
// f = 24, MONAI's default: 15,489,216 + 16,344 + 14 + 197,730 = 15,703,304.
TEST(SwinUNETR, MonaiDefaultFeatureSizeHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*SwinUNETR(SwinUNETROptions(3, 1, 14).feature_size(24))), 15703304);
}

// MONAI SwinUNETR(img_size=(96,96), in_channels=1, out_channels=14, feature_size=48,
// spatial_dims=2): 3×3 kernels (9 weights), 2×2 transposed kernels (4), 13²·h = 169h relative
// position table rows, patch merging of 4 neighbours (norm 8C, reduction 8C²).
//   conv blocks: (9 + 18 + 72 + 288 + 4,608 + 2,368 + 592 + 148 + 37 + 33)·f² = 8,173·f²
//     + 10·f (encoder1's conv1 and conv3 on 1 channel); out 48·14 + 14
//   swinViT: (32·85)·f² = 2,720·f² + (34·15)·f = 510·f + 338·45 = 15,210; patch 5·f
//   10,893·2,304 + (10 + 5 + 510 + 14)·48 + 14 + 15,210 = 25,097,472 + 25,872 + 14 + 15,210
//   = 25,138,568.
TEST(SwinUNETR, TwoDimensionalConfigurationHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*SwinUNETR(SwinUNETROptions(2, 1, 14))), 25138568);
}

// The light preset: feature_size 16, heads 1, 2, 4, 8, depths 2, 2, 2, 2. Keeping the teacher's
// head width (48 / 3 = 16 channels per head), as Swin's own T/S/B variants keep theirs, while
// cutting the width 3×. (MONAI's feature_size % 12 check rejects 16; feature_size 24 gives only
// 4.0× fewer parameters and 12 gives 15.2×, and depths or heads barely move the count, since the
// convolutional decoder holds 23,491 of the 26,891·f².) At 2 input channels and 3 classes:
//   teacher: 26,891·2,304 + (54 + 2 + 17 + 630 + 3)·48 + 3 + 197,730 = 62,188,485
//   light:   26,891·256 + (54 + 2 + 17 + 630 + 3)·16 + 3 + 4,394·15 = 6,961,305 (8.93× fewer)
// (54·f: encoder1's conv1 on 2 channels; 2·f its conv3; 17·f the patch embedding.)
// Teach-Former's light Swin-UNETR (Table 1, 3-D HECKTOR) has 1.35 M; ours is 5.2× larger.
TEST(SwinUNETR, LightPresetHasFiveToTenTimesFewerParametersThanTheTeacher) {
  const auto& zoo = medkd::models::default_model_registry();
  const int64_t teacher = parameter_count(*zoo.create(model_config("swin_unetr", "{}", 3, 2, 3)));
  const int64_t light =
      parameter_count(*zoo.create(model_config("swin_unetr_light", "{}", 3, 2, 3)));
  EXPECT_EQ(teacher, 62188485);
  EXPECT_EQ(light, 6961305);
  EXPECT_GE(teacher, 5 * light);
  EXPECT_LE(teacher, 10 * light);
  // 2-D: 10,893·256 + (18 + 2 + 9 + 510 + 3)·16 + 3 + 338·15 = 2,802,353 (8.97× fewer than
  // 25,138,701); Teach-Former's 2-D light model (PI-CAI, 3 channels) has 2.76 M.
  EXPECT_EQ(parameter_count(*zoo.create(model_config("swin_unetr_light", "{}", 2, 2, 3))), 2802353);
  EXPECT_EQ(parameter_count(*zoo.create(model_config("swin_unetr", "{}", 2, 2, 3))), 25138701);
}

TEST(SwinUNETR, PresetReportsItsRegistryName) {
  const auto& zoo = medkd::models::default_model_registry();
  auto light = zoo.create(
      model_config("swin_unetr_light", "{depths: [1, 1, 1, 1], feature_size: 4}", 2, 2, 3));
  EXPECT_EQ(light->name(), "swin_unetr_light");
  auto* net = dynamic_cast<medkd::models::SwinUNETRImpl*>(light.get());
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->options.num_heads(), (std::vector<int64_t>{1, 2, 4, 8}));  // from the preset
  EXPECT_EQ(net->options.feature_size(), 4);                                // the user's
}

TEST(SwinUNETR, LayerNamesFollowMonai) {
  SwinUNETR net(SwinUNETROptions(3, 1, 2).feature_size(6).depths({2, 1, 1, 1}));
  const auto params = net->named_parameters();
  for (const char* name :
       {"swinViT.patch_embed.proj.weight", "swinViT.patch_embed.proj.bias",
        "swinViT.layers1.0.blocks.1.norm1.weight",
        "swinViT.layers1.0.blocks.1.attn.relative_position_bias_table",
        "swinViT.layers1.0.blocks.1.attn.qkv.bias", "swinViT.layers1.0.blocks.1.attn.proj.weight",
        "swinViT.layers1.0.blocks.1.mlp.linear2.bias", "swinViT.layers1.0.downsample.norm.weight",
        "swinViT.layers4.0.downsample.reduction.weight", "encoder1.layer.conv3.conv.weight",
        "encoder10.layer.conv2.conv.weight", "decoder5.transp_conv.conv.weight",
        "decoder1.conv_block.conv3.conv.weight", "out.conv.conv.weight"})
    EXPECT_TRUE(params.contains(name)) << name;
  EXPECT_FALSE(params.contains("swinViT.layers1.0.downsample.reduction.bias"));
  EXPECT_FALSE(params.contains("encoder2.layer.conv3.conv.weight"));  // 6 -> 6: identity residual
  const auto buffers = net->named_buffers();
  ASSERT_TRUE(buffers.contains("swinViT.layers2.0.blocks.0.attn.relative_position_index"));
  EXPECT_EQ(buffers["swinViT.layers2.0.blocks.0.attn.relative_position_index"].sizes(),
            (std::vector<int64_t>{343, 343}));
  EXPECT_EQ(params["swinViT.layers2.0.blocks.0.attn.relative_position_bias_table"].sizes(),
            (std::vector<int64_t>{2197, 6}));
}

TEST(SwinUNETR, RelativePositionIndexCountsOffsetsRowMajor) {
  // 2-D, 7×7 window: index[i][j] = (y_i - y_j + 6)·13 + (x_i - x_j + 6).
  medkd::models::WindowAttention attn(4, 1, std::vector<int64_t>{7, 7});
  const auto index = attn->relative_position_index;
  EXPECT_EQ(index[0][0].item<int64_t>(), 6 * 13 + 6);  // no offset: the table's centre, row 84
  EXPECT_EQ(index[0][1].item<int64_t>(), 6 * 13 + 5);  // token 0 one column left of token 1
  EXPECT_EQ(index[7][0].item<int64_t>(), 7 * 13 + 6);  // token 7 one row below token 0
  EXPECT_EQ(index[48][0].item<int64_t>(), 12 * 13 + 12);
  EXPECT_EQ(index.max().item<int64_t>(), 168);
}

TEST(SwinUNETR, WindowsShrinkToSmallMapsAndThoseAxesAreNotShifted) {
  const auto [window, shift] =
      medkd::models::swin_window_and_shift({48, 7, 3}, {7, 7, 7}, {3, 3, 3});
  EXPECT_EQ(window, (std::vector<int64_t>{7, 7, 3}));
  EXPECT_EQ(shift, (std::vector<int64_t>{3, 0, 0}));
}

TEST(SwinUNETR, ShiftedWindowMaskSeparatesTheWrappedRegions) {
  // 1-row-of-windows case in 2-D: padded map 4×4, windows 2×2, shift 1. Regions along each axis:
  // [0, 2), [2, 3), [3, 4). The last window (rows 2-3, columns 2-3) holds four regions; the
  // first holds one.
  const auto mask = medkd::models::swin_attention_mask({4, 4}, {2, 2}, {1, 1});
  ASSERT_EQ(mask.sizes(), (std::vector<int64_t>{4, 4, 4}));
  EXPECT_TRUE(torch::equal(mask[0], torch::zeros({4, 4})));
  // Window 3, tokens (2,2) (2,3) (3,2) (3,3): all in different regions.
  const auto last = mask[3];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(last[i][j].item<float>(), i == j ? 0.0f : -100.0f);
  // Window 1 (rows 0-1, columns 2-3): columns 2 and 3 are different regions, rows are not.
  EXPECT_EQ(mask[1][0][2].item<float>(), 0.0f);     // (0,2) vs (1,2)
  EXPECT_EQ(mask[1][0][1].item<float>(), -100.0f);  // (0,2) vs (0,3)
  // No shift along an axis: one region there (MONAI's slices with -0).
  const auto unshifted = medkd::models::swin_attention_mask({4, 4}, {2, 2}, {0, 1});
  EXPECT_EQ(unshifted[2][0][2].item<float>(), 0.0f);  // window rows 2-3, cols 0-1: (2,0) vs (3,0)
  EXPECT_EQ(unshifted[3][0][1].item<float>(), -100.0f);  // (2,2) vs (2,3)
}

TEST(SwinUNETR, ShiftedBlockAttendsOnlyWithinTheRegionsOfItsUnshiftedMap) {
  // 14×14 map, 7×7 windows shifted by 3: the map is rolled by -3, so the bottom-right window
  // holds original rows and columns 10..13 followed by the wrapped-around 0..2, and the mask
  // splits it into the regions 10..13 × 10..13, 10..13 × 0..2, 0..2 × 10..13 and 0..2 × 0..2.
  // Changing one token changes exactly the tokens of its region (residual, MLP and norms are per
  // token); a token of an unwrapped window reaches its whole 7×7 window.
  medkd::models::SwinTransformerBlock block(4, 1, std::vector<int64_t>{7, 7},
                                            std::vector<int64_t>{3, 3});
  const auto mask = medkd::models::swin_attention_mask({14, 14}, {7, 7}, {3, 3});
  torch::NoGradGuard no_grad;
  torch::manual_seed(0);
  const auto x = torch::randn({1, 14, 14, 4});
  // Which output tokens change when token (y, x) does. (Not by a constant over the channels,
  // which norm1 would remove.)
  const auto reached_from = [&](int64_t y, int64_t x_, const torch::Tensor& m) {
    auto moved = x.clone();
    moved[0][y][x_] += torch::tensor({1.0f, -2.0f, 3.0f, 0.5f});
    return ((block->forward(moved, m) - block->forward(x, m)).abs().sum(-1)[0] > 1e-6);
  };
  const auto count = [](const torch::Tensor& reached) { return reached.sum().item<int64_t>(); };
  const auto corner = reached_from(0, 0, mask);
  EXPECT_EQ(count(corner), 9);
  EXPECT_EQ(count(corner.slice(0, 0, 3).slice(1, 0, 3)), 9);
  EXPECT_EQ(count(reached_from(12, 12, mask)), 16);
  const auto band = reached_from(13, 0, mask);
  EXPECT_EQ(count(band), 12);
  EXPECT_EQ(count(band.slice(0, 10, 14).slice(1, 0, 3)), 12);
  EXPECT_EQ(count(reached_from(5, 5, mask)), 49);
  // Without the mask the corner token reaches the whole wrapped window.
  EXPECT_EQ(count(reached_from(0, 0, torch::Tensor())), 49);
}

TEST(SwinUNETR, MergingModesConcatenateNeighboursInMonaisOrder) {
  // One channel, a 2×2×2 map with a single 1 at the voxel of code 4z + 2y + x. After the layer
  // norm over the 8 concatenated neighbours, the slot holding that voxel is the largest value.
  // Outputs 0 and 1 read slots 3 and 6; the code whose voxel makes them largest is the offset
  // that the mode concatenates there.
  for (const auto mode : {PatchMergingMode::kMerging, PatchMergingMode::kMergingV2}) {
    medkd::models::PatchMerging merge(1, 3, mode);
    torch::NoGradGuard no_grad;
    merge->reduction->weight.zero_();
    merge->reduction->weight[0][3] = 1;  // output 0 reads neighbour 3
    merge->reduction->weight[1][6] = 1;  // output 1 reads neighbour 6
    const auto winner = [&](int output) {
      int best = -1;
      double best_value = -1e9;
      for (int code = 0; code < 8; ++code) {
        auto x = torch::zeros({1, 2, 2, 2, 1});
        x[0][code / 4][(code / 2) % 2][code % 2][0] = 1;
        const double value = merge->forward(x)[0][0][0][0][output].item<double>();
        if (value > best_value + 1e-6) {
          best_value = value;
          best = code;
        }
      }
      return best;
    };
    if (mode == PatchMergingMode::kMerging) {
      EXPECT_EQ(winner(0), 1);  // MONAI v0.9.0: x3 = x[:, 0::2, 0::2, 1::2] -> offset (0,0,1)
      EXPECT_EQ(winner(1), 1);  // x6 repeats x3
    } else {
      EXPECT_EQ(winner(0), 3);  // product order: neighbour 3 is (0,1,1)
      EXPECT_EQ(winner(1), 6);  // neighbour 6 is (1,1,0)
    }
  }
}

TEST(SwinUNETR, TapsFollowTheCanonicalNamesAndStrides) {
  SwinUNETR net(SwinUNETROptions(2, 1, 2).feature_size(6));
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "enc.5", "dec.0",
                                      "dec.1", "dec.2", "dec.3", "dec.4", "logits"}));
  EXPECT_EQ(net->resolve_tap("bottleneck").name, "enc.5");
  EXPECT_EQ(net->resolve_tap("bottleneck").stride, 32);
  EXPECT_EQ(net->resolve_tap("bottleneck").channels, 96);
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.4");
  EXPECT_EQ(net->resolve_tap("enc.4").channels, 48);
}

TEST(SwinUNETR, ForwardGivesTheInputSizeForNonCubicInputs) {
  // 32 × 32 × 64: stage maps 16×16×32 (windows 7, padded to 21×21×35), 8×8×16, then 4×4×8, where
  // the windows are 4×4×7 and the shifted block shifts the last axis only, and 2×2×4.
  SwinUNETR net(SwinUNETROptions(3, 1, 2)
                    .feature_size(3)
                    .depths({1, 1, 2, 1})
                    .num_heads({1, 1, 1, 1})
                    .norm(medkd::nn::NormKind::kBatch));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto y = net->forward(torch::randn({1, 1, 32, 32, 64}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 32, 32, 64}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

TEST(SwinUNETR, WindowSizeOptionSetsTheWindowAndItsBiasTable) {
  // window_size 4: (2·4 - 1)³ = 343 relative offsets, 4³ = 64 tokens per window. A 32³ input has
  // stage maps 16³ and 8³ (windows of 4, no padding), 4³ (one window, not shifted) and 2³.
  const auto& zoo = medkd::models::default_model_registry();
  auto net = zoo.create(model_config(
      "swin_unetr", "{feature_size: 3, depths: [2, 2, 1, 1], num_heads: [1, 1, 1, 1], "
      "norm: batch, window_size: 4}", 3, 1, 2));
  const auto params = net->named_parameters();
  EXPECT_EQ(params["swinViT.layers1.0.blocks.1.attn.relative_position_bias_table"].sizes(),
            (std::vector<int64_t>{343, 1}));
  EXPECT_EQ(net->named_buffers()["swinViT.layers1.0.blocks.1.attn.relative_position_index"].sizes(),
            (std::vector<int64_t>{64, 64}));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto y = net->forward(torch::randn({1, 1, 32, 32, 32}));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 2, 32, 32, 32}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

TEST(SwinUNETR, InputNotAMultipleOf32IsAnError) {
  SwinUNETR net(SwinUNETROptions(2, 1, 2).feature_size(3));
  const auto message = error_of([&] { net->forward(torch::zeros({1, 1, 48, 64})); });
  EXPECT_NE(message.find("divisible by [32, 32]"), std::string::npos) << message;
}

TEST(SwinUNETR, BadOptionsAreErrorsNamingThem) {
  const auto& zoo = medkd::models::default_model_registry();
  const auto error = [&](const std::string& yaml) {
    return error_of([&] { zoo.create(model_config("swin_unetr", yaml, 2, 2, 3)); });
  };
  EXPECT_NE(error("{feature_size: 16}").find("num_heads[0] = 3"), std::string::npos);
  EXPECT_NE(error("{feature_size: 0}").find("feature_size"), std::string::npos);
  EXPECT_NE(error("{depths: [2, 2, 2]}").find("depths needs 4"), std::string::npos);
  EXPECT_NE(error("{depths: [2, 0, 2, 2]}").find("depths must be >= 1"), std::string::npos);
  EXPECT_NE(error("{num_heads: [3, 6, 12]}").find("num_heads needs 4"), std::string::npos);
  EXPECT_NE(error("{downsample: pooling}").find("downsample 'pooling'"), std::string::npos);
  EXPECT_NE(error("{normalize: perhaps}").find("normalize"), std::string::npos);
  EXPECT_NE(error("{window_size: 1}").find("window_size must be >= 2"), std::string::npos);
  EXPECT_NE(error("{window_size: four}").find("window_size"), std::string::npos);
  EXPECT_NE(error("{window: 4}").find("window"), std::string::npos);
}
