// Cross-validation splits by case id, as nnU-Net makes them: the sorted case ids are shuffled
// with a seed and dealt into k folds; fold i validates on its cases and trains on the rest.
// Saved as splits.json ([{"train": [...], "val": [...]}, ...], nnU-Net's layout) so that every
// model of a study sees the same folds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace medkd::train {

struct Fold {
  std::vector<std::string> train;
  std::vector<std::string> val;
};

// The seed of every run's splits, so that the teachers and students of a study share folds.
constexpr uint64_t kSplitSeed = 12345;

// k folds (k ≥ 2, at most the number of cases) over `case_ids`, deterministic from `seed`.
std::vector<Fold> make_splits(std::vector<std::string> case_ids, int folds = 5,
                              uint64_t seed = kSplitSeed);

// Fold `fold` of `splits`; a medkd::Error naming --fold when it is out of range.
const Fold& select_fold(const std::vector<Fold>& splits, int fold);

void save_splits(const std::vector<Fold>& splits, const std::filesystem::path& path);
std::vector<Fold> load_splits(const std::filesystem::path& path);

// The splits stored at `path` if it exists and covers exactly `case_ids`, else new ones written
// there. A stored file over other cases is an error: the dataset changed under the study.
std::vector<Fold> load_or_create_splits(const std::filesystem::path& path,
                                        const std::vector<std::string>& case_ids, int folds,
                                        uint64_t seed);

}  // namespace medkd::train
