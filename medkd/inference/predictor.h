// Whole-image prediction with a trained model: plan-driven preprocessing, sliding window,
// optional mirroring TTA, and the way back to the input's grid (`medkd predict`, and the
// trainer's validation, which runs on preprocessed cases).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "medkd/data/plans.h"
#include "medkd/data/preprocessed_case.h"
#include "medkd/io/checkpoint.h"
#include "medkd/models/segmentation_model.h"

namespace medkd::inference {

struct PredictionSettings {
  double overlap = 0.5;
  int64_t windows_per_batch = 2;
  bool mirror = false;  // test-time augmentation over every spatial axis
  torch::Device device = torch::kCPU;
};

// Class probabilities [K, Z, Y, X] of a preprocessed image [C, Z, Y, X]. 3-D plans slide a
// patch-sized window over the volume; 2-D plans segment every axial slice with an in-plane window.
torch::Tensor predict_probabilities(models::SegmentationModelImpl& model,
                                    const torch::Tensor& image, const data::Plan& plan,
                                    const PredictionSettings& settings);

// A trained run: its model, plan and the checkpoint it came from.
struct LoadedModel {
  models::SegmentationModel model{nullptr};
  data::Plan plan;
  std::filesystem::path checkpoint;
  io::TrainingState state;  // as the checkpoint stored it (best_metric: its validation Dice)
};

// Loads RUN/checkpoint_best.pt (else checkpoint_last.pt), or a checkpoint file given directly.
LoadedModel load_trained_model(const std::filesystem::path& run, torch::Device device);

struct PredictOptions {
  std::filesystem::path model;                // run folder or checkpoint file
  std::vector<std::filesystem::path> inputs;  // a folder of {case}_{XXXX} files, or files
  std::filesystem::path output;
  bool save_probabilities = false;
  PredictionSettings settings;
  int threads = 0;
  bool quiet = false;
};

// One input case: its id and its channel files in channel order.
struct InputCase {
  std::string id;
  std::vector<std::filesystem::path> channels;
};
// Groups inputs into cases: "{case}_{XXXX}{ending}" files by case; other files are one-channel
// cases of their own. A case without exactly `channels` files is a medkd::Error naming it.
std::vector<InputCase> group_input_cases(const std::vector<std::filesystem::path>& inputs,
                                         int64_t channels);

// Segments every case and writes {output}/{case}{ending} label maps with the input's geometry
// (and {case}.probabilities.pt when asked). Returns the number of cases written.
int64_t predict_cases(const PredictOptions& options);

}  // namespace medkd::inference
