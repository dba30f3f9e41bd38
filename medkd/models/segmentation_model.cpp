#include "medkd/models/segmentation_model.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "medkd/core/error.h"

namespace medkd::models {
namespace {

// "enc.-2" -> ("enc", -2); nullopt if the part after the last dot is not an integer.
std::optional<std::pair<std::string, int64_t>> split_indexed(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot + 1 == name.size()) return std::nullopt;
  const std::string index = name.substr(dot + 1);
  char* end = nullptr;
  const long long value = std::strtoll(index.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return std::make_pair(name.substr(0, dot), static_cast<int64_t>(value));
}

std::string join(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

// Clears the recording state however forward() ends.
class RecordingGuard {
 public:
  RecordingGuard(bool& recording, std::map<std::string, std::vector<std::string>>& names,
                 Taps*& out)
      : recording_(recording), names_(names), out_(out) {}
  ~RecordingGuard() {
    recording_ = false;
    names_.clear();
    out_ = nullptr;
  }

 private:
  bool& recording_;
  std::map<std::string, std::vector<std::string>>& names_;
  Taps*& out_;
};

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& item : node)
        object[item.first.as<std::string>()] = yaml_to_json(item.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(yaml_to_json(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string text = node.Scalar();
      if (node.Tag() != "!") {  // "!" marks a quoted scalar, which stays a string
        if (text == "true" || text == "false") return text == "true";
        char* end = nullptr;
        const long long integer = std::strtoll(text.c_str(), &end, 10);
        if (!text.empty() && *end == '\0') return static_cast<int64_t>(integer);
        const double real = std::strtod(text.c_str(), &end);
        if (!text.empty() && *end == '\0') return real;
      }
      return text;
    }
    default:
      return nullptr;
  }
}

YAML::Node json_to_yaml(const nlohmann::json& json) {
  if (json.is_object()) {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& [key, value] : json.items()) map[key] = json_to_yaml(value);
    return map;
  }
  if (json.is_array()) {
    YAML::Node sequence(YAML::NodeType::Sequence);
    for (const auto& value : json) sequence.push_back(json_to_yaml(value));
    return sequence;
  }
  if (json.is_null()) return YAML::Node(YAML::NodeType::Null);
  if (json.is_string()) {
    // Tagged as quoted, so that "12" stays a string on the way back to JSON.
    YAML::Node text(json.get<std::string>());
    text.SetTag("!");
    return text;
  }
  return YAML::Node(json.dump());  // numbers and booleans: their JSON text reads back in YAML
}

template <typename T>
T json_field(const nlohmann::json& json, const std::string& key) {
  MEDKD_CHECK(json.is_object() && json.contains(key), "model config: missing field '", key, "'");
  try {
    return json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(str("model config: field '", key, "' has the wrong type: ", json.at(key).dump()));
  }
}

}  // namespace

ModelConfig::ModelConfig(const ModelConfig& other)
    : name(other.name),
      spatial_dims(other.spatial_dims),
      in_channels(other.in_channels),
      num_classes(other.num_classes),
      options(YAML::Clone(other.options)) {}

ModelConfig& ModelConfig::operator=(const ModelConfig& other) {
  if (this == &other) return *this;
  name = other.name;
  spatial_dims = other.spatial_dims;
  in_channels = other.in_channels;
  num_classes = other.num_classes;
  options.reset(YAML::Clone(other.options));  // rebinds; `options = …` would write through
  return *this;
}

std::vector<int64_t> TapSpec::strides(int spatial_dims) const {
  if (!axis_strides.empty()) return axis_strides;
  return std::vector<int64_t>(spatial_dims, stride);
}

SegmentationModelImpl::SegmentationModelImpl(int spatial_dims, int64_t in_channels,
                                             int64_t num_classes)
    : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {
  MEDKD_CHECK(spatial_dims == 2 || spatial_dims == 3, "spatial_dims must be 2 or 3, got ",
              spatial_dims);
  MEDKD_CHECK(in_channels >= 1, "in_channels must be >= 1, got ", in_channels);
  MEDKD_CHECK(num_classes >= 1, "num_classes must be >= 1, got ", num_classes);
}

std::vector<std::string> SegmentationModelImpl::tap_names() const {
  std::vector<std::string> names;
  for (const auto& spec : tap_specs()) names.push_back(spec.name);
  return names;
}

TapSpec SegmentationModelImpl::resolve_tap(const std::string& name) const {
  const auto specs = tap_specs();
  const auto find = [&](const std::string& wanted) -> const TapSpec* {
    for (const auto& spec : specs)
      if (spec.name == wanted) return &spec;
    return nullptr;
  };
  if (const TapSpec* spec = find(name)) return *spec;

  std::string indexed = name;
  if (name == "bottleneck") indexed = "enc.-1";
  if (name == "dec.last") indexed = "dec.-1";
  if (const auto parts = split_indexed(indexed); parts && parts->second < 0) {
    int64_t deepest = -1;
    for (const auto& spec : specs) {
      const auto other = split_indexed(spec.name);
      if (other && other->first == parts->first) deepest = std::max(deepest, other->second);
    }
    if (const TapSpec* spec = find(str(parts->first, ".", deepest + 1 + parts->second)))
      return *spec;
  }
  throw Error(str("unknown tap '", name, "' for model ", this->name(),
                  " (valid: ", join(tap_names()),
                  "; also bottleneck, dec.last and negative indices such as enc.-1)"));
}

torch::Tensor SegmentationModelImpl::forward_with_taps(torch::Tensor x, Taps& out,
                                                       const TapSet& wanted) {
  MEDKD_CHECK(!recording_, "forward_with_taps() of model ", name(),
              " called while it is already recording (one module, two threads?)");
  RecordingGuard guard(recording_, recording_names_, recording_out_);
  for (const auto& asked : wanted) recording_names_[resolve_tap(asked).name].push_back(asked);
  recording_out_ = &out;
  recording_ = true;
  for (const auto& asked : wanted) out.erase(asked);

  torch::Tensor logits = forward(std::move(x));

  // Models need not tap their own return value.
  if (auto it = recording_names_.find("logits"); it != recording_names_.end())
    for (const auto& asked : it->second)
      if (!out.count(asked)) out[asked] = logits;
  for (const auto& asked : wanted)
    MEDKD_CHECK(out.count(asked), "model ", name(), " declares tap '", resolve_tap(asked).name,
                "' but its forward() did not produce it");
  return logits;
}

std::vector<torch::Tensor> SegmentationModelImpl::forward_with_deep_supervision(torch::Tensor x) {
  std::vector<std::pair<int64_t, std::string>> heads;  // (index, name)
  for (const auto& spec : tap_specs()) {
    const auto parts = split_indexed(spec.name);
    if (parts && parts->first == "ds") heads.emplace_back(parts->second, spec.name);
  }
  std::sort(heads.begin(), heads.end());
  TapSet wanted;
  for (const auto& head : heads) wanted.insert(head.second);
  Taps taps;
  std::vector<torch::Tensor> outputs{forward_with_taps(std::move(x), taps, wanted)};
  for (const auto& head : heads) outputs.push_back(taps.at(head.second));
  return outputs;
}

void SegmentationModelImpl::tap(const std::string& name, const torch::Tensor& t) {
  if (!recording_) return;
  const auto it = recording_names_.find(name);
  if (it == recording_names_.end()) return;
  for (const auto& asked : it->second) (*recording_out_)[asked] = t;
}

bool SegmentationModelImpl::tap_wanted(const std::string& name) const {
  return recording_ && recording_names_.count(name) > 0;
}

void SegmentationModelImpl::check_input(const torch::Tensor& x,
                                        const std::vector<int64_t>& divisor) const {
  MEDKD_CHECK(x.dim() == spatial_dims_ + 2, "model ", name(), " (", spatial_dims_,
              "-D) expects input [N, C, ", spatial_dims_ == 3 ? "Z, Y, X" : "Y, X", "], got ",
              x.sizes());
  MEDKD_CHECK(x.size(1) == in_channels_, "model ", name(), " expects ", in_channels_,
              " input channel(s), got ", x.size(1), " (input ", x.sizes(), ")");
  for (size_t axis = 0; axis < divisor.size(); ++axis)
    MEDKD_CHECK(x.size(2 + axis) % divisor[axis] == 0, "model ", name(),
                " needs spatial sizes divisible by ", c10::IntArrayRef(divisor), ", got input ",
                x.sizes());
}

nlohmann::json model_config_to_json(const ModelConfig& config) {
  nlohmann::json options = yaml_to_json(config.options);
  if (options.is_null()) options = nlohmann::json::object();
  return {{"name", config.name},
          {"spatial_dims", config.spatial_dims},
          {"in_channels", config.in_channels},
          {"num_classes", config.num_classes},
          {"options", options}};
}

ModelConfig model_config_from_json(const nlohmann::json& json) {
  ModelConfig config;
  config.name = json_field<std::string>(json, "name");
  config.spatial_dims = json_field<int>(json, "spatial_dims");
  config.in_channels = json_field<int64_t>(json, "in_channels");
  config.num_classes = json_field<int64_t>(json, "num_classes");
  if (json.contains("options")) {
    MEDKD_CHECK(json["options"].is_object(), "model config: 'options' must be an object, got ",
                json["options"].dump());
    config.options.reset(json_to_yaml(json["options"]));
  }
  return config;
}

ModelConfig model_config_from_yaml(const YAML::Node& node) {
  MEDKD_CHECK(node.IsMap(), "model config must be a map with a 'model' key");
  static const std::vector<std::string> kKeys = {"model",       "name",        "spatial_dims",
                                                 "in_channels", "num_classes", "options"};
  for (const auto& item : node) {
    const auto key = item.first.as<std::string>();
    MEDKD_CHECK(std::find(kKeys.begin(), kKeys.end(), key) != kKeys.end(),
                "model config: unknown key '", key, "' (valid: ", join(kKeys), ")");
  }
  ModelConfig config;
  const YAML::Node name = node["model"] ? node["model"] : node["name"];
  MEDKD_CHECK(name && name.IsScalar(), "model config: missing 'model' (the architecture name)");
  config.name = name.as<std::string>();
  try {
    if (node["spatial_dims"]) config.spatial_dims = node["spatial_dims"].as<int>();
    if (node["in_channels"]) config.in_channels = node["in_channels"].as<int64_t>();
    if (node["num_classes"]) config.num_classes = node["num_classes"].as<int64_t>();
  } catch (const YAML::Exception& e) {
    throw Error(str("model config: spatial_dims, in_channels and num_classes must be integers (",
                    e.what(), ")"));
  }
  if (node["options"]) {
    MEDKD_CHECK(node["options"].IsMap() || node["options"].IsNull(),
                "model config: 'options' must be a map");
    if (node["options"].IsMap()) config.options.reset(YAML::Clone(node["options"]));
  }
  return config;
}

}  // namespace medkd::models
