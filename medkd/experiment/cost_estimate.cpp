#include "medkd/experiment/cost_estimate.h"

#include <algorithm>
#include <chrono>
#include <functional>

#include "medkd/models/model_summary.h"
#include "medkd/models/registry.h"

namespace medkd::experiment {

namespace {

torch::Tensor random_batch(const models::ModelConfig& config, const std::vector<int64_t>& spatial,
                           int64_t batch, torch::Device device) {
  std::vector<int64_t> shape{batch, config.in_channels};
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  return torch::randn(shape, torch::TensorOptions().device(device));  // [N, C, *spatial]
}

// The median time of `repeats` calls of `step`, after two warm-up calls (allocations, one-off
// kernel choices).
double median_seconds(const std::function<void()>& step, int repeats, torch::Device device) {
  const auto timed = [&] {
    const auto start = std::chrono::steady_clock::now();
    step();
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  timed();
  timed();
  std::vector<double> seconds;
  for (int i = 0; i < std::max(1, repeats); ++i) seconds.push_back(timed());
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace

NetworkCost network_cost(const models::ModelConfig& config, const std::vector<int64_t>& spatial) {
  const auto summary = models::summarize_model(models::default_model_registry(), config, spatial);
  return {double(summary.complexity.params) / 1e6, summary.complexity.flops() / 1e9};
}

double time_training_step(const models::ModelConfig& config, const std::vector<int64_t>& spatial,
                          int64_t batch, torch::Device device, int repeats) {
  torch::manual_seed(0);
  models::SegmentationModel model = models::default_model_registry().create(config);
  model->to(device);
  model->train();
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-4));
  const torch::Tensor input = random_batch(config, spatial, batch, device);
  std::vector<int64_t> shape{batch};
  shape.insert(shape.end(), spatial.begin(), spatial.end());
  const torch::Tensor target = torch::randint(
      0, config.num_classes, shape, torch::TensorOptions().dtype(torch::kLong).device(device));
  return median_seconds(
      [&] {
        optimizer.zero_grad();
        torch::nn::functional::cross_entropy(model->forward(input), target).backward();
        optimizer.step();
      },
      repeats, device);
}

double time_inference(const models::ModelConfig& config, const std::vector<int64_t>& spatial,
                      int64_t batch, torch::Device device, int repeats) {
  torch::manual_seed(0);
  models::SegmentationModel model = models::default_model_registry().create(config);
  model->to(device);
  model->eval();
  const torch::Tensor input = random_batch(config, spatial, batch, device);
  return median_seconds(
      [&] {
        torch::InferenceMode guard;
        model->forward(input);
      },
      repeats, device);
}

}  // namespace medkd::experiment
