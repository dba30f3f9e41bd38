#include "medkd/models/unetr.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "model_test_support.h"
#include "test_support.h"

using medkd::models::PatchProjection;
using medkd::models::UNETR;
using medkd::models::UNETROptions;
using medkd::testing::error_of;
using medkd::testing::model_config;
using medkd::testing::parameter_count;

namespace {

// A small 2-D UNETR: 32×32 input (2×2 tokens), hidden 8, 2 heads, MLP 16, one layer, f = 2.
UNETROptions tiny(int dims = 2) {
  return UNETROptions(dims, 1, 2)
      .img_size({32})
      .feature_size(2)
      .hidden_size(8)
      .mlp_dim(16)
      .num_heads(2)
      .num_layers(1);
}

}  // namespace

// MONAI UNETR(in_channels=1, out_channels=14, img_size=(96,96,96), feature_size=16,
// hidden_size=768, mlp_dim=3072, num_heads=12, pos_embed="perceptron" or "conv",
// norm_name="instance", res_block=True, conv_block=True), counted layer by layer from
// monai/networks/nets/unetr.py and its blocks (MONAI <= 1.3; see unetr.h for 1.4/1.5). Convolutions
// of the UNETR blocks have no bias (get_conv_layer's default), instance norms no parameters.
//   vit.patch_embedding: 4096·768 + 768 = 3,146,496; position_embeddings 6³·768 = 165,888
//   12 transformer blocks of 7,085,568: MLP 768·3072 + 3072 + 3072·768 + 768 = 4,722,432,
//     qkv 768·2304 = 1,769,472, out_proj 768·768 + 768 = 590,592, two norms 3,072
//     -> 85,026,816; vit.norm 1,536.                                    ViT total 88,340,736
//   encoder1  res block 1->16: 27·16 + 27·256 + 16 (conv3)                          7,360
//   encoder2  768·32·8 + 2 × (32·32·8 + 2·27·32·32)                               323,584
//   encoder3  768·64·8 + (64·64·8 + 2·27·64·64)                                   647,168
//   encoder4  768·128·8                                                           786,432
//   decoder5  768·128·8 + 27·256·128 + 27·128·128 + 256·128                     2,146,304
//   decoder4  128·64·8 + 27·128·64 + 27·64·64 + 128·64                            405,504
//   decoder3  64·32·8 + 27·64·32 + 27·32·32 + 64·32                               101,376
//   decoder2  32·16·8 + 27·32·16 + 27·16·16 + 32·16                                25,344
//   out       16·14 + 14                                                              238
//   total 88,340,736 + 4,443,310 = 92,784,046.
// The UNETR paper's Table (BTCV, this configuration) says 92.58 M: MONAI's implementation has
// 0.20 M more.
TEST(UNETR, PaperConfigurationHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*UNETR(UNETROptions(3, 1, 14).img_size({96}))), 92784046);
}

TEST(UNETR, ConvAndPerceptronPatchEmbeddingsHaveTheSameParameterCount) {
  // Both: in_channels · 16^D · hidden + hidden.
  EXPECT_EQ(parameter_count(*UNETR(tiny(3).pos_embed(PatchProjection::kConv))),
            parameter_count(*UNETR(tiny(3))));
}

// Teach-Former's T3 (Table 1): 2-channel PET/CT, 144³ patches. Against the count above: patch
// embedding +4096·768 for the second channel (+3,145,728), position embedding 9³ = 729 tokens
// instead of 216 (+513·768 = +393,984), encoder1 +27·16 + 16 (+448), and the head 16·K + K
// (51 for 3 classes, 34 for 2, instead of 238): 96,324,019 (3 classes) and 96,324,002 (2).
// Teach-Former reports 95.76 M, 0.56 M fewer.
TEST(UNETR, TeachFormerConfigurationHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*UNETR(UNETROptions(3, 2, 3).img_size({144}))), 96324019);
}

// MONAI UNETR(in_channels=1, out_channels=14, img_size=(96,96), spatial_dims=2), the rest default:
//   patch embedding 256·768 + 768 = 197,376; position embedding 6²·768 = 27,648; blocks and norm
//   as in 3-D (85,028,352); encoder1 9·16 + 9·256 + 16 = 2,464; encoder2 768·32·4 +
//   2·(32·32·4 + 2·9·32·32) = 143,360; encoder3 768·64·4 + 64·64·4 + 2·9·64·64 = 286,720;
//   encoder4 768·128·4 = 393,216; decoder5 768·128·4 + 9·256·128 + 9·128·128 + 256·128 = 868,352;
//   decoder4 128·64·4 + 9·128·64 + 9·64·64 + 128·64 = 151,552; decoder3 37,888; decoder2 9,472;
//   out 238. Total 85,253,376 + 1,893,262 = 87,146,638.
TEST(UNETR, TwoDimensionalConfigurationHasMonaisParameterCount) {
  EXPECT_EQ(parameter_count(*UNETR(UNETROptions(2, 1, 14).img_size({96}))), 87146638);
}

TEST(UNETR, LayerNamesFollowMonai) {
  UNETR conv(tiny().pos_embed(PatchProjection::kConv));
  const auto params = conv->named_parameters();
  for (const char* name :
       {"vit.patch_embedding.patch_embeddings.weight", "vit.patch_embedding.position_embeddings",
        "vit.blocks.0.attn.qkv.weight", "vit.blocks.0.attn.out_proj.bias",
        "vit.blocks.0.mlp.linear1.weight", "vit.blocks.0.norm2.bias", "vit.norm.weight",
        "encoder1.layer.conv1.conv.weight", "encoder1.layer.conv3.conv.weight",
        "encoder2.transp_conv_init.conv.weight", "encoder2.blocks.1.0.conv.weight",
        "encoder2.blocks.1.1.conv2.conv.weight", "decoder5.transp_conv.conv.weight",
        "decoder2.conv_block.conv3.conv.weight", "out.conv.conv.weight", "out.conv.conv.bias"})
    EXPECT_TRUE(params.contains(name)) << name;
  // No bias on qkv (MONAI's qkv_bias=False) nor on the UNETR blocks' convolutions.
  for (const char* name : {"vit.blocks.0.attn.qkv.bias", "encoder1.layer.conv1.conv.bias",
                           "decoder5.transp_conv.conv.bias"})
    EXPECT_FALSE(params.contains(name)) << name;
  UNETR perceptron(tiny());
  EXPECT_TRUE(
      perceptron->named_parameters().contains("vit.patch_embedding.patch_embeddings.1.weight"));
  // MONAI's "batch" norm has affine parameters; its "instance" norm has none.
  EXPECT_TRUE(UNETR(tiny().norm(medkd::nn::NormKind::kBatch))
                  ->named_parameters()
                  .contains("encoder1.layer.norm1.weight"));
  EXPECT_FALSE(perceptron->named_parameters().contains("encoder1.layer.norm1.weight"));
}

TEST(UNETR, SkipConnectionsReadMonaisHiddenStates) {
  // MONAI's hidden_states_out[3], [6], [9] for 12 layers: the outputs of blocks 4, 7 and 10.
  EXPECT_EQ(UNETR(tiny().num_layers(12))->skip_blocks(), (std::vector<int64_t>{3, 6, 9}));
  EXPECT_EQ(UNETR(tiny().num_layers(4))->skip_blocks(), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(UNETR(tiny().num_layers(2))->skip_blocks(), (std::vector<int64_t>{0, 1, 1}));
}

TEST(UNETR, PerceptronEmbeddingFlattensEachPatchVoxelsFirstThenChannels) {
  // MONAI's Rearrange "b c (h p1) (w p2) -> b (h w) (p1 p2 c)" puts voxel (y, x) of channel c at
  // entry (16·y + x)·C + c of the flattened patch. One 16×16 patch, 2 channels, hidden 4: a
  // weight that picks entry 1 reads voxel (0, 0) of channel 1, and not entry 2, voxel (0, 1) of
  // channel 0.
  UNETR net(UNETROptions(2, 2, 2)
                .img_size({16})
                .feature_size(2)
                .hidden_size(4)
                .mlp_dim(4)
                .num_heads(1)
                .num_layers(1));
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) p.value().zero_();  // blocks pass tokens through
  auto params = net->named_parameters();
  params["vit.patch_embedding.patch_embeddings.1.weight"][0][1] = 1;
  params["vit.norm.weight"].fill_(1);
  auto x = torch::zeros({1, 2, 16, 16});
  x[0][1][0][0] = 5;
  x[0][0][0][1] = 7;
  medkd::models::Taps taps;
  net->forward_with_taps(x, taps, {"enc.4"});
  // Token [5, 0, 0, 0], layer-normed: mean 1.25, variance 4.6875.
  EXPECT_NEAR(taps.at("enc.4")[0][0][0][0].item<double>(), 3.75 / std::sqrt(4.6875 + 1e-5), 1e-4);
  EXPECT_NEAR(taps.at("enc.4")[0][1][0][0].item<double>(), -1.25 / std::sqrt(4.6875 + 1e-5), 1e-4);
}

TEST(UNETR, TapsFollowTheCanonicalNamesAndStrides) {
  UNETR net(tiny());
  std::vector<std::string> names;
  for (const auto& spec : net->tap_specs()) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"enc.0", "enc.1", "enc.2", "enc.3", "enc.4", "dec.0",
                                             "dec.1", "dec.2", "dec.3", "logits"}));
  const auto bottleneck = net->resolve_tap("bottleneck");
  EXPECT_EQ(bottleneck.name, "enc.4");
  EXPECT_EQ(bottleneck.stride, 16);
  EXPECT_EQ(bottleneck.channels, 8);  // hidden_size
  EXPECT_EQ(net->resolve_tap("dec.last").name, "dec.3");
  EXPECT_EQ(net->resolve_tap("enc.1").stride, 2);
  EXPECT_EQ(net->resolve_tap("enc.3").channels, 16);  // 8 · feature_size
}

TEST(UNETR, InputOfAnotherSizeThanImgSizeIsAnErrorNamingBoth) {
  UNETR net(tiny());
  const auto message = error_of([&] { net->forward(torch::zeros({1, 1, 48, 48})); });
  EXPECT_NE(message.find("img_size [32, 32]"), std::string::npos) << message;
  EXPECT_NE(message.find("[1, 1, 48, 48]"), std::string::npos) << message;
  const auto odd = error_of([&] { net->forward(torch::zeros({1, 1, 40, 32})); });
  EXPECT_NE(odd.find("divisible by [16, 16]"), std::string::npos) << odd;
}

TEST(UNETR, ImgSizeMayDifferPerAxis) {
  UNETR net(tiny(3).img_size({16, 32, 48}));
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::zeros({1, 1, 16, 32, 48})).sizes(),
            (std::vector<int64_t>{1, 2, 16, 32, 48}));
}

TEST(UNETR, BadOptionsAreErrorsNamingThem) {
  const auto& zoo = medkd::models::default_model_registry();
  const auto error = [&](const std::string& yaml) {
    return error_of([&] { zoo.create(model_config("unetr", yaml)); });
  };
  EXPECT_NE(error("{img_size: 40}").find("img_size"), std::string::npos);
  EXPECT_NE(error("{img_size: [32, 32, 32]}").find("img_size needs 1 or 2"), std::string::npos);
  EXPECT_NE(error("{img_size: 32, hidden_size: 30, num_heads: 4}").find("num_heads"),
            std::string::npos);
  EXPECT_NE(error("{img_size: 32, num_layers: 0}").find("num_layers"), std::string::npos);
  EXPECT_NE(error("{img_size: 32, feature_size: 0}").find("feature_size"), std::string::npos);
  EXPECT_NE(error("{pos_embed: linear}").find("pos_embed 'linear'"), std::string::npos);
  EXPECT_NE(error("{norm: group}").find("group"), std::string::npos);
  EXPECT_NE(error("{res_block: maybe}").find("res_block"), std::string::npos);
  EXPECT_NE(error("{img_size: [a, b]}").find("img_size"), std::string::npos);
  EXPECT_NE(error("{patch_size: 8}").find("patch_size"), std::string::npos);
}

TEST(UNETR, ConfigOptionsReachTheModel) {
  const auto& zoo = medkd::models::default_model_registry();
  auto model = zoo.create(model_config(
      "unetr",
      "{img_size: [16, 32, 16], feature_size: 2, hidden_size: 8, mlp_dim: 8, num_heads: 2, "
      "num_layers: 3, pos_embed: conv, norm: batch, res_block: false, conv_block: false, "
      "qkv_bias: true}",
      3));
  auto* net = dynamic_cast<medkd::models::UNETRImpl*>(model.get());
  ASSERT_NE(net, nullptr);
  EXPECT_EQ(net->options.img_size(), (std::vector<int64_t>{16, 32, 16}));
  EXPECT_EQ(net->options.num_layers(), 3);
  EXPECT_EQ(net->options.pos_embed(), PatchProjection::kConv);
  EXPECT_FALSE(net->options.conv_block());
  const auto params = net->named_parameters();
  EXPECT_TRUE(params.contains("vit.blocks.2.attn.qkv.bias"));
  // Without conv_block, encoder2's extra up-projections are bare transposed convs.
  EXPECT_TRUE(params.contains("encoder2.blocks.1.conv.weight"));
  // Without res_block, no 1×1 projection of the residual.
  EXPECT_FALSE(params.contains("encoder1.layer.conv3.conv.weight"));
}
