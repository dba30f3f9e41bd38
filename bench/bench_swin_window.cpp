// Speed of Swin UNETR with MONAI's 7-token windows and with windows that divide the feature maps.
//
// On 32³ patches the stage maps are 16³, 8³, 4³ and 2³. Windows of 7 pad the first two to 21³ and
// 14³, and the padded tokens cost attention like real ones; windows of 4 pad nothing. The network
// is the PET/CT study's teacher (feature_size 32, heads 2, 4, 8, 16; 2 channels, 3 classes,
// batch 2). Rounds alternate the two windows; the figures are medians and their ratios: a training
// step (forward, cross-entropy, backward, Adam, as `medkd experiment` times it) and a forward pass
// in inference mode (what a frozen teacher costs a distillation step).
//
// Usage: bench_swin_window [--rounds N] [--steps N]   (prints JSON)

#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_options.h"
#include "medkd/core/allocator.h"
#include "medkd/core/threads.h"
#include "medkd/experiment/cost_estimate.h"
#include "medkd/models/registry.h"

namespace {

medkd::models::ModelConfig swin(int window) {
  medkd::models::ModelConfig config;
  config.name = "swin_unetr";
  config.spatial_dims = 3;
  config.in_channels = 2;
  config.num_classes = 3;
  config.options = YAML::Load("{feature_size: 32, num_heads: [2, 4, 8, 16], window_size: " +
                              std::to_string(window) + "}");
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    medkd::core::tune_allocator();
    medkd::core::set_num_threads(0);
    const auto [rounds, steps] = parse_rounds_and_steps(argc, argv);
    const std::vector<int64_t> patch{32, 32, 32};
    const int windows[] = {7, 4};
    std::vector<double> train[2], forward[2];
    for (int r = 0; r < rounds; ++r)
      for (int w = 0; w < 2; ++w) {
        train[w].push_back(
            medkd::experiment::time_training_step(swin(windows[w]), patch, 2, torch::kCPU, steps));
        forward[w].push_back(
            medkd::experiment::time_inference(swin(windows[w]), patch, 2, torch::kCPU, steps));
      }
    nlohmann::json out;
    out["threads"] = medkd::core::num_threads();
    out["rounds"] = rounds;
    out["steps_per_round"] = steps;
    for (int w = 0; w < 2; ++w)
      out["window_" + std::to_string(windows[w])] = {{"train_s_per_step", median(train[w])},
                                                     {"forward_s", median(forward[w])}};
    out["train_speedup"] = median(train[0]) / median(train[1]);
    out["forward_speedup"] = median(forward[0]) / median(forward[1]);
    std::cout << out.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_swin_window: " << e.what() << "\n";
    return 1;
  }
}
