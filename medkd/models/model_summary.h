// What a network costs for a given input: parameters, MACs, FLOPs, its taps with their shapes and
// (on request) the cost of every layer. Behind `medkd models`, so that a user can size a student
// before training it.
//
//   ModelConfig config;  config.name = "swin_unetr"; config.in_channels = 2; ...
//   ModelSummary s = summarize_model(default_model_registry(), config, {144, 144, 144});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medkd/models/registry.h"
#include "medkd/nn/complexity.h"

namespace medkd::models {

struct TapShape {
  std::string name;
  std::vector<int64_t> shape;  // [C, *spatial] for one sample, tensor order
};

struct ModelSummary {
  ModelConfig config;               // as built, preset options merged in
  std::string preset_options_yaml;  // the registry entry's preset ("" for a plain architecture)
  std::vector<int64_t> input_shape;  // [1, C, *spatial], tensor order
  nn::ComplexityReport complexity;   // for one sample
  std::vector<TapShape> taps;        // every declared tap, in declaration order
};

// Builds the model (`config.options` over the entry's preset), counts it on one sample of
// `spatial_size` (tensor order: [Z, Y, X] or [Y, X]) and records the shape of every tap. A model
// with an `img_size` or `image_size` option that the config leaves unset gets the input size (the
// position embeddings of UNETR and H-DenseFormer depend on it). Errors (unknown model or option, a size the model cannot take) are
// medkd::Errors.
ModelSummary summarize_model(const ModelRegistry& registry, ModelConfig config,
                             const std::vector<int64_t>& spatial_size);

// {"name", "preset" (the preset's options, or null), "options" (all options as built),
//  "spatial_dims", "in_channels", "num_classes", "input_shape", "params", "macs", "gmacs",
//  "gflops", "taps": [{"name", "shape"}], "layers": [...] (with_layers)}
nlohmann::json model_summary_to_json(const ModelSummary& summary, bool with_layers);

}  // namespace medkd::models
