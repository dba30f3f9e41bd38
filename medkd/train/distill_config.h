// The recipe of a distillation run (`medkd distill --config F`), read from YAML:
//
//   dataset: data/Dataset001             # or --dataset
//   teachers:
//     - {name: t1, checkpoint: runs/unet}            # a run folder of `medkd train`, or a .pt
//     - {name: t2, checkpoint: runs/swin_unetr}
//   student: {model: unet, options: {channels: [8, 16, 32, 64]}}
//   multi_teacher: sum                   # sum | mean | ensemble | confidence
//   loss:
//     - {type: dice_focal, weight: 1.0}  # the segmentation loss: exactly one from losses/
//     - {type: pixel_kl, weight: 1.0, temperature: 1.0}
//     - {type: attention_similarity, weight: 1.0, taps: [bottleneck, dec.last], teachers: [t1]}
//   kd_schedule: {warmup: 0.1}           # default schedule of every KD term (kd_schedule.h)
//   diagnostics_every: 50                # gradient ratios in training_log.csv every N steps
//   min_teacher_dice: 0.05               # a teacher below this validation Dice is an error …
//   allow_weak_teachers: false           # … unless this is true
//   unlabelled: [data/imagesUl]          # images without labels: KD terms only (see below)
//   unlabelled_share: 0.5                # share of a step's patches drawn from them
//   epochs: 50                           # and every other key of a training recipe
//   ...                                  # (train_config.h) except model, dims and plan
//
// The student is trained on the teachers' plan (their spacing, normalisation, patch size), so
// `dims` and `plan` come from the teachers. Every loss entry takes `weight` (the term's default
// weight when absent), an optional `name` for its log column, and KD entries an optional
// `teachers` list selecting which teachers the term reads (all by default). Paths are relative to
// the working directory. Unknown keys are errors that list the valid ones. A KD entry may also
// give `schedule:` (over the run's kd_schedule). Every term's options are read into its typed
// settings here, so a misspelt key or a bad value fails before any teacher is loaded.
//
// Unlabelled images: folders of image files named like imagesTr's (CASE_0000.nii.gz, one file
// per channel). Each step draws, besides the labelled batch, round(B·share/(1 − share)) patches
// from them (at least one), on which the KD terms alone apply; teachers and student see the same
// augmented patch.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "medkd/distill/kd_schedule.h"
#include "medkd/distill/kd_term.h"
#include "medkd/distill/term_registry.h"
#include "medkd/train/train_config.h"

namespace medkd::train {

struct TeacherSpec {
  std::string name;
  std::filesystem::path checkpoint;
};

struct KdTermSpec {
  std::string type;
  std::string name;  // log column; the type unless given (made unique with #2, #3, …)
  double weight = 1.0;
  std::vector<std::string> teachers;  // empty = every teacher
  distill::KdSchedule schedule;       // the run's kd_schedule, then the entry's own
  distill::TermSettingsPtr settings;  // the term's options, read and checked
};

struct DistillConfig {
  std::filesystem::path dataset;  // may be empty (then --dataset is required)
  std::vector<TeacherSpec> teachers;
  std::string student_model;
  YAML::Node student_options = YAML::Node(YAML::NodeType::Map);
  distill::MultiTeacher multi_teacher = distill::MultiTeacher::kSum;
  std::string segmentation_name;  // log column of the segmentation loss (its type)
  double segmentation_weight = 1.0;
  std::vector<KdTermSpec> terms;
  int64_t diagnostics_every = 50;    // steps between gradient-ratio measurements; 0 = never
  double min_teacher_dice = 0.05;    // a teacher whose stored validation Dice is lower …
  bool allow_weak_teachers = false;  // … is an error unless this is true
  std::vector<std::filesystem::path> unlabelled;  // folders of images without labels
  double unlabelled_share = 0.5;                  // in (0, 1)
  // Everything else, as a training recipe: epochs, optimiser, schedule, sampling, augmentation,
  // validation, loader, folds, seed; `loss` holds the segmentation loss entry.
  TrainConfig training;
  std::string source;  // the YAML text, saved with the run

  // Parses and validates the structure (term types and options are checked when the terms are
  // built, against the networks); errors name `file` and the key.
  static DistillConfig from_yaml_text(const std::string& text, const std::string& file);
  static DistillConfig from_file(const std::filesystem::path& path);
};

}  // namespace medkd::train
