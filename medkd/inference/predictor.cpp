#include "medkd/inference/predictor.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/data/preprocessing.h"
#include "medkd/inference/sliding_window.h"
#include "medkd/io/checkpoint.h"
#include "medkd/io/image_io.h"
#include "medkd/models/registry.h"

namespace medkd::inference {
namespace fs = std::filesystem;

torch::Tensor predict_probabilities(models::SegmentationModelImpl& model,
                                    const torch::Tensor& image, const data::Plan& plan,
                                    const PredictionSettings& settings) {
  MEDKD_CHECK(image.dim() == 4, "predict: expected an image [C, Z, Y, X], got ", image.sizes());
  torch::InferenceMode inference;
  const bool was_training = model.is_training();
  model.eval();
  std::function<torch::Tensor(const torch::Tensor&)> network = [&](const torch::Tensor& x) {
    return torch::softmax(model.forward(x.to(settings.device)), 1).to(torch::kCPU);
  };
  SlidingWindowOptions options;
  options.overlap = settings.overlap;
  options.batch_size = settings.windows_per_batch;
  torch::Tensor probabilities;
  if (plan.dims == 3) {
    options.window = {plan.patch_size[2], plan.patch_size[1], plan.patch_size[0]};  // [Z, Y, X]
    if (settings.mirror) network = with_mirroring(network, {0, 1, 2});
    probabilities = sliding_window(image, network, options);
  } else {
    options.window = {plan.patch_size[1], plan.patch_size[0]};  // [Y, X]
    if (settings.mirror) network = with_mirroring(network, {0, 1});
    std::vector<torch::Tensor> slices;
    for (int64_t z = 0; z < image.size(1); ++z)
      slices.push_back(sliding_window(image.select(1, z), network, options));  // [K, Y, X]
    probabilities = torch::stack(slices, 1);                                   // [K, Z, Y, X]
  }
  if (was_training) model.train();
  return probabilities;
}

LoadedModel load_trained_model(const fs::path& run, torch::Device device) {
  fs::path checkpoint = run;
  if (fs::is_directory(run)) {
    checkpoint = run / "checkpoint_best.pt";
    if (!fs::exists(checkpoint)) checkpoint = run / "checkpoint_last.pt";
    MEDKD_CHECK(
        fs::exists(checkpoint), "--model ", run.string(),
        ": no checkpoint_best.pt or checkpoint_last.pt (is it a medkd train output folder?)");
  }
  const nlohmann::json metadata = io::read_checkpoint_metadata(checkpoint);
  MEDKD_CHECK(metadata.contains("model") && metadata.contains("plan"), checkpoint.string(),
              ": checkpoint has no model config or plan");
  LoadedModel loaded;
  loaded.plan = data::plan_from_json(metadata["plan"], checkpoint.string());
  loaded.model =
      models::default_model_registry().create(models::model_config_from_json(metadata["model"]));
  loaded.state = io::load_checkpoint(checkpoint, *loaded.model, nullptr);
  loaded.model->to(device);
  loaded.model->eval();
  loaded.checkpoint = checkpoint;
  return loaded;
}

std::vector<InputCase> group_input_cases(const std::vector<fs::path>& inputs, int64_t channels) {
  std::vector<fs::path> files;
  for (const fs::path& input : inputs) {
    if (fs::is_directory(input)) {
      for (const auto& entry : fs::directory_iterator(input))
        if (io::is_image_file(entry.path()) && entry.path().filename().string().rfind('.', 0) != 0)
          files.push_back(entry.path());
    } else {
      MEDKD_CHECK(fs::is_regular_file(input), "--input ", input.string(),
                  ": no such file or folder");
      files.push_back(input);
    }
  }
  MEDKD_CHECK(!files.empty(), "--input: no image files found");
  std::sort(files.begin(), files.end());
  std::map<std::string, std::map<int, fs::path>> by_case;
  for (const fs::path& f : files) {
    const std::string stem = io::strip_image_ending(f);
    const bool numbered =
        stem.size() > 5 && stem[stem.size() - 5] == '_' &&
        std::all_of(stem.end() - 4, stem.end(), [](char c) { return std::isdigit(c); });
    if (numbered)
      by_case[stem.substr(0, stem.size() - 5)][std::stoi(stem.substr(stem.size() - 4))] = f;
    else
      by_case[stem][0] = f;
  }
  std::vector<InputCase> cases;
  for (const auto& [id, channel_files] : by_case) {
    InputCase c{id, {}};
    for (int64_t ch = 0; ch < channels; ++ch) {
      const auto it = channel_files.find(int(ch));
      MEDKD_CHECK(it != channel_files.end(), "--input: case ", id, " has no channel ", ch,
                  " file; the model expects ", channels, " channel(s) named {case}_{XXXX}");
      c.channels.push_back(it->second);
    }
    MEDKD_CHECK(int64_t(channel_files.size()) == channels, "--input: case ", id, " has ",
                channel_files.size(), " channel files; the model expects ", channels);
    cases.push_back(std::move(c));
  }
  return cases;
}

int64_t predict_cases(const PredictOptions& options) {
  LoadedModel loaded = load_trained_model(options.model, options.settings.device);
  const data::Plan& plan = loaded.plan;
  const std::vector<InputCase> cases = group_input_cases(options.inputs, plan.num_channels());
  std::error_code ec;
  fs::create_directories(options.output, ec);
  MEDKD_CHECK(!ec, "--output ", options.output.string(), ": cannot create folder (", ec.message(),
              ")");
  core::ProgressBar progress("predict", int64_t(cases.size()),
                             core::ProgressOptions{options.quiet});
  const torch::Tensor label_values = torch::tensor(
      std::vector<int64_t>(plan.label_values.begin(), plan.label_values.end()), torch::kInt64);
  const bool fits_uint8 =
      *std::max_element(plan.label_values.begin(), plan.label_values.end()) < 256;
  for (const InputCase& c : cases) {
    const io::Image image = io::read_channels(c.channels);
    core::Rng rng(0);
    const data::PreprocessedCase preprocessed =
        data::preprocess_case(image, nullptr, plan, c.id, rng);
    const torch::Tensor probabilities =
        predict_probabilities(*loaded.model, preprocessed.image, plan, options.settings);
    const io::Image restored = data::restore_to_original(probabilities, preprocessed);  // [K, ...]
    const torch::Tensor classes = restored.data.argmax(0, true);                        // [1, ...]
    io::Image labels{label_values.index({classes}).to(fits_uint8 ? torch::kUInt8 : torch::kInt16),
                     image.geometry};
    const std::string ending = io::image_file_ending(c.channels[0]);
    io::write_image(labels, options.output / (c.id + ending));
    if (options.save_probabilities) {
      const std::vector<char> bytes = torch::pickle_save(restored.data.contiguous());
      core::write_atomically(options.output / (c.id + ".probabilities.pt"),
                             [&](const fs::path& tmp) {
                               std::ofstream out(tmp, std::ios::binary);
                               out.write(bytes.data(), std::streamsize(bytes.size()));
                               MEDKD_CHECK(out.good(), "cannot write ", tmp.string());
                             });
    }
    progress.advance(1, c.id);
  }
  progress.finish();
  return int64_t(cases.size());
}

}  // namespace medkd::inference
