#include "medkd/train/training_loop.h"

#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/checkpoint.h"
#include "medkd/train/schedule.h"
#include "medkd/train/splits.h"

namespace medkd::train {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

struct Validation {
  double dice = NAN;
  // The share of validation voxels predicted as foreground: 0 while the model still predicts
  // background everywhere, the first thing to look at when a distilled student scores 0.
  double foreground_fraction = NAN;
};

// Mean foreground Dice of the model on preprocessed validation cases (argmax at the plan's
// spacing; classes absent from both prediction and label are left out, as in evaluation).
Validation validate(models::SegmentationModelImpl& model, const CaseList& cases,
                    const data::Plan& plan, const inference::PredictionSettings& settings) {
  double sum = 0;
  int64_t count = 0;
  double foreground = 0, voxels = 0;
  for (const auto& c : cases) {
    const torch::Tensor predicted =
        inference::predict_probabilities(model, c->image, plan, settings).argmax(0);
    foreground += (predicted != 0).sum().item<double>();
    voxels += double(predicted.numel());
    const torch::Tensor truth = c->label[0].to(torch::kInt64);
    for (int64_t k = 1; k < plan.num_classes(); ++k) {
      const torch::Tensor p = predicted == k, g = truth == k;
      const double denominator = (p.sum() + g.sum()).item<double>();
      if (denominator == 0) continue;
      sum += 2.0 * (p & g).sum().item<double>() / denominator;
      ++count;
    }
  }
  Validation v;
  v.dice = count == 0 ? NAN : sum / double(count);
  v.foreground_fraction = voxels > 0 ? foreground / voxels : NAN;
  return v;
}

// A number for a CSV cell; empty for NaN.
std::string cell(double value) {
  if (std::isnan(value)) return "";
  std::ostringstream out;
  out << std::setprecision(6) << value;
  return out.str();
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

void append_log(const fs::path& log, const std::vector<std::string>& term_names,
                const std::vector<std::string>& diagnostic_names, const std::string& row) {
  std::string header = "epoch,lr,train_loss";
  for (const auto& name : term_names) header += "," + name;
  header += ",val_dice,seconds,data_wait_fraction,val_foreground_fraction";
  for (const auto& name : diagnostic_names) header += "," + name;
  header += "\n";
  const std::string text = fs::exists(log) ? core::read_text_file(log) : header;
  core::write_text_file(log, text + row + "\n");
}

// Turns bfloat16 autocast on CUDA on for its lifetime.
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
};

}  // namespace

// Weight decay on weights only: norms' scales and biases (the 1-D parameters) are not decayed,
// which would only pull them towards zero without regularising anything.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& module,
                                                        const OptimizerConfig& config) {
  std::vector<torch::Tensor> decayed, plain;
  for (const auto& p : module.parameters()) (p.dim() > 1 ? decayed : plain).push_back(p);
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

FoldCases prepare_fold_cases(const io::Dataset& dataset, const data::Plan& plan,
                             const TrainConfig& config, const fs::path& out, const fs::path& cache,
                             int fold, int threads, bool quiet) {
  std::vector<std::string> ids;
  for (const auto& c : dataset.training) ids.push_back(c.id);
  std::vector<std::string> train_ids = ids, val_ids;
  if (fold >= 0) {
    const std::vector<Fold> splits =
        load_or_create_splits(out / "splits.json", ids, config.folds, kSplitSeed);
    const Fold& chosen = select_fold(splits, fold);
    train_ids = chosen.train;
    val_ids = chosen.val;
  }

  data::PreprocessedCache preprocessed(cache.empty() ? out / "preprocessed" : cache, plan,
                                       config.seed);
  preprocessed.preprocess_all(dataset.training, threads, core::ProgressOptions{quiet});
  std::map<std::string, const io::CaseFiles*> files;
  for (const auto& c : dataset.training) files[c.id] = &c;
  FoldCases cases;
  for (const auto& id : train_ids) cases.train.push_back(preprocessed.get_or_create(*files.at(id)));
  for (const auto& id : val_ids) {
    if (config.validation_max_cases > 0 && int64_t(cases.val.size()) >= config.validation_max_cases)
      break;
    cases.val.push_back(preprocessed.get_or_create(*files.at(id)));
  }
  return cases;
}

TrainResult run_training_loop(TrainingLoop& loop) {
  const TrainConfig& config = loop.config;
  const TrainOptions& options = loop.options;
  const fs::path& out = loop.out;
  const bool exports_last = loop.state_file != out / "checkpoint_last.pt";
  torch::nn::Module& trained = *loop.trained;
  models::SegmentationModelImpl& model = *loop.model;

  trained.to(options.device);
  auto optimizer = make_optimizer(trained, config.optimizer);
  io::TrainingState state;
  EarlyStopping stopping(config.patience);
  if (options.resume) {
    state = io::load_checkpoint(loop.state_file, trained, optimizer.get());
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
  const size_t terms = loop.term_names.size();
  const size_t diagnostics = loop.diagnostic_names.size();
  const int64_t total_steps = config.epochs * config.iterations_per_epoch;
  // The first validation that saw a foreground voxel, for the one-line notice below.
  bool predicted_foreground = false;
  while (state.epoch < config.epochs && !stopping.should_stop()) {
    const auto epoch_start = Clock::now();
    // Each epoch has its own loader stream, so a resumed run draws exactly the batches an
    // uninterrupted run would have drawn.
    data::LoaderOptions loader_options;
    loader_options.batch_size = loop.plan.batch_size;
    loader_options.workers = config.workers;
    loader_options.prefetch = config.prefetch;
    loader_options.seed = epoch_seeds.child(uint64_t(state.epoch)).engine()();
    loader_options.sampler.dims = loop.plan.dims;
    loader_options.sampler.patch_size = loop.plan.patch_size;
    loader_options.sampler.foreground_fraction = config.foreground_fraction;
    loader_options.augment = config.augmentation;
    data::DataLoader loader(loop.train_cases, loader_options);
    // The unlabelled patches come from a stream of their own, so that the labelled batches are
    // the ones a run without unlabelled images draws.
    std::unique_ptr<data::DataLoader> unlabelled_loader;
    if (!loop.unlabelled_cases.empty() && loop.unlabelled_batch_size > 0) {
      data::LoaderOptions u = loader_options;
      u.batch_size = loop.unlabelled_batch_size;
      u.sampler.foreground_fraction = 0;
      u.seed = epoch_seeds.child(uint64_t(state.epoch)).child(1).engine()();
      unlabelled_loader = std::make_unique<data::DataLoader>(loop.unlabelled_cases, u);
    }

    trained.train();
    double loss_sum = 0;
    std::vector<double> term_sums(terms, 0.0);
    std::vector<double> diagnostic_sums(diagnostics, 0.0);
    std::vector<int64_t> diagnostic_counts(diagnostics, 0);
    core::ProgressBar progress(str("epoch ", state.epoch + 1, "/", config.epochs),
                               config.iterations_per_epoch, core::ProgressOptions{options.quiet});
    double lr = 0;
    for (int64_t it = 0; it < config.iterations_per_epoch; ++it) {
      data::Batch batch = loader.next();
      if (it == 0) loader.reset_statistics();  // the first wait includes worker start-up
      data::Batch unlabelled;
      if (unlabelled_loader) unlabelled = unlabelled_loader->next();
      const StepContext context{state.step, total_steps, unlabelled_loader ? &unlabelled : nullptr};
      lr = lr_for(state.step, state.epoch);
      set_lr(*optimizer, lr);
      optimizer->zero_grad();
      StepLoss loss;
      {
        AutocastScope autocast(options.amp && options.device.is_cuda());
        loss = loop.step(batch, context);
      }
      MEDKD_CHECK(loss.terms.size() == terms, "a training step returned ", loss.terms.size(),
                  " loss terms for ", terms, " log columns");
      const double value = loss.total.item<double>();
      MEDKD_CHECK(std::isfinite(value), "training diverged: loss is ", value, " at epoch ",
                  state.epoch + 1, " iteration ", it + 1, " (lower optimizer.lr?)");
      loss.total.backward();
      optimizer->step();
      ++state.step;
      loss_sum += value;
      for (size_t k = 0; k < terms; ++k) term_sums[k] += loss.terms[k];
      MEDKD_CHECK(loss.diagnostics.empty() || loss.diagnostics.size() == diagnostics,
                  "a training step returned ", loss.diagnostics.size(), " diagnostics for ",
                  diagnostics, " log columns");
      for (size_t k = 0; k < loss.diagnostics.size(); ++k)
        if (!std::isnan(loss.diagnostics[k]))
          diagnostic_sums[k] += loss.diagnostics[k], ++diagnostic_counts[k];
      std::ostringstream status;
      status << "loss " << std::setprecision(4) << loss_sum / double(it + 1);
      progress.advance(1, status.str());
    }
    progress.finish();
    const double wait_fraction = loader.wait_fraction();
    ++state.epoch;

    double val_dice = NAN, val_foreground = NAN;
    if (!loop.val_cases.empty() &&
        (state.epoch % config.validation_every == 0 || state.epoch == config.epochs)) {
      const Validation v = validate(model, loop.val_cases, loop.plan, validation_settings);
      val_dice = v.dice;
      val_foreground = v.foreground_fraction;
      if (stopping.update(val_dice)) {
        state.best_metric = stopping.best();
        state.checks_since_best = 0;
        io::save_checkpoint(out / "checkpoint_best.pt", model, nullptr, state, loop.metadata);
      }
      state.checks_since_best = stopping.checks_since_best();
    }
    state.torch_rng_state = io::capture_torch_rng_state();
    io::save_checkpoint(loop.state_file, trained, optimizer.get(), state, loop.metadata);
    if (exports_last)
      io::save_checkpoint(out / "checkpoint_last.pt", model, nullptr, state, loop.metadata);
    const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
    const double iterations = double(config.iterations_per_epoch);
    std::ostringstream row;
    row << state.epoch << ',' << lr << ',' << loss_sum / iterations;
    for (double sum : term_sums) row << ',' << sum / iterations;
    row << ',' << (std::isnan(val_dice) ? std::string("") : std::to_string(val_dice)) << ','
        << seconds << ',' << wait_fraction << ',' << cell(val_foreground);
    for (size_t k = 0; k < diagnostics; ++k)
      row << ','
          << cell(diagnostic_counts[k] > 0 ? diagnostic_sums[k] / double(diagnostic_counts[k])
                                           : NAN);
    append_log(out / "training_log.csv", loop.term_names, loop.diagnostic_names, row.str());
    if (!options.quiet) {
      std::cerr << "epoch " << state.epoch << ": loss " << std::setprecision(4)
                << loss_sum / iterations;
      for (size_t k = 0; k < terms; ++k)
        std::cerr << ", " << loop.term_names[k] << ' ' << term_sums[k] / iterations;
      if (!std::isnan(val_dice)) std::cerr << ", validation Dice " << val_dice;
      std::cerr << ", data wait " << std::setprecision(2) << 100 * wait_fraction << "%, "
                << std::setprecision(3) << seconds << " s\n";
      if (!predicted_foreground && val_foreground > 0)
        std::cerr << "epoch " << state.epoch
                  << ": the model predicts foreground on validation cases (" << std::setprecision(3)
                  << 100 * val_foreground << "% of voxels)\n";
    }
    if (val_foreground > 0) predicted_foreground = true;
    if (options.max_epochs_this_call > 0 && ++epochs_this_call >= options.max_epochs_this_call)
      break;
  }
  result.epochs_completed = state.epoch;
  result.best_val_dice = stopping.best();
  result.stopped_early = stopping.should_stop() && state.epoch < config.epochs;
  // Without validation, the last epoch is the model to use.
  if (loop.val_cases.empty() && state.epoch >= config.epochs)
    io::save_checkpoint(out / "checkpoint_best.pt", model, nullptr, state, loop.metadata);
  return result;
}

}  // namespace medkd::train
