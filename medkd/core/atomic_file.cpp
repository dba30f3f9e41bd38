#include "medkd/core/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "medkd/core/error.h"

namespace medkd::core {
namespace fs = std::filesystem;

namespace {
std::string unique_tag() {
  static std::atomic<uint64_t> counter{0};
  return str(getpid(), '-', counter.fetch_add(1));
}

void create_parent(const fs::path& target) {
  const fs::path parent = target.parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  MEDKD_CHECK(!ec, "cannot create folder ", parent.string(), ": ", ec.message());
}
}  // namespace

fs::path temporary_sibling(const fs::path& target) {
  return target.parent_path() / (".medkd-tmp-" + unique_tag() + "-" + target.filename().string());
}

void write_atomically(const fs::path& target, const std::function<void(const fs::path&)>& write) {
  create_parent(target);
  const fs::path tmp = temporary_sibling(target);
  try {
    write(tmp);
    std::error_code ec;
    fs::rename(tmp, target, ec);
    MEDKD_CHECK(!ec, "cannot write ", target.string(), ": ", ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

void write_text_file(const fs::path& target, const std::string& text) {
  write_atomically(target, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    MEDKD_CHECK(out.good(), "cannot open ", target.string(), " for writing");
    out << text;
    out.close();
    MEDKD_CHECK(out.good(), "cannot write ", target.string(), " (disk full?)");
  });
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  MEDKD_CHECK(in.good(), "cannot read ", path.string(),
              fs::exists(path) ? ": permission denied or not a file" : ": no such file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void build_folder_atomically(const fs::path& target, bool overwrite,
                             const std::function<void(const fs::path&)>& build) {
  std::error_code ec;
  if (fs::exists(target)) {
    MEDKD_CHECK(fs::is_directory(target), target.string(), " exists and is not a folder");
    MEDKD_CHECK(overwrite || fs::is_empty(target), target.string(),
                " exists and is not empty (use --overwrite to replace it)");
  }
  create_parent(target);
  const fs::path tmp = temporary_sibling(target);
  try {
    fs::create_directories(tmp);
    build(tmp);
    if (fs::exists(target)) {
      // Move the old folder aside first so that the target is never missing and half-built.
      const fs::path old = temporary_sibling(target);
      fs::rename(target, old);
      fs::rename(tmp, target);
      fs::remove_all(old, ec);
    } else {
      fs::rename(tmp, target);
    }
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace medkd::core
