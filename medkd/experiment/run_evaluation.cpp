#include "medkd/experiment/run_evaluation.h"

#include <cmath>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/io/image_io.h"
#include "medkd/metrics/evaluation.h"

namespace medkd::experiment {
namespace fs = std::filesystem;

EvaluationSet read_test_set(const std::string& name, const io::Dataset& dataset,
                            const fs::path& images, const fs::path& labels,
                            const fs::path& mapping_file) {
  EvaluationSet set;
  set.name = name;
  set.file_ending = dataset.meta.file_ending;
  MEDKD_CHECK(fs::is_directory(images), "test set '", name, "': no folder ", images.string());
  MEDKD_CHECK(fs::is_directory(labels), "test set '", name, "': no folder ", labels.string());
  const int64_t channels = int64_t(dataset.meta.channel_names.size());
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(images))
    if (io::is_image_file(entry.path())) files.push_back(entry.path());
  for (const auto& c : inference::group_input_cases(files, channels)) {
    const fs::path label = labels / (c.id + set.file_ending);
    MEDKD_CHECK(fs::is_regular_file(label), "test set '", name, "': case ", c.id,
                " has no label file ", label.string());
    set.cases.push_back({c.id, c.channels, label});
  }
  MEDKD_CHECK(!set.cases.empty(), "test set '", name, "': no cases in ", images.string());

  if (mapping_file.empty()) {
    for (int value : dataset.meta.label_values())
      if (value != 0) set.labels.push_back(value);
    return set;
  }
  const nlohmann::json mapping = core::read_json_file(mapping_file);
  MEDKD_CHECK(mapping.contains("labels") && mapping["labels"].is_object() &&
                  mapping.contains("from_dataset_labels") &&
                  mapping["from_dataset_labels"].is_object(),
              mapping_file.string(), ": needs \"labels\" and \"from_dataset_labels\" objects");
  for (const auto& [label_name, value] : mapping["labels"].items()) {
    MEDKD_CHECK(value.is_number_integer() && value.get<int>() >= 0, mapping_file.string(),
                ": label ", label_name, " must have a non-negative integer value");
    if (value.get<int>() > 0) set.labels.push_back(value.get<int>());  // 0: background
  }
  std::sort(set.labels.begin(), set.labels.end());
  for (const auto& [from, to] : mapping["from_dataset_labels"].items()) {
    MEDKD_CHECK(to.is_number_integer(), mapping_file.string(), ": from_dataset_labels.", from,
                " must be an integer");
    set.mapping[std::stoi(from)] = to.get<int>();
  }
  return set;
}

void evaluate_run_on_set(const fs::path& run, const EvaluationSet& set, const fs::path& folder,
                         const inference::PredictionSettings& settings, int threads, bool quiet) {
  inference::PredictOptions predict;
  predict.model = run;
  for (const auto& c : set.cases)
    predict.inputs.insert(predict.inputs.end(), c.images.begin(), c.images.end());
  predict.output = folder;
  predict.settings = settings;
  predict.threads = threads;
  predict.quiet = quiet;
  inference::predict_cases(predict);

  metrics::SegmentationEvaluator evaluator(set.labels, threads);
  for (const auto& c : set.cases) {
    const fs::path prediction = folder / (c.id + set.file_ending);
    io::Image predicted = io::read_image(prediction);
    if (!set.mapping.empty()) {
      // Labels the mapping does not list become background.
      torch::Tensor mapped = torch::zeros_like(predicted.data);
      for (const auto& [from, to] : set.mapping) mapped.masked_fill_(predicted.data == from, to);
      predicted.data = mapped;
    }
    evaluator.update(predicted, io::read_image(*c.label), prediction.string(), c.label->string());
  }
  core::write_text_file(folder / "summary.json",
                        metrics::summary_to_json(evaluator.compute()).dump(2) + "\n");
}

std::vector<CaseMetric> read_case_metrics(const fs::path& summary, const std::string& run, int fold,
                                          const std::string& set, const std::string& file_ending) {
  const nlohmann::json json = core::read_json_file(summary);
  MEDKD_CHECK(json.contains("metric_per_case") && json["metric_per_case"].is_array(),
              summary.string(), ": no metric_per_case");
  const auto number = [](const nlohmann::json& v, const char* key) {
    return v.contains(key) && v[key].is_number() ? v[key].get<double>() : NAN;
  };
  std::vector<CaseMetric> out;
  for (const auto& c : json["metric_per_case"]) {
    std::string id = fs::path(c.at("reference_file").get<std::string>()).filename().string();
    if (id.size() > file_ending.size() &&
        id.compare(id.size() - file_ending.size(), file_ending.size(), file_ending) == 0)
      id.resize(id.size() - file_ending.size());
    CaseMetric mean{run, fold, set, id, 0, 0, 0, 0, 0};
    double sums[4] = {0, 0, 0, 0};
    int counts[4] = {0, 0, 0, 0};
    for (const auto& [label, values] : c.at("metrics").items()) {
      CaseMetric m{run,
                   fold,
                   set,
                   id,
                   std::stoi(label),
                   number(values, "Dice"),
                   number(values, "IoU"),
                   number(values, "HD95"),
                   number(values, "ASSD")};
      out.push_back(m);
      const double v[4] = {m.dice, m.iou, m.hd95, m.assd};
      for (int k = 0; k < 4; ++k)
        if (std::isfinite(v[k])) {
          sums[k] += v[k];
          ++counts[k];
        }
    }
    double* fields[4] = {&mean.dice, &mean.iou, &mean.hd95, &mean.assd};
    for (int k = 0; k < 4; ++k) *fields[k] = counts[k] ? sums[k] / counts[k] : NAN;
    out.push_back(mean);
  }
  return out;
}

}  // namespace medkd::experiment
