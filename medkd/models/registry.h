// The model zoo: architecture names -> factories, filled explicitly (no static initialisers, which
// the linker drops from static libraries).
//
//   const auto& zoo = medkd::models::default_model_registry();
//   medkd::models::SegmentationModel net = zoo.create(config);   // config.name == "unet"
//
// Adding a model: its file pair, one line in register_builtin_models(), one CMake line, and the
// conformance test picks it up from its entry's `examples` (docs/models.md).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "medkd/models/segmentation_model.h"

namespace medkd::models {

// A small configuration of a model, for tests and `medkd models`: options as YAML text (flow
// style is fine) and the dimensionalities it applies to.
struct ModelExample {
  std::string options_yaml;
  std::vector<int> spatial_dims = {2, 3};
  // Spatial size of the test input along every axis (transformers need multiples of their patch
  // or window sizes).
  int64_t input_size = 16;
};

struct ModelEntry {
  std::string name;
  std::string description;  // one line, with the paper
  std::vector<int> spatial_dims = {2, 3};
  std::vector<std::string> option_keys;  // every key the factory reads from ModelConfig::options
  std::function<SegmentationModel(const ModelConfig&)> create;
  // Tiny, fast configurations that between them exercise the model's options; the conformance
  // test runs each of them.
  std::vector<ModelExample> examples;
  // Preset options (a named configuration such as a "_light" variant): merged under the user's
  // options before `create` is called.
  std::string preset_options_yaml;
};

class ModelRegistry {
 public:
  // A second entry with the same name is a medkd::Error.
  void add(ModelEntry entry);
  // Checks the name (unknown: a medkd::Error listing the known names), the dimensionality and the
  // option keys (unknown: an error listing the valid keys), then builds the model.
  SegmentationModel create(const ModelConfig& config) const;
  const ModelEntry& entry(const std::string& name) const;
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  std::vector<std::string> names() const;  // sorted

 private:
  std::map<std::string, ModelEntry> entries_;
};

// Adds unet (and every further built-in network).
void register_builtin_models(ModelRegistry& registry);

// A registry holding the built-in models, built on first use.
const ModelRegistry& default_model_registry();

}  // namespace medkd::models
