#include "medkd/core/json_file.h"

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"

namespace medkd::core {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(str(path.string(), ": not valid JSON (", e.what(), ")"));
  }
}

}  // namespace medkd::core
