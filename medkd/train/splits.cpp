#include "medkd/train/splits.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/core/rng.h"

namespace medkd::train {

std::vector<Fold> make_splits(std::vector<std::string> case_ids, int folds, uint64_t seed) {
  MEDKD_CHECK(folds >= 2, "folds must be at least 2, got ", folds);
  MEDKD_CHECK(int64_t(case_ids.size()) >= folds, "cannot make ", folds, " folds from ",
              case_ids.size(), " case(s)");
  std::sort(case_ids.begin(), case_ids.end());
  core::Rng rng(seed);
  std::shuffle(case_ids.begin(), case_ids.end(), rng.engine());
  std::vector<Fold> splits(folds);
  for (size_t i = 0; i < case_ids.size(); ++i) {
    const size_t fold = i % size_t(folds);
    for (size_t f = 0; f < size_t(folds); ++f)
      (f == fold ? splits[f].val : splits[f].train).push_back(case_ids[i]);
  }
  for (Fold& f : splits) {
    std::sort(f.train.begin(), f.train.end());
    std::sort(f.val.begin(), f.val.end());
  }
  return splits;
}

void save_splits(const std::vector<Fold>& splits, const std::filesystem::path& path) {
  nlohmann::ordered_json json = nlohmann::ordered_json::array();
  for (const Fold& f : splits) json.push_back({{"train", f.train}, {"val", f.val}});
  core::write_text_file(path, json.dump(4) + "\n");
}

std::vector<Fold> load_splits(const std::filesystem::path& path) {
  const nlohmann::json json = core::read_json_file(path);
  MEDKD_CHECK(json.is_array() && !json.empty(), path.string(), ": expected a list of folds");
  std::vector<Fold> splits;
  for (const auto& entry : json) {
    MEDKD_CHECK(entry.is_object() && entry.contains("train") && entry.contains("val"),
                path.string(), ": every fold needs \"train\" and \"val\" lists");
    splits.push_back({entry["train"].get<std::vector<std::string>>(),
                      entry["val"].get<std::vector<std::string>>()});
  }
  return splits;
}

std::vector<Fold> load_or_create_splits(const std::filesystem::path& path,
                                        const std::vector<std::string>& case_ids, int folds,
                                        uint64_t seed) {
  if (std::filesystem::exists(path)) {
    std::vector<Fold> splits = load_splits(path);
    std::set<std::string> stored(splits[0].train.begin(), splits[0].train.end());
    stored.insert(splits[0].val.begin(), splits[0].val.end());
    MEDKD_CHECK(stored == std::set<std::string>(case_ids.begin(), case_ids.end()), path.string(),
                ": the stored splits cover other cases than the dataset (", stored.size(), " vs ",
                case_ids.size(), "); remove the file to make new splits");
    return splits;
  }
  std::vector<Fold> splits = make_splits(case_ids, folds, seed);
  save_splits(splits, path);
  return splits;
}

const Fold& select_fold(const std::vector<Fold>& splits, int fold) {
  MEDKD_CHECK(fold >= 0 && fold < int(splits.size()), "--fold ", fold, " is out of range (0..",
              splits.size() - 1, ")");
  return splits[fold];
}

}  // namespace medkd::train
