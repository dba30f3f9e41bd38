#include "medkd/train/trainer.h"

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/data/fingerprint.h"
#include "medkd/data/preprocessing.h"
#include "medkd/io/dataset.h"
#include "medkd/losses/loss_registry.h"
#include "medkd/models/registry.h"
#include "medkd/train/training_loop.h"

namespace medkd::train {
namespace fs = std::filesystem;

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
  FoldCases cases = prepare_fold_cases(dataset, plan, config, out, options.cache, options.fold,
                                       options.threads, options.quiet);

  // The plan may add a background class that dataset.json did not declare.
  if (plan.num_classes() != model_config.num_classes) {
    model_config.num_classes = plan.num_classes();
    torch::manual_seed(config.seed);
    model = models::default_model_registry().create(model_config);
  }

  TrainingLoop loop;
  loop.config = config;
  loop.plan = plan;
  loop.train_cases = std::move(cases.train);
  loop.val_cases = std::move(cases.val);
  loop.model = model;
  loop.trained = model.ptr();
  loop.state_file = last;
  loop.step = [&](const data::Batch& batch, const StepContext&) {
    std::vector<torch::Tensor> outputs =
        model->forward_with_deep_supervision(batch.image.to(options.device));
    for (auto& o : outputs) o = o.to(torch::kFloat32);
    return StepLoss{loss(outputs, batch.label.to(options.device)), {}};
  };
  loop.out = out;
  loop.metadata = {{"model", models::model_config_to_json(model_config)},
                   {"plan", data::plan_to_json(plan)},
                   {"fold", options.fold},
                   {"dataset", dataset.meta.name}};
  loop.options = options;
  return run_training_loop(loop);
}

}  // namespace medkd::train
