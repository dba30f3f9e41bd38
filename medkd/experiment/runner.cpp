#include "medkd/experiment/runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/json_file.h"
#include "medkd/core/progress.h"
#include "medkd/data/colin27.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/experiment/collect.h"
#include "medkd/experiment/cost_estimate.h"
#include "medkd/experiment/report.h"
#include "medkd/experiment/run_evaluation.h"
#include "medkd/experiment/tables.h"
#include "medkd/train/distill_config.h"
#include "medkd/train/distiller.h"
#include "medkd/train/splits.h"
#include "medkd/train/train_config.h"
#include "medkd/train/trainer.h"

namespace medkd::experiment {
namespace fs = std::filesystem;
namespace {

// FNV-1a, 64 bits, as hex: a stable fingerprint of a run's recipe (std::hash may differ between
// builds, and a stamp must survive a rebuild).
std::string stamp_of(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::ostringstream out;
  out << std::hex << std::setw(16) << std::setfill('0') << h;
  return out.str();
}

// --- the dataset ---------------------------------------------------------------------------

data::synth::SynthOptions synth_options(const YAML::Node& node, const fs::path& out) {
  data::synth::SynthOptions o;
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    MEDKD_CHECK(key == "kind" || key == "preset" || key == "cases" || key == "test_cases" ||
                    key == "unlabelled_cases" || key == "size" || key == "spacing" || key == "seed",
                "dataset.synth: unknown key \"", key,
                "\" (valid: cases, kind, preset, seed, size, spacing, test_cases, "
                "unlabelled_cases)");
  }
  MEDKD_CHECK(node["kind"], "dataset.synth needs a kind (petct or mri)");
  o.kind = node["kind"].as<std::string>();
  if (node["preset"]) o.preset = node["preset"].as<std::string>();
  if (node["cases"]) o.cases = node["cases"].as<int64_t>();
  if (node["test_cases"]) o.test_cases = node["test_cases"].as<int64_t>();
  if (node["unlabelled_cases"]) o.unlabelled_cases = node["unlabelled_cases"].as<int64_t>();
  if (node["size"]) {
    const auto v = node["size"].as<std::vector<int64_t>>();
    MEDKD_CHECK(v.size() == 3, "dataset.synth.size must be [x, y, z]");
    o.size = std::array<int64_t, 3>{v[0], v[1], v[2]};
  }
  if (node["spacing"]) {
    const auto v = node["spacing"].as<std::vector<double>>();
    MEDKD_CHECK(v.size() == 3, "dataset.synth.spacing must be [x, y, z]");
    o.spacing = std::array<double, 3>{v[0], v[1], v[2]};
  }
  if (node["seed"]) o.seed = node["seed"].as<uint64_t>();
  o.out = out;
  return o;
}

data::Colin27Options colin27_options(const YAML::Node& node, const fs::path& out) {
  data::Colin27Options o;
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (key == "labels")
      o.labels = entry.second.as<std::string>();
    else if (key == "split")
      o.split = entry.second.as<std::string>();
    else if (key == "block_slices")
      o.block_slices = entry.second.as<int64_t>();
    else if (key == "gap")
      o.gap = entry.second.as<int64_t>();
    else if (key == "templates")
      o.templates = entry.second.as<std::string>();
    else if (key == "second_subject")
      o.second_subject = entry.second.as<std::string>();
    else
      throw Error(str("dataset.colin27: unknown key \"", key,
                      "\" (valid: block_slices, gap, labels, second_subject, split, templates)"));
  }
  o.out = out;
  o.overwrite = true;  // a folder without dataset.json is an unfinished attempt
  return o;
}

struct PreparedDataset {
  fs::path root;
  io::DatasetJson meta;
  bool exists = false;  // false only in a dry run before the data is made
};

// The study's dataset: a folder given by path, or one generated into OUT/data once. A generated
// folder remembers its options (OUT/data/NAME.yaml, written first: the folder itself appears
// atomically, so an interrupted generation leaves the options and no folder, and is redone);
// other options with the same output folder are an error rather than a silent mix of two
// datasets.
PreparedDataset prepare_dataset(const StudyConfig& study, const fs::path& out, bool dry_run,
                                bool quiet) {
  PreparedDataset d;
  if (study.dataset.kind == "path") {
    d.root = study.dataset.path;
    d.meta = io::open_dataset(d.root).meta;
    d.exists = true;
    return d;
  }
  const std::string name = study.dataset.kind == "synth"
                               ? "synth_" + study.dataset.options["kind"].as<std::string>("")
                               : study.dataset.kind;
  d.root = out / "data" / name;
  YAML::Emitter emitter;
  emitter << study.dataset.options;
  const std::string source = study.dataset.kind + ": " + emitter.c_str() + "\n";
  const fs::path stamp = out / "data" / (name + ".yaml");
  if (fs::exists(d.root / "dataset.json")) {
    MEDKD_CHECK(fs::exists(stamp) && core::read_text_file(stamp) == source, d.root.string(),
                ": made from other dataset options than the study's (", stamp.string(),
                "); use another --out, or remove the folder to make it again");
    d.meta = io::open_dataset(d.root).meta;
    d.exists = true;
    return d;
  }
  if (study.dataset.kind == "synth") {
    auto options = synth_options(study.dataset.options, d.root);
    options.quiet = quiet;
    options.overwrite = true;  // a folder without dataset.json is an unfinished attempt
    d.meta = data::synth::synth_dataset_json(data::synth::plan_synth_dataset(options));
    if (dry_run) return d;
    if (!quiet) std::cerr << "experiment: making the dataset " << d.root.string() << "\n";
    fs::create_directories(stamp.parent_path());
    core::write_text_file(stamp, source);
    data::synth::write_synth_dataset(options);
  } else {
    const auto options = colin27_options(study.dataset.options, d.root);
    const auto plan = data::plan_colin27(options);
    d.meta.channel_names = {"T1"};
    d.meta.labels = data::colin27_dataset_labels(
        plan.labels, data::read_aal_names(plan.templates / "aal.nii.txt"));
    if (dry_run) return d;
    if (!quiet) std::cerr << "experiment: making the dataset " << d.root.string() << "\n";
    fs::create_directories(stamp.parent_path());
    core::write_text_file(stamp, source);
    data::write_colin27_dataset(options);
  }
  d.meta = io::open_dataset(d.root).meta;
  d.exists = true;
  return d;
}

// --- the work -------------------------------------------------------------------------------

struct Work {
  const RunSpec* run = nullptr;
  int fold = 0;
  int seed = -1;  // ≥ 0 for a run trained per seed
  fs::path folder;
  std::string recipe;  // the run's recipe on this fold (and seed)
  std::string stamp;
  std::string status;  // "finished", "resume", "new" (the folder is started afresh)
  double estimate_seconds = 0;
};

// runs/RUN/fold-F, or runs/RUN/fold-F-seed-S for a run trained per seed.
fs::path model_folder(const fs::path& out, const RunSpec& run, int fold, int seed) {
  return out / "runs" / run.slug /
         ("fold-" + std::to_string(fold) + (seed >= 0 ? "-seed-" + std::to_string(seed) : ""));
}

std::string read_stamp(const fs::path& folder, bool* finished) {
  const fs::path file = folder / "experiment.json";
  *finished = false;
  if (!fs::exists(file)) return "";
  const nlohmann::json j = core::read_json_file(file);
  *finished = j.value("finished", false);
  return j.value("stamp", std::string());
}

void write_stamp(const fs::path& folder, const std::string& stamp, bool finished) {
  nlohmann::ordered_json j;
  j["stamp"] = stamp;
  j["finished"] = finished;
  core::write_text_file(folder / "experiment.json", j.dump(2) + "\n");
}

std::string work_status(const Work& w) {
  bool finished = false;
  const std::string stamp = read_stamp(w.folder, &finished);
  if (stamp != w.stamp) return "new";
  if (finished) return "finished";
  const bool distilled = w.run->role == "distilled";
  return fs::exists(w.folder / (distilled ? "distill_state.pt" : "checkpoint_last.pt")) ? "resume"
                                                                                        : "new";
}

models::ModelConfig model_config(const YAML::Node& model, int dims, const io::DatasetJson& meta) {
  models::ModelConfig c;
  c.name = model["name"].as<std::string>();
  c.spatial_dims = dims;
  c.in_channels = int64_t(meta.channel_names.size());
  c.num_classes = int64_t(meta.labels.size());
  if (model["options"]) c.options = YAML::Clone(model["options"]);
  return c;
}

std::vector<int64_t> patch_tensor_order(const StudyConfig& study) {
  const auto p = study.plan["patch_size"].as<std::vector<int64_t>>();
  MEDKD_CHECK(p.size() == 3, "plan.patch_size must be [x, y, z]");
  return study.dims == 2 ? std::vector<int64_t>{p[1], p[0]}
                         : std::vector<int64_t>{p[2], p[1], p[0]};
}

std::string minutes(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(seconds < 600 ? 1 : 0) << seconds / 60 << " min";
  return out.str();
}

// The evaluation sets of a fold: its validation cases ("cv") and every test set.
std::vector<EvaluationSet> evaluation_sets(const StudyConfig& study, const io::Dataset& dataset,
                                           const fs::path& run_folder, int fold) {
  std::vector<EvaluationSet> sets;
  EvaluationSet cv;
  cv.name = "cv";
  cv.file_ending = dataset.meta.file_ending;
  for (int value : dataset.meta.label_values())
    if (value != 0) cv.labels.push_back(value);
  const auto splits = train::load_splits(run_folder / "splits.json");
  for (const auto& id : train::select_fold(splits, fold).val)
    for (const auto& c : dataset.training)
      if (c.id == id) cv.cases.push_back(c);
  sets.push_back(cv);
  for (const auto& t : study.test_sets)
    sets.push_back(read_test_set(t.name, dataset, dataset.root / t.images, dataset.root / t.labels,
                                 t.mapping.empty() ? fs::path() : dataset.root / t.mapping));
  return sets;
}

void train_run(const Work& w, const fs::path& dataset, const fs::path& cache,
               const ExperimentOptions& o) {
  const fs::path recipe = w.folder.parent_path() / (w.folder.filename().string() + ".yaml");
  core::write_text_file(recipe, w.recipe);
  train::TrainOptions run;
  run.dataset = dataset;
  run.config = recipe;
  run.out = w.folder;
  run.cache = cache;
  run.fold = w.fold;
  run.resume = w.status == "resume";
  run.device = o.device;
  run.amp = o.amp;
  run.threads = o.threads;
  run.quiet = o.quiet;
  if (w.run->role == "distilled") {
    train::DistillOptions distill;
    distill.config = recipe;
    distill.dataset = dataset;
    distill.run = run;
    train::distill(distill);
  } else {
    train::train(run);
  }
}

// Measured seconds per training step of each run: its network's step, plus one inference pass
// of each of its teachers. Runs that share a network share the measurement.
struct StudyCost {
  std::map<std::string, NetworkCost> network;  // by run name
  std::map<std::string, double> step_seconds;  // by run name
};

StudyCost measure_cost(const StudyConfig& study, const io::DatasetJson& meta,
                       const ExperimentOptions& o) {
  const auto spatial = patch_tensor_order(study);
  const int64_t batch = study.plan["batch_size"].as<int64_t>();
  StudyCost cost;
  std::map<std::string, double> train_step, inference;
  const auto key_of = [](const YAML::Node& model) {
    YAML::Emitter e;
    e << model;
    return std::string(e.c_str());
  };
  if (!o.quiet) std::cerr << "experiment: timing one training step of each network\n";
  for (const auto& run : study.runs) {
    const auto config = model_config(run.model, study.dims, meta);
    cost.network[run.name] = network_cost(config, spatial);
    const std::string key = key_of(run.model);
    if (!train_step.count(key))
      train_step[key] = time_training_step(config, spatial, batch, o.device);
    cost.step_seconds[run.name] = train_step[key];
    for (const auto& t : run.teachers) {
      const YAML::Node& teacher = study.run(t).model;
      if (!inference.count(key_of(teacher)))
        inference[key_of(teacher)] =
            time_inference(model_config(teacher, study.dims, meta), spatial, batch, o.device);
      cost.step_seconds[run.name] += inference[key_of(teacher)];
    }
  }
  return cost;
}

// The work, role by role (every teacher, then every student, then every distilled run, so that
// the teacher gate can be checked before any distillation), fold by fold and seed by seed within
// a role, in the recipe's order.
std::vector<Work> plan_work(const StudyConfig& study, const fs::path& out, const fs::path& dataset,
                            const StudyCost& cost) {
  std::vector<Work> work;
  std::map<std::pair<std::string, int>, std::string> teacher_stamps;  // (run, fold) -> stamp
  const std::vector<int> no_seed{-1};
  for (const char* role : {"teacher", "student", "distilled"})
    for (const auto& run : study.runs) {
      if (run.role != role) continue;
      for (int fold : study.run_folds)
        for (int seed : trained_per_seed(study, run) ? study.seeds : no_seed) {
          Work w;
          w.run = &run;
          w.fold = fold;
          w.seed = seed;
          w.folder = model_folder(out, run, fold, seed);
          std::vector<fs::path> folders, stamps;
          for (const auto& t : run.teachers) {
            folders.push_back(fs::absolute(model_folder(out, study.run(t), fold, -1)));
            stamps.push_back(teacher_stamps.at({t, fold}));
          }
          w.recipe = run_recipe(study, run, fs::absolute(dataset), folders, seed);
          // The stamp leaves out where things are (the study may move) and takes the teachers'
          // stamps instead: a retrained teacher retrains its students.
          w.stamp = stamp_of(run_recipe(study, run, "dataset", stamps, seed) + "fold " +
                             std::to_string(fold));
          if (run.role == "teacher") teacher_stamps[{run.name, fold}] = w.stamp;
          w.status = work_status(w);
          const auto training = run.role == "distilled"
                                    ? train::DistillConfig::from_yaml_text(w.recipe, "").training
                                    : train::TrainConfig::from_yaml_text(w.recipe, "");
          w.estimate_seconds = double(training.epochs * training.iterations_per_epoch) *
                               cost.step_seconds.at(run.name);
          work.push_back(w);
        }
    }
  return work;
}

std::string work_listing(const StudyConfig& study, const PreparedDataset& data,
                         const std::vector<Work>& work, const StudyCost& cost, double remaining) {
  int name_width = 6;
  for (const auto& run : study.runs) name_width = std::max(name_width, int(run.name.size()) + 2);
  std::ostringstream listing;
  listing << "study '" << study.name << "'"
          << (study.budget.empty() ? "" : ", budget " + study.budget) << ": " << study.runs.size()
          << " runs x " << study.run_folds.size() << " of " << study.folds << " folds";
  if (!study.seeds.empty()) listing << " (students x " << study.seeds.size() << " seeds)";
  listing << ", dataset " << data.root.string() << "\n";
  listing << std::left << std::setw(name_width) << "run" << std::setw(11) << "role" << std::setw(6)
          << "fold" << std::setw(6) << "seed" << std::setw(10) << "status" << std::right
          << std::setw(12) << "Params (M)" << std::setw(9) << "GFLOPs" << std::setw(10) << "s/step"
          << std::setw(10) << "steps" << std::setw(12) << "estimate\n";
  for (const auto& w : work) {
    const double step = cost.step_seconds.at(w.run->name);
    listing << std::left << std::setw(name_width) << w.run->name << std::setw(11) << w.run->role
            << std::setw(6) << w.fold << std::setw(6)
            << (w.seed >= 0 ? std::to_string(w.seed) : std::string("-")) << std::setw(10)
            << w.status << std::right << std::fixed << std::setprecision(3) << std::setw(12)
            << cost.network.at(w.run->name).params_millions << std::setprecision(2) << std::setw(9)
            << cost.network.at(w.run->name).gflops << std::setw(10) << step << std::setw(10)
            << std::lround(w.estimate_seconds / step) << std::setw(11)
            << (w.status == "finished" ? "done" : minutes(w.estimate_seconds)) << "\n";
  }
  listing << "estimated training time left: " << minutes(remaining)
          << " on this machine (measured steps; prediction and evaluation come on top)\n";
  return listing.str();
}

int report_label_of(const StudyConfig& study) {
  return study.report_label == "foreground" ? 0 : std::stoi(study.report_label);
}

std::vector<std::string> set_names(const StudyConfig& study) {
  std::vector<std::string> names{"cv"};
  for (const auto& t : study.test_sets) names.push_back(t.name);
  return names;
}

std::vector<CaseMetric> work_metrics(const Work& w, const std::string& set,
                                     const std::string& file_ending) {
  auto metrics = read_case_metrics(w.folder / "predictions" / slug_of(set) / "summary.json",
                                   w.run->name, w.fold, set, file_ending);
  for (auto& m : metrics) m.seed = w.seed;
  return metrics;
}

// A run's validation Dice of the report label: each model's mean over its validation cases
// (NaN values left out), then the mean over its models.
double validation_dice(const std::vector<Work>& work, const RunSpec& run, int label,
                       const std::string& file_ending) {
  double sum = 0;
  int models = 0;
  for (const auto& w : work) {
    if (w.run != &run) continue;
    double case_sum = 0;
    int cases = 0;
    for (const auto& m : work_metrics(w, "cv", file_ending))
      if (m.label == label && !std::isnan(m.dice)) {
        case_sum += m.dice;
        ++cases;
      }
    if (cases == 0) continue;
    sum += case_sum / cases;
    ++models;
  }
  return models ? sum / models : std::numeric_limits<double>::quiet_NaN();
}

// The teacher gate: every (teacher, student) pair of the distilled runs, checked on validation
// cases once the teachers and students are trained and evaluated. Throws medkd::Error when a
// pair fails and the study's gate stops.
std::vector<GateCheck> check_teacher_gate(const StudyConfig& study, const std::vector<Work>& work,
                                          const std::string& file_ending, bool quiet) {
  std::vector<GateCheck> checks;
  const int label = report_label_of(study);
  for (const auto& run : study.runs) {
    if (run.role != "distilled") continue;
    for (const auto& teacher : run.teachers) {
      const bool seen = std::any_of(checks.begin(), checks.end(), [&](const GateCheck& c) {
        return c.teacher == teacher && c.student == run.student;
      });
      if (seen) continue;
      GateCheck check;
      check.teacher = teacher;
      check.student = run.student;
      check.margin = study.gate.margin;
      check.teacher_dice = validation_dice(work, study.run(teacher), label, file_ending);
      check.student_dice = validation_dice(work, study.run(run.student), label, file_ending);
      checks.push_back(check);
    }
  }
  for (const auto& c : checks) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(3) << "teacher '" << c.teacher
         << "' has a validation Dice of " << c.teacher_dice << ", the student '" << c.student
         << "' trained alone " << c.student_dice << " (" << std::showpos
         << c.teacher_dice - c.student_dice << std::noshowpos << "; the gate asks for " << c.margin
         << ")";
    if (c.passed()) {
      if (!quiet) std::cerr << "experiment: gate passed: " << line.str() << "\n";
    } else if (study.gate.stop) {
      throw Error(str("experiment: gate failed: ", line.str(),
                      ". A teacher that knows little can teach little: train it longer "
                      "(teacher_training: {epochs: ...}), choose a stronger teacher or data it "
                      "can learn, or set gate: {on_fail: continue} in the study to distil anyway "
                      "(the tables will say the teacher is below the gate)"));
    } else if (!quiet) {
      std::cerr << "experiment: gate failed, continuing (gate.on_fail: continue): " << line.str()
                << "\n";
    }
  }
  return checks;
}

// Trains what is not finished and evaluates every model on its sets. The estimate is corrected by
// how long finished items really took.
void train_and_evaluate(const StudyConfig& study, const PreparedDataset& data,
                        const ExperimentOptions& o, std::vector<Work>& work, double remaining,
                        std::vector<GateCheck>* gate) {
  const io::Dataset dataset = io::open_dataset(data.root);
  const fs::path cache = o.out / "preprocessed";
  inference::PredictionSettings settings;
  settings.device = o.device;
  double estimated_done = 0, actual_done = 0;
  bool gate_checked = false;
  for (size_t i = 0; i < work.size(); ++i) {
    Work& w = work[i];
    if (w.run->role == "distilled" && !gate_checked) {
      *gate = check_teacher_gate(study, work, dataset.meta.file_ending, o.quiet);
      gate_checked = true;
    }
    const auto start = std::chrono::steady_clock::now();
    if (w.status != "finished") {
      if (!o.quiet) {
        const double ratio = estimated_done > 0 ? actual_done / estimated_done : 1.0;
        std::cerr << "\nexperiment: [" << i + 1 << "/" << work.size() << "] fold " << w.fold
                  << (w.seed >= 0 ? ", seed " + std::to_string(w.seed) : std::string()) << ", "
                  << w.run->role << " '" << w.run->name
                  << "': " << (w.status == "resume" ? "resuming" : "training") << " (about "
                  << minutes(w.estimate_seconds * ratio) << "; study about "
                  << minutes(remaining * ratio) << " left)\n";
      }
      if (w.status == "new") {
        fs::remove_all(w.folder);
        fs::create_directories(w.folder);
      }
      write_stamp(w.folder, w.stamp, false);
      train_run(w, data.root, cache, o);
      write_stamp(w.folder, w.stamp, true);
    }
    for (const auto& set : evaluation_sets(study, dataset, w.folder, w.fold)) {
      const fs::path folder = w.folder / "predictions" / slug_of(set.name);
      if (fs::exists(folder / "summary.json")) continue;
      if (!o.quiet)
        std::cerr << "experiment: fold " << w.fold
                  << (w.seed >= 0 ? ", seed " + std::to_string(w.seed) : std::string()) << ", '"
                  << w.run->name << "' on " << set.name << " (" << set.cases.size()
                  << (set.cases.size() == 1 ? " case" : " cases") << ")\n";
      evaluate_run_on_set(w.folder, set, folder, settings, o.threads, true);
    }
    if (w.status != "finished") {
      estimated_done += w.estimate_seconds;
      remaining -= w.estimate_seconds;
      actual_done +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
}

RunSummary run_summary(const RunSpec& run, const NetworkCost& cost) {
  RunSummary s;
  s.name = run.name;
  s.role = run.role;
  s.architecture = run.model["name"].as<std::string>();
  s.ablation = run.ablation;
  s.teachers = run.teachers;
  s.baseline = run.baseline;
  if (run.role == "distilled") {
    std::string terms;
    for (const auto& entry : run.loss) {
      const auto type = entry["type"].as<std::string>();
      if (type.find("dice") != std::string::npos || type == "ce" || type == "focal") continue;
      terms += (terms.empty() ? "" : " + ") + type;
    }
    s.method = (terms.empty() ? std::string("segmentation loss only") : terms) +
               (run.teachers.size() > 1 ? " (" + run.multi_teacher + ")" : "");
  }
  s.params_millions = cost.params_millions;
  s.gflops = cost.gflops;
  return s;
}

// Overlays: the first trained fold (and first seed) on the first test set, cases spread over the
// runs' Dice (median first).
void add_overlays(const StudyConfig& study, const io::Dataset& dataset, const fs::path& out,
                  StudyResults& results) {
  if (study.overlays.cases <= 0 || study.test_sets.empty()) return;
  const std::string set = study.test_sets.front().name;
  const int fold = study.run_folds.front();
  const auto first_model = [&](const CaseMetric& m) {
    return m.fold == fold && (m.seed < 0 || m.seed == study.seeds.front());
  };
  std::map<std::string, std::pair<double, int>> case_dice;  // case -> (sum, count)
  for (const auto& m : results.metrics)
    if (first_model(m) && m.set == set && m.label == results.report_label &&
        std::find(study.overlays.runs.begin(), study.overlays.runs.end(), m.run) !=
            study.overlays.runs.end() &&
        std::isfinite(m.dice)) {
      case_dice[m.case_id].first += m.dice;
      case_dice[m.case_id].second += 1;
    }
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [id, sum] : case_dice) ranked.emplace_back(sum.first / sum.second, id);
  std::sort(ranked.begin(), ranked.end());
  const auto& spec = study.test_sets.front();
  const EvaluationSet cases =
      read_test_set(spec.name, dataset, dataset.root / spec.images, dataset.root / spec.labels, {});
  const int n = std::min<int>(study.overlays.cases, int(ranked.size()));
  for (int k = 0; k < n; ++k) {
    // Evenly spread over the ranking: the median for one case, the terciles for two, ...
    const double q = double(k + 1) / double(n + 1);
    const std::string& id = ranked[size_t(std::lround(q * double(ranked.size() - 1)))].second;
    const auto c = std::find_if(cases.cases.begin(), cases.cases.end(),
                                [&](const io::CaseFiles& f) { return f.id == id; });
    if (c == cases.cases.end()) continue;
    MEDKD_CHECK(size_t(study.overlays.channel) < c->images.size(), "overlays.channel ",
                study.overlays.channel, ": the dataset has ", c->images.size(), " channels");
    std::vector<fs::path> predictions;
    for (const auto& r : study.overlays.runs) {
      const RunSpec& run = study.run(r);
      const int seed = trained_per_seed(study, run) ? study.seeds.front() : -1;
      predictions.push_back(model_folder(out, run, fold, seed) / "predictions" / slug_of(set) /
                            (id + dataset.meta.file_ending));
    }
    results.overlays.push_back(
        make_overlay(id, set, fold, c->images[size_t(study.overlays.channel)], *c->label,
                     study.overlays.runs, predictions, results.report_label));
  }
}

// Everything the folders hold, as the study's results.
StudyResults collect_results(const StudyConfig& study, const PreparedDataset& data,
                             const fs::path& out, const std::vector<Work>& work,
                             const StudyCost& cost, const std::vector<GateCheck>& gate) {
  const io::Dataset dataset = io::open_dataset(data.root);
  StudyResults results;
  results.name = study.name;
  std::ostringstream description;
  description << study.description << (study.description.empty() ? "" : "\n\n")
              << "Budget: " << (study.budget.empty() ? "full (the recipe's own)" : study.budget)
              << "; " << study.run_folds.size() << " of " << study.folds
              << " cross-validation folds over " << dataset.training.size() << " training cases";
  if (!study.seeds.empty())
    description << ", students and distilled students trained with " << study.seeds.size()
                << " seeds each";
  description << "; dataset " << data.root.filename().string() << ".";
  results.description = description.str();
  results.folds = int(study.run_folds.size());
  results.seeds = study.seeds.empty() ? 1 : int(study.seeds.size());
  results.primary = study.primary;
  results.gate = gate;
  results.report_label = report_label_of(study);
  results.label_name =
      results.report_label == 0 ? "foreground" : data.meta.label_name(results.report_label);
  for (const auto& t : study.test_sets) results.test_sets.push_back(t.name);
  const auto values = data.meta.label_values();
  results.label_names.assign(values.empty() ? 1 : size_t(values.back()) + 1, "");
  for (int v : values) results.label_names[size_t(v)] = data.meta.label_name(v);
  for (const auto& run : study.runs) {
    RunSummary s = run_summary(run, cost.network.at(run.name));
    double total_seconds = 0;
    int models = 0;
    for (const auto& w : work) {
      if (w.run != &run) continue;
      double seconds = 0;
      TrainingCurve curve{run.name, w.fold,
                          read_training_curve(w.folder / "training_log.csv", &seconds), w.seed};
      total_seconds += seconds;
      ++models;
      results.curves.push_back(curve);
      for (const auto& set : set_names(study)) {
        const auto m = work_metrics(w, set, data.meta.file_ending);
        results.metrics.insert(results.metrics.end(), m.begin(), m.end());
      }
    }
    s.train_minutes = models ? total_seconds / 60.0 / models : 0;
    results.runs.push_back(s);
  }
  add_overlays(study, dataset, out, results);
  return results;
}

}  // namespace

void run_experiment(const ExperimentOptions& o) {
  MEDKD_CHECK(!o.out.empty(), "--out is required");
  const StudyConfig study = StudyConfig::from_file(o.config, o.budget);
  const fs::path out = o.out;
  if (!o.dry_run) {
    fs::create_directories(out);
    core::write_text_file(out / "study.yaml", study.source);
    core::write_text_file(out / "budget", (study.budget.empty() ? "full" : study.budget) + "\n");
  }
  const PreparedDataset data = prepare_dataset(study, out, o.dry_run, o.quiet);
  const StudyCost cost = measure_cost(study, data.meta, o);
  std::vector<Work> work = plan_work(study, out, data.root, cost);
  double remaining = 0;
  for (const auto& w : work)
    if (w.status != "finished") remaining += w.estimate_seconds;
  const std::string listing = work_listing(study, data, work, cost, remaining);
  if (o.dry_run) {
    std::cout << listing;
    return;
  }
  if (!o.quiet) std::cerr << listing;

  std::vector<GateCheck> gate;
  train_and_evaluate(study, data, o, work, remaining, &gate);
  StudyResults results = collect_results(study, data, out, work, cost, gate);
  results.tables = make_tables(results);
  core::write_text_file(out / "results.csv", results_csv(results));
  core::write_text_file(out / "tables.md", tables_markdown(results));
  core::write_text_file(out / "report.html", render_report_html(results));
  if (!o.quiet)
    std::cerr << "\nexperiment: finished; " << (out / "tables.md").string() << ", "
              << (out / "report.html").string() << ", " << (out / "results.csv").string() << "\n";
  std::cout << tables_markdown(results);
}

}  // namespace medkd::experiment
