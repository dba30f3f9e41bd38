// The interface every segmentation network of the zoo implements, with named feature taps.
//
// LibTorch has no forward hooks, so a model names its intermediate tensors itself by calling
// tap("enc.2", x) in forward(); tap() costs one branch unless forward_with_taps() is recording
// and the name was asked for. Tap names are the same across the zoo (DESIGN.md §4), so that a
// distillation config written for one architecture works for another:
//
//   enc.0 … enc.K   encoder stage outputs, finest first
//   bottleneck      the deepest encoder output (alias of enc.K unless the model declares it)
//   dec.0 … dec.M   decoder stage outputs, coarsest first
//   dec.last        the finest decoder output before the head (alias of dec.M unless declared)
//   logits          the output [N, K, *spatial]
//   ds.1 … ds.D     deep-supervision heads [N, K, *spatial / stride], ds.1 the finest
//
// A negative index counts from the deepest: enc.-1 = enc.K, enc.-2 = enc.(K-1), dec.-1 = dec.M.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

namespace medkd::models {

// A tap as declared before any forward pass. `stride` is the downsampling relative to the
// input, the same on every axis; a model that pools some axes less (anisotropic 3-D U-Nets do not
// pool z early) also fills `axis_strides`, one per spatial axis in tensor order ([Z, Y, X]), and
// sets `stride` to their maximum.
struct TapSpec {
  std::string name;
  int64_t channels = 0;
  int64_t stride = 1;
  std::vector<int64_t> axis_strides = {};

  // The stride of each spatial axis, in tensor order.
  std::vector<int64_t> strides(int spatial_dims) const;
};

using Taps = std::map<std::string, torch::Tensor>;
using TapSet = std::set<std::string>;

// Base class of the zoo. forward() maps [N, in_channels, *spatial] to logits
// [N, num_classes, *spatial]. Recording taps keeps per-call state on the module, so one module
// must not run forward_with_taps() from two threads at once (plain forward() may).
class SegmentationModelImpl : public torch::nn::Module {
 public:
  ~SegmentationModelImpl() override = default;

  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // Every tap the model produces, known before any forward pass; names as in the table above.
  virtual std::vector<TapSpec> tap_specs() const = 0;
  // The registry name of the architecture ("unet").
  virtual std::string name() const = 0;

  // Runs forward() and stores in `out` the taps named in `wanted`, keyed by the name as asked
  // ("bottleneck", "enc.-2" and "enc.4" are three keys even if they are one tensor). An unknown
  // name is a medkd::Error listing the model's taps. Recorded tensors keep their autograd graph.
  torch::Tensor forward_with_taps(torch::Tensor x, Taps& out, const TapSet& wanted);

  // The logits followed by every deep-supervision head, finest first: {logits, ds.1, ds.2, ...}
  // ({logits} for a model without heads). What a DeepSupervisionLoss takes.
  std::vector<torch::Tensor> forward_with_deep_supervision(torch::Tensor x);

  // The tap that `name` refers to (aliases and negative indices resolved), or a medkd::Error
  // listing the valid names.
  TapSpec resolve_tap(const std::string& name) const;
  // Names of the declared taps, in declaration order.
  std::vector<std::string> tap_names() const;

  int spatial_dims() const { return spatial_dims_; }
  int64_t in_channels() const { return in_channels_; }
  int64_t num_classes() const { return num_classes_; }

 protected:
  // Checks spatial_dims (2 or 3), in_channels and num_classes (>= 1) once for every model.
  SegmentationModelImpl(int spatial_dims, int64_t in_channels, int64_t num_classes);

  // Records `t` under `name` if forward_with_taps() is running and asked for it; no-op otherwise.
  void tap(const std::string& name, const torch::Tensor& t);
  // Whether tap(name, ...) would record: lets a model skip work that only feeds a tap
  // (deep-supervision heads).
  bool tap_wanted(const std::string& name) const;
  // Checks that x is [N, in_channels, *spatial] with spatial_dims spatial axes, and that each
  // spatial size is a multiple of `divisor` (per axis, tensor order; empty = no constraint).
  void check_input(const torch::Tensor& x, const std::vector<int64_t>& divisor = {}) const;

 private:
  int spatial_dims_;
  int64_t in_channels_;
  int64_t num_classes_;
  // While recording: declared tap name -> the names it was asked for under, and where to put it.
  bool recording_ = false;
  std::map<std::string, std::vector<std::string>> recording_names_;
  Taps* recording_out_ = nullptr;
};
TORCH_MODULE(SegmentationModel);

// What a model is, as configs and checkpoints store it. `options` holds the architecture's own
// keys (validated by its factory; an unknown key is an error).
struct ModelConfig {
  std::string name;
  int spatial_dims = 3;
  int64_t in_channels = 1;
  int64_t num_classes = 2;
  YAML::Node options = YAML::Node(YAML::NodeType::Map);

  // YAML::Node has reference semantics (assigning to a copy rewrites the original), so copies of
  // a config clone their options: changing one config never changes another.
  ModelConfig() = default;
  ModelConfig(const ModelConfig& other);
  ModelConfig& operator=(const ModelConfig& other);
  ModelConfig(ModelConfig&&) = default;
  ModelConfig& operator=(ModelConfig&&) = default;
};

// {"name": ..., "spatial_dims": ..., "in_channels": ..., "num_classes": ..., "options": {...}}.
// Option scalars become JSON numbers or booleans where they read as such.
nlohmann::json model_config_to_json(const ModelConfig& config);
// The inverse; a missing or mistyped field is a medkd::Error naming it.
ModelConfig model_config_from_json(const nlohmann::json& json);
// From a YAML map {model: unet, spatial_dims: 3, in_channels: 2, num_classes: 3, options: {...}}
// ("name" is accepted for "model"). Unknown keys are an error listing the valid ones.
ModelConfig model_config_from_yaml(const YAML::Node& node);

}  // namespace medkd::models
