#include "medkd/models/registry.h"

#include <algorithm>

#include "medkd/core/error.h"
#include "medkd/models/h_denseformer.h"
#include "medkd/models/mobile_unet.h"
#include "medkd/models/resnet18_plain.h"
#include "medkd/models/resnet_unet.h"
#include "medkd/models/swin_unetr.h"
#include "medkd/models/unet.h"
#include "medkd/models/unet_plus_plus.h"
#include "medkd/models/unetr.h"
#include "medkd/models/ux_net.h"

namespace medkd::models {
namespace {

// The factory of a registry entry: the network `Holder` (a TORCH_MODULE) built from the options
// that `options_from` reads out of the config.
template <typename Holder, typename Options>
std::function<SegmentationModel(const ModelConfig&)> factory(
    Options (*options_from)(const ModelConfig&)) {
  return [options_from](const ModelConfig& config) {
    std::shared_ptr<SegmentationModelImpl> model = Holder(options_from(config)).ptr();
    return SegmentationModel(model);
  };
}

}  // namespace

void ModelRegistry::add(ModelEntry entry) {
  MEDKD_CHECK(!entry.name.empty(), "a model entry needs a name");
  MEDKD_CHECK(entry.create, "model entry '", entry.name, "' has no factory");
  MEDKD_CHECK(!contains(entry.name), "model '", entry.name, "' is registered twice");
  const std::string name = entry.name;
  entries_.emplace(name, std::move(entry));
}

const ModelEntry& ModelRegistry::entry(const std::string& name) const {
  const auto it = entries_.find(name);
  MEDKD_CHECK(it != entries_.end(), "unknown model '", name, "' (known: ", join_names(names()),
              ")");
  return it->second;
}

std::vector<std::string> ModelRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& item : entries_) names.push_back(item.first);
  return names;
}

SegmentationModel ModelRegistry::create(const ModelConfig& config) const {
  const ModelEntry& model = entry(config.name);
  const auto& dims = model.spatial_dims;
  MEDKD_CHECK(std::find(dims.begin(), dims.end(), config.spatial_dims) != dims.end(), "model '",
              config.name, "' does not support spatial_dims ", config.spatial_dims);

  ModelConfig merged = config;  // options cloned
  merged.options.reset(model.preset_options_yaml.empty() ? YAML::Node(YAML::NodeType::Map)
                                                         : YAML::Load(model.preset_options_yaml));
  if (config.options && !config.options.IsNull()) {
    MEDKD_CHECK(config.options.IsMap(), "options of model '", config.name, "' must be a map");
    for (const auto& item : config.options) {
      const auto key = item.first.as<std::string>();
      MEDKD_CHECK(std::find(model.option_keys.begin(), model.option_keys.end(), key) !=
                      model.option_keys.end(),
                  "unknown option '", key, "' for model '", config.name,
                  "' (valid: ", join_names(model.option_keys), ")");
      merged.options[key] = YAML::Clone(item.second);
    }
  }
  return model.create(merged);
}

void register_builtin_models(ModelRegistry& registry) {
  registry.add({"unet",
                "U-Net as nnU-Net's PlainConvUNet (Isensee et al. 2021; Ronneberger et al. 2015)",
                {2, 3},
                unet_option_keys(),
                factory<UNet>(&unet_options_from_config),
                {{"{channels: [4, 8, 16], blocks_per_stage: 1}"},
                 {"{channels: [4, 8, 16], deep_supervision: true, downsampling: max_pool, "
                  "norm: batch, activation: relu}"},
                 {"{channels: [4, 8, 16], pool_z: [false, true], deep_supervision: true}", {3}}},
                ""});
  registry.add({"unet_plus_plus",
                "UNet++, nested dense skip pathways (Zhou et al., DLMIA 2018); the HLFD teacher",
                {2, 3},
                unet_plus_plus_option_keys(),
                factory<UNetPlusPlus>(&unet_plus_plus_options_from_config),
                {{"{filters: [4, 8, 16]}"}, {"{filters: [2, 4, 8, 8], deep_supervision: true}"}},
                ""});
  registry.add(
      {"resnet_unet",
       "U-Net with a ResNet-18/34 encoder, as segmentation_models_pytorch (He et al. "
       "2016)",
       {2, 3},
       resnet_unet_option_keys(),
       factory<ResNetUNet>(&resnet_unet_options_from_config),
       {{"{depth: 18, encoder_channels: [4, 8, 8, 16], "
         "decoder_channels: [16, 8, 8, 4, 4]}",
         {2, 3},
         32},
        {"{encoder_channels: [2, 4, 4, 8], decoder_channels: [8, 4, 4, 4, 2]}", {2, 3}, 32}},
       ""});
  registry.add({"resnet18_plain",
                "ResNet-18 without a decoder, upsampled logits: the HLFD student (Gorade et al., "
                "ISBI 2024)",
                {2, 3},
                resnet18_plain_option_keys(),
                factory<ResNet18Plain>(&resnet18_plain_options_from_config),
                {{"{encoder_channels: [4, 8, 8, 16]}", {2, 3}, 32}},
                ""});
  registry.add({"mobile_unet",
                "MobileNetV2 encoder (Sandler et al. 2018) with a depthwise-separable U-Net "
                "decoder",
                {2, 3},
                mobile_unet_option_keys(),
                factory<MobileUNet>(&mobile_unet_options_from_config),
                {{"{width: 0.25, last_conv: false}", {2, 3}, 32},
                 {"{width: 0.25, decoder_channels: [8, 8, 4, 4, 4]}", {2, 3}, 32}},
                ""});
  // H-DenseFormer: Teach-Former's teacher T1 (n_filters 32) and student S1 (n_filters 8).
  const auto h_denseformer = factory<HDenseFormer>(&h_denseformer_options_from_config);
  registry.add({"h_denseformer",
                "H-DenseFormer, hybrid densely connected transformer (Shi et al., MICCAI 2023)",
                {2, 3},
                h_denseformer_option_keys(),
                h_denseformer,
                {{"{n_filters: 2, transformer_depth: 4, image_size: 32, growth_rate: 4, "
                  "num_heads: 2, dense_layers: 2}",
                  {2, 3},
                  32},
                 {"{n_filters: 2, transformer_depth: 8, image_size: 16, patch_size: 8, "
                  "growth_rate: 4, num_heads: 1, dense_layers: 1}",
                  {2, 3},
                  16}},
                ""});
  registry.add({"h_denseformer_light",
                "H-DenseFormer with 8 filters, Teach-Former's student S1 (Hossain et al.)",
                {2, 3},
                h_denseformer_option_keys(),
                h_denseformer,
                {{"{transformer_depth: 4, image_size: 16, patch_size: 8, growth_rate: 8, "
                  "dense_layers: 1}",
                  {2, 3},
                  16}},
                "{n_filters: 8}"});
  // 3D UX-Net: Teach-Former's student S3; ux_net_light has 8.8x fewer parameters.
  const auto ux_net = factory<UXNet>(&ux_net_options_from_config);
  registry.add({"ux_net",
                "3D UX-Net, large-kernel ConvNet (Lee et al., ICLR 2023)",
                {2, 3},
                ux_net_option_keys(),
                ux_net,
                {{"{feat_size: [2, 4, 8, 8], hidden_size: 8, depths: [1, 1, 1, 1], "
                  "kernel_size: 3}",
                  {2, 3},
                  32},
                 {"{feat_size: [2, 2, 4, 4], hidden_size: 4, depths: [2, 1, 1, 1], norm: batch, "
                  "res_block: false, layer_scale_init_value: 0}",
                  {2, 3},
                  32}},
                ""});
  registry.add({"ux_net_light",
                "3D UX-Net with feat_size 16..128 and hidden_size 256, 8.8x fewer parameters",
                {2, 3},
                ux_net_option_keys(),
                ux_net,
                {{"{feat_size: [2, 4, 4, 8], hidden_size: 8, depths: [1, 1, 1, 1]}", {2, 3}, 32}},
                "{feat_size: [16, 32, 64, 128], hidden_size: 256}"});
  registry.add({"unetr",
                "UNETR, a ViT encoder with a convolutional decoder, as MONAI builds it "
                "(Hatamizadeh et al., WACV 2022)",
                {2, 3},
                unetr_option_keys(),
                factory<UNETR>(&unetr_options_from_config),
                {{"{img_size: 32, feature_size: 4, hidden_size: 32, mlp_dim: 64, num_heads: 2, "
                  "num_layers: 2}",
                  {2, 3},
                  32},
                 {"{img_size: [32, 32, 32], feature_size: 4, hidden_size: 32, mlp_dim: 64, "
                  "num_heads: 4, num_layers: 4, pos_embed: conv, norm: batch, res_block: false, "
                  "conv_block: false, qkv_bias: true}",
                  {3},
                  32}},
                ""});
  // Swin UNETR's deepest block runs at 1/32 of the input: tiny examples use batch norm in 3-D
  // (an instance norm over one voxel has no gradient) and 64² inputs with instance norm in 2-D.
  // 3-D attention over 343-token windows dominates the time: one head, one shifted stage.
  const auto swin_unetr = factory<SwinUNETR>(&swin_unetr_options_from_config);
  registry.add(
      {"swin_unetr",
       "Swin UNETR, a Swin Transformer encoder with a convolutional decoder, as MONAI "
       "builds it (Hatamizadeh et al., BrainLes 2021)",
       {2, 3},
       swin_unetr_option_keys(),
       swin_unetr,
       {{"{feature_size: 6}", {2}, 64},
        {"{feature_size: 6, depths: [1, 2, 1, 1], num_heads: [1, 1, 1, 1], norm: batch}", {3}, 32},
        {"{feature_size: 8, depths: [1, 1, 1, 1], num_heads: [1, 2, 4, 8], norm: batch, "
         "normalize: false, downsample: mergingv2}",
         {2, 3},
         32}},
       ""});
  registry.add({"swin_unetr_light",
                "Swin UNETR with feature_size 16 and heads 1, 2, 4, 8 (head width 16 as the "
                "teacher's), 8.9x fewer parameters",
                {2, 3},
                swin_unetr_option_keys(),
                swin_unetr,
                // 2-D only: the 3-D code path is swin_unetr's, exercised above.
                {{"{feature_size: 4, depths: [1, 1, 1, 1], norm: batch}", {2}, 32}},
                "{feature_size: 16, num_heads: [1, 2, 4, 8]}"});
}

const ModelRegistry& default_model_registry() {
  static const ModelRegistry registry = [] {
    ModelRegistry built;
    register_builtin_models(built);
    return built;
  }();
  return registry;
}

}  // namespace medkd::models
