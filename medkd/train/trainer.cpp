#include "medkd/train/trainer.h"

#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/data/fingerprint.h"
#include "medkd/data/loader.h"
#include "medkd/data/preprocessing.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/checkpoint.h"
#include "medkd/io/dataset.h"
#include "medkd/losses/loss_registry.h"
#include "medkd/models/registry.h"
#include "medkd/train/schedule.h"
#include "medkd/train/splits.h"

namespace medkd::train {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using CaseList = std::vector<std::shared_ptr<const data::PreprocessedCase>>;

// Adam or SGD with weight decay on weights only: norms' scales and biases (the 1-D parameters)
// are not decayed, which would only pull them towards zero without regularising anything.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const OptimizerConfig& config) {
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& p : model.parameters()) (p.dim() > 1 ? decayed : plain).push_back(p);
  if (config.type == "adam") {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(
        decayed, std::make_unique<torch::optim::AdamOptions>(
                     torch::optim::AdamOptions(config.lr).weight_decay(config.weight_decay)));
    groups.emplace_back(
        plain, std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(config.lr)));
    return std::make_unique<torch::optim::Adam>(groups, torch::optim::AdamOptions(config.lr));
  }
  auto sgd = [&](double decay) {
    return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(config.lr)
                                                          .momentum(config.momentum)
                                                          .nesterov(config.nesterov)
                                                          .weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, sgd(config.weight_decay));
  groups.emplace_back(plain, sgd(0.0));
  return std::make_unique<torch::optim::SGD>(groups, *sgd(0.0));
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

// Mean foreground Dice of the model on preprocessed validation cases (argmax at the plan's
// spacing; classes absent from both prediction and label are left out, as in evaluation).
double validation_dice(models::SegmentationModelImpl& model, const CaseList& cases,
                       const data::Plan& plan, const inference::PredictionSettings& settings) {
  double sum = 0;
  int64_t count = 0;
  for (const auto& c : cases) {
    const torch::Tensor predicted =
        inference::predict_probabilities(model, c->image, plan, settings).argmax(0);
    const torch::Tensor truth = c->label[0].to(torch::kInt64);
    for (int64_t k = 1; k < plan.num_classes(); ++k) {
      const torch::Tensor p = predicted == k, g = truth == k;
      const double denominator = (p.sum() + g.sum()).item<double>();
      if (denominator == 0) continue;
      sum += 2.0 * (p & g).sum().item<double>() / denominator;
      ++count;
    }
  }
  return count == 0 ? NAN : sum / double(count);
}

// Keeps the log's rows for epochs up to `epochs` (a resumed run rewrites the rest).
void truncate_log(const fs::path& log, int64_t epochs) {
  if (!fs::exists(log)) return;
  std::istringstream in(core::read_text_file(log));
  std::string line, kept;
  int64_t row = 0;
  while (std::getline(in, line)) {
    if (row++ > epochs) break;
    kept += line + "\n";
  }
  core::write_text_file(log, kept);
}

void append_log(const fs::path& log, const std::string& row) {
  std::string text = fs::exists(log) ? core::read_text_file(log)
                                     : "epoch,lr,train_loss,val_dice,seconds,data_wait_fraction\n";
  core::write_text_file(log, text + row + "\n");
}

}  // namespace

TrainResult train(const TrainOptions& options) {
  const fs::path out = options.out;
  const fs::path last = out / "checkpoint_last.pt";
  if (options.resume) {
    MEDKD_CHECK(fs::exists(last), "--resume: ", last.string(),
                " does not exist (nothing to resume)");
  } else {
    MEDKD_CHECK(!fs::exists(last), "--out ", out.string(),
                " already holds a run (checkpoint_last.pt); use --resume or another --out");
    MEDKD_CHECK(!options.config.empty(), "--config is required");
  }
  const fs::path config_path =
      options.resume && options.config.empty() ? out / "config.yaml" : options.config;
  const TrainConfig config = TrainConfig::from_file(config_path);
  fs::create_directories(out);
  if (!options.resume) core::write_text_file(out / "config.yaml", config.source);

  const io::Dataset dataset = io::open_dataset(options.dataset);
  std::vector<std::string> ids;
  for (const auto& c : dataset.training) ids.push_back(c.id);

  // Model and loss are built before any preprocessing, so a bad config fails in a second.
  models::ModelConfig model_config;
  model_config.name = config.model_name;
  model_config.spatial_dims = config.dims;
  model_config.in_channels = int64_t(dataset.meta.channel_names.size());
  model_config.num_classes = int64_t(dataset.meta.labels.size());
  model_config.options = YAML::Clone(config.model_options);
  torch::manual_seed(config.seed);
  models::SegmentationModel model = models::default_model_registry().create(model_config);
  const losses::SegmentationLoss base_loss =
      losses::make_segmentation_loss(losses::loss_config_from_yaml(config.loss));
  const losses::DeepSupervisionLoss loss(base_loss);

  // Plan: made once per run from the dataset fingerprint, then fixed (resume reuses it).
  data::Plan plan;
  if (options.resume && fs::exists(out / "plans.json")) {
    plan = data::load_plan(out / "plans.json");
  } else {
    data::FingerprintOptions fingerprint_options;
    fingerprint_options.threads = options.threads;
    fingerprint_options.quiet = options.quiet;
    fingerprint_options.seed = config.seed;
    const data::DatasetFingerprint fingerprint =
        data::fingerprint_dataset(dataset, fingerprint_options);
    data::save_fingerprint(fingerprint, out / "fingerprint.json");
    plan = data::make_plan(fingerprint, config.plan);
    data::save_plan(plan, out / "plans.json");
  }

  std::vector<std::string> train_ids = ids, val_ids;
  if (options.fold >= 0) {
    const std::vector<Fold> splits =
        load_or_create_splits(out / "splits.json", ids, config.folds, 12345);
    MEDKD_CHECK(options.fold < int(splits.size()), "--fold ", options.fold, " is out of range (0..",
                splits.size() - 1, ")");
    train_ids = splits[options.fold].train;
    val_ids = splits[options.fold].val;
  }

  data::PreprocessedCache cache(options.cache.empty() ? out / "preprocessed" : options.cache, plan,
                                config.seed);
  cache.preprocess_all(dataset.training, options.threads, core::ProgressOptions{options.quiet});
  std::map<std::string, const io::CaseFiles*> files;
  for (const auto& c : dataset.training) files[c.id] = &c;
  CaseList train_cases, val_cases;
  for (const auto& id : train_ids) train_cases.push_back(cache.get_or_create(*files.at(id)));
  for (const auto& id : val_ids) {
    if (config.validation_max_cases > 0 && int64_t(val_cases.size()) >= config.validation_max_cases)
      break;
    val_cases.push_back(cache.get_or_create(*files.at(id)));
  }

  // The plan may add a background class that dataset.json did not declare.
  if (plan.num_classes() != model_config.num_classes) {
    model_config.num_classes = plan.num_classes();
    torch::manual_seed(config.seed);
    model = models::default_model_registry().create(model_config);
  }
  model->to(options.device);
  auto optimizer = make_optimizer(*model, config.optimizer);
  const nlohmann::json metadata = {{"model", models::model_config_to_json(model_config)},
                                   {"plan", data::plan_to_json(plan)},
                                   {"fold", options.fold},
                                   {"dataset", dataset.meta.name}};

  io::TrainingState state;
  EarlyStopping stopping(config.patience);
  if (options.resume) {
    state = io::load_checkpoint(last, *model, optimizer.get());
    stopping.restore(state.best_metric, state.checks_since_best);
    io::restore_torch_rng_state(state.torch_rng_state);
    truncate_log(out / "training_log.csv", state.epoch);
  }
  const PolySchedule poly{
      config.optimizer.lr, config.schedule.exponent,
      config.schedule.per == "epoch" ? config.epochs : config.epochs * config.iterations_per_epoch};
  auto lr_for = [&](int64_t step, int64_t epoch) {
    if (config.schedule.type == "constant") return config.optimizer.lr;
    return poly.lr_at(config.schedule.per == "epoch" ? epoch : step);
  };

  inference::PredictionSettings validation_settings;
  validation_settings.overlap = config.validation_overlap;
  validation_settings.device = options.device;
  TrainResult result;
  int64_t epochs_this_call = 0;
  const core::Rng epoch_seeds(config.seed);
  while (state.epoch < config.epochs && !stopping.should_stop()) {
    const auto epoch_start = Clock::now();
    // Each epoch has its own loader stream, so a resumed run draws exactly the batches an
    // uninterrupted run would have drawn.
    data::LoaderOptions loader_options;
    loader_options.batch_size = plan.batch_size;
    loader_options.workers = config.workers;
    loader_options.prefetch = config.prefetch;
    loader_options.seed = epoch_seeds.child(uint64_t(state.epoch)).engine()();
    loader_options.sampler.dims = plan.dims;
    loader_options.sampler.patch_size = plan.patch_size;
    loader_options.sampler.foreground_fraction = config.foreground_fraction;
    loader_options.augment = config.augmentation;
    data::DataLoader loader(train_cases, loader_options);

    model->train();
    double loss_sum = 0;
    core::ProgressBar progress(str("epoch ", state.epoch + 1, "/", config.epochs),
                               config.iterations_per_epoch, core::ProgressOptions{options.quiet});
    double lr = 0;
    for (int64_t it = 0; it < config.iterations_per_epoch; ++it) {
      data::Batch batch = loader.next();
      if (it == 0) loader.reset_statistics();  // the first wait includes worker start-up
      lr = lr_for(state.step, state.epoch);
      set_lr(*optimizer, lr);
      optimizer->zero_grad();
      torch::Tensor value;
      {
        const bool autocast = options.amp && options.device.is_cuda();
        if (autocast) {
          at::autocast::set_enabled(true);
          at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
        }
        std::vector<torch::Tensor> outputs =
            model->forward_with_deep_supervision(batch.image.to(options.device));
        for (auto& o : outputs) o = o.to(torch::kFloat32);
        value = loss(outputs, batch.label.to(options.device));
        if (autocast) {
          at::autocast::set_enabled(false);
          at::autocast::clear_cache();
        }
      }
      MEDKD_CHECK(std::isfinite(value.item<double>()), "training diverged: loss is ",
                  value.item<double>(), " at epoch ", state.epoch + 1, " iteration ", it + 1,
                  " (lower optimizer.lr?)");
      value.backward();
      optimizer->step();
      ++state.step;
      loss_sum += value.item<double>();
      std::ostringstream status;
      status << "loss " << std::setprecision(4) << loss_sum / double(it + 1);
      progress.advance(1, status.str());
    }
    progress.finish();
    const double wait_fraction = loader.wait_fraction();
    ++state.epoch;

    double val_dice = NAN;
    if (!val_cases.empty() &&
        (state.epoch % config.validation_every == 0 || state.epoch == config.epochs)) {
      val_dice = validation_dice(*model, val_cases, plan, validation_settings);
      if (stopping.update(val_dice)) {
        state.best_metric = stopping.best();
        state.checks_since_best = 0;
        io::save_checkpoint(out / "checkpoint_best.pt", *model, nullptr, state, metadata);
      }
      state.checks_since_best = stopping.checks_since_best();
    }
    state.torch_rng_state = io::capture_torch_rng_state();
    io::save_checkpoint(last, *model, optimizer.get(), state, metadata);
    const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    std::ostringstream row;
    row << state.epoch << ',' << lr << ',' << loss_sum / double(config.iterations_per_epoch) << ','
        << (std::isnan(val_dice) ? std::string("") : std::to_string(val_dice)) << ',' << seconds
        << ',' << wait_fraction;
    append_log(out / "training_log.csv", row.str());
    if (!options.quiet) {
      std::cerr << "epoch " << state.epoch << ": loss " << std::setprecision(4)
                << loss_sum / double(config.iterations_per_epoch);
      if (!std::isnan(val_dice)) std::cerr << ", validation Dice " << val_dice;
      std::cerr << ", data wait " << std::setprecision(2) << 100 * wait_fraction << "%, "
                << std::setprecision(3) << seconds << " s\n";
    }
    if (options.max_epochs_this_call > 0 && ++epochs_this_call >= options.max_epochs_this_call)
      break;
  }
  result.epochs_completed = state.epoch;
  result.best_val_dice = stopping.best();
  result.stopped_early = stopping.should_stop() && state.epoch < config.epochs;
  // Without validation, the last epoch is the model to use.
  if (val_cases.empty() && state.epoch >= config.epochs)
    io::save_checkpoint(out / "checkpoint_best.pt", *model, nullptr, state, metadata);
  return result;
}

}  // namespace medkd::train
