// Writing outputs so that an interrupted command never leaves a half-written file or folder:
// everything is written under a temporary name beside the target, then renamed into place.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace medkd::core {

// A temporary path in the same folder as `target` that keeps its file ending (ITK chooses the
// format from the ending): "out/.medkd-tmp-1234-5-case.nii.gz" for "out/case.nii.gz".
std::filesystem::path temporary_sibling(const std::filesystem::path& target);

// Calls write(tmp) with a temporary sibling path, then renames tmp to target. On any exception the
// temporary is removed and the exception propagates; the target is untouched.
void write_atomically(const std::filesystem::path& target,
                      const std::function<void(const std::filesystem::path&)>& write);

// Writes a text file atomically.
void write_text_file(const std::filesystem::path& target, const std::string& text);

// Reads a whole text file; throws medkd::Error naming the file if it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

// Builds a whole output folder atomically: build(tmp_dir) fills a temporary folder beside
// `target`, which then replaces `target`. An existing non-empty `target` is an error unless
// `overwrite` is true.
void build_folder_atomically(const std::filesystem::path& target, bool overwrite,
                             const std::function<void(const std::filesystem::path&)>& build);

}  // namespace medkd::core
