// Speed of a training step with glibc's default allocator and with medkd::core::tune_allocator().
//
// The allocator is a process-wide setting fixed at start-up, so each measurement runs in a child
// process (this program again, with --child); the parent alternates the two settings, round after
// round, and reports the medians and their ratio. Networks: the PET/CT study's Swin UNETR and
// H-DenseFormer (2 channels, 3 classes, batch 2 of 32³ patches) and a 2-D U-Net.
//
// Usage: bench_allocator [--rounds N] [--steps N]   (prints JSON)

#include <algorithm>
#include <cstdio>
#include <cstring>
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

struct Network {
  const char* name;
  const char* model;
  const char* options;
  std::vector<int64_t> input;  // N, C, spatial...
};

const std::vector<Network>& networks() {
  static const std::vector<Network> list = {
      {"swin_unetr",
       "swin_unetr",
       "{feature_size: 32, num_heads: [2, 4, 8, 16]}",
       {2, 2, 32, 32, 32}},
      {"h_denseformer", "h_denseformer", "{image_size: 32}", {2, 2, 32, 32, 32}},
      {"unet_2d", "unet", "{channels: [32, 64, 128, 256, 512]}", {8, 3, 64, 64}},
  };
  return list;
}

// Seconds of one training step (forward, cross-entropy, backward, Adam), as `medkd experiment`
// times it: the median over `steps` steps after two warm-ups.
double time_steps(const Network& network, int steps) {
  medkd::models::ModelConfig config;
  config.name = network.model;
  config.spatial_dims = int(network.input.size()) - 2;
  config.in_channels = network.input[1];
  config.num_classes = 3;
  config.options = YAML::Load(network.options);
  const std::vector<int64_t> spatial(network.input.begin() + 2, network.input.end());
  return medkd::experiment::time_training_step(config, spatial, network.input[0], torch::kCPU,
                                               steps);
}

// Runs this program as a child with the given setting; returns its median step time.
double measure_in_child(const char* self, const std::string& network, bool tuned, int steps) {
  const std::string command = std::string(self) + " --child " + network +
                              (tuned ? " tuned " : " default ") + std::to_string(steps);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  double seconds = -1;
  if (std::fscanf(pipe, "%lf", &seconds) != 1) seconds = -1;
  if (pclose(pipe) != 0 || seconds < 0) throw std::runtime_error("child failed: " + command);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    medkd::core::set_num_threads(0);
    if (argc == 5 && std::strcmp(argv[1], "--child") == 0) {
      if (std::strcmp(argv[3], "tuned") == 0 && !medkd::core::tune_allocator())
        throw std::runtime_error("tune_allocator() had no effect (MALLOC_TOP_PAD_ set?)");
      for (const auto& network : networks())
        if (network.name == std::string(argv[2])) {
          std::printf("%.6f\n", time_steps(network, std::stoi(argv[4])));
          return 0;
        }
      throw std::runtime_error(std::string("unknown network ") + argv[2]);
    }
    const auto [rounds, steps] = parse_rounds_and_steps(argc, argv);
    nlohmann::json out;
    out["threads"] = medkd::core::num_threads();
    out["rounds"] = rounds;
    out["steps_per_round"] = steps;
    for (const auto& network : networks()) {
      std::vector<double> plain, tuned;
      for (int r = 0; r < rounds; ++r) {
        plain.push_back(measure_in_child(argv[0], network.name, false, steps));
        tuned.push_back(measure_in_child(argv[0], network.name, true, steps));
      }
      const double p = median(plain), t = median(tuned);
      out["networks"][network.name] = {
          {"default_s_per_step", p}, {"tuned_s_per_step", t}, {"speedup", p / t}};
      std::cerr << network.name << ": default " << p << " s/step, tuned " << t << " s/step, "
                << p / t << "x\n";
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_allocator: " << e.what() << "\n";
    return 1;
  }
}
