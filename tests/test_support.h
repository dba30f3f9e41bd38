// Small helpers shared by the unit tests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "medkd/core/error.h"

namespace medkd::testing {

// A fresh folder under the system temp folder, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "medkd-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The message of the medkd::Error that body() throws, or "" if it throws none.
template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const medkd::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace medkd::testing
