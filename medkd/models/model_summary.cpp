#include "medkd/models/model_summary.h"

#include <algorithm>

#include "medkd/core/error.h"

namespace medkd::models {

ModelSummary summarize_model(const ModelRegistry& registry, ModelConfig config,
                             const std::vector<int64_t>& spatial_size) {
  const ModelEntry& entry = registry.entry(config.name);
  MEDKD_CHECK(int(spatial_size.size()) == config.spatial_dims, "the input has ",
              spatial_size.size(), " spatial axes but the model is ", config.spatial_dims, "-D");
  // Networks with a position embedding are built for one input size (UNETR's img_size,
  // H-DenseFormer's image_size): unless set, it is the size asked for.
  for (const char* key : {"img_size", "image_size"}) {
    const auto& keys = entry.option_keys;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    if (config.options && config.options.IsMap() && config.options[key]) continue;
    if (!config.options || !config.options.IsMap())
      config.options = YAML::Node(YAML::NodeType::Map);
    YAML::Node size(YAML::NodeType::Sequence);
    for (int64_t s : spatial_size) size.push_back(s);
    config.options[key] = size;
  }
  SegmentationModel model = registry.create(config);

  ModelSummary summary;
  summary.config = config;
  summary.preset_options_yaml = entry.preset_options_yaml;
  if (!entry.preset_options_yaml.empty()) {
    // Show the options the model was really built with.
    YAML::Node merged = YAML::Clone(YAML::Load(entry.preset_options_yaml));
    if (config.options && config.options.IsMap())
      for (const auto& item : config.options)
        merged[item.first.as<std::string>()] = YAML::Clone(item.second);
    summary.config.options = merged;
  }
  summary.input_shape = {1, config.in_channels};
  summary.input_shape.insert(summary.input_shape.end(), spatial_size.begin(), spatial_size.end());

  const auto names = model->tap_names();
  const TapSet wanted(names.begin(), names.end());
  Taps taps;
  summary.complexity = nn::count_complexity(
      *model, summary.input_shape,
      [&](const torch::Tensor& x) { return model->forward_with_taps(x, taps, wanted); });
  for (const auto& name : names) {
    const auto sizes = taps.at(name).sizes();
    summary.taps.push_back({name, std::vector<int64_t>(sizes.begin() + 1, sizes.end())});
  }
  return summary;
}

nlohmann::json model_summary_to_json(const ModelSummary& s, bool with_layers) {
  nlohmann::json config = model_config_to_json(s.config);
  nlohmann::json j;
  j["name"] = s.config.name;
  j["options"] = config["options"];
  j["preset"] = nullptr;
  if (!s.preset_options_yaml.empty()) {
    ModelConfig preset = s.config;
    preset.options = YAML::Load(s.preset_options_yaml);
    j["preset"] = model_config_to_json(preset)["options"];
  }
  j["spatial_dims"] = s.config.spatial_dims;
  j["in_channels"] = s.config.in_channels;
  j["num_classes"] = s.config.num_classes;
  j["input_shape"] = s.input_shape;
  j["params"] = s.complexity.params;
  j["macs"] = s.complexity.macs;
  j["gmacs"] = double(s.complexity.macs) / 1e9;
  j["gflops"] = s.complexity.flops() / 1e9;
  j["taps"] = nlohmann::json::array();
  for (const auto& t : s.taps) j["taps"].push_back({{"name", t.name}, {"shape", t.shape}});
  if (with_layers) {
    j["layers"] = nlohmann::json::array();
    for (const auto& l : s.complexity.layers)
      j["layers"].push_back({{"name", l.name},
                             {"kind", l.kind},
                             {"output_shape", l.output_shape},
                             {"params", l.params},
                             {"macs", l.macs}});
  }
  return j;
}

}  // namespace medkd::models
