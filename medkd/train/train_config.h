// The recipe of a training run, read from YAML once and validated (configs/models/*.yaml):
//
//   model: {name: unet, options: {channels: [16, 32, 64, 128], deep_supervision: true}}
//   dims: 3                       # 2: train on axial slices of the volumes
//   plan: {patch_size: [64, 64, 48], batch_size: 2, target_spacing: [2, 2, 3]}   # optional
//   epochs: 50
//   iterations_per_epoch: 50
//   optimizer: {type: adam, lr: 1e-3, weight_decay: 1e-4}   # or sgd (momentum 0.99, nesterov)
//   lr_schedule: {type: poly, exponent: 0.9, per: iteration}   # or per: epoch; type: constant
//   loss: {type: dice_ce}
//   early_stopping: {patience: 40}
//   validation: {every: 1, max_cases: 0, overlap: 0.5}
//   sampling: {foreground_fraction: 0.33}   # share of patches centred on a labelled voxel
//   augmentation: {...}           # data/augment.h keys
//   loader: {workers: 2, prefetch: 4}
//   folds: 5
//   seed: 0
//
// Unknown keys are errors that list the valid keys.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "medkd/data/augment.h"
#include "medkd/data/plans.h"

namespace medkd::train {

struct OptimizerConfig {
  std::string type = "adam";  // adam | sgd
  double lr = 1e-3;
  double weight_decay = 1e-4;  // not applied to norms and biases
  double momentum = 0.99;      // sgd
  bool nesterov = true;        // sgd
};

struct ScheduleConfig {
  std::string type = "poly";  // poly | constant
  double exponent = 0.9;
  std::string per = "iteration";  // iteration | epoch
};

struct TrainConfig {
  std::string model_name = "unet";
  YAML::Node model_options = YAML::Node(YAML::NodeType::Map);
  int dims = 3;
  data::PlanOptions plan;
  int64_t epochs = 50;
  int64_t iterations_per_epoch = 50;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  YAML::Node loss = YAML::Load("{type: dice_ce}");
  int patience = 40;
  int64_t validation_every = 1;
  int64_t validation_max_cases = 0;  // 0 = all
  double validation_overlap = 0.5;
  double foreground_fraction = 1.0 / 3.0;  // data/sampler.h
  data::AugmentOptions augmentation;
  int workers = 2;
  int prefetch = 4;
  int folds = 5;
  uint64_t seed = 0;
  std::string source;  // the YAML text it was read from, saved with the run

  // Parses and validates; errors name `file` and the key.
  static TrainConfig from_yaml_text(const std::string& text, const std::string& file);
  static TrainConfig from_file(const std::filesystem::path& path);
};

}  // namespace medkd::train
