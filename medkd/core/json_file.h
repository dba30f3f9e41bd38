// Reading JSON files with errors that name the file (plans, fingerprints, splits).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "medkd/core/error.h"

namespace medkd::core {

// Parses a JSON file; medkd::Error "FILE: not valid JSON (...)" or "cannot read FILE" otherwise.
nlohmann::json read_json_file(const std::filesystem::path& path);

// object[key] as T; medkd::Error "WHERE: missing key 'k'" or "...has the wrong type (string)".
template <typename T>
T read_field(const nlohmann::json& object, const std::string& key, const std::string& where) {
  MEDKD_CHECK(object.is_object() && object.contains(key), where, ": missing key '", key, "'");
  try {
    return object.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(
        str(where, ": key '", key, "' has the wrong type (", object.at(key).type_name(), ")"));
  }
}

}  // namespace medkd::core
