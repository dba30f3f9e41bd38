// `medkd evaluate`: compares predicted label maps with references; writes summary.json and CSV.
#include <iostream>
#include <sstream>

#include "commands.h"
#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/metrics/evaluation.h"

namespace medkd::cli {
namespace fs = std::filesystem;

namespace {

std::vector<int> parse_labels(const std::string& text) {
  std::vector<int> labels;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const int value = std::stoi(item, &used);
      MEDKD_CHECK(used == item.size() && value > 0, "");
      labels.push_back(value);
    } catch (...) {
      throw Error(
          str("--labels must be a comma-separated list of positive integers, got \"", text, "\""));
    }
  }
  return labels;
}

}  // namespace

void add_evaluate_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand(
      "evaluate", "Score predicted label maps against references (summary.json and CSV)");
  cmd->footer(
      "Files are paired by name. Per case and label: Dice, IoU, RVD, HD95 and ASSD in mm (exact "
      "Euclidean distances with the voxel spacing), TP, FP, FN, TN, n_pred, n_ref; means per label "
      "and over the foreground labels, in nnU-Net's summary.json schema. Definitions and the "
      "empty-mask rules: docs/metrics.md.");
  struct Options {
    std::string pred, ref, dataset_json, labels, out, csv;
    double tolerance = 1e-4;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--pred", o->pred, "Folder of predicted label maps")->required();
  cmd->add_option("--ref", o->ref, "Folder of reference label maps (e.g. labelsTs/)")->required();
  cmd->add_option("--dataset-json", o->dataset_json,
                  "dataset.json giving the labels to evaluate, their names and the file ending");
  cmd->add_option("--labels", o->labels,
                  "Comma-separated label values to evaluate (default: dataset.json's foreground "
                  "labels, else every value present)");
  cmd->add_option("--out", o->out, "summary.json to write")->required();
  cmd->add_option("--csv", o->csv, "CSV to write (default: --out with the ending .csv)");
  cmd->add_option("--tolerance", o->tolerance, "Relative tolerance when comparing geometry")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([o, &global] {
    metrics::EvaluateFoldersOptions options;
    options.pred_dir = o->pred;
    options.ref_dir = o->ref;
    options.dataset_json = o->dataset_json;
    if (!o->labels.empty()) options.labels = parse_labels(o->labels);
    options.tolerance = o->tolerance;
    options.threads = global.threads;
    options.quiet = global.quiet;
    if (!o->dataset_json.empty())
      MEDKD_CHECK(fs::is_regular_file(o->dataset_json), "--dataset-json ", o->dataset_json,
                  ": no such file");
    const metrics::FolderEvaluation result = metrics::evaluate_folders(options);
    for (const std::string& name : result.ignored_predictions)
      std::cerr << "medkd: note: prediction " << name
                << " has no reference and was not evaluated\n";
    const fs::path out = o->out;
    const fs::path csv =
        o->csv.empty() ? fs::path(out).replace_extension(".csv") : fs::path(o->csv);
    core::write_text_file(out, metrics::summary_to_json(result.summary).dump(4) + "\n");
    core::write_text_file(csv, metrics::summary_to_csv(result.summary));
    std::cout << metrics::summary_table(result.summary, result.label_names);
    std::cout << "wrote " << out.string() << " and " << csv.string() << '\n';
  });
}

}  // namespace medkd::cli
