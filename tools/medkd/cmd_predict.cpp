// `medkd predict`: segments images with a trained model.
#include <iostream>

#include "commands.h"
#include "device_option.h"
#include "medkd/inference/predictor.h"

namespace medkd::cli {

void add_predict_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand("predict", "Segment images with a trained model");
  cmd->footer(
      "Inputs are a folder of {case}_{XXXX} channel files (nnU-Net naming) or files. Each case is "
      "preprocessed with the model's plan, segmented with a sliding window (Gaussian weighting, "
      "overlap 0.5), optionally mirrored (--tta), resampled back and written as {case}{ending} "
      "with exactly the input's geometry.");
  struct Options {
    std::string model, output, device = "cpu";
    std::vector<std::string> inputs;
    bool tta = false, probabilities = false;
    double overlap = 0.5;
    int64_t windows = 2;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--model", o->model, "Run folder from medkd train (or a checkpoint file)")
      ->required();
  cmd->add_option("--input", o->inputs, "Folder(s) or file(s) to segment")->required();
  cmd->add_option("--output", o->output, "Folder for the label maps")->required();
  cmd->add_flag("--tta", o->tta, "Mirroring test-time augmentation (2^dims passes)");
  cmd->add_flag("--save-probabilities", o->probabilities,
                "Also write {case}.probabilities.pt ([K, Z, Y, X] float32, torch.load-able)");
  cmd->add_option("--overlap", o->overlap, "Sliding-window overlap in [0, 1)")
      ->capture_default_str();
  cmd->add_option("--windows-per-batch", o->windows, "Windows per network call")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->callback([o, &global] {
    inference::PredictOptions options;
    options.model = o->model;
    for (const auto& i : o->inputs) options.inputs.emplace_back(i);
    options.output = o->output;
    options.save_probabilities = o->probabilities;
    options.settings.overlap = o->overlap;
    options.settings.windows_per_batch = o->windows;
    options.settings.mirror = o->tta;
    options.settings.device = parse_device(o->device);
    options.threads = global.threads;
    options.quiet = global.quiet;
    MEDKD_CHECK(o->overlap >= 0 && o->overlap < 1, "--overlap must be in [0, 1), got ", o->overlap);
    MEDKD_CHECK(o->windows >= 1, "--windows-per-batch must be >= 1, got ", o->windows);
    const int64_t n = inference::predict_cases(options);
    std::cout << "wrote " << n << " segmentation(s) to " << o->output << '\n';
  });
}

}  // namespace medkd::cli
