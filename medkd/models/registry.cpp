#include "medkd/models/registry.h"

#include <algorithm>

#include "medkd/core/error.h"
#include "medkd/models/unet.h"

namespace medkd::models {
namespace {}  // namespace

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
                [](const ModelConfig& config) {
                  std::shared_ptr<SegmentationModelImpl> model =
                      UNet(unet_options_from_config(config)).ptr();
                  return SegmentationModel(model);
                },
                {{"{channels: [4, 8, 16], blocks_per_stage: 1}"},
                 {"{channels: [4, 8, 16], deep_supervision: true, downsampling: max_pool, "
                  "norm: batch, activation: relu}"},
                 {"{channels: [4, 8, 16], pool_z: [false, true], deep_supervision: true}", {3}}},
                ""});
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
