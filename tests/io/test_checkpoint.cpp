#include "medkd/io/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "medkd/core/error.h"
#include "test_support.h"

TEST(Checkpoint, RoundTripRestoresWeightsOptimiserAndState) {
  medkd::testing::TempDir dir;
  torch::manual_seed(0);
  torch::nn::Linear model(3, 2);
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-2));
  for (int i = 0; i < 3; ++i) {
    adam.zero_grad();
    model(torch::ones({4, 3})).pow(2).sum().backward();
    adam.step();
  }
  medkd::io::TrainingState state{2, 3, 0.75, 1, medkd::io::capture_torch_rng_state()};
  const float expected_next = torch::rand({1}).item<float>();
  medkd::io::save_checkpoint(dir / "last.pt", *model, &adam, state, {{"model", "linear"}});

  torch::nn::Linear other(3, 2);
  torch::optim::Adam other_adam(other->parameters(), torch::optim::AdamOptions(1e-2));
  const auto loaded = medkd::io::load_checkpoint(dir / "last.pt", *other, &other_adam);
  EXPECT_EQ(loaded.epoch, 2);
  EXPECT_EQ(loaded.step, 3);
  EXPECT_DOUBLE_EQ(loaded.best_metric, 0.75);
  EXPECT_EQ(loaded.checks_since_best, 1);
  EXPECT_TRUE(torch::equal(other->weight, model->weight));
  medkd::io::restore_torch_rng_state(loaded.torch_rng_state);
  EXPECT_EQ(torch::rand({1}).item<float>(), expected_next);
  // One more identical step on both gives identical weights only if the Adam moments came along.
  adam.zero_grad();
  model(torch::ones({4, 3})).pow(2).sum().backward();
  adam.step();
  other_adam.zero_grad();
  other(torch::ones({4, 3})).pow(2).sum().backward();
  other_adam.step();
  EXPECT_TRUE(torch::equal(other->weight, model->weight));
  EXPECT_EQ(medkd::io::read_checkpoint_metadata(dir / "last.pt")["model"], "linear");
}

TEST(Checkpoint, MismatchedArchitecturesAndGarbageAreClearErrors) {
  medkd::testing::TempDir dir;
  torch::nn::Linear model(3, 2);
  medkd::io::save_checkpoint(dir / "a.pt", *model, nullptr, {}, nlohmann::json::object());
  torch::nn::Linear wider(3, 5);
  EXPECT_THROW(medkd::io::load_checkpoint(dir / "a.pt", *wider, nullptr), medkd::Error);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_THROW(medkd::io::load_checkpoint(dir / "a.pt", *model, &sgd), medkd::Error);
  std::ofstream(dir / "junk.pt") << "junk";
  EXPECT_THROW(medkd::io::read_checkpoint_metadata(dir / "junk.pt"), medkd::Error);
  EXPECT_THROW(medkd::io::read_checkpoint_metadata(dir / "none.pt"), medkd::Error);
}
