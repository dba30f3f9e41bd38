#include "medkd/io/dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"

namespace medkd::io {
namespace fs = std::filesystem;

std::vector<int> DatasetJson::label_values() const {
  std::vector<int> values;
  for (const auto& [name, value] : labels) values.push_back(value);
  std::sort(values.begin(), values.end());
  return values;
}

std::string DatasetJson::label_name(int value) const {
  for (const auto& [name, v] : labels)
    if (v == value) return name;
  return "";
}

namespace {

bool is_integer_text(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

int as_int(const YAML::Node& node, const std::string& file, const std::string& key) {
  try {
    const std::string text = node.as<std::string>();
    MEDKD_CHECK(is_integer_text(text), "");
    return std::stoi(text);
  } catch (...) {
    throw Error(str(file, ": \"", key, "\" must be a non-negative integer"));
  }
}

}  // namespace

DatasetJson read_dataset_json(const fs::path& path) {
  const std::string file = path.string();
  const std::string text = core::read_text_file(path);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(str(file, ": not valid JSON (line ", e.mark.line + 1, ": ", e.msg, ")"));
  }
  MEDKD_CHECK(root.IsMap(), file, ": expected a JSON object");
  DatasetJson meta;

  // channel_names (nnU-Net v2) or modality (v1): {"0": "CT", "1": "PET"}.
  YAML::Node channels = root["channel_names"] ? root["channel_names"] : root["modality"];
  MEDKD_CHECK(channels && channels.IsMap() && channels.size() > 0, file,
              ": missing \"channel_names\" (an object such as {\"0\": \"CT\", \"1\": \"PET\"})");
  std::map<int, std::string> by_index;
  for (const auto& entry : channels) {
    const std::string key = entry.first.as<std::string>();
    MEDKD_CHECK(is_integer_text(key), file, ": channel_names key \"", key,
                "\" is not a channel index");
    by_index[std::stoi(key)] = entry.second.as<std::string>();
  }
  for (int c = 0; c < int(by_index.size()); ++c) {
    MEDKD_CHECK(by_index.count(c), file, ": channel_names must number channels 0..",
                by_index.size() - 1, " without gaps (channel ", c, " missing)");
    meta.channel_names.push_back(by_index[c]);
  }

  // labels: v2 {"background": 0, "tumour": 1}; v1 {"0": "background", "1": "tumour"}.
  YAML::Node labels = root["labels"];
  MEDKD_CHECK(labels && labels.IsMap() && labels.size() > 0, file,
              ": missing \"labels\" (an object such as {\"background\": 0, \"tumour\": 1})");
  for (const auto& entry : labels) {
    const std::string key = entry.first.as<std::string>();
    MEDKD_CHECK(entry.second.IsScalar(), file, ": label \"", key,
                "\" must map to one integer (region-based labels are not supported)");
    const std::string value = entry.second.as<std::string>();
    if (is_integer_text(value)) {
      meta.labels.emplace_back(key, std::stoi(value));
    } else {
      MEDKD_CHECK(is_integer_text(key), file, ": label \"", key, "\" has value \"", value,
                  "\"; expected an integer");
      meta.labels.emplace_back(value, std::stoi(key));
    }
  }
  std::set<int> seen;
  for (const auto& [name, value] : meta.labels)
    MEDKD_CHECK(seen.insert(value).second, file, ": label value ", value, " is declared twice");
  std::sort(meta.labels.begin(), meta.labels.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });

  MEDKD_CHECK(root["numTraining"], file, ": missing \"numTraining\"");
  meta.num_training = as_int(root["numTraining"], file, "numTraining");
  if (root["file_ending"]) {
    meta.file_ending = root["file_ending"].as<std::string>();
    MEDKD_CHECK(!meta.file_ending.empty() && meta.file_ending[0] == '.', file,
                ": \"file_ending\" must start with a dot, got \"", meta.file_ending, "\"");
  }
  if (root["name"]) meta.name = root["name"].as<std::string>();
  if (root["description"]) meta.description = root["description"].as<std::string>();
  return meta;
}

std::string dataset_json_text(const DatasetJson& meta) {
  nlohmann::ordered_json json;
  if (!meta.name.empty()) json["name"] = meta.name;
  if (!meta.description.empty()) json["description"] = meta.description;
  nlohmann::ordered_json channels = nlohmann::ordered_json::object();
  for (size_t c = 0; c < meta.channel_names.size(); ++c)
    channels[std::to_string(c)] = meta.channel_names[c];
  json["channel_names"] = channels;
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& [name, value] : meta.labels) labels[name] = value;
  json["labels"] = labels;
  json["numTraining"] = meta.num_training;
  json["file_ending"] = meta.file_ending;
  return json.dump(4) + "\n";
}

void write_dataset_json(const DatasetJson& meta, const fs::path& path) {
  core::write_text_file(path, dataset_json_text(meta));
}

std::string channel_file_name(const std::string& case_id, int channel, const std::string& ending) {
  std::ostringstream name;
  name << case_id << '_' << std::setw(4) << std::setfill('0') << channel << ending;
  return name.str();
}

namespace {

// Case ids found in an images folder: names "{case}_{XXXX}{ending}".
std::vector<std::string> case_ids_in(const fs::path& folder, const std::string& ending) {
  std::set<std::string> ids;
  if (!fs::is_directory(folder)) return {};
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= ending.size() + 5 ||
        name.compare(name.size() - ending.size(), ending.size(), ending) != 0)
      continue;
    const std::string stem = name.substr(0, name.size() - ending.size());
    const std::string suffix = stem.substr(stem.size() - 5);
    if (suffix[0] == '_' && is_integer_text(suffix.substr(1)))
      ids.insert(stem.substr(0, stem.size() - 5));
  }
  return {ids.begin(), ids.end()};
}

std::vector<CaseFiles> collect_cases(const fs::path& images, const fs::path& labels,
                                     const DatasetJson& meta, bool labels_required) {
  std::vector<CaseFiles> cases;
  for (const std::string& id : case_ids_in(images, meta.file_ending)) {
    CaseFiles c;
    c.id = id;
    for (int ch = 0; ch < int(meta.channel_names.size()); ++ch) {
      const fs::path file = images / channel_file_name(id, ch, meta.file_ending);
      MEDKD_CHECK(fs::exists(file), file.string(), ": missing channel ", ch, " (",
                  meta.channel_names[ch], ") of case ", id);
      c.images.push_back(file);
    }
    const fs::path label = labels.empty() ? fs::path() : labels / (id + meta.file_ending);
    if (!label.empty() && fs::exists(label)) c.label = label;
    MEDKD_CHECK(c.label || !labels_required, label.string(), ": missing label of case ", id);
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

std::vector<CaseFiles> list_image_cases(const fs::path& folder, const DatasetJson& meta) {
  MEDKD_CHECK(fs::is_directory(folder), folder.string(), " is not a folder of images");
  return collect_cases(folder, {}, meta, false);
}

Dataset open_dataset(const fs::path& root) {
  MEDKD_CHECK(fs::is_directory(root), "dataset ", root.string(), " is not a folder");
  Dataset dataset;
  dataset.root = root;
  dataset.meta = read_dataset_json(root / "dataset.json");
  dataset.training = collect_cases(root / "imagesTr", root / "labelsTr", dataset.meta, true);
  dataset.test = collect_cases(root / "imagesTs", root / "labelsTs", dataset.meta, false);
  dataset.unlabelled = collect_cases(root / "imagesUl", {}, dataset.meta, false);
  MEDKD_CHECK(!dataset.training.empty(), (root / "imagesTr").string(),
              ": no training cases named {case}_0000", dataset.meta.file_ending);
  return dataset;
}

}  // namespace medkd::io
