#include "medkd/models/model_options.h"

#include <algorithm>
#include <utility>

#include "medkd/core/error.h"

namespace medkd::models {

ModelOptionReader::ModelOptionReader(std::string model, const YAML::Node& options,
                                     const std::vector<std::string>& valid_keys)
    : model_(std::move(model)), options_(options), present_(options && !options.IsNull()) {
  if (!present_) return;
  MEDKD_CHECK(options_.IsMap(), model_, " options must be a map, got '", YAML::Dump(options_), "'");
  for (const auto& item : options_) {
    const auto key = item.first.as<std::string>();
    MEDKD_CHECK(std::find(valid_keys.begin(), valid_keys.end(), key) != valid_keys.end(),
                "unknown ", model_, " option '", key, "' (valid: ", join_names(valid_keys), ")");
  }
}

bool ModelOptionReader::has(const std::string& key) const {
  return present_ && static_cast<bool>(options_[key]);
}

std::vector<int64_t> ModelOptionReader::get_integer_or_list(
    const std::string& key, const std::string& expected_list,
    const std::string& expected_integer) const {
  if (options_[key].IsSequence()) return get<std::vector<int64_t>>(key, expected_list);
  return {get<int64_t>(key, expected_integer)};
}

void ModelOptionReader::throw_wrong_type(const std::string& key,
                                         const std::string& expected) const {
  throw Error(str(model_, " option '", key, "' must be ", expected, ", got '",
                  YAML::Dump(options_[key]), "'"));
}

}  // namespace medkd::models
