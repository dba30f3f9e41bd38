#include "medkd/train/distill_config.h"

#include <algorithm>
#include <set>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/distill/term_registry.h"
#include "medkd/losses/loss_registry.h"

namespace medkd::train {
namespace {

// The training-recipe keys a distillation config may use (the student, its dims and its plan
// come from elsewhere).
const std::set<std::string>& training_keys() {
  static const std::set<std::string> keys{"epochs",
                                          "iterations_per_epoch",
                                          "optimizer",
                                          "lr_schedule",
                                          "early_stopping",
                                          "validation",
                                          "sampling",
                                          "augmentation",
                                          "loader",
                                          "folds",
                                          "seed"};
  return keys;
}

void check_keys(const YAML::Node& node, const std::set<std::string>& valid,
                const std::string& where, const std::string& file) {
  MEDKD_CHECK(node.IsMap(), file, ": ", where, " must be a mapping");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    MEDKD_CHECK(valid.count(key), file, ": unknown key \"", key, "\" in ", where,
                " (valid: ", join_names({valid.begin(), valid.end()}), ")");
  }
}

std::string scalar(const YAML::Node& node, const std::string& what, const std::string& file) {
  MEDKD_CHECK(node && node.IsScalar() && !node.as<std::string>().empty(), file, ": ", what,
              " must be a non-empty name");
  return node.as<std::string>();
}

double weight_of(const YAML::Node& entry, double fallback, const std::string& where,
                 const std::string& file) {
  if (!entry["weight"]) return fallback;
  double w = 0;
  MEDKD_CHECK(YAML::convert<double>::decode(entry["weight"], w) && w >= 0, file, ": ", where,
              " weight must be a number >= 0, got '", YAML::Dump(entry["weight"]), "'");
  return w;
}

}  // namespace

DistillConfig DistillConfig::from_yaml_text(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(str(file, ": not valid YAML (line ", e.mark.line + 1, ": ", e.msg, ")"));
  }
  std::set<std::string> valid{"dataset",
                              "teachers",
                              "student",
                              "multi_teacher",
                              "loss",
                              "kd_schedule",
                              "diagnostics_every",
                              "min_teacher_dice",
                              "allow_weak_teachers",
                              "unlabelled",
                              "unlabelled_share"};
  valid.insert(training_keys().begin(), training_keys().end());
  check_keys(root, valid, "the distillation config", file);

  DistillConfig c;
  c.source = text;
  if (root["dataset"]) c.dataset = scalar(root["dataset"], "dataset", file);

  const YAML::Node teachers = root["teachers"];
  MEDKD_CHECK(teachers && teachers.IsSequence() && teachers.size() > 0, file,
              ": teachers must be a non-empty list of {name, checkpoint}");
  std::set<std::string> teacher_names;
  for (const auto& t : teachers) {
    check_keys(t, {"name", "checkpoint"}, "a teacher", file);
    TeacherSpec spec{scalar(t["name"], "a teacher's name", file),
                     scalar(t["checkpoint"], "a teacher's checkpoint", file)};
    MEDKD_CHECK(teacher_names.insert(spec.name).second, file, ": teacher name '", spec.name,
                "' is used twice");
    c.teachers.push_back(spec);
  }

  const YAML::Node student = root["student"];
  MEDKD_CHECK(student && student.IsMap(), file, ": student must be a map {model, options}");
  check_keys(student, {"model", "options"}, "student", file);
  c.student_model = scalar(student["model"], "student.model", file);
  if (student["options"] && !student["options"].IsNull()) {
    MEDKD_CHECK(student["options"].IsMap(), file, ": student.options must be a map");
    c.student_options = YAML::Clone(student["options"]);
  }
  if (root["multi_teacher"])
    c.multi_teacher =
        distill::parse_multi_teacher(scalar(root["multi_teacher"], "multi_teacher", file));

  if (root["diagnostics_every"]) {
    int64_t every = -1;
    MEDKD_CHECK(YAML::convert<int64_t>::decode(root["diagnostics_every"], every) && every >= 0,
                file, ": diagnostics_every must be a whole number of steps >= 0 (0: never), got '",
                YAML::Dump(root["diagnostics_every"]), "'");
    c.diagnostics_every = every;
  }
  if (root["min_teacher_dice"]) {
    double d = -1;
    MEDKD_CHECK(YAML::convert<double>::decode(root["min_teacher_dice"], d) && d >= 0 && d <= 1,
                file, ": min_teacher_dice must be a Dice in [0, 1], got '",
                YAML::Dump(root["min_teacher_dice"]), "'");
    c.min_teacher_dice = d;
  }
  if (root["allow_weak_teachers"]) {
    bool allow = false;
    MEDKD_CHECK(YAML::convert<bool>::decode(root["allow_weak_teachers"], allow), file,
                ": allow_weak_teachers must be true or false, got '",
                YAML::Dump(root["allow_weak_teachers"]), "'");
    c.allow_weak_teachers = allow;
  }
  if (root["unlabelled"]) {
    const YAML::Node list = root["unlabelled"];
    MEDKD_CHECK(list.IsSequence() && list.size() > 0, file,
                ": unlabelled must be a non-empty list of image folders");
    for (const auto& folder : list)
      c.unlabelled.emplace_back(scalar(folder, "an unlabelled folder", file));
  }
  if (root["unlabelled_share"]) {
    double share = -1;
    MEDKD_CHECK(
        YAML::convert<double>::decode(root["unlabelled_share"], share) && share > 0 && share < 1,
        file, ": unlabelled_share must be a number in (0, 1), got '",
        YAML::Dump(root["unlabelled_share"]), "'");
    MEDKD_CHECK(root["unlabelled"], file, ": unlabelled_share needs unlabelled folders");
    c.unlabelled_share = share;
  }
  const distill::KdSchedule run_schedule =
      distill::parse_kd_schedule(root["kd_schedule"], {}, str(file, ": kd_schedule"));

  const YAML::Node loss = root["loss"];
  MEDKD_CHECK(loss && loss.IsSequence() && loss.size() > 0, file,
              ": loss must be a list of terms, one of them a segmentation loss");
  const auto& segmentation = losses::default_loss_registry();
  const auto& kd = distill::default_term_registry();
  YAML::Node segmentation_entry;
  bool has_segmentation = false;
  std::set<std::string> columns;
  for (const auto& entry : loss) {
    MEDKD_CHECK(entry.IsMap() && entry["type"], file, ": every loss entry needs a type, got '",
                YAML::Dump(entry), "'");
    const std::string type = scalar(entry["type"], "a loss type", file);
    std::string name = entry["name"] ? scalar(entry["name"], "a loss name", file) : type;
    if (!entry["name"])
      for (int k = 2; columns.count(name); ++k) name = str(type, "#", k);
    MEDKD_CHECK(columns.insert(name).second, file, ": loss name '", name, "' is used twice");
    if (!kd.contains(type)) {
      const auto known = segmentation.types();
      MEDKD_CHECK(std::find(known.begin(), known.end(), type) != known.end(), file,
                  ": unknown loss type '", type, "' (segmentation losses: ", join_names(known),
                  "; distillation terms: ", join_names(kd.types()), ")");
      MEDKD_CHECK(!has_segmentation, file, ": loss lists two segmentation losses ('",
                  c.segmentation_name, "' and '", type, "'); give one");
      MEDKD_CHECK(!entry["teachers"], file, ": the segmentation loss '", type,
                  "' reads no teacher; 'teachers' belongs to distillation terms");
      has_segmentation = true;
      segmentation_entry = YAML::Clone(entry);
      segmentation_entry.remove("weight");
      segmentation_entry.remove("name");
      c.segmentation_name = name;
      c.segmentation_weight = weight_of(entry, 1.0, str("loss '", type, "'"), file);
      continue;
    }
    KdTermSpec spec;
    spec.type = type;
    spec.name = name;
    spec.weight = weight_of(entry, kd.entry(type).default_weight, str("loss '", type, "'"), file);
    spec.schedule = distill::parse_kd_schedule(entry["schedule"], run_schedule,
                                               str(file, ": loss '", name, "' schedule"));
    if (entry["teachers"]) {
      const YAML::Node list = entry["teachers"];
      MEDKD_CHECK(list.IsSequence() && list.size() > 0, file, ": loss '", type,
                  "' teachers must be a non-empty list of teacher names");
      for (const auto& t : list) {
        const std::string who = scalar(t, "a teacher name", file);
        MEDKD_CHECK(teacher_names.count(who), file, ": loss '", type, "' names teacher '", who,
                    "', which is not among the teachers (",
                    join_names({teacher_names.begin(), teacher_names.end()}), ")");
        spec.teachers.push_back(who);
      }
    }
    YAML::Node options(YAML::NodeType::Map);
    for (const auto& item : entry) {
      const std::string key = item.first.as<std::string>();
      if (key != "type" && key != "weight" && key != "name" && key != "teachers" &&
          key != "schedule")
        options[key] = YAML::Clone(item.second);
    }
    try {
      spec.settings = kd.parse(type, options, {"weight", "name", "teachers", "schedule"});
    } catch (const Error& e) {
      throw Error(str(file, ": loss '", name, "': ", e.what()));
    }
    c.terms.push_back(spec);
  }
  MEDKD_CHECK(has_segmentation, file, ": loss needs one segmentation loss (one of ",
              join_names(segmentation.types()), ")");
  // Built once here so that a bad option of the segmentation loss fails with the rest of the
  // config, before any teacher is loaded.
  try {
    losses::make_segmentation_loss(losses::loss_config_from_yaml(segmentation_entry));
  } catch (const Error& e) {
    throw Error(str(file, ": loss '", c.segmentation_name, "': ", e.what()));
  }

  YAML::Node training(YAML::NodeType::Map);
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    if (training_keys().count(key)) training[key] = YAML::Clone(item.second);
  }
  training["loss"] = segmentation_entry;
  c.training = TrainConfig::from_yaml_text(YAML::Dump(training), file);
  c.training.source = text;
  return c;
}

DistillConfig DistillConfig::from_file(const std::filesystem::path& path) {
  MEDKD_CHECK(std::filesystem::is_regular_file(path), "--config ", path.string(),
              " does not exist or is not a file");
  return from_yaml_text(core::read_text_file(path), path.string());
}

}  // namespace medkd::train
