// Small helpers shared by the model tests: parameter counts and registry configs.
#pragma once

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "medkd/models/segmentation_model.h"

namespace medkd::testing {

// The number of parameter values whose name starts with `prefix` ("" for all).
inline int64_t parameter_count(const torch::nn::Module& module, const std::string& prefix = "") {
  int64_t total = 0;
  for (const auto& p : module.named_parameters())
    if (p.key().rfind(prefix, 0) == 0) total += p.value().numel();
  return total;
}

// The config the registry builds model `name` from, with `options_yaml` as its options.
inline medkd::models::ModelConfig model_config(const std::string& name,
                                               const std::string& options_yaml,
                                               int spatial_dims = 2, int64_t in_channels = 1,
                                               int64_t num_classes = 2) {
  medkd::models::ModelConfig config;
  config.name = name;
  config.spatial_dims = spatial_dims;
  config.in_channels = in_channels;
  config.num_classes = num_classes;
  config.options = YAML::Load(options_yaml);
  return config;
}

}  // namespace medkd::testing
