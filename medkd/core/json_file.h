// Reading JSON files with errors that name the file (plans, fingerprints, splits).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace medkd::core {

// Parses a JSON file; medkd::Error "FILE: not valid JSON (...)" or "cannot read FILE" otherwise.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace medkd::core
