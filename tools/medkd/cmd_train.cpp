// `medkd train`: trains one model on one fold of a dataset.
#include <iostream>

#include "commands.h"
#include "device_option.h"
#include "medkd/train/trainer.h"

namespace medkd::cli {

void add_train_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand("train", "Train a segmentation model on a dataset");
  cmd->footer(
      "Plans preprocessing from the dataset's fingerprint (plans.json), caches preprocessed cases, "
      "trains with the config's model, loss, optimiser and augmentation, validates every epoch on "
      "the fold's validation cases, and writes checkpoint_last.pt / checkpoint_best.pt and "
      "training_log.csv to --out. Config keys: docs/training.md; examples: configs/models/.");
  struct Options {
    std::string dataset, config, out, cache, device = "cpu";
    int fold = 0;
    bool resume = false, amp = false;
    int64_t max_epochs = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--dataset", o->dataset, "Dataset folder (nnU-Net v2 raw layout)")->required();
  cmd->add_option("--config", o->config, "Training recipe (YAML); optional with --resume");
  cmd->add_option("--out", o->out, "Run folder to create (or continue with --resume)")->required();
  cmd->add_option("--fold", o->fold,
                  "Cross-validation fold to train (-1: all cases, no validation)")
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its last checkpoint");
  cmd->add_option("--cache", o->cache, "Folder for preprocessed cases (default: OUT/preprocessed)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--amp", o->amp, "Mixed precision (bfloat16 autocast) on CUDA");
  cmd->add_option(
      "--max-epochs", o->max_epochs,
      "Stop after this many epochs in this call (checkpoint written; continue with --resume)");
  cmd->callback([o, &global] {
    train::TrainOptions options;
    options.dataset = o->dataset;
    options.config = o->config;
    options.out = o->out;
    options.cache = o->cache;
    options.fold = o->fold;
    options.resume = o->resume;
    options.device = parse_device(o->device);
    options.amp = o->amp;
    options.threads = global.threads;
    options.quiet = global.quiet;
    options.max_epochs_this_call = o->max_epochs;
    const train::TrainResult result = train::train(options);
    std::cout << "trained " << result.epochs_completed << " epoch(s)";
    if (result.best_val_dice > -1e299)
      std::cout << ", best validation Dice " << result.best_val_dice;
    if (result.stopped_early) std::cout << " (stopped early)";
    std::cout << "; model in " << o->out << '\n';
  });
}

}  // namespace medkd::cli
