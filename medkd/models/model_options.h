// Reads one model's `options:` map from YAML, so that every model checks it the same way and
// words its errors the same way: "unknown unet option 'k' (valid: a, b)" for a key it does not
// know, "unet option 'k' must be an integer, got 'x'" for a value of the wrong type.
//
//   ModelOptionReader reader("resnet_unet", config.options, resnet_unet_option_keys());
//   if (reader.has("depth")) options.depth(reader.get<int64_t>("depth", "18 or 34"));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace medkd::models {

class ModelOptionReader {
 public:
  // An absent or null `options` reads as an empty map; anything but a map, or a key not in
  // `valid_keys`, throws medkd::Error naming `model`.
  ModelOptionReader(std::string model, const YAML::Node& options,
                    const std::vector<std::string>& valid_keys);

  bool has(const std::string& key) const;

  // The value under `key` (which must be present) as a T; `expected` says in words what T is
  // ("an integer", "true or false") for the error when it is not.
  template <typename T>
  T get(const std::string& key, const std::string& expected) const {
    try {
      return options_[key].as<T>();
    } catch (const YAML::Exception&) {
      throw_wrong_type(key, expected);
    }
  }

  // A size given once for every axis (`8`, read as {8}) or once per axis (`[8, 16, 16]`). The two
  // `expected` texts word the error for a bad list and a bad single value.
  std::vector<int64_t> get_integer_or_list(const std::string& key, const std::string& expected_list,
                                           const std::string& expected_integer) const;

 private:
  [[noreturn]] void throw_wrong_type(const std::string& key, const std::string& expected) const;

  std::string model_;
  YAML::Node options_;
  bool present_;
};

}  // namespace medkd::models
