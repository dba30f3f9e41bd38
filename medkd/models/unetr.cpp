#include "medkd/models/unetr.h"

#include <algorithm>
#include <cmath>

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"

namespace medkd::models {
namespace {

// UNETR's patch size, fixed in MONAI and in the paper (16^D patches, as ViT-B/16).
constexpr int64_t kPatchSize = 16;

// ViT-style initialisation (MONAI's trunc_normal_(std=0.02, a=-2, b=2)): the bounds are a hundred
// standard deviations out, so clamping a normal draw is the same distribution in practice.
void init_trunc_normal(torch::Tensor& t) {
  torch::NoGradGuard no_grad;
  t.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
}

}  // namespace

std::vector<int64_t> default_unetr_img_size() { return {96}; }

// ---- ViT blocks -------------------------------------------------------------------------------

SelfAttentionBlockImpl::SelfAttentionBlockImpl(int64_t hidden_size, int64_t num_heads_,
                                               bool qkv_bias)
    : num_heads(num_heads_) {
  out_proj = register_module("out_proj", nn::Linear(hidden_size, hidden_size));
  qkv = register_module("qkv", nn::Linear(hidden_size, 3 * hidden_size, qkv_bias));
}

torch::Tensor SelfAttentionBlockImpl::forward(const torch::Tensor& x) {
  const int64_t n = x.size(0), tokens = x.size(1), hidden = x.size(2);
  const int64_t width = hidden / num_heads;
  // [N, T, 3·hidden] -> [N, T, 3, heads, width] -> [3, N, heads, T, width]
  const auto qkv_heads =
      qkv->forward(x).reshape({n, tokens, 3, num_heads, width}).permute({2, 0, 3, 1, 4});
  const auto out = nn::attention(qkv_heads[0], qkv_heads[1], qkv_heads[2],
                                 1.0 / std::sqrt(double(width)), {}, this);  // [N, heads, T, w]
  return out_proj->forward(out.permute({0, 2, 1, 3}).reshape({n, tokens, hidden}));
}

TransformerBlockImpl::TransformerBlockImpl(int64_t hidden_size, int64_t mlp_dim, int64_t num_heads,
                                           bool qkv_bias) {
  mlp = register_module("mlp", nn::MLPBlock(hidden_size, mlp_dim));
  norm1 = register_module("norm1", nn::Norm(nn::NormOptions(nn::NormType::kLayer, hidden_size)));
  attn = register_module("attn", SelfAttentionBlock(hidden_size, num_heads, qkv_bias));
  norm2 = register_module("norm2", nn::Norm(nn::NormOptions(nn::NormType::kLayer, hidden_size)));
}

torch::Tensor TransformerBlockImpl::forward(torch::Tensor x) {
  x = x + attn->forward(norm1->forward(x));
  return x + mlp->forward(norm2->forward(x));
}

// ---- UNETR ------------------------------------------------------------------------------------

UNETRImpl::UNETRImpl(const UNETROptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const auto& img = options.img_size();
  MEDKD_CHECK(img.size() == 1 || img.size() == size_t(dims), "unetr: img_size needs 1 or ", dims,
              " values, got ", img.size());
  options.img_size(img.size() == 1 ? std::vector<int64_t>(dims, img[0]) : img);
  for (int64_t s : options.img_size())
    MEDKD_CHECK(s >= kPatchSize && s % kPatchSize == 0,
                "unetr: img_size must be a positive multiple of the patch size 16 on every axis, "
                "got ",
                c10::IntArrayRef(options.img_size()));
  const int64_t f = options.feature_size(), hidden = options.hidden_size();
  MEDKD_CHECK(f >= 1, "unetr: feature_size must be >= 1, got ", f);
  MEDKD_CHECK(hidden >= 1, "unetr: hidden_size must be >= 1, got ", hidden);
  MEDKD_CHECK(options.mlp_dim() >= 1, "unetr: mlp_dim must be >= 1, got ", options.mlp_dim());
  MEDKD_CHECK(options.num_heads() >= 1 && hidden % options.num_heads() == 0, "unetr: hidden_size (",
              hidden, ") must be divisible by num_heads (", options.num_heads(), ")");
  const int64_t layers = options.num_layers();
  MEDKD_CHECK(layers >= 1, "unetr: num_layers must be >= 1, got ", layers);

  int64_t tokens = 1;
  for (int64_t s : options.img_size()) {
    grid_.push_back(s / kPatchSize);
    tokens *= s / kPatchSize;
  }
  // Blocks k·L/4 (0-based), k = 1, 2, 3: MONAI's hidden_states_out[3], [6], [9] for L = 12.
  for (int64_t k = 1; k <= 3; ++k) skip_blocks_.push_back(k * layers / 4);

  // vit.patch_embedding.{patch_embeddings, position_embeddings}, vit.blocks.{i}, vit.norm
  auto vit = register_module("vit", std::make_shared<torch::nn::Module>("ViT"));
  auto patch_embedding = vit->register_module(
      "patch_embedding", std::make_shared<torch::nn::Module>("PatchEmbeddingBlock"));
  int64_t patch_volume = 1;
  for (int axis = 0; axis < dims; ++axis) patch_volume *= kPatchSize;
  if (options.pos_embed() == PatchProjection::kConv) {
    patch_conv_ = patch_embedding->register_module(
        "patch_embeddings",
        nn::Conv(nn::ConvOptions(dims, options.in_channels(), hidden, {kPatchSize})
                     .stride({kPatchSize})));
  } else {
    // MONAI: nn.Sequential(Rearrange, nn.Linear), so the linear layer is patch_embeddings.1.
    auto sequential = patch_embedding->register_module(
        "patch_embeddings", std::make_shared<torch::nn::Module>("Sequential"));
    patch_linear_ =
        sequential->register_module("1", nn::Linear(options.in_channels() * patch_volume, hidden));
    init_trunc_normal(patch_linear_->weight);
    torch::NoGradGuard no_grad;
    patch_linear_->bias.zero_();
  }
  position_embeddings_ =
      patch_embedding->register_parameter("position_embeddings", torch::zeros({1, tokens, hidden}));
  init_trunc_normal(position_embeddings_);

  torch::nn::ModuleList blocks;
  for (int64_t i = 0; i < layers; ++i) {
    blocks_.push_back(
        TransformerBlock(hidden, options.mlp_dim(), options.num_heads(), options.qkv_bias()));
    blocks->push_back(blocks_.back());
  }
  vit->register_module("blocks", blocks);
  vit_norm_ = vit->register_module("norm", nn::Norm(nn::NormOptions(nn::NormType::kLayer, hidden)));

  const auto norm = options.norm();
  const bool res = options.res_block(), conv = options.conv_block();
  encoder1_ =
      register_module("encoder1", nn::UnetrBasicBlock(dims, options.in_channels(), f, norm, res));
  encoder2_ =
      register_module("encoder2", nn::UnetrPrUpBlock(dims, hidden, 2 * f, 2, norm, conv, res));
  encoder3_ =
      register_module("encoder3", nn::UnetrPrUpBlock(dims, hidden, 4 * f, 1, norm, conv, res));
  encoder4_ =
      register_module("encoder4", nn::UnetrPrUpBlock(dims, hidden, 8 * f, 0, norm, conv, res));
  decoder5_ = register_module("decoder5", nn::UnetrUpBlock(dims, hidden, 8 * f, norm, res));
  decoder4_ = register_module("decoder4", nn::UnetrUpBlock(dims, 8 * f, 4 * f, norm, res));
  decoder3_ = register_module("decoder3", nn::UnetrUpBlock(dims, 4 * f, 2 * f, norm, res));
  decoder2_ = register_module("decoder2", nn::UnetrUpBlock(dims, 2 * f, f, norm, res));
  out_ = register_module("out", nn::UnetOutBlock(dims, f, options.num_classes()));

  tap_specs_ = {{"enc.0", f, 1},
                {"enc.1", 2 * f, 2},
                {"enc.2", 4 * f, 4},
                {"enc.3", 8 * f, 8},
                {"enc.4", hidden, kPatchSize},
                {"dec.0", 8 * f, 8},
                {"dec.1", 4 * f, 4},
                {"dec.2", 2 * f, 2},
                {"dec.3", f, 1},
                {"logits", options.num_classes(), 1}};
}

torch::Tensor UNETRImpl::embed_patches(const torch::Tensor& x) {
  const int dims = options.spatial_dims();
  const int64_t n = x.size(0), channels = x.size(1);
  torch::Tensor tokens;
  if (patch_conv_) {
    tokens = patch_conv_->forward(x).flatten(2).transpose(1, 2);  // [N, T, hidden]
  } else {
    // MONAI's "b c (h p1) (w p2) (d p3) -> b (h w d) (p1 p2 p3 c)":
    // [N, C, g0, p, g1, p, (g2, p)] -> [N, g0, g1, (g2), p, p, (p), C] -> [N, T, p^D · C]
    std::vector<int64_t> split{n, channels};
    std::vector<int64_t> order{0};
    int64_t token_count = 1, patch_values = channels;
    for (int axis = 0; axis < dims; ++axis) {
      split.push_back(grid_[axis]);
      split.push_back(kPatchSize);
      order.push_back(2 + 2 * axis);
      token_count *= grid_[axis];
      patch_values *= kPatchSize;
    }
    for (int axis = 0; axis < dims; ++axis) order.push_back(3 + 2 * axis);
    order.push_back(1);
    tokens = patch_linear_->forward(
        x.reshape(split).permute(order).reshape({n, token_count, patch_values}));
  }
  return tokens + position_embeddings_;
}

torch::Tensor UNETRImpl::tokens_to_grid(const torch::Tensor& tokens) const {
  const int dims = options.spatial_dims();
  std::vector<int64_t> shape{tokens.size(0)};
  shape.insert(shape.end(), grid_.begin(), grid_.end());
  shape.push_back(tokens.size(2));
  std::vector<int64_t> order{0, dims + 1};
  for (int axis = 0; axis < dims; ++axis) order.push_back(1 + axis);
  return tokens.reshape(shape).permute(order).contiguous();  // [N, hidden, *grid]
}

torch::Tensor UNETRImpl::forward(torch::Tensor x) {
  const int dims = options.spatial_dims();
  check_input(x, std::vector<int64_t>(dims, kPatchSize));
  MEDKD_CHECK(
      std::equal(options.img_size().begin(), options.img_size().end(), x.sizes().begin() + 2),
      "model unetr was built for img_size ", c10::IntArrayRef(options.img_size()),
      " (its position embedding has one entry per 16-voxel patch of that size), got input ",
      x.sizes(), "; set img_size to the input size or use sliding-window inference");

  torch::Tensor tokens = embed_patches(x);   // [N, T, hidden]
  std::vector<torch::Tensor> hidden_states;  // after each transformer block
  for (auto& block : blocks_) {
    tokens = block->forward(tokens);
    hidden_states.push_back(tokens);
  }
  tokens = vit_norm_->forward(tokens);

  const torch::Tensor enc1 = encoder1_->forward(x);  // [N, f, *S]
  tap("enc.0", enc1);
  const torch::Tensor enc2 =
      encoder2_->forward(tokens_to_grid(hidden_states[skip_blocks_[0]]));  // [N, 2f, *S/2]
  tap("enc.1", enc2);
  const torch::Tensor enc3 =
      encoder3_->forward(tokens_to_grid(hidden_states[skip_blocks_[1]]));  // [N, 4f, *S/4]
  tap("enc.2", enc3);
  const torch::Tensor enc4 =
      encoder4_->forward(tokens_to_grid(hidden_states[skip_blocks_[2]]));  // [N, 8f, *S/8]
  tap("enc.3", enc4);
  const torch::Tensor bottleneck = tokens_to_grid(tokens);  // [N, hidden, *S/16]
  tap("enc.4", bottleneck);

  torch::Tensor y = decoder5_->forward(bottleneck, enc4);  // [N, 8f, *S/8]
  tap("dec.0", y);
  y = decoder4_->forward(y, enc3);  // [N, 4f, *S/4]
  tap("dec.1", y);
  y = decoder3_->forward(y, enc2);  // [N, 2f, *S/2]
  tap("dec.2", y);
  y = decoder2_->forward(y, enc1);  // [N, f, *S]
  tap("dec.3", y);
  return out_->forward(y);  // [N, K, *S]
}

// ---- Configuration ----------------------------------------------------------------------------

std::vector<std::string> unetr_option_keys() {
  return {"img_size",  "feature_size", "hidden_size", "mlp_dim",    "num_heads", "num_layers",
          "pos_embed", "norm",         "res_block",   "conv_block", "qkv_bias"};
}

UNETROptions unetr_options_from_config(const ModelConfig& config) {
  UNETROptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("unetr", config.options, unetr_option_keys());
  if (o.has("img_size")) {
    options.img_size(o.get_integer_or_list("img_size", "a list of integers",
                                           "an integer or a list of integers"));
  }
  const auto integer = [&](const char* key, auto setter) {
    if (o.has(key)) setter(o.get<int64_t>(key, "an integer"));
  };
  integer("feature_size", [&](int64_t v) { options.feature_size(v); });
  integer("hidden_size", [&](int64_t v) { options.hidden_size(v); });
  integer("mlp_dim", [&](int64_t v) { options.mlp_dim(v); });
  integer("num_heads", [&](int64_t v) { options.num_heads(v); });
  integer("num_layers", [&](int64_t v) { options.num_layers(v); });
  if (o.has("pos_embed")) {
    const auto name = o.get<std::string>("pos_embed", "a name");
    MEDKD_CHECK(name == "perceptron" || name == "conv", "unknown unetr pos_embed '", name,
                "' (valid: perceptron, conv)");
    options.pos_embed(name == "conv" ? PatchProjection::kConv : PatchProjection::kPerceptron);
  }
  if (o.has("norm")) options.norm(nn::parse_norm(o.get<std::string>("norm", "a name")));
  if (o.has("res_block")) options.res_block(o.get<bool>("res_block", "true or false"));
  if (o.has("conv_block")) options.conv_block(o.get<bool>("conv_block", "true or false"));
  if (o.has("qkv_bias")) options.qkv_bias(o.get<bool>("qkv_bias", "true or false"));
  return options;
}

}  // namespace medkd::models
