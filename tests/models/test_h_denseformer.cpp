#include "medkd/models/h_denseformer.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::HDenseFormer;
using medkd::models::HDenseFormerOptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

namespace {

// Parameters of the position embeddings, which module-wise profilers (thop) do not see.
int64_t position_embedding_count(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& item : module.named_parameters())
    if (item.key().find("position_embeddings") != std::string::npos) total += item.value().numel();
  return total;
}

HDenseFormerOptions tiny(int dims) {
  return HDenseFormerOptions(dims, 2, 3)
      .n_filters(2)
      .transformer_depth(4)
      .image_size({32})
      .growth_rate(4)
      .num_heads(2)
      .dense_layers(2);
}

}  // namespace

TEST(HDenseFormer, ParameterCountOfATinyTwoDimensionalModelMatchesTheHandCount) {
  // 2-D, 1 channel, 1 class, n_filters 1 (embedding 4), one DCT block of one layer with growth
  // rate 2 and one head (so no output projection), 16² input = one 16² patch:
  //   patch_embeddings conv 16² 1->4: 4·256 + 4                               1028
  //   position_embeddings 1 token × 4                                            4
  //   DCT layer: linear 4->2 (10), norm (4) + to_qkv 2->6 no bias (12),
  //     norm (4) + MLP 2->4->2 (12 + 10); out_layer 6->4->4 (28 + 20)          100
  //   deep_conv conv 3² 4->8 + bias 296; up1 8->4 292; up2 4->2 74; up3 2->1 19  681
  //   encoder BasicConvs (no bias, affine norm): 11 + 11 + 22 + 40 + 80 + 152
  //     + 304 + 592                                                           1212
  //   transposed convs 3² 8->4 292, 4->2 74, 2->1 19                           385
  //   decoder BasicConvs 8->4 296, 4->4 152, 4->2 76, 2->2 40, 2->1 20, 1->1 11   595
  //   heads 1->1 2, 2->1 3, 4->1 5, 8->1 9                                       19
  HDenseFormer net(HDenseFormerOptions(2, 1, 1)
                       .n_filters(1)
                       .transformer_depth(4)
                       .image_size({16})
                       .growth_rate(2)
                       .num_heads(1)
                       .dense_layers(1));
  EXPECT_EQ(parameter_count(*net), 1028 + 4 + 100 + 681 + 1212 + 385 + 595 + 19);
}

TEST(HDenseFormer, HecktorConfigurationHasTheReferenceParameterCount) {
  // The reference HDenseFormer_32(in_channels=2, n_cls=2, image_size=(144,144,144),
  // transformer_depth=24) of shijun18/H-DenseFormer (models/HDenseFormer.py; config.py sets
  // 'transformer_depth': 24 and Hecktor21 has 2 channels, 144³), counted layer by layer:
  //   per modality (embedding C = 128, growth rate 32, 8 heads, mlp 64):
  //     patch_embeddings Conv3d(1, 128, 16): 128·16³ + 128                    524,416
  //     position_embeddings (144/16)³ · 128                                      93,312
  //     24 / 4 = 6 DCT blocks of 81,216: linears (128 + 32i -> 32, i < 4) 22,656,
  //       attention 4 × (LN 64 + to_qkv 32·96 + to_out 32·32 + 32) 16,768,
  //       MLP 4 × (LN 64 + 32·64 + 64 + 64·32 + 32) 17,024,
  //       out_layer 256·64 + 64 + 64·128 + 128 = 24,768                         487,296
  //     = 1,105,024, for 2 modalities                                       2,210,048
  //   deep_conv Conv3d(256, 256, 3) + bias                                   1,769,728
  //   up1/up2/up3 Conv3d 256->128, 128->64, 64->32 with bias                1,161,440
  //   encoder BasicConv3d (no bias, affine IN): 2->32 1,792, 32->32 27,712,
  //     32->64 55,424, 64->64 110,720, 64->128 221,440, 128->128 442,624,
  //     128->256 885,248, 256->256 1,769,984                                3,514,944
  //   upconv_3/2/1 ConvTranspose3d k3 256->128, 128->64, 64->32              1,161,440
  //   decoder BasicConv3d: 256->128 884,992, 128->128 442,624, 128->64 221,312,
  //     64->64 110,720, 64->32 55,360, 32->32 27,712                         1,742,720
  //   conv1x1 + conv1x1_d1/d2/d3 (32, 64, 128, 256 -> 2)                           968
  //   total                                                                11,561,288
  HDenseFormer net(HDenseFormerOptions(3, 2, 2));
  EXPECT_EQ(net->image_size(), (std::vector<int64_t>{144, 144, 144}));
  EXPECT_EQ(parameter_count(*net), 11561288);
  // Teach-Former's Table 1 gives 11.38 M for T1. 11,561,288 less the 2 × 93,312 position
  // embeddings (nn.Parameters outside any leaf module, which thop-style counters skip) is
  // 11,374,664, within 0.01 M of it; with them the model has 0.18 M more.
  EXPECT_EQ(position_embedding_count(*net), 186624);
  EXPECT_EQ(parameter_count(*net) - position_embedding_count(*net), 11374664);
}

TEST(HDenseFormer, PiCaiTwoDimensionalConfigurationHasTheReferenceParameterCount) {
  // HDenseFormer_2D_32(in_channels=3, n_cls=2, image_size=(384,384), transformer_depth=24)
  // (models/HDenseFormer_2D.py): 3 × 593,920 per modality (patch conv 128·16² + 128 = 32,896,
  // position embeddings 24²·128 = 73,728, 6 DCT blocks 487,296) = 1,781,760; deep_conv
  // 384->256 884,992; up1..3 387,296; encoder 1,173,216; upconvs 387,296; decoder 581,504;
  // heads 968; total 5,197,032. Less the 221,184 position embeddings: 4,975,848, Teach-Former's
  // 4.98 M.
  HDenseFormer net(HDenseFormerOptions(2, 3, 2));
  EXPECT_EQ(net->image_size(), (std::vector<int64_t>{384, 384}));
  EXPECT_EQ(parameter_count(*net), 5197032);
  EXPECT_EQ(parameter_count(*net) - position_embedding_count(*net), 4975848);
}

TEST(HDenseFormer, LightPresetHasEightFiltersAndTeachFormersStudentSize) {
  const auto& zoo = medkd::models::default_model_registry();
  // 3-D HECKTOR: n_filters 8, embedding 32: 2 × 493,696 per modality (patch conv 32·16³ + 32 =
  // 131,104, position embeddings 729·32 = 23,328, 6 DCT blocks of 56,544) = 987,392; CNN 585,624;
  // total 1,573,016, 1,526,360 without position embeddings: Teach-Former's S1, 1.53 M.
  auto light3d = zoo.create(model_config("h_denseformer_light", "{}", 3, 2));
  EXPECT_EQ(light3d->name(), "h_denseformer_light");
  EXPECT_EQ(parameter_count(*light3d), 1573016);
  EXPECT_EQ(parameter_count(*light3d) - position_embedding_count(*light3d), 1526360);
  // 7.3× fewer than the teacher.
  EXPECT_EQ(parameter_count(*zoo.create(model_config("h_denseformer", "{}", 3, 2))), 11561288);
  // 2-D PI-CAI: 1,312,224, 1,256,928 without position embeddings (Teach-Former: 1.25 M).
  auto light2d = zoo.create(model_config("h_denseformer_light", "{}", 2, 3));
  EXPECT_EQ(parameter_count(*light2d), 1312224);
  EXPECT_EQ(parameter_count(*light2d) - position_embedding_count(*light2d), 1256928);
}

TEST(HDenseFormer, EveryFourTransformerLayersMakeOneDctBlock) {
  // The class default of the reference (12) against config.py's 24: 3 more blocks of 81,216 per
  // modality. The trainer's own default, 18, floors to 4 blocks.
  HDenseFormer twelve(HDenseFormerOptions(3, 2, 2).transformer_depth(12));
  HDenseFormer eighteen(HDenseFormerOptions(3, 2, 2).transformer_depth(18));
  EXPECT_EQ(parameter_count(*twelve), 11561288 - 2 * 3 * 81216);
  EXPECT_EQ(parameter_count(*eighteen), 11561288 - 2 * 2 * 81216);
}

TEST(HDenseFormer, LayerNamesFollowTheReferenceImplementation) {
  HDenseFormer net(tiny(3).transformer_depth(8));
  const auto params = net->named_parameters();
  for (const char* name :
       {"attns.0.patch_embeddings.weight", "attns.1.position_embeddings",
        "attns.0.blocks.1.0.layers.1.0.weight", "attns.0.blocks.0.0.layers.0.1.norm.weight",
        "attns.0.blocks.0.0.layers.0.1.fn.to_qkv.weight",
        "attns.1.blocks.0.0.layers.1.1.fn.to_out.0.bias",
        "attns.0.blocks.0.0.layers.0.2.fn.net.3.weight", "attns.0.blocks.1.0.out_layer.net.0.bias",
        "deep_conv.double_conv.0.weight", "up3.double_conv.0.bias", "block_1_1_left.conv.weight",
        "block_4_2_left.norm.bias", "upconv_3.weight", "block_1_2_right.norm.weight",
        "conv1x1.weight", "conv1x1_d3.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  // Convs before instance norm have no bias; to_qkv none either.
  EXPECT_FALSE(params.contains("block_1_1_left.conv.bias"));
  EXPECT_FALSE(params.contains("attns.0.blocks.0.0.layers.0.1.fn.to_qkv.bias"));
  // With one head as wide as the growth rate the reference has no output projection.
  HDenseFormer one_head(tiny(2).num_heads(1));
  EXPECT_FALSE(
      one_head->named_parameters().contains("attns.0.blocks.0.0.layers.0.1.fn.to_out.0.weight"));
}

TEST(HDenseFormer, TapsAreTheFusedEncoderLevelsTheDecoderAndThreeHeads) {
  HDenseFormer net(tiny(3));
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "enc.3", "dec.0", "dec.1",
                                             "dec.2", "logits", "ds.1", "ds.2", "ds.3"}));
  const auto bottleneck = net->resolve_tap("bottleneck");
  EXPECT_EQ(bottleneck.name, "enc.3");
  EXPECT_EQ(bottleneck.channels, 16);  // 8 · n_filters
  EXPECT_EQ(bottleneck.stride, 8);
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.2");
  EXPECT_EQ(net->resolve_tap("ds.3").stride, 8);
}

TEST(HDenseFormer, DeepSupervisionReturnsTheLogitsAndThreeCoarserHeads) {
  torch::manual_seed(0);
  HDenseFormer net(tiny(2));
  const auto outputs = net->forward_with_deep_supervision(torch::randn({1, 2, 32, 32}));
  ASSERT_EQ(outputs.size(), 4u);
  for (size_t i = 0; i < outputs.size(); ++i) {
    const int64_t size = 32 >> i;
    EXPECT_EQ(outputs[i].sizes(), (std::vector<int64_t>{1, 3, size, size})) << i;
  }
}

TEST(HDenseFormer, InputOfAnotherSizeThanImageSizeIsAnErrorNamingIt) {
  HDenseFormer net(tiny(2));
  const auto message = error_of([&] { net->forward(torch::zeros({1, 2, 48, 48})); });
  EXPECT_NE(message.find("image_size"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 2, 48, 48]"), std::string::npos) << message;
}

TEST(HDenseFormer, BadOptionValuesAreErrorsNamingTheOption) {
  const auto fails_with = [](const HDenseFormerOptions& options, const std::string& expected) {
    const auto message = error_of([&] { HDenseFormer net(options); });
    EXPECT_NE(message.find(expected), std::string::npos) << "got: '" << message << "'";
  };
  fails_with(tiny(2).n_filters(0), "n_filters");
  fails_with(tiny(2).transformer_depth(3), "transformer_depth");
  fails_with(tiny(2).patch_size(12), "patch_size");
  fails_with(tiny(2).image_size({40}), "image_size");
  fails_with(tiny(3).image_size({32, 32}), "image_size");
  fails_with(tiny(2).num_heads(3), "num_heads");
  fails_with(tiny(2).dense_layers(0), "dense_layers");
  fails_with(tiny(2).growth_rate(0), "growth_rate");
}

TEST(HDenseFormer, ConfigOptionsAreReadAndCheckedByName) {
  const auto& zoo = medkd::models::default_model_registry();
  auto model =
      zoo.create(model_config("h_denseformer",
                              "{n_filters: 2, transformer_depth: 4, image_size: [32, 16], "
                              "patch_size: 8, growth_rate: 4, num_heads: 2, dense_layers: 1}",
                              2, 2));
  auto& net = dynamic_cast<medkd::models::HDenseFormerImpl&>(*model);
  EXPECT_EQ(net.image_size(), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(net.options.patch_size(), 8);
  EXPECT_EQ(net.options.dense_layers(), 1);
  EXPECT_EQ(model->forward(torch::zeros({1, 2, 32, 16})).sizes(),
            (std::vector<int64_t>{1, 2, 32, 16}));

  auto message =
      error_of([&] { zoo.create(model_config("h_denseformer", "{n_filters: many}", 2, 2)); });
  EXPECT_NE(message.find("'n_filters'"), std::string::npos) << message;
  message = error_of([&] { zoo.create(model_config("h_denseformer", "{heads: 4}", 2, 2)); });
  EXPECT_NE(message.find("'heads'"), std::string::npos) << message;
  EXPECT_NE(message.find("num_heads"), std::string::npos) << message;
}
