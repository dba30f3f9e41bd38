// What a study will cost before it runs (`medkd experiment --dry-run`, and the ETA while it
// runs): each network's size and FLOPs, and the measured time of one training step on this
// machine, from which a run's training time follows (steps = epochs × iterations per epoch).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "medkd/models/segmentation_model.h"

namespace medkd::experiment {

struct NetworkCost {
  double params_millions = 0;
  double gflops = 0;  // one forward pass of one sample of `spatial`
};

// Parameters and FLOPs of `config` on one sample of `spatial` (tensor order [Z, Y, X] or [Y, X]).
NetworkCost network_cost(const models::ModelConfig& config, const std::vector<int64_t>& spatial);

// Seconds of one training step of `config` on a random batch [batch, C, *spatial]: forward,
// a cross-entropy loss, backward and an Adam update, after two warm-up steps; the median of
// `repeats` steps.
double time_training_step(const models::ModelConfig& config, const std::vector<int64_t>& spatial,
                          int64_t batch, torch::Device device, int repeats = 2);

// Seconds of one inference-mode forward pass of `config` on such a batch: what a frozen teacher
// adds to every step of a distillation.
double time_inference(const models::ModelConfig& config, const std::vector<int64_t>& spatial,
                      int64_t batch, torch::Device device, int repeats = 2);

}  // namespace medkd::experiment
