#include "medkd/models/unet.h"

#include <algorithm>

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"

namespace medkd::models {
namespace {

// Appends `module` to `list` (which names it by index) and returns it as a typed handle.
template <typename Holder>
Holder add_to(torch::nn::ModuleList& list, Holder module) {
  list->push_back(module.ptr());
  return module;
}

}  // namespace

std::vector<int64_t> default_unet_channels() { return {32, 64, 128, 256, 320}; }

UNetImpl::UNetImpl(const UNetOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const auto& channels = options.channels();
  const size_t levels = channels.size();
  MEDKD_CHECK(levels >= 2, "unet: channels needs at least 2 levels, got ", levels);
  for (int64_t c : channels) MEDKD_CHECK(c >= 1, "unet: channels must be >= 1, got ", c);
  MEDKD_CHECK(options.blocks_per_stage() >= 1, "unet: blocks_per_stage must be >= 1, got ",
              options.blocks_per_stage());
  MEDKD_CHECK(options.kernel_size() >= 1 && options.kernel_size() % 2 == 1,
              "unet: kernel_size must be odd and >= 1, got ", options.kernel_size());
  const auto& pool_z = options.pool_z();
  if (!pool_z.empty()) {
    MEDKD_CHECK(dims == 3, "unet: pool_z applies to 3-D models only (spatial_dims is ", dims, ")");
    MEDKD_CHECK(pool_z.size() == levels - 1, "unet: pool_z needs one entry per downsampling step (",
                levels - 1, "), got ", pool_z.size());
    for (int64_t z : pool_z)
      MEDKD_CHECK(z == 1 || z == 2, "unet: pool_z strides must be 1 or 2, got ", z);
  }

  // Per-axis stride of each downsampling step, then cumulative per level.
  std::vector<std::vector<int64_t>> step_strides(levels, std::vector<int64_t>(dims, 1));
  level_strides_.assign(levels, std::vector<int64_t>(dims, 1));
  for (size_t level = 1; level < levels; ++level) {
    step_strides[level].assign(dims, 2);
    if (!pool_z.empty()) step_strides[level][0] = pool_z[level - 1];
    for (int axis = 0; axis < dims; ++axis)
      level_strides_[level][axis] = level_strides_[level - 1][axis] * step_strides[level][axis];
  }

  const auto block = [&](int64_t in, int64_t out, const std::vector<int64_t>& stride) {
    return nn::ConvNormActOptions(dims, in, out)
        .kernel_size({options.kernel_size()})
        .stride(stride)
        .norm(options.norm())
        .activation(options.activation());
  };
  const auto head = [&](int64_t in) {
    return nn::make_conv(dims, in, options.num_classes(), {1}, {1}, /*bias=*/true);
  };

  // nnU-Net nests these lists in encoder/decoder modules; plain Module containers keep its names.
  auto encoder =
      register_module("encoder", std::make_shared<torch::nn::Module>("PlainConvEncoder"));
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>("UNetDecoder"));
  torch::nn::ModuleList encoder_stages, decoder_stages, transpconvs, seg_layers;

  for (size_t level = 0; level < levels; ++level) {
    const int64_t in = level == 0 ? options.in_channels() : channels[level - 1];
    torch::nn::Sequential stage;
    if (level > 0 && options.downsampling() == Downsampling::kMaxPool) {
      stage->push_back(nn::make_max_pool(dims, step_strides[level]));
      stage->push_back(
          nn::StackedConvBlocks(options.blocks_per_stage(), block(in, channels[level], {1})));
    } else {
      stage->push_back(nn::StackedConvBlocks(options.blocks_per_stage(),
                                             block(in, channels[level], step_strides[level])));
    }
    encoder_stages_.push_back(add_to(encoder_stages, stage));
  }

  for (size_t i = 0; i + 1 < levels; ++i) {
    const size_t level = levels - 2 - i;  // the skip's level
    transpconvs_.push_back(nn::make_transposed_conv(dims, channels[level + 1], channels[level],
                                                    step_strides[level + 1], /*bias=*/true));
    transpconvs->push_back(transpconvs_.back().ptr());
    decoder_stages_.push_back(add_to(
        decoder_stages, nn::StackedConvBlocks(options.blocks_per_stage(),
                                              block(2 * channels[level], channels[level], {1}))));
    if (options.deep_supervision() || level == 0) {
      seg_layers_.push_back(head(channels[level]));
      seg_layers->push_back(seg_layers_.back().ptr());
    }
  }
  encoder->register_module("stages", encoder_stages);
  decoder->register_module("stages", decoder_stages);
  decoder->register_module("transpconvs", transpconvs);
  decoder->register_module("seg_layers", seg_layers);

  const auto spec = [&](const std::string& name, int64_t c, size_t level) {
    const auto& strides = level_strides_[level];
    const int64_t largest = *std::max_element(strides.begin(), strides.end());
    const bool isotropic =
        std::all_of(strides.begin(), strides.end(), [&](int64_t s) { return s == largest; });
    return TapSpec{name, c, largest, isotropic ? std::vector<int64_t>{} : strides};
  };
  for (size_t level = 0; level < levels; ++level)
    tap_specs_.push_back(spec(str("enc.", level), channels[level], level));
  for (size_t i = 0; i + 1 < levels; ++i)
    tap_specs_.push_back(spec(str("dec.", i), channels[levels - 2 - i], levels - 2 - i));
  tap_specs_.push_back(spec("logits", options.num_classes(), 0));
  if (options.deep_supervision())
    for (size_t level = 1; level + 1 < levels; ++level)
      tap_specs_.push_back(spec(str("ds.", level), options.num_classes(), level));
}

torch::Tensor UNetImpl::forward(torch::Tensor x) {
  check_input(x, level_strides_.back());
  const size_t levels = encoder_stages_.size();
  std::vector<torch::Tensor> skips;
  for (size_t level = 0; level < levels; ++level) {
    x = encoder_stages_[level]->forward(x);  // [N, channels[level], *S / level_stride(level)]
    tap(str("enc.", level), x);
    skips.push_back(x);
  }
  for (size_t i = 0; i + 1 < levels; ++i) {
    const size_t level = levels - 2 - i;
    x = transpconvs_[i].forward(x);                // [N, channels[level], *S / stride(level)]
    x = torch::cat({x, skips[level]}, /*dim=*/1);  // [N, 2 · channels[level], ...]
    x = decoder_stages_[i]->forward(x);            // [N, channels[level], ...]
    tap(str("dec.", i), x);
    if (options.deep_supervision() && level > 0) {
      const std::string name = str("ds.", level);
      if (tap_wanted(name)) tap(name, seg_layers_[i].forward(x));  // [N, K, ...]
    }
  }
  return seg_layers_.back().forward(x);  // [N, K, *S]
}

std::vector<std::string> unet_option_keys() {
  return {"channels",   "blocks_per_stage", "kernel_size",      "norm",
          "activation", "downsampling",     "deep_supervision", "pool_z"};
}

UNetOptions unet_options_from_config(const ModelConfig& config) {
  UNetOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("unet", config.options, unet_option_keys());
  if (o.has("channels"))
    options.channels(o.get<std::vector<int64_t>>("channels", "a list of integers"));
  if (o.has("blocks_per_stage"))
    options.blocks_per_stage(o.get<int64_t>("blocks_per_stage", "an integer"));
  if (o.has("kernel_size")) options.kernel_size(o.get<int64_t>("kernel_size", "an integer"));
  if (o.has("norm")) options.norm(nn::parse_norm(o.get<std::string>("norm", "a name")));
  if (o.has("activation"))
    options.activation(nn::parse_activation(o.get<std::string>("activation", "a name")));
  if (o.has("downsampling")) {
    const auto name = o.get<std::string>("downsampling", "a name");
    MEDKD_CHECK(name == "strided_conv" || name == "max_pool", "unknown unet downsampling '", name,
                "' (valid: strided_conv, max_pool)");
    options.downsampling(name == "max_pool" ? Downsampling::kMaxPool : Downsampling::kStridedConv);
  }
  if (o.has("deep_supervision"))
    options.deep_supervision(o.get<bool>("deep_supervision", "true or false"));
  if (o.has("pool_z")) {
    std::vector<int64_t> strides;
    for (const auto& item : o.get<std::vector<YAML::Node>>("pool_z", "a list")) {
      int64_t stride = 0;
      bool pooled = false;
      if (YAML::convert<int64_t>::decode(item, stride))
        strides.push_back(stride);
      else if (YAML::convert<bool>::decode(item, pooled))
        strides.push_back(pooled ? 2 : 1);
      else
        throw Error(str("unet option 'pool_z' takes booleans or strides 1/2, got '",
                        YAML::Dump(item), "'"));
    }
    options.pool_z(strides);
  }
  return options;
}

}  // namespace medkd::models
