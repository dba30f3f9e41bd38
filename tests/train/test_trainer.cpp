#include "medkd/train/trainer.h"

#include <gtest/gtest.h>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/io/checkpoint.h"
#include "medkd/losses/loss_registry.h"
#include "medkd/models/registry.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::testing::TempDir;

namespace {

const char* kTinyConfig = R"(
model: {name: unet, options: {channels: [4, 8], blocks_per_stage: 1, deep_supervision: true}}
dims: 3
plan: {patch_size: [16, 16, 8], batch_size: 2}
epochs: 2
iterations_per_epoch: 2
optimizer: {type: adam, lr: 1.0e-2}
loss: {type: dice_ce}
validation: {max_cases: 1}
loader: {workers: 2, prefetch: 2}
folds: 2
seed: 3
)";

fs::path tiny_dataset(const TempDir& dir) {
  medkd::data::synth::SynthOptions synth;
  synth.kind = "petct";
  synth.preset = "tiny";
  synth.cases = 4;
  synth.seed = 1;
  synth.quiet = true;
  synth.out = dir / "data";
  medkd::data::synth::write_synth_dataset(synth);
  medkd::core::write_text_file(dir / "config.yaml", kTinyConfig);
  return synth.out;
}

medkd::train::TrainOptions options_for(const TempDir& dir, const std::string& run) {
  medkd::train::TrainOptions o;
  o.dataset = dir / "data";
  o.config = dir / "config.yaml";
  o.out = dir / run;
  o.cache = dir / "cache";
  o.quiet = true;
  return o;
}

// The weights stored in a checkpoint, flattened into one tensor.
torch::Tensor weights_of(const fs::path& checkpoint) {
  const auto metadata = medkd::io::read_checkpoint_metadata(checkpoint);
  auto model = medkd::models::default_model_registry().create(
      medkd::models::model_config_from_json(metadata["model"]));
  medkd::io::load_checkpoint(checkpoint, *model, nullptr);
  std::vector<torch::Tensor> flat;
  for (const auto& p : model->parameters()) flat.push_back(p.detach().flatten());
  return torch::cat(flat);
}

}  // namespace

TEST(Trainer, AResumedRunEndsBitForBitWhereAStraightRunEnds) {
  TempDir dir;
  tiny_dataset(dir);
  const auto straight = medkd::train::train(options_for(dir, "straight"));
  EXPECT_EQ(straight.epochs_completed, 2);

  auto first_half = options_for(dir, "resumed");
  first_half.max_epochs_this_call = 1;
  EXPECT_EQ(medkd::train::train(first_half).epochs_completed, 1);
  auto second_half = options_for(dir, "resumed");
  second_half.resume = true;
  second_half.config.clear();  // the run's own config.yaml is used
  EXPECT_EQ(medkd::train::train(second_half).epochs_completed, 2);

  EXPECT_TRUE(torch::equal(weights_of(dir / "straight/checkpoint_last.pt"),
                           weights_of(dir / "resumed/checkpoint_last.pt")));
  for (const char* file : {"plans.json", "splits.json", "config.yaml", "fingerprint.json",
                           "checkpoint_best.pt", "training_log.csv"})
    EXPECT_TRUE(fs::exists(dir / "resumed" / file)) << file;
  const std::string log = medkd::core::read_text_file(dir / "resumed/training_log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;  // header + 2 epochs
  EXPECT_EQ(log.rfind("epoch,lr,train_loss,val_dice,seconds,data_wait_fraction", 0), 0u);
}

TEST(Trainer, RefusesToOverwriteARunAndNeedsACheckpointToResume) {
  TempDir dir;
  tiny_dataset(dir);
  auto options = options_for(dir, "run");
  options.resume = true;
  EXPECT_THROW(medkd::train::train(options), medkd::Error);
  options.resume = false;
  options.max_epochs_this_call = 1;
  medkd::train::train(options);
  EXPECT_THROW(medkd::train::train(options), medkd::Error);
}

TEST(Trainer, ConfigErrorsNameTheFileAndTheKey) {
  try {
    medkd::train::TrainConfig::from_yaml_text("epochs: 3\nepochz: 4\n", "bad.yaml");
    FAIL();
  } catch (const medkd::Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.yaml"), std::string::npos) << m;
    EXPECT_NE(m.find("epochz"), std::string::npos) << m;
    EXPECT_NE(m.find("iterations_per_epoch"), std::string::npos) << m;  // the valid keys
  }
  EXPECT_THROW(medkd::train::TrainConfig::from_yaml_text("dims: 4\n", "c.yaml"), medkd::Error);
  EXPECT_THROW(medkd::train::TrainConfig::from_yaml_text("optimizer: {type: rmsprop}\n", "c.yaml"),
               medkd::Error);
}

TEST(Trainer, ForegroundFractionIsReadFromSamplingAndChecked) {
  using medkd::train::TrainConfig;
  EXPECT_NEAR(TrainConfig::from_yaml_text("epochs: 1\n", "c.yaml").foreground_fraction, 1.0 / 3,
              1e-12);
  EXPECT_EQ(TrainConfig::from_yaml_text("sampling: {foreground_fraction: 0.5}\n", "c.yaml")
                .foreground_fraction,
            0.5);
  EXPECT_THROW(TrainConfig::from_yaml_text("sampling: {foreground_fraction: 1.5}\n", "c.yaml"),
               medkd::Error);
  EXPECT_THROW(TrainConfig::from_yaml_text("sampling: {fg: 0.5}\n", "c.yaml"), medkd::Error);
}

// Every recipe in configs/models/ parses (a recipe nobody can load is a broken promise).
TEST(Trainer, EveryShippedModelConfigIsValid) {
  const char* source = std::getenv("MEDKD_SOURCE_DIR");  // set by CTest
  ASSERT_NE(source, nullptr) << "run through ctest, or set MEDKD_SOURCE_DIR";
  const fs::path configs = fs::path(source) / "configs/models";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(configs)) {
    const auto config = medkd::train::TrainConfig::from_file(entry.path());
    medkd::models::ModelConfig model;
    model.name = config.model_name;
    model.spatial_dims = config.dims;
    model.in_channels = 2;
    model.num_classes = 3;
    model.options = YAML::Clone(config.model_options);
    EXPECT_NO_THROW(medkd::models::default_model_registry().create(model)) << entry.path();
    EXPECT_NO_THROW(
        medkd::losses::make_segmentation_loss(medkd::losses::loss_config_from_yaml(config.loss)))
        << entry.path();
    ++count;
  }
  EXPECT_GE(count, 3);
}

// A handful of voxels is learnable: the model, loss and optimiser together can overfit.
TEST(Trainer, AUNetOverfitsATinyVolume) {
  torch::manual_seed(0);
  medkd::models::ModelConfig config;
  config.name = "unet";
  config.spatial_dims = 3;
  config.in_channels = 1;
  config.num_classes = 2;
  config.options = YAML::Load("{channels: [8, 16], blocks_per_stage: 1}");
  auto model = medkd::models::default_model_registry().create(config);
  const torch::Tensor image = torch::rand({1, 1, 8, 8, 8});
  const torch::Tensor target = (image > 0.6).to(torch::kInt64);  // [1, 1, 8, 8, 8]
  const auto loss = medkd::losses::make_segmentation_loss(
      medkd::losses::loss_config_from_yaml(YAML::Load("{type: dice_ce}")));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 150; ++step) {
    adam.zero_grad();
    loss(model->forward(image), target).backward();
    adam.step();
  }
  model->eval();
  const torch::Tensor predicted = model->forward(image).argmax(1, true);
  const double tp = ((predicted == 1) & (target == 1)).sum().item<double>();
  const double dice =
      2 * tp / ((predicted == 1).sum().item<double>() + (target == 1).sum().item<double>());
  EXPECT_GT(dice, 0.9);
}
