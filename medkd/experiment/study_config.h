// The recipe of a study (`medkd experiment --config F`): which dataset, which runs over how many
// folds, which test sets, and the budget. Read from YAML once and validated, including the
// training or distillation recipe of every run, so a mistake is reported before anything trains.
//
//   name: Teach-Former on synthetic PET/CT
//   description: ...                        # optional, printed above the tables
//   dataset: {synth: {kind: petct, cases: 16, test_cases: 6, size: [96, 96, 64],
//                     spacing: [2, 2, 3], seed: 1}}
//            # or {colin27: {labels: merged, split: blocks}}, or {path: data/Dataset001}
//   test_sets:                              # default: [{name: test}], the dataset's imagesTs
//     - {name: test}
//     - {name: new subject, images: crosssubject/imagesTs, labels: crosssubject/labelsTs,
//        mapping: crosssubject/mapping.json}     # paths relative to the dataset
//   folds: 3
//   report_label: 1                         # a label value, or foreground (the default)
//   dims: 3
//   plan: {patch_size: [48, 48, 48], batch_size: 2, target_spacing: [4, 4, 4]}
//   training: {epochs: 20, iterations_per_epoch: 50, ...}   # every run's training keys
//   teacher_training: {epochs: 60}          # teachers' own keys, over training (optional)
//   student_training: {...}                 # students' and distilled runs' own keys (optional)
//   run_folds: [0]                          # the folds trained (default: every fold)
//   seeds: [0, 1, 2, 3, 4]                  # each student and distilled run once per seed
//   gate: {margin: 0.05, on_fail: stop}     # teachers must beat the student alone first
//   primary: KD from all                    # the study's one primary comparison
//   budgets:
//     small: {folds: 2, epochs: 4, iterations_per_epoch: 20}  # overrides, chosen by --budget
//                                           # (and optionally runs: [...], the runs it keeps;
//                                           # seeds, run_folds, teacher_training and
//                                           # student_training, applied over a run's own)
//   runs:
//     - {name: UNETR, role: teacher, model: {name: unetr, options: {...}},
//        training: {optimizer: {type: adam, lr: 1e-4}}}       # per-run overrides
//     - {name: student, role: student, model: {name: unet, options: {...}}}
//     - name: KD from all
//       role: distilled
//       student: student                    # the student run whose network this one trains
//       teachers: [UNETR, ...]              # teacher runs of the same study
//       multi_teacher: sum
//       loss: [{type: dice_focal}, {type: pixel_kl, weight: 1}]
//       distillation: {kd_schedule: {warmup: 0.2}}   # further distillation-config keys
//       ablation: teacher subset            # groups runs into an ablation table
//       baseline: student                   # paired tests against it (default: its student)
//   overlays: {runs: [UNETR, student, KD from all], cases: 2, channel: 0}
//
// Every run shares the study's plan (dims and plan), so teachers and students read one
// preprocessed cache and the distiller's plan check holds by construction.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace medkd::experiment {

// Where the study's data comes from. Generated datasets are written below the study's output
// folder (data/NAME) the first time and reused afterwards.
struct DatasetSource {
  std::string kind;            // "path", "synth" or "colin27"
  std::filesystem::path path;  // kind "path"
  YAML::Node options;          // kind "synth" / "colin27": the generator's options
};

struct TestSetSpec {
  std::string name;
  std::filesystem::path images, labels;  // relative to the dataset folder
  std::filesystem::path mapping;         // optional mapping.json (dataset label -> set label)
};

// The YAML::Node fields have reference semantics: copy a RunSpec into a new object (push_back,
// copy construction), never assign one RunSpec over another (that rewrites the shared nodes).
struct RunSpec {
  std::string name;
  std::string role;                   // teacher | student | distilled
  std::string slug;                   // folder name below runs/
  YAML::Node model;                   // {name, options}; for distilled runs, the student run's
  std::string student;                // distilled: the student run named
  std::vector<std::string> teachers;  // distilled
  std::string multi_teacher = "sum";  // distilled
  YAML::Node loss;                    // distilled: the loss list
  // distilled: further keys of the distillation config (kd_schedule, unlabelled, …), checked
  // when the recipe is read; relative unlabelled folders are the dataset's (imagesUl).
  YAML::Node distillation;
  std::string ablation;
  std::string baseline;
  YAML::Node training;  // per-run overrides of the study's training keys
};

struct OverlaySpec {
  std::vector<std::string> runs;
  int cases = 2;
  int channel = 0;
};

// Before any distilled run trains, each of its teachers must reach a validation Dice (report
// label, mean over the folds' validation cases) at least `margin` above its student trained
// alone (mean over folds and seeds): a teacher that knows little can teach little.
struct TeacherGate {
  double margin = 0.05;
  bool stop = true;  // on_fail: stop (the default) or continue (the tables say so)
};

// Training keys for one role of run, laid over the study's `training`.
struct RoleTraining {
  YAML::Node teacher{YAML::NodeType::Map};
  YAML::Node student{YAML::NodeType::Map};  // students and distilled students
};

struct StudyConfig {
  std::string name;
  std::string description;
  DatasetSource dataset;
  std::vector<TestSetSpec> test_sets;
  int folds = 3;
  std::string report_label = "foreground";  // a label value as text, or "foreground"
  int dims = 3;
  YAML::Node plan;
  YAML::Node training;  // after the budget's overrides
  // The study's `teacher_training` / `student_training`, applied over `training` and under a
  // run's own `training:`; and the budget's, applied over a run's own.
  RoleTraining role_training, budget_role_training;
  std::vector<int> run_folds;  // the folds trained, ascending (default: 0 … folds − 1)
  std::vector<int> seeds;      // empty: one model per fold, with the training's own seed
  TeacherGate gate;
  std::string primary;  // a run with a baseline, or "" (none declared)
  std::string budget;   // the budget applied ("" = the recipe's own values)
  std::vector<RunSpec> runs;
  OverlaySpec overlays;
  std::string source;  // the YAML text

  // Parses and validates; `budget` names an entry of `budgets` ("" = none). Errors name the file
  // and the key or run.
  static StudyConfig from_yaml_text(const std::string& text, const std::string& file,
                                    const std::string& budget);
  static StudyConfig from_file(const std::filesystem::path& path, const std::string& budget);

  const RunSpec& run(const std::string& name) const;  // medkd::Error if unknown
};

// A name as a folder name: lower case letters and digits, anything else as '_'.
std::string slug_of(const std::string& name);

// Whether a run is trained once per seed of the study: students and distilled runs of a study
// with seeds. Teachers are trained once per fold and shared by every seed.
bool trained_per_seed(const StudyConfig& study, const RunSpec& run);

// The training (teacher, student) or distillation (distilled) recipe of one run on one fold,
// as YAML text for train::TrainConfig / train::DistillConfig. `dataset` and `teacher_folders`
// (run folders of the teachers on the same fold, in the run's teacher order) are used by
// distilled runs only; `seed` ≥ 0 replaces the training seed (a run trained per seed).
std::string run_recipe(const StudyConfig& study, const RunSpec& run,
                       const std::filesystem::path& dataset,
                       const std::vector<std::filesystem::path>& teacher_folders, int seed = -1);

}  // namespace medkd::experiment
