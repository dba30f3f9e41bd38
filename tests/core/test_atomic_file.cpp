#include "medkd/core/atomic_file.h"

#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::testing::TempDir;

TEST(AtomicFile, WritesTextAndLeavesNoTemporary) {
  TempDir dir;
  medkd::core::write_text_file(dir / "sub/out.txt", "hello");
  EXPECT_EQ(medkd::core::read_text_file(dir / "sub/out.txt"), "hello");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir / "sub")) files += 1, (void)entry;
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, FailedWriteKeepsTheOldFileAndRemovesTheTemporary) {
  TempDir dir;
  medkd::core::write_text_file(dir / "out.txt", "old");
  EXPECT_THROW(medkd::core::write_atomically(dir / "out.txt",
                                             [](const fs::path& tmp) {
                                               medkd::core::write_text_file(tmp, "partial");
                                               throw medkd::Error("interrupted");
                                             }),
               medkd::Error);
  EXPECT_EQ(medkd::core::read_text_file(dir / "out.txt"), "old");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) files += 1, (void)entry;
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, TemporarySiblingKeepsTheFileEnding) {
  const fs::path tmp = medkd::core::temporary_sibling("a/b/case.nii.gz");
  EXPECT_EQ(tmp.parent_path(), fs::path("a/b"));
  const std::string name = tmp.filename().string();
  EXPECT_EQ(name.substr(name.size() - 12), "-case.nii.gz") << name;
  EXPECT_EQ(name.rfind(".medkd-tmp-", 0), 0u) << name;
}

TEST(AtomicFile, ReadingAMissingFileNamesIt) {
  try {
    medkd::core::read_text_file("/nonexistent/medkd.txt");
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/medkd.txt"), std::string::npos);
  }
}

TEST(AtomicFile, FolderBuildRefusesANonEmptyTargetUnlessOverwriting) {
  TempDir dir;
  auto build = [](const fs::path& tmp) { medkd::core::write_text_file(tmp / "a.txt", "new"); };
  medkd::core::build_folder_atomically(dir / "out", false, build);
  EXPECT_EQ(medkd::core::read_text_file(dir / "out/a.txt"), "new");
  EXPECT_THROW(medkd::core::build_folder_atomically(dir / "out", false, build), medkd::Error);
  medkd::core::write_text_file(dir / "out/stale.txt", "x");
  medkd::core::build_folder_atomically(dir / "out", true, build);
  EXPECT_FALSE(fs::exists(dir / "out/stale.txt"));
}

TEST(AtomicFile, FailedFolderBuildLeavesNothingBehind) {
  TempDir dir;
  EXPECT_THROW(medkd::core::build_folder_atomically(dir / "out", false,
                                                    [](const fs::path& tmp) {
                                                      medkd::core::write_text_file(tmp / "a", "x");
                                                      throw medkd::Error("bad option");
                                                    }),
               medkd::Error);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}
