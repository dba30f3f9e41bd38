#include "medkd/models/swin_unetr.h"

#include <algorithm>
#include <cmath>

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/complexity.h"

namespace medkd::models {
namespace {

// Swin UNETR's fixed geometry (MONAI hard-codes both): 2^D patches, 7^D windows, shift 3.
constexpr int64_t kPatchSize = 2;
// Masked attention entries (MONAI's compute_mask and the original Swin code).
constexpr double kMaskValue = -100.0;
// Patch embedding (/2) and four patch mergings (/2 each).
constexpr int64_t kTotalStride = 32;
constexpr size_t kStages = 4;

// [N, *P, C] -> [N · windows, n, C], windows in row-major order of their position, tokens in
// row-major order within a window (MONAI's window_partition).
torch::Tensor window_partition(const torch::Tensor& x, const std::vector<int64_t>& window) {
  const int dims = int(window.size());
  std::vector<int64_t> split{x.size(0)}, order{0};
  int64_t tokens = 1;
  for (int a = 0; a < dims; ++a) {
    split.push_back(x.size(1 + a) / window[a]);
    split.push_back(window[a]);
    tokens *= window[a];
  }
  split.push_back(x.size(-1));
  for (int a = 0; a < dims; ++a) order.push_back(1 + 2 * a);  // window indices
  for (int a = 0; a < dims; ++a) order.push_back(2 + 2 * a);  // positions within a window
  order.push_back(2 * dims + 1);
  return x.reshape(split).permute(order).reshape({-1, tokens, x.size(-1)});
}

// The inverse: [N · windows, n, C] -> [N, *P, C] (MONAI's window_reverse).
torch::Tensor window_reverse(const torch::Tensor& windows, const std::vector<int64_t>& window,
                             const std::vector<int64_t>& padded, int64_t batch) {
  const int dims = int(window.size());
  std::vector<int64_t> split{batch}, order{0}, shape{batch};
  for (int a = 0; a < dims; ++a) split.push_back(padded[a] / window[a]);
  for (int a = 0; a < dims; ++a) split.push_back(window[a]);
  split.push_back(windows.size(-1));
  for (int a = 0; a < dims; ++a) {
    order.push_back(1 + a);
    order.push_back(1 + dims + a);
    shape.push_back(padded[a]);
  }
  order.push_back(2 * dims + 1);
  shape.push_back(windows.size(-1));
  return windows.reshape(split).permute(order).reshape(shape);
}

std::vector<int64_t> spatial_sizes(const torch::Tensor& x, int64_t first_axis, int dims) {
  return std::vector<int64_t>(x.sizes().begin() + first_axis,
                              x.sizes().begin() + first_axis + dims);
}

bool any_positive(const std::vector<int64_t>& values) {
  return std::any_of(values.begin(), values.end(), [](int64_t v) { return v > 0; });
}

}  // namespace

std::vector<int64_t> default_swin_depths() { return {2, 2, 2, 2}; }
std::vector<int64_t> default_swin_num_heads() { return {3, 6, 12, 24}; }

std::pair<std::vector<int64_t>, std::vector<int64_t>> swin_window_and_shift(
    const std::vector<int64_t>& sizes, const std::vector<int64_t>& window,
    const std::vector<int64_t>& shift) {
  std::vector<int64_t> use_window = window, use_shift = shift;
  for (size_t a = 0; a < sizes.size(); ++a) {
    if (sizes[a] <= window[a]) {  // "<=": a map exactly one window wide is not shifted either
      use_window[a] = sizes[a];
      use_shift[a] = 0;
    }
  }
  return {use_window, use_shift};
}

torch::Tensor swin_attention_mask(const std::vector<int64_t>& padded,
                                  const std::vector<int64_t>& window,
                                  const std::vector<int64_t>& shift, const torch::Device& device) {
  const int dims = int(padded.size());
  // Region of each position along each axis: [0, P - w), [P - w, P - s), [P - s, P). With no
  // shift along an axis, MONAI's slices leave a single region there.
  torch::Tensor label = torch::zeros({1}, torch::kFloat);
  for (int a = 0; a < dims; ++a) {
    torch::Tensor region = torch::zeros({padded[a]}, torch::kFloat);
    if (shift[a] > 0) {
      region.slice(0, padded[a] - window[a], padded[a] - shift[a]).fill_(1);
      region.slice(0, padded[a] - shift[a], padded[a]).fill_(2);
    }
    label = label.unsqueeze(-1) * 3 + region;  // broadcast to [1, P0, ..., Pa]
  }
  std::vector<int64_t> shape{1};
  shape.insert(shape.end(), padded.begin(), padded.end());
  shape.push_back(1);
  const torch::Tensor windows = window_partition(label.reshape(shape), window).squeeze(-1);
  const torch::Tensor differs = windows.unsqueeze(1) != windows.unsqueeze(2);  // [windows, n, n]
  return torch::zeros(differs.sizes(), torch::kFloat).masked_fill(differs, kMaskValue).to(device);
}

// ---- WindowAttention -------------------------------------------------------------------------

WindowAttentionImpl::WindowAttentionImpl(int64_t dim, int64_t num_heads_,
                                         std::vector<int64_t> window_size_)
    : num_heads(num_heads_), window_size(std::move(window_size_)) {
  const int dims = int(window_size.size());
  int64_t table = 1, tokens = 1;
  for (int64_t w : window_size) {
    table *= 2 * w - 1;
    tokens *= w;
  }
  relative_position_bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({table, num_heads}));
  {
    torch::NoGradGuard no_grad;  // MONAI: trunc_normal_(std=0.02), bounds ±2 (100 σ)
    relative_position_bias_table.normal_(0.0, 0.02).clamp_(-2.0, 2.0);
  }
  // index[i][j] = Σ_a (c_a(i) - c_a(j) + w_a - 1) · Π_{b>a} (2 w_b - 1), c(i) the position of
  // token i within the window (row-major): the row of the bias table for the offset from j to i.
  std::vector<int64_t> stride(dims, 1);
  for (int a = dims - 2; a >= 0; --a) stride[a] = stride[a + 1] * (2 * window_size[a + 1] - 1);
  const auto coordinate = [&](int64_t token, int a) {
    int64_t inner = 1;
    for (int b = a + 1; b < dims; ++b) inner *= window_size[b];
    return (token / inner) % window_size[a];
  };
  torch::Tensor index = torch::empty({tokens, tokens}, torch::kInt64);
  auto entries = index.accessor<int64_t, 2>();
  for (int64_t i = 0; i < tokens; ++i)
    for (int64_t j = 0; j < tokens; ++j) {
      int64_t value = 0;
      for (int a = 0; a < dims; ++a)
        value += (coordinate(i, a) - coordinate(j, a) + window_size[a] - 1) * stride[a];
      entries[i][j] = value;
    }
  relative_position_index = register_buffer("relative_position_index", index);
  qkv = register_module("qkv", nn::Linear(dim, 3 * dim, /*with_bias=*/true));
  proj = register_module("proj", nn::Linear(dim, dim));
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& windows,
                                           const torch::Tensor& mask) {
  const int64_t count = windows.size(0), n = windows.size(1), dim = windows.size(2);
  const int64_t width = dim / num_heads;
  // [windows, n, 3C] -> [windows, n, 3, heads, width] -> [3, windows, heads, n, width]
  torch::Tensor q_k_v =
      qkv->forward(windows).reshape({count, n, 3, num_heads, width}).permute({2, 0, 3, 1, 4});
  torch::Tensor bias;
  // The bias only changes the values, not the cost: a complexity count skips building it (with
  // the mask it is as large as the attention matrix of one sample), and BasicLayer passes no
  // mask then.
  if (!nn::detail::counting()) {
    // A shrunk window of n tokens reads the top-left n×n block of the 7^D index, as MONAI does.
    const torch::Tensor rows = relative_position_index.slice(0, 0, n).slice(1, 0, n).reshape(-1);
    bias = relative_position_bias_table.index_select(0, rows)
               .reshape({n, n, num_heads})
               .permute({2, 0, 1});  // [heads, n, n]
    if (mask.defined()) {
      const int64_t mask_windows = mask.size(0);
      // [N · windows, ...] -> [N, windows, ...], so that the mask lines up with each window.
      q_k_v = q_k_v.reshape({3, count / mask_windows, mask_windows, num_heads, n, width});
      bias = bias.unsqueeze(0) + mask.unsqueeze(1);  // [windows, heads, n, n]
    }
  }
  const torch::Tensor out =
      nn::attention(q_k_v[0], q_k_v[1], q_k_v[2], 1.0 / std::sqrt(double(width)), bias, this);
  // [..., heads, n, width] -> [windows, n, heads, width] -> [windows, n, C]
  return proj->forward(
      out.reshape({count, num_heads, n, width}).transpose(1, 2).reshape({count, n, dim}));
}

// ---- SwinTransformerBlock --------------------------------------------------------------------

SwinTransformerBlockImpl::SwinTransformerBlockImpl(int64_t dim, int64_t num_heads,
                                                   std::vector<int64_t> window_size_,
                                                   std::vector<int64_t> shift_size_)
    : window_size(std::move(window_size_)), shift_size(std::move(shift_size_)) {
  norm1 = register_module("norm1", nn::Norm(nn::NormOptions(nn::NormType::kLayer, dim)));
  attn = register_module("attn", WindowAttention(dim, num_heads, window_size));
  norm2 = register_module("norm2", nn::Norm(nn::NormOptions(nn::NormType::kLayer, dim)));
  mlp = register_module("mlp", nn::MLPBlock(dim, 4 * dim));  // mlp_ratio 4
}

torch::Tensor SwinTransformerBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int dims = int(window_size.size());
  const auto sizes = spatial_sizes(x, 1, dims);
  const auto [window, shift] = swin_window_and_shift(sizes, window_size, shift_size);

  torch::Tensor h = norm1->forward(x);  // [N, *S, C]
  // Zero-pad the end of each axis to a multiple of the window: [N, *P, C]. (constant_pad_nd
  // takes (before, after) pairs from the last axis backwards; channels are not padded.)
  std::vector<int64_t> padding{0, 0}, padded(dims), back(dims), axes(dims);
  bool was_padded = false;
  for (int a = dims - 1; a >= 0; --a) {
    const int64_t extra = (window[a] - sizes[a] % window[a]) % window[a];
    padding.push_back(0);
    padding.push_back(extra);
    padded[a] = sizes[a] + extra;
    was_padded = was_padded || extra > 0;
  }
  if (was_padded) h = torch::constant_pad_nd(h, padding, 0);
  const bool shifted = any_positive(shift);
  for (int a = 0; a < dims; ++a) {
    back[a] = -shift[a];
    axes[a] = 1 + a;
  }
  if (shifted) h = torch::roll(h, back, axes);
  torch::Tensor windows = window_partition(h, window);  // [N · windows, n, C]
  windows = attn->forward(windows, shifted ? mask : torch::Tensor());
  h = window_reverse(windows, window, padded, x.size(0));  // [N, *P, C]
  if (shifted) h = torch::roll(h, shift, axes);
  if (was_padded)
    for (int a = 0; a < dims; ++a) h = h.slice(1 + a, 0, sizes[a]);  // [N, *S, C]
  const torch::Tensor y = x + h;
  return y + mlp->forward(norm2->forward(y));
}

// ---- PatchMerging ----------------------------------------------------------------------------

PatchMergingImpl::PatchMergingImpl(int64_t dim, int spatial_dims, PatchMergingMode mode) {
  const int64_t neighbours = spatial_dims == 3 ? 8 : 4;
  reduction = register_module("reduction", nn::Linear(neighbours * dim, 2 * dim, false));
  norm = register_module("norm", nn::Norm(nn::NormOptions(nn::NormType::kLayer, neighbours * dim)));
  if (spatial_dims == 2) {
    // Both modes: MONAI's [x[:, j::2, i::2] for i, j in product(range(2), range(2))].
    offsets_ = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  } else if (mode == PatchMergingMode::kMerging) {
    // MONAI's v0.9.0 PatchMerging, kept for its trained weights: (0,1,0) and (0,0,1) appear
    // twice, (1,1,0) and (0,1,1) never.
    offsets_ = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
                {1, 0, 1}, {0, 1, 0}, {0, 0, 1}, {1, 1, 1}};
  } else {
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t k = 0; k < 2; ++k) offsets_.push_back({i, j, k});
  }
}

torch::Tensor PatchMergingImpl::forward(const torch::Tensor& x) {
  // Sizes are even: the input is a multiple of 32 and each stage halves it at most four times.
  std::vector<torch::Tensor> parts;
  for (const auto& offset : offsets_) {
    torch::Tensor part = x;
    for (size_t a = 0; a < offset.size(); ++a)
      part = part.slice(1 + int64_t(a), offset[a], part.size(1 + int64_t(a)), 2);
    parts.push_back(part);
  }
  return reduction->forward(norm->forward(torch::cat(parts, -1)));  // [N, *S/2, 2C]
}

// ---- BasicLayer ------------------------------------------------------------------------------

BasicLayerImpl::BasicLayerImpl(int64_t dim, int64_t depth, int64_t num_heads, int spatial_dims,
                               PatchMergingMode mode, int64_t window)
    : window_size_(spatial_dims, window), shift_size_(spatial_dims, window / 2) {
  const std::vector<int64_t> no_shift(spatial_dims, 0);
  for (int64_t i = 0; i < depth; ++i) {
    blocks_.push_back(
        SwinTransformerBlock(dim, num_heads, window_size_, i % 2 == 0 ? no_shift : shift_size_));
    blocks->push_back(blocks_.back());
  }
  register_module("blocks", blocks);
  downsample = register_module("downsample", PatchMerging(dim, spatial_dims, mode));
}

torch::Tensor BasicLayerImpl::forward(const torch::Tensor& x) {
  const int dims = int(window_size_.size());
  const auto sizes = spatial_sizes(x, 2, dims);
  const auto [window, shift] = swin_window_and_shift(sizes, window_size_, shift_size_);
  torch::Tensor mask;
  if (blocks_.size() > 1 && any_positive(shift) && !nn::detail::counting()) {
    std::vector<int64_t> padded(dims);
    for (int a = 0; a < dims; ++a) padded[a] = (sizes[a] + window[a] - 1) / window[a] * window[a];
    mask = swin_attention_mask(padded, window, shift, x.device()).to(x.dtype());
  }
  torch::Tensor h = x.movedim(1, -1);  // [N, *S, C]
  for (auto& block : blocks_) h = block->forward(h, mask);
  return downsample->forward(h).movedim(-1, 1);  // [N, 2C, *S/2]
}

// ---- SwinUNETR -------------------------------------------------------------------------------

SwinUNETRImpl::SwinUNETRImpl(const SwinUNETROptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const int64_t f = options.feature_size();
  const auto& depths = options.depths();
  const auto& heads = options.num_heads();
  MEDKD_CHECK(f >= 1, "swin_unetr: feature_size must be >= 1, got ", f);
  MEDKD_CHECK(options.window_size() >= 2, "swin_unetr: window_size must be >= 2, got ",
              options.window_size(), " (a one-token window attends only to itself)");
  MEDKD_CHECK(depths.size() == kStages, "swin_unetr: depths needs ", kStages,
              " entries (one per stage), got ", depths.size());
  MEDKD_CHECK(heads.size() == kStages, "swin_unetr: num_heads needs ", kStages,
              " entries (one per stage), got ", heads.size());
  for (size_t i = 0; i < kStages; ++i) {
    MEDKD_CHECK(depths[i] >= 1, "swin_unetr: depths must be >= 1, got ", c10::IntArrayRef(depths));
    const int64_t width = f << i;
    MEDKD_CHECK(heads[i] >= 1 && width % heads[i] == 0, "swin_unetr: stage ", i, " is ", width,
                " channels wide (feature_size ", f, " · ", (1 << i), "), which num_heads[", i,
                "] = ", heads[i], " does not divide");
  }

  // swinViT.patch_embed.proj, swinViT.layers{1..4}.0
  auto swin = register_module("swinViT", std::make_shared<torch::nn::Module>("SwinTransformer"));
  auto patch_embed =
      swin->register_module("patch_embed", std::make_shared<torch::nn::Module>("PatchEmbed"));
  patch_embed_proj_ = patch_embed->register_module(
      "proj",
      nn::Conv(nn::ConvOptions(dims, options.in_channels(), f, {kPatchSize}).stride({kPatchSize})));
  for (size_t i = 0; i < kStages; ++i) {
    torch::nn::ModuleList holder;  // MONAI keeps each stage in a one-element ModuleList
    layers_.push_back(
        BasicLayer(f << i, depths[i], heads[i], dims, options.downsample(), options.window_size()));
    holder->push_back(layers_.back());
    swin->register_module(str("layers", i + 1), holder);
  }
  // MONAI's proj_out is a function (F.layer_norm without weights); modules here so that a
  // complexity count sees them. They hold no parameters, so no state-dict keys either.
  torch::nn::ModuleList proj_out;
  for (size_t i = 0; i <= kStages; ++i) {
    proj_out_.push_back(
        nn::Norm(nn::NormOptions(nn::NormType::kLayerChannels, f << i).affine(false)));
    proj_out->push_back(proj_out_.back());
  }
  swin->register_module("proj_out", proj_out);

  const auto norm = options.norm();
  const auto basic = [&](int64_t in, int64_t out) {
    return nn::UnetrBasicBlock(dims, in, out, norm, /*res_block=*/true);
  };
  const auto up = [&](int64_t in, int64_t out) {
    return nn::UnetrUpBlock(dims, in, out, norm, /*res_block=*/true);
  };
  encoder1_ = register_module("encoder1", basic(options.in_channels(), f));
  encoder2_ = register_module("encoder2", basic(f, f));
  encoder3_ = register_module("encoder3", basic(2 * f, 2 * f));
  encoder4_ = register_module("encoder4", basic(4 * f, 4 * f));
  encoder10_ = register_module("encoder10", basic(16 * f, 16 * f));
  decoder5_ = register_module("decoder5", up(16 * f, 8 * f));
  decoder4_ = register_module("decoder4", up(8 * f, 4 * f));
  decoder3_ = register_module("decoder3", up(4 * f, 2 * f));
  decoder2_ = register_module("decoder2", up(2 * f, f));
  decoder1_ = register_module("decoder1", up(f, f));
  out_ = register_module("out", nn::UnetOutBlock(dims, f, options.num_classes()));

  tap_specs_ = {{"enc.0", f, 1},      {"enc.1", f, 2},      {"enc.2", 2 * f, 4},
                {"enc.3", 4 * f, 8},  {"enc.4", 8 * f, 16}, {"enc.5", 16 * f, 32},
                {"dec.0", 8 * f, 16}, {"dec.1", 4 * f, 8},  {"dec.2", 2 * f, 4},
                {"dec.3", f, 2},      {"dec.4", f, 1},      {"logits", options.num_classes(), 1}};
}

std::vector<torch::Tensor> SwinUNETRImpl::swin_features(const torch::Tensor& x) {
  std::vector<torch::Tensor> features{patch_embed_proj_->forward(x)};  // [N, f, *S/2]
  for (auto& layer : layers_) features.push_back(layer->forward(features.back()));
  if (options.normalize())
    for (size_t i = 0; i < features.size(); ++i) features[i] = proj_out_[i]->forward(features[i]);
  return features;
}

torch::Tensor SwinUNETRImpl::forward(torch::Tensor x) {
  check_input(x, std::vector<int64_t>(options.spatial_dims(), kTotalStride));
  const auto hidden = swin_features(x);

  const torch::Tensor enc0 = encoder1_->forward(x);  // [N, f, *S]
  tap("enc.0", enc0);
  const torch::Tensor enc1 = encoder2_->forward(hidden[0]);  // [N, f, *S/2]
  tap("enc.1", enc1);
  const torch::Tensor enc2 = encoder3_->forward(hidden[1]);  // [N, 2f, *S/4]
  tap("enc.2", enc2);
  const torch::Tensor enc3 = encoder4_->forward(hidden[2]);  // [N, 4f, *S/8]
  tap("enc.3", enc3);
  tap("enc.4", hidden[3]);                                          // [N, 8f, *S/16]
  const torch::Tensor bottleneck = encoder10_->forward(hidden[4]);  // [N, 16f, *S/32]
  tap("enc.5", bottleneck);

  torch::Tensor y = decoder5_->forward(bottleneck, hidden[3]);  // [N, 8f, *S/16]
  tap("dec.0", y);
  y = decoder4_->forward(y, enc3);  // [N, 4f, *S/8]
  tap("dec.1", y);
  y = decoder3_->forward(y, enc2);  // [N, 2f, *S/4]
  tap("dec.2", y);
  y = decoder2_->forward(y, enc1);  // [N, f, *S/2]
  tap("dec.3", y);
  y = decoder1_->forward(y, enc0);  // [N, f, *S]
  tap("dec.4", y);
  return out_->forward(y);  // [N, K, *S]
}

// ---- Configuration ---------------------------------------------------------------------------

std::vector<std::string> swin_unetr_option_keys() {
  return {"feature_size", "depths", "num_heads", "norm", "normalize", "downsample", "window_size"};
}

SwinUNETROptions swin_unetr_options_from_config(const ModelConfig& config) {
  SwinUNETROptions options(config.spatial_dims, config.in_channels, config.num_classes);
  if (!config.name.empty()) options.registry_name(config.name);
  const ModelOptionReader o("swin_unetr", config.options, swin_unetr_option_keys());
  if (o.has("feature_size")) options.feature_size(o.get<int64_t>("feature_size", "an integer"));
  if (o.has("depths"))
    options.depths(o.get<std::vector<int64_t>>("depths", "a list of 4 integers"));
  if (o.has("num_heads"))
    options.num_heads(o.get<std::vector<int64_t>>("num_heads", "a list of 4 integers"));
  if (o.has("norm")) options.norm(nn::parse_norm(o.get<std::string>("norm", "a name")));
  if (o.has("normalize")) options.normalize(o.get<bool>("normalize", "true or false"));
  if (o.has("window_size")) options.window_size(o.get<int64_t>("window_size", "an integer"));
  if (o.has("downsample")) {
    const auto name = o.get<std::string>("downsample", "a name");
    MEDKD_CHECK(name == "merging" || name == "mergingv2", "unknown swin_unetr downsample '", name,
                "' (valid: merging, mergingv2)");
    options.downsample(name == "mergingv2" ? PatchMergingMode::kMergingV2
                                           : PatchMergingMode::kMerging);
  }
  return options;
}

}  // namespace medkd::models
