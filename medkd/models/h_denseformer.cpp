#include "medkd/models/h_denseformer.h"

#include <cmath>

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/layers.h"
#include "medkd/nn/resample.h"

namespace medkd::models {
namespace {

// An empty module that only names its children, standing in for the reference's nn.Sequential
// wrappers so that parameter names match (`net.0.weight`, `to_out.0.weight`).
std::shared_ptr<torch::nn::Module> add_container(torch::nn::Module& parent,
                                                 const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>("Sequential"));
}

// DenseForward: Linear -> GELU -> Linear (net.0, net.3; the reference's dropouts, net.2 and
// net.4, are left out).
class DenseForwardImpl : public torch::nn::Module {
 public:
  DenseForwardImpl(int64_t dim, int64_t hidden_dim, int64_t out_dim)
      : fc1_(dim, hidden_dim), fc2_(hidden_dim, out_dim) {
    auto net = add_container(*this, "net");
    net->register_module("0", fc1_);
    net->register_module("3", fc2_);
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2_(torch::gelu(fc1_(x))); }

 private:
  nn::Linear fc1_, fc2_;
};
TORCH_MODULE(DenseForward);

// Dense_Attention: multi-head self-attention over the tokens, heads of width dim / heads.
class DenseAttentionImpl : public torch::nn::Module {
 public:
  DenseAttentionImpl(int64_t dim, int64_t heads)
      : heads_(heads), dim_head_(dim / heads), to_qkv_(dim, 3 * (dim / heads) * heads, false) {
    register_module("to_qkv", to_qkv_);
    // The reference projects the heads back unless there is one head as wide as the tokens.
    if (!(heads == 1 && dim_head_ == dim)) {
      to_out_ = nn::Linear(dim_head_ * heads, dim);
      add_container(*this, "to_out")->register_module("0", to_out_);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {  // [B, T, dim]
    const int64_t batch = x.size(0), tokens = x.size(1);
    auto qkv = to_qkv_(x).chunk(3, -1);
    const auto split_heads = [&](const torch::Tensor& t) {  // [B, heads, T, dim_head]
      return t.reshape({batch, tokens, heads_, dim_head_}).permute({0, 2, 1, 3});
    };
    torch::Tensor out = nn::attention(split_heads(qkv[0]), split_heads(qkv[1]), split_heads(qkv[2]),
                                      1.0 / std::sqrt(double(dim_head_)), {}, this);
    out = out.permute({0, 2, 1, 3}).reshape({batch, tokens, heads_ * dim_head_});
    return to_out_ ? to_out_(out) : out;
  }

 private:
  int64_t heads_, dim_head_;
  nn::Linear to_qkv_;
  nn::Linear to_out_{nullptr};
};
TORCH_MODULE(DenseAttention);

// PreNorm: LayerNorm over the token features, then `fn`.
template <typename Fn>
class PreNormImpl : public torch::nn::Module {
 public:
  PreNormImpl(int64_t dim, Fn fn)
      : norm_(nn::NormOptions(nn::NormType::kLayer, dim)), fn_(std::move(fn)) {
    register_module("norm", norm_);
    register_module("fn", fn_);
  }
  torch::Tensor forward(const torch::Tensor& x) { return fn_->forward(norm_(x)); }

 private:
  nn::Norm norm_;
  Fn fn_;
};

// DensePreConv_AttentionBlock, the DCT block: `depth` densely connected layers over tokens.
class DenseBlockImpl : public torch::nn::Module {
 public:
  DenseBlockImpl(int64_t channels, int64_t growth_rate, int64_t depth, int64_t heads) {
    const int64_t mlp_dim = 2 * growth_rate;  // the reference's mlp_dim = growth_rate * 2
    torch::nn::ModuleList layers;
    for (int64_t i = 0; i < depth; ++i) {
      torch::nn::ModuleList layer;
      linears_.emplace_back(channels + i * growth_rate, growth_rate);
      attentions_.push_back(std::make_shared<PreNormImpl<DenseAttention>>(
          growth_rate, DenseAttention(growth_rate, heads)));
      mlps_.push_back(std::make_shared<PreNormImpl<DenseForward>>(
          growth_rate, DenseForward(growth_rate, mlp_dim, growth_rate)));
      layer->push_back(linears_.back());
      layer->push_back(attentions_.back());
      layer->push_back(mlps_.back());
      layers->push_back(layer);
    }
    register_module("layers", layers);
    out_layer_ = register_module("out_layer",
                                 DenseForward(channels + depth * growth_rate, mlp_dim, channels));
  }

  torch::Tensor forward(const torch::Tensor& x) {  // [B, T, C] -> [B, T, C]
    std::vector<torch::Tensor> features{x};
    for (size_t i = 0; i < linears_.size(); ++i) {
      torch::Tensor y = linears_[i](torch::cat(features, -1));  // [B, T, growth_rate]
      y = attentions_[i]->forward(y) + y;
      y = mlps_[i]->forward(y) + y;
      // As the reference: the MLP runs once more on its own residual output, and that joins the
      // concatenation (not y itself).
      features.push_back(mlps_[i]->forward(y));
    }
    return out_layer_(torch::cat(features, -1));  // [B, T, C + depth · growth_rate] -> [B, T, C]
  }

 private:
  std::vector<nn::Linear> linears_;
  std::vector<std::shared_ptr<PreNormImpl<DenseAttention>>> attentions_;
  std::vector<std::shared_ptr<PreNormImpl<DenseForward>>> mlps_;
  DenseForward out_layer_{nullptr};
};
TORCH_MODULE(DenseBlock);

// Dense_TransformerBlock: one modality's path of the Multi-path Parallel Embedding.
class DenseTransformerImpl : public torch::nn::Module {
 public:
  DenseTransformerImpl(const HDenseFormerOptions& o, const std::vector<int64_t>& image_size)
      : patch_embeddings_(nn::ConvOptions(o.spatial_dims(), 1, 4 * o.n_filters(), {o.patch_size()})
                              .stride({o.patch_size()})) {
    register_module("patch_embeddings", patch_embeddings_);
    int64_t num_patches = 1;
    for (int64_t size : image_size) {
      grid_.push_back(size / o.patch_size());
      num_patches *= grid_.back();
    }
    position_embeddings_ = register_parameter("position_embeddings",
                                              torch::zeros({1, num_patches, 4 * o.n_filters()}));
    torch::nn::ModuleList blocks;
    for (int64_t b = 0; b < o.transformer_depth() / 4; ++b) {
      blocks_.emplace_back(4 * o.n_filters(), o.growth_rate(), o.dense_layers(), o.num_heads());
      torch::nn::ModuleList wrapper;  // the reference wraps each block in a one-entry list
      wrapper->push_back(blocks_.back());
      blocks->push_back(wrapper);
    }
    register_module("blocks", blocks);
  }

  torch::Tensor forward(const torch::Tensor& image) {  // [N, 1, *S] -> [N, C, *S / patch]
    torch::Tensor x = patch_embeddings_(image);        // [N, C, *grid]
    const int64_t batch = x.size(0), channels = x.size(1);
    x = x.flatten(2).transpose(1, 2) + position_embeddings_;  // [N, T, C]
    for (auto& block : blocks_) x = block(x);
    std::vector<int64_t> shape{batch, channels};
    shape.insert(shape.end(), grid_.begin(), grid_.end());
    // The reference then interpolates to image_size / patch, which is this grid already.
    return x.transpose(1, 2).reshape(shape);  // [N, C, *grid]
  }

 private:
  nn::Conv patch_embeddings_;
  torch::Tensor position_embeddings_;
  std::vector<DenseBlock> blocks_;
  std::vector<int64_t> grid_;
};
TORCH_MODULE(DenseTransformer);

// BasicConv3d / BasicConv2d: conv 3 without bias -> affine instance norm -> ReLU.
class BasicConvImpl : public torch::nn::Module {
 public:
  BasicConvImpl(int dims, int64_t in, int64_t out)
      : conv_(nn::ConvOptions(dims, in, out, {3}).padding({1}).bias(false)),
        norm_(nn::NormOptions(nn::NormType::kInstance, out)) {
    register_module("conv", conv_);
    register_module("norm", norm_);
  }
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(norm_(conv_(x))); }

 private:
  nn::Conv conv_;
  nn::Norm norm_;
};
TORCH_MODULE(BasicConv);

// UpConv: conv 3 -> instance norm without affine parameters -> ReLU (double_conv.0/1/2), then
// (bi/tri)linear upsampling by `scale`.
class UpConvImpl : public torch::nn::Module {
 public:
  UpConvImpl(int dims, int64_t in, int64_t out, int64_t scale)
      : dims_(dims),
        scale_(scale),
        conv_(nn::ConvOptions(dims, in, out, {3}).padding({1})),
        norm_(nn::NormOptions(nn::NormType::kInstance, out).affine(false)) {
    auto double_conv = add_container(*this, "double_conv");
    double_conv->register_module("0", conv_);
    double_conv->register_module("1", norm_);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(norm_(conv_(x)));
    if (scale_ == 1) return y;
    return nn::upsample(y, double(scale_), nn::Interpolation::kLinear, /*align_corners=*/false);
  }

 private:
  int dims_;
  int64_t scale_;
  nn::Conv conv_;
  nn::Norm norm_;
};
TORCH_MODULE(UpConv);

std::vector<int64_t> resolve_image_size(const HDenseFormerOptions& o) {
  const int dims = o.spatial_dims();
  std::vector<int64_t> size = o.image_size();
  // models/HDenseFormer.py defaults to (144, 144, 144), HDenseFormer_2D.py to (384, 384).
  if (size.empty()) size = {dims == 3 ? 144 : 384};
  MEDKD_CHECK(size.size() == 1 || size.size() == size_t(dims),
              "h_denseformer: image_size needs 1 or ", dims, " values, got ", size.size());
  if (size.size() == 1) size.assign(dims, size[0]);
  for (int64_t s : size)
    MEDKD_CHECK(s >= o.patch_size() && s % o.patch_size() == 0,
                "h_denseformer: image_size must be a multiple of patch_size (", o.patch_size(),
                "), got ", s);
  return size;
}

}  // namespace

HDenseFormerImpl::HDenseFormerImpl(const HDenseFormerOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const auto& o = options;
  const int dims = o.spatial_dims();
  const int64_t f = o.n_filters();
  MEDKD_CHECK(f >= 1, "h_denseformer: n_filters must be >= 1, got ", f);
  MEDKD_CHECK(o.transformer_depth() >= 4,
              "h_denseformer: transformer_depth must be >= 4 (4 per DCT block), got ",
              o.transformer_depth());
  MEDKD_CHECK(o.patch_size() >= 8 && o.patch_size() % 8 == 0,
              "h_denseformer: patch_size must be a multiple of 8, got ", o.patch_size());
  MEDKD_CHECK(o.growth_rate() >= 1, "h_denseformer: growth_rate must be >= 1, got ",
              o.growth_rate());
  MEDKD_CHECK(o.num_heads() >= 1 && o.growth_rate() % o.num_heads() == 0,
              "h_denseformer: num_heads must divide growth_rate (", o.growth_rate(), "), got ",
              o.num_heads());
  MEDKD_CHECK(o.dense_layers() >= 1, "h_denseformer: dense_layers must be >= 1, got ",
              o.dense_layers());
  image_size_ = resolve_image_size(o);

  torch::nn::ModuleList attns;
  for (int64_t m = 0; m < o.in_channels(); ++m) {
    attns_.emplace_back(DenseTransformer(o, image_size_));
    attns->push_back(attns_.back().ptr());
  }
  register_module("attns", attns);
  const auto add = [&](const std::string& name, auto module) {
    register_module(name, module);
    return torch::nn::AnyModule(module);
  };
  deep_conv_ = add("deep_conv", UpConv(dims, 4 * f * o.in_channels(), 8 * f, o.patch_size() / 8));
  ups_.push_back(add("up1", UpConv(dims, 8 * f, 4 * f, 2)));
  ups_.push_back(add("up2", UpConv(dims, 4 * f, 2 * f, 2)));
  ups_.push_back(add("up3", UpConv(dims, 2 * f, f, 2)));

  const std::vector<int64_t> width{f, 2 * f, 4 * f, 8 * f};  // per level, finest first
  for (int level = 0; level < 4; ++level) {
    const int64_t in = level == 0 ? o.in_channels() : width[level - 1];
    const std::string prefix = str("block_", level + 1, "_");
    encoder_blocks_.push_back(add(prefix + "1_left", BasicConv(dims, in, width[level])));
    encoder_blocks_.push_back(add(prefix + "2_left", BasicConv(dims, width[level], width[level])));
  }
  for (int level = 2; level >= 0; --level) {
    // Transposed conv 3, stride 2, padding 1, output padding 1: exactly twice the size.
    upconvs_.push_back(add(str("upconv_", level + 1),
                           nn::Conv(nn::ConvOptions(dims, width[level + 1], width[level], {3})
                                        .stride({2})
                                        .padding({1})
                                        .output_padding({1})
                                        .transposed(true))));
    const std::string prefix = str("block_", level + 1, "_");
    decoder_blocks_.push_back(
        add(prefix + "1_right", BasicConv(dims, 2 * width[level], width[level])));
    decoder_blocks_.push_back(add(prefix + "2_right", BasicConv(dims, width[level], width[level])));
  }
  const auto head = [&](int64_t in) {
    return nn::Conv(nn::ConvOptions(dims, in, o.num_classes(), {1}));
  };
  head_ = add("conv1x1", head(f));
  for (int level = 1; level <= 3; ++level)
    ds_heads_.push_back(add(str("conv1x1_d", level), head(width[level])));

  for (int level = 0; level < 4; ++level)
    tap_specs_.push_back({str("enc.", level), width[level], int64_t{1} << level});
  for (int level = 2; level >= 0; --level)
    tap_specs_.push_back({str("dec.", 2 - level), width[level], int64_t{1} << level});
  tap_specs_.push_back({"logits", o.num_classes(), 1});
  for (int level = 1; level <= 3; ++level)
    tap_specs_.push_back({str("ds.", level), o.num_classes(), int64_t{1} << level});
}

torch::Tensor HDenseFormerImpl::forward(torch::Tensor x) {
  check_input(x);
  for (int axis = 0; axis < spatial_dims(); ++axis)
    MEDKD_CHECK(x.size(2 + axis) == image_size_[axis], "model ", name(),
                " was built for image_size ", c10::IntArrayRef(image_size_),
                " (its position embeddings fix the token grid), got input ", x.sizes());
  const auto pool = [](const torch::Tensor& t) { return nn::max_pool(t, {2}, {2}); };
  const auto stage = [&](size_t first, const torch::Tensor& t) {
    return encoder_blocks_[first + 1].forward(encoder_blocks_[first].forward(t));
  };

  std::vector<torch::Tensor> paths;
  for (int64_t m = 0; m < in_channels(); ++m)
    paths.push_back(attns_[m].forward(x.narrow(1, m, 1)));                 // [N, 4f, *S / patch]
  const torch::Tensor attnout = deep_conv_.forward(torch::cat(paths, 1));  // [N, 8f, *S / 8]
  const torch::Tensor at1 = ups_[0].forward(attnout);                      // [N, 4f, *S / 4]
  const torch::Tensor at2 = ups_[1].forward(at1);                          // [N, 2f, *S / 2]
  const torch::Tensor at3 = ups_[2].forward(at2);                          // [N, f, *S]

  const torch::Tensor ds0 = stage(0, x) + at3;  // [N, f, *S]
  tap("enc.0", ds0);
  const torch::Tensor ds1 = stage(2, pool(ds0)) + at2;  // [N, 2f, *S / 2]
  tap("enc.1", ds1);
  const torch::Tensor ds2 = stage(4, pool(ds1)) + at1;  // [N, 4f, *S / 4]
  tap("enc.2", ds2);
  x = stage(6, pool(ds2)) + attnout;  // [N, 8f, *S / 8]
  tap("enc.3", x);
  if (tap_wanted("ds.3")) tap("ds.3", ds_heads_[2].forward(x));

  const std::vector<torch::Tensor> skips{ds2, ds1, ds0};
  for (size_t i = 0; i < 3; ++i) {
    x = torch::cat({upconvs_[i].forward(x), skips[i]}, 1);  // [N, 2 · width, ...]
    x = decoder_blocks_[2 * i + 1].forward(decoder_blocks_[2 * i].forward(x));
    tap(str("dec.", i), x);
    const std::string head = str("ds.", 2 - i);  // ds.2 after the first, ds.1 after the second
    if (i < 2 && tap_wanted(head)) tap(head, ds_heads_[1 - i].forward(x));
  }
  return head_.forward(x);  // [N, K, *S]
}

std::vector<std::string> h_denseformer_option_keys() {
  return {"n_filters",   "transformer_depth", "image_size",  "patch_size",
          "growth_rate", "num_heads",         "dense_layers"};
}

HDenseFormerOptions h_denseformer_options_from_config(const ModelConfig& config) {
  HDenseFormerOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  if (!config.name.empty()) options.registry_name(config.name);
  const ModelOptionReader o("h_denseformer", config.options, h_denseformer_option_keys());
  const auto integer = [&](const char* key) { return o.get<int64_t>(key, "an integer"); };
  if (o.has("n_filters")) options.n_filters(integer("n_filters"));
  if (o.has("transformer_depth")) options.transformer_depth(integer("transformer_depth"));
  if (o.has("patch_size")) options.patch_size(integer("patch_size"));
  if (o.has("growth_rate")) options.growth_rate(integer("growth_rate"));
  if (o.has("num_heads")) options.num_heads(integer("num_heads"));
  if (o.has("dense_layers")) options.dense_layers(integer("dense_layers"));
  if (o.has("image_size")) {
    options.image_size(
        o.get_integer_or_list("image_size", "an integer or a list of integers", "an integer"));
  }
  return options;
}

}  // namespace medkd::models
