#include "medkd/experiment/study_config.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/train/distill_config.h"
#include "medkd/train/train_config.h"

namespace medkd::experiment {
namespace fs = std::filesystem;
namespace {

void check_keys(const YAML::Node& node, const std::set<std::string>& valid, const std::string& file,
                const std::string& where) {
  MEDKD_CHECK(node.IsMap(), file, ": ", where, " must be a mapping");
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    if (!valid.count(key))
      throw Error(str(file, ": unknown key \"", key, "\" in ", where, " (valid: ",
                      join_names(std::vector<std::string>(valid.begin(), valid.end())), ")"));
  }
}

std::string required_text(const YAML::Node& node, const std::string& key, const std::string& file,
                          const std::string& where) {
  MEDKD_CHECK(node[key] && node[key].IsScalar() && !node[key].as<std::string>().empty(), file, ": ",
              where, " needs a non-empty \"", key, "\"");
  return node[key].as<std::string>();
}

int positive_int(const YAML::Node& node, const std::string& file, const std::string& where,
                 int minimum) {
  int value = 0;
  MEDKD_CHECK(node.IsScalar() && YAML::convert<int>::decode(node, value) && value >= minimum, file,
              ": ", where, " must be an integer ≥ ", minimum, ", got '",
              node.IsScalar() ? node.as<std::string>() : std::string("a non-scalar"), "'");
  return value;
}

// `over` merged into a copy of `base` (mappings key by key, one level deep; anything else
// replaces).
YAML::Node merged(const YAML::Node& base, const YAML::Node& over) {
  YAML::Node out = YAML::Clone(base);
  if (!over) return out;
  for (const auto& entry : over) out[entry.first.as<std::string>()] = YAML::Clone(entry.second);
  return out;
}

// Training keys that the study sets for every run may not appear in a mapping of training keys.
void check_no_study_keys(const YAML::Node& training, const std::string& file,
                         const std::string& where) {
  for (const char* key : {"model", "dims", "plan", "folds"})
    MEDKD_CHECK(!training[key], file, ": ", where, ".", key,
                " is set by the study itself (its own key, or the run's)");
}

// A mapping of training keys for one role ({} when absent).
YAML::Node training_keys(const YAML::Node& node, const std::string& file,
                         const std::string& where) {
  if (!node) return YAML::Node(YAML::NodeType::Map);
  MEDKD_CHECK(node.IsMap(), file, ": ", where, " must be a mapping of training keys");
  check_no_study_keys(node, file, where);
  return YAML::Clone(node);
}

// A list of distinct integers ≥ minimum, ascending ([] when absent).
std::vector<int> int_list(const YAML::Node& node, const std::string& file, const std::string& where,
                          int minimum) {
  std::vector<int> values;
  if (!node) return values;
  MEDKD_CHECK(node.IsSequence() && node.size() > 0, file, ": ", where,
              " must be a non-empty list of integers");
  for (size_t i = 0; i < node.size(); ++i)
    values.push_back(positive_int(node[i], file, where + "[" + std::to_string(i) + "]", minimum));
  std::vector<int> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  MEDKD_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), file, ": ", where,
              " lists a value twice");
  return sorted;
}

TeacherGate parse_gate(const YAML::Node& node, const std::string& file) {
  check_keys(node, {"margin", "on_fail"}, file, "gate");
  TeacherGate gate;
  if (node["margin"]) {
    double margin = 0;
    MEDKD_CHECK(node["margin"].IsScalar() &&
                    YAML::convert<double>::decode(node["margin"], margin) && margin >= -1 &&
                    margin <= 1,
                file, ": gate.margin must be a Dice difference in [-1, 1], got '",
                node["margin"].IsScalar() ? node["margin"].as<std::string>() : "a non-scalar", "'");
    gate.margin = margin;
  }
  if (node["on_fail"]) {
    const std::string on_fail = node["on_fail"].as<std::string>();
    MEDKD_CHECK(on_fail == "stop" || on_fail == "continue", file,
                ": gate.on_fail must be stop or continue, got '", on_fail, "'");
    gate.stop = on_fail == "stop";
  }
  return gate;
}

std::string emit(const YAML::Node& node) {
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

DatasetSource parse_dataset(const YAML::Node& node, const std::string& file) {
  MEDKD_CHECK(node && node.IsMap() && node.size() == 1, file,
              ": dataset must be one of {path: DIR}, {synth: {...}}, {colin27: {...}}");
  DatasetSource source;
  source.kind = node.begin()->first.as<std::string>();
  const YAML::Node value = node.begin()->second;
  if (source.kind == "path") {
    MEDKD_CHECK(value.IsScalar(), file, ": dataset.path must be a folder");
    source.path = value.as<std::string>();
  } else if (source.kind == "synth" || source.kind == "colin27") {
    MEDKD_CHECK(value.IsMap(), file, ": dataset.", source.kind, " must be a mapping of options");
    source.options = YAML::Clone(value);
  } else {
    throw Error(
        str(file, ": unknown dataset source \"", source.kind, "\" (valid: colin27, path, synth)"));
  }
  return source;
}

RunSpec parse_run(const YAML::Node& node, const std::string& file) {
  MEDKD_CHECK(node.IsMap(), file, ": every entry of runs must be a mapping");
  RunSpec run;
  run.name = required_text(node, "name", file, "a run");
  const std::string where = "run '" + run.name + "'";
  run.slug = slug_of(run.name);
  run.role = required_text(node, "role", file, where);
  if (run.role == "teacher" || run.role == "student") {
    check_keys(node, {"name", "role", "model", "ablation", "baseline", "training"}, file, where);
    MEDKD_CHECK(node["model"] && node["model"].IsMap() && node["model"]["name"], file, ": ", where,
                " needs model: {name: ..., options: {...}}");
    run.model = YAML::Clone(node["model"]);
  } else if (run.role == "distilled") {
    check_keys(node,
               {"name", "role", "student", "teachers", "multi_teacher", "loss", "distillation",
                "ablation", "baseline", "training"},
               file, where);
    run.student = required_text(node, "student", file, where);
    run.baseline = run.student;
    MEDKD_CHECK(node["teachers"] && node["teachers"].IsSequence() && node["teachers"].size() > 0,
                file, ": ", where, " needs a list of teacher runs");
    for (const auto& t : node["teachers"]) run.teachers.push_back(t.as<std::string>());
    if (node["multi_teacher"]) run.multi_teacher = node["multi_teacher"].as<std::string>();
    MEDKD_CHECK(node["loss"] && node["loss"].IsSequence(), file, ": ", where,
                " needs a loss list (a segmentation loss and distillation terms)");
    run.loss = YAML::Clone(node["loss"]);
    if (node["distillation"]) {
      MEDKD_CHECK(node["distillation"].IsMap(), file, ": ", where,
                  ": distillation must be a mapping of distillation-config keys");
      run.distillation = YAML::Clone(node["distillation"]);
    }
  } else {
    throw Error(
        str(file, ": ", where, " has role '", run.role, "' (valid: distilled, student, teacher)"));
  }
  if (node["ablation"]) run.ablation = node["ablation"].as<std::string>();
  if (node["baseline"]) run.baseline = node["baseline"].as<std::string>();
  if (node["training"]) {
    MEDKD_CHECK(node["training"].IsMap(), file, ": ", where, ": training must be a mapping");
    run.training = YAML::Clone(node["training"]);
  }
  return run;
}

}  // namespace

std::string slug_of(const std::string& name) {
  std::string slug;
  for (unsigned char c : name) slug += std::isalnum(c) ? char(std::tolower(c)) : '_';
  return slug;
}

const RunSpec& StudyConfig::run(const std::string& name) const {
  for (const auto& r : runs)
    if (r.name == name) return r;
  std::vector<std::string> names;
  for (const auto& r : runs) names.push_back(r.name);
  throw Error(str("no run named '", name, "' in the study (runs: ", join_names(names), ")"));
}

StudyConfig StudyConfig::from_yaml_text(const std::string& text, const std::string& file,
                                        const std::string& budget) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(str(file, ": not valid YAML (line ", e.mark.line + 1, ": ", e.msg, ")"));
  }
  check_keys(root,
             {"name", "description", "dataset", "test_sets", "folds", "report_label", "dims",
              "plan", "training", "teacher_training", "student_training", "run_folds", "seeds",
              "gate", "primary", "budgets", "runs", "overlays"},
             file, "the study");
  StudyConfig c;
  c.source = text;
  c.name = required_text(root, "name", file, "the study");
  if (root["description"]) c.description = root["description"].as<std::string>();
  c.dataset = parse_dataset(root["dataset"], file);

  if (root["test_sets"]) {
    MEDKD_CHECK(root["test_sets"].IsSequence() && root["test_sets"].size() > 0, file,
                ": test_sets must be a non-empty list");
    for (const auto& node : root["test_sets"]) {
      TestSetSpec set;
      set.name = required_text(node, "name", file, "a test set");
      check_keys(node, {"name", "images", "labels", "mapping"}, file,
                 "test set '" + set.name + "'");
      MEDKD_CHECK(set.name != "cv", file, ": \"cv\" is the cross-validation set; name the test ",
                  "set otherwise");
      set.images = node["images"] ? node["images"].as<std::string>() : "imagesTs";
      set.labels = node["labels"] ? node["labels"].as<std::string>() : "labelsTs";
      if (node["mapping"]) set.mapping = node["mapping"].as<std::string>();
      for (const auto& other : c.test_sets)
        MEDKD_CHECK(other.name != set.name, file, ": test set '", set.name, "' is listed twice");
      c.test_sets.push_back(set);
    }
  } else {
    c.test_sets.push_back({"test", "imagesTs", "labelsTs", {}});
  }

  if (root["folds"]) c.folds = positive_int(root["folds"], file, "folds", 2);
  if (root["report_label"]) {
    c.report_label = root["report_label"].as<std::string>();
    if (c.report_label != "foreground") positive_int(root["report_label"], file, "report_label", 1);
  }
  if (root["dims"]) c.dims = positive_int(root["dims"], file, "dims", 2);
  MEDKD_CHECK(c.dims == 2 || c.dims == 3, file, ": dims must be 2 or 3, got ", c.dims);
  MEDKD_CHECK(root["plan"] && root["plan"].IsMap() && root["plan"]["patch_size"] &&
                  root["plan"]["batch_size"],
              file,
              ": plan needs patch_size and batch_size (every run of a study shares one plan, and "
              "the cost estimate times one batch)");
  c.plan = YAML::Clone(root["plan"]);
  c.training = root["training"] ? YAML::Clone(root["training"]) : YAML::Node(YAML::NodeType::Map);
  MEDKD_CHECK(c.training.IsMap(), file, ": training must be a mapping of training keys");
  check_no_study_keys(c.training, file, "training");
  c.role_training.teacher = training_keys(root["teacher_training"], file, "teacher_training");
  c.role_training.student = training_keys(root["student_training"], file, "student_training");
  YAML::Node run_folds = root["run_folds"], seeds = root["seeds"];
  if (root["gate"]) c.gate = parse_gate(root["gate"], file);

  std::set<std::string> kept;  // a budget's subset of the runs; empty = every run
  if (!budget.empty()) {
    std::vector<std::string> names;
    if (root["budgets"] && root["budgets"].IsMap())
      for (const auto& entry : root["budgets"]) names.push_back(entry.first.as<std::string>());
    MEDKD_CHECK(std::find(names.begin(), names.end(), budget) != names.end(), "--budget ", budget,
                ": ", file, " has no such budget (budgets: ", join_names(names), ")");
    const YAML::Node over = root["budgets"][budget];
    MEDKD_CHECK(over.IsMap(), file, ": budgets.", budget, " must be a mapping");
    for (const auto& entry : over) {
      const auto key = entry.first.as<std::string>();
      if (key == "folds") {
        c.folds = positive_int(entry.second, file, "budgets." + budget + ".folds", 2);
      } else if (key == "dataset") {
        // Options of a generated dataset, laid over the study's (fewer test cases for a demo).
        const YAML::Node over = entry.second;
        MEDKD_CHECK(c.dataset.kind != "path" && over.IsMap() && over.size() == 1 &&
                        over.begin()->first.as<std::string>() == c.dataset.kind &&
                        over.begin()->second.IsMap(),
                    file, ": budgets.", budget, ".dataset must be {", c.dataset.kind,
                    ": {...}}, options over the study's generated dataset",
                    c.dataset.kind == "path" ? " (the study's dataset is a folder)" : "");
        c.dataset.options = merged(c.dataset.options, over.begin()->second);
      } else if (key == "runs") {
        MEDKD_CHECK(entry.second.IsSequence() && entry.second.size() > 0, file, ": budgets.",
                    budget, ".runs must be a non-empty list of run names");
        for (const auto& name : entry.second) kept.insert(name.as<std::string>());
      } else if (key == "student_training") {
        c.budget_role_training.student =
            training_keys(entry.second, file, "budgets." + budget + ".student_training");
      } else if (key == "teacher_training") {
        c.budget_role_training.teacher =
            training_keys(entry.second, file, "budgets." + budget + ".teacher_training");
      } else if (key == "run_folds") {
        run_folds = entry.second;
      } else if (key == "seeds") {
        seeds = entry.second;
      } else if (key == "gate") {
        c.gate = parse_gate(entry.second, file);
      } else {
        c.training[key] = YAML::Clone(entry.second);
      }
    }
    c.budget = budget;
  }
  c.run_folds = int_list(run_folds, file, "run_folds", 0);
  for (int fold : c.run_folds)
    MEDKD_CHECK(fold < c.folds, file, ": run_folds names fold ", fold, ", but the study has ",
                c.folds, " folds (0 … ", c.folds - 1, ")");
  if (c.run_folds.empty())
    for (int fold = 0; fold < c.folds; ++fold) c.run_folds.push_back(fold);
  c.seeds = int_list(seeds, file, "seeds", 0);

  MEDKD_CHECK(root["runs"] && root["runs"].IsSequence() && root["runs"].size() > 0, file,
              ": runs must be a non-empty list");
  std::set<std::string> slugs;
  for (const auto& node : root["runs"]) {
    RunSpec run = parse_run(node, file);
    for (const auto& other : c.runs)
      MEDKD_CHECK(other.name != run.name, file, ": run '", run.name, "' is declared twice");
    MEDKD_CHECK(slugs.insert(run.slug).second, file, ": run '", run.name,
                "' would share its folder runs/", run.slug, " with another run; rename one");
    c.runs.push_back(run);
  }
  if (!kept.empty()) {
    for (const auto& name : kept) c.run(name);  // each must exist
    // A new vector rather than erase/remove_if: those assign one RunSpec over another, and
    // assigning a YAML::Node rewrites the node it refers to, which other runs' fields share.
    std::vector<RunSpec> subset;
    for (const auto& r : c.runs)
      if (kept.count(r.name)) subset.push_back(r);
    c.runs = std::move(subset);
  }
  // References between runs: a distilled run's student and teachers, and baselines. (After a
  // budget's subset: a kept run needs the runs it names kept too.)
  for (auto& run : c.runs) {
    const std::string where = "run '" + run.name + "'";
    if (run.role == "distilled") {
      const auto student = std::find_if(c.runs.begin(), c.runs.end(),
                                        [&](const RunSpec& r) { return r.name == run.student; });
      MEDKD_CHECK(student != c.runs.end() && student->role == "student", file, ": ", where,
                  " names student '", run.student, "', which is not a run with role student",
                  kept.empty() ? "" : " in this budget");
      run.model = YAML::Clone(student->model);
      for (const auto& t : run.teachers) {
        const auto teacher = std::find_if(c.runs.begin(), c.runs.end(),
                                          [&](const RunSpec& r) { return r.name == t; });
        MEDKD_CHECK(teacher != c.runs.end() && teacher->role == "teacher", file, ": ", where,
                    " names teacher '", t, "', which is not a run with role teacher",
                    kept.empty() ? "" : " in this budget");
      }
    }
    if (!run.baseline.empty()) {
      MEDKD_CHECK(run.baseline != run.name, file, ": ", where, " is its own baseline");
      const bool known = std::any_of(c.runs.begin(), c.runs.end(),
                                     [&](const RunSpec& r) { return r.name == run.baseline; });
      MEDKD_CHECK(known, file, ": ", where, " has baseline '", run.baseline,
                  "', which is not a run of the study", kept.empty() ? "" : " (in this budget)");
    }
  }

  if (root["primary"]) {
    c.primary = required_text(root, "primary", file, "the study");
    const RunSpec& primary = c.run(c.primary);
    MEDKD_CHECK(!primary.baseline.empty(), file, ": primary names run '", c.primary,
                "', which has no baseline to be compared with (give it baseline: RUN)");
  }

  if (root["overlays"]) {
    const YAML::Node node = root["overlays"];
    check_keys(node, {"runs", "cases", "channel"}, file, "overlays");
    if (node["runs"]) {
      MEDKD_CHECK(node["runs"].IsSequence(), file, ": overlays.runs must be a list of run names");
      for (const auto& r : node["runs"]) {
        MEDKD_CHECK(r.IsScalar(), file, ": overlays.runs must be a list of run names");
        const std::string name = r.as<std::string>();
        if (!kept.empty() && !kept.count(name)) continue;  // left out by the budget
        c.run(name);                                       // must exist
        c.overlays.runs.push_back(name);
      }
    }
    if (node["cases"]) c.overlays.cases = positive_int(node["cases"], file, "overlays.cases", 0);
    if (node["channel"])
      c.overlays.channel = positive_int(node["channel"], file, "overlays.channel", 0);
  }
  if (c.overlays.runs.empty()) {
    // One of each role, the first declared, when the recipe does not choose.
    for (const char* role : {"teacher", "student", "distilled"})
      for (const auto& r : c.runs)
        if (r.role == role) {
          c.overlays.runs.push_back(r.name);
          break;
        }
  }

  // Every run's own recipe must parse: a typo in a training key or a loss entry is reported
  // now, naming the run, rather than after an hour of training.
  for (const auto& run : c.runs) {
    std::vector<fs::path> teachers(run.teachers.size(), "teacher");
    const std::string recipe = run_recipe(c, run, "dataset", teachers);
    try {
      if (run.role == "distilled")
        train::DistillConfig::from_yaml_text(recipe, file + " (run '" + run.name + "')");
      else
        train::TrainConfig::from_yaml_text(recipe, file + " (run '" + run.name + "')");
    } catch (const YAML::Exception& e) {
      throw Error(str(file, ": run '", run.name, "': ", e.msg));
    }
  }
  return c;
}

StudyConfig StudyConfig::from_file(const fs::path& path, const std::string& budget) {
  MEDKD_CHECK(fs::is_regular_file(path), "--config ", path.string(), ": no such file");
  return from_yaml_text(core::read_text_file(path), path.string(), budget);
}

bool trained_per_seed(const StudyConfig& study, const RunSpec& run) {
  return run.role != "teacher" && !study.seeds.empty();
}

std::string run_recipe(const StudyConfig& study, const RunSpec& run, const fs::path& dataset,
                       const std::vector<fs::path>& teacher_folders, int seed) {
  const bool teacher = run.role == "teacher";
  YAML::Node recipe =
      merged(study.training, teacher ? study.role_training.teacher : study.role_training.student);
  recipe = merged(recipe, run.training);
  recipe = merged(
      recipe, teacher ? study.budget_role_training.teacher : study.budget_role_training.student);
  recipe["folds"] = study.folds;
  if (seed >= 0) recipe["seed"] = seed;
  if (run.role != "distilled") {
    recipe["model"] = YAML::Clone(run.model);
    recipe["dims"] = study.dims;
    recipe["plan"] = YAML::Clone(study.plan);
    return emit(recipe);
  }
  MEDKD_CHECK(teacher_folders.size() == run.teachers.size(), "run '", run.name,
              "': ", run.teachers.size(), " teachers but ", teacher_folders.size(), " folders");
  recipe.remove("loss");  // a training recipe's segmentation loss; the run lists its own
  recipe["dataset"] = dataset.string();
  YAML::Node teachers(YAML::NodeType::Sequence);
  for (size_t i = 0; i < run.teachers.size(); ++i) {
    YAML::Node t;
    t["name"] = slug_of(run.teachers[i]);
    t["checkpoint"] = teacher_folders[i].string();
    teachers.push_back(t);
  }
  recipe["teachers"] = teachers;
  YAML::Node student;
  student["model"] = run.model["name"];
  if (run.model["options"]) student["options"] = YAML::Clone(run.model["options"]);
  recipe["student"] = student;
  recipe["multi_teacher"] = run.multi_teacher;
  // Loss entries name teachers by run name; the distillation recipe knows them by slug.
  YAML::Node loss = YAML::Clone(run.loss);
  for (auto entry : loss)
    if (entry.IsMap() && entry["teachers"] && entry["teachers"].IsSequence()) {
      YAML::Node names(YAML::NodeType::Sequence);
      for (const auto& t : entry["teachers"]) names.push_back(slug_of(t.as<std::string>()));
      entry["teachers"] = names;
    }
  recipe["loss"] = loss;
  // A study whose gate lets weak teachers through (on_fail: continue) lets distill use them.
  const bool own_choice = run.distillation && run.distillation["allow_weak_teachers"];
  if (!study.gate.stop && !own_choice) recipe["allow_weak_teachers"] = true;
  if (run.distillation && run.distillation.IsMap())
    for (const auto& item : run.distillation) {
      const std::string key = item.first.as<std::string>();
      MEDKD_CHECK(!recipe[key], "run '", run.name, "': distillation key '", key,
                  "' is set by the study itself; give it elsewhere");
      recipe[key] = YAML::Clone(item.second);
    }
  return emit(recipe);
}

}  // namespace medkd::experiment
