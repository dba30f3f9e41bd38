// The contract of SegmentationModelImpl, checked for every registered model, every example
// configuration of its registry entry and every dimensionality it supports (DESIGN.md §4).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "medkd/core/error.h"
#include "medkd/models/registry.h"
#include "medkd/nn/complexity.h"

using medkd::models::ModelConfig;
using medkd::models::SegmentationModel;
using medkd::models::Taps;
using medkd::models::TapSet;

namespace {

constexpr int64_t kBatch = 2, kInChannels = 2, kClasses = 3;

struct ConformanceCase {
  std::string model;
  size_t example = 0;
  int spatial_dims = 2;
  std::string options_yaml;
  int64_t input_size = 16;
};

std::vector<ConformanceCase> all_cases() {
  std::vector<ConformanceCase> cases;
  const auto& zoo = medkd::models::default_model_registry();
  for (const auto& name : zoo.names()) {
    const auto& entry = zoo.entry(name);
    for (size_t i = 0; i < entry.examples.size(); ++i)
      for (int dims : entry.examples[i].spatial_dims)
        if (std::find(entry.spatial_dims.begin(), entry.spatial_dims.end(), dims) !=
            entry.spatial_dims.end())
          cases.push_back(
              {name, i, dims, entry.examples[i].options_yaml, entry.examples[i].input_size});
  }
  return cases;
}

class ModelConformance : public ::testing::TestWithParam<ConformanceCase> {
 protected:
  ModelConfig config() const {
    ModelConfig config;
    config.name = GetParam().model;
    config.spatial_dims = GetParam().spatial_dims;
    config.in_channels = kInChannels;
    config.num_classes = kClasses;
    config.options = YAML::Load(GetParam().options_yaml);
    return config;
  }
  SegmentationModel build() const {
    return medkd::models::default_model_registry().create(config());
  }
  std::vector<int64_t> input_sizes() const {
    std::vector<int64_t> sizes{kBatch, kInChannels};
    for (int axis = 0; axis < GetParam().spatial_dims; ++axis)
      sizes.push_back(GetParam().input_size);
    return sizes;
  }
  torch::Tensor input(uint64_t seed = 1) const {
    torch::manual_seed(seed);
    return torch::randn(input_sizes());
  }
  TapSet all_taps(const SegmentationModel& model) const {
    const auto names = model->tap_names();
    return TapSet(names.begin(), names.end());
  }
};

TEST_P(ModelConformance, RegistryHasAtLeastOneExample) {
  EXPECT_FALSE(GetParam().options_yaml.empty());
}

TEST_P(ModelConformance, OutputsLogitsOfTheInputSize) {
  torch::manual_seed(0);
  auto model = build();
  EXPECT_EQ(model->spatial_dims(), GetParam().spatial_dims);
  EXPECT_EQ(model->in_channels(), kInChannels);
  EXPECT_EQ(model->num_classes(), kClasses);
  EXPECT_EQ(model->name(), GetParam().model);
  auto sizes = input_sizes();
  sizes[1] = kClasses;
  EXPECT_EQ(model->forward(input()).sizes(), sizes);
}

TEST_P(ModelConformance, GradientsReachEveryWeightAndAreFinite) {
  torch::manual_seed(0);
  auto model = build();
  model->train();
  // Every output, deep-supervision heads included, with random weights so no gradient cancels.
  torch::Tensor loss = torch::zeros({});
  for (const auto& output : model->forward_with_deep_supervision(input()))
    loss = loss + (output * torch::randn_like(output)).sum();
  loss.backward();
  for (const auto& item : model->named_parameters()) {
    const auto& grad = item.value().grad();
    ASSERT_TRUE(grad.defined()) << item.key() << " gets no gradient";
    EXPECT_TRUE(torch::isfinite(grad).all().item<bool>()) << item.key();
    // A bias right before a norm is cancelled by the norm; every weight must learn.
    if (item.value().dim() >= 2) {
      EXPECT_GT(grad.abs().sum().item<double>(), 0.0) << item.key() << " has zero gradient";
    }
  }
}

TEST_P(ModelConformance, EveryDeclaredTapHasItsDeclaredChannelsAndStride) {
  torch::manual_seed(0);
  auto model = build();
  const auto specs = model->tap_specs();
  ASSERT_FALSE(specs.empty());
  Taps taps;
  model->forward_with_taps(input(), taps, all_taps(model));
  ASSERT_EQ(taps.size(), specs.size());
  for (const auto& spec : specs) {
    ASSERT_TRUE(taps.count(spec.name)) << spec.name;
    const auto strides = spec.strides(GetParam().spatial_dims);
    ASSERT_EQ(strides.size(), static_cast<size_t>(GetParam().spatial_dims)) << spec.name;
    EXPECT_EQ(spec.stride, *std::max_element(strides.begin(), strides.end())) << spec.name;
    std::vector<int64_t> expected{kBatch, spec.channels};
    for (int64_t stride : strides) expected.push_back(GetParam().input_size / stride);
    EXPECT_EQ(taps.at(spec.name).sizes(), expected) << spec.name;
  }
  for (const char* canonical : {"enc.0", "logits"})
    EXPECT_TRUE(taps.count(canonical)) << "every model declares " << canonical;
  // The aliases resolve in every model.
  EXPECT_NO_THROW(model->resolve_tap("bottleneck"));
  EXPECT_NO_THROW(model->resolve_tap("dec.last"));
  EXPECT_EQ(model->resolve_tap("logits").channels, kClasses);
}

TEST_P(ModelConformance, ForwardAndForwardWithTapsGiveTheSameLogits) {
  torch::manual_seed(0);
  auto model = build();
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = input();
  Taps taps;
  const auto with_taps = model->forward_with_taps(x, taps, all_taps(model));
  const auto plain = model->forward(x);
  EXPECT_TRUE(torch::allclose(plain, with_taps, 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(taps.at("logits"), with_taps));
}

TEST_P(ModelConformance, SavedAndLoadedModelGivesIdenticalOutputs) {
  torch::manual_seed(0);
  auto model = build();
  // One training step first, so that batch-norm running statistics differ from a fresh model.
  model->train();
  model->forward(input(2)).sum().backward();
  model->eval();
  std::stringstream buffer;
  torch::save(model, buffer);

  torch::manual_seed(123);
  auto restored = build();
  torch::load(restored, buffer);
  restored->eval();
  torch::NoGradGuard no_grad;
  const auto x = input();
  EXPECT_TRUE(torch::equal(model->forward(x), restored->forward(x)));
}

TEST_P(ModelConformance, OnlyTheWantedTapsAreRecorded) {
  torch::manual_seed(0);
  auto model = build();
  Taps taps;
  taps["stale"] = torch::zeros({1});  // the caller's other entries stay
  model->forward_with_taps(input(), taps, {"enc.0", "bottleneck", "enc.-1"});
  EXPECT_EQ(taps.size(), 4u);
  EXPECT_TRUE(taps.count("enc.0") && taps.count("bottleneck") && taps.count("enc.-1"));
  EXPECT_TRUE(torch::equal(taps.at("bottleneck"), taps.at("enc.-1")));

  Taps none;
  model->forward_with_taps(input(), none, {});
  EXPECT_TRUE(none.empty());
}

TEST_P(ModelConformance, UnknownTapIsAnErrorListingTheModelsTaps) {
  auto model = build();
  Taps taps;
  try {
    model->forward_with_taps(input(), taps, {"enc.0", "encoder.99"});
    FAIL() << "no error for an unknown tap";
  } catch (const medkd::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'encoder.99'"), std::string::npos) << message;
    for (const auto& name : model->tap_names())
      EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  EXPECT_TRUE(taps.empty());
  // The model is not left recording: a later call works.
  model->forward_with_taps(input(), taps, {"logits"});
  EXPECT_EQ(taps.size(), 1u);
}

std::string case_name(const ::testing::TestParamInfo<ConformanceCase>& info) {
  return info.param.model + "_example" + std::to_string(info.param.example) + "_" +
         std::to_string(info.param.spatial_dims) + "d";
}

TEST_P(ModelConformance, ComplexityCountRunsOnCountedLayersOnlyAndGivesTheOutputShape) {
  SegmentationModel model = build();
  const auto report = medkd::nn::count_complexity(
      *model, input_sizes(), [&](const torch::Tensor& x) { return model->forward(x); });
  EXPECT_GT(report.macs, 0);
  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  EXPECT_EQ(report.params, params);
  // (A heavy op outside medkd/nn/layers.h would have made count_complexity throw.)
  int64_t counted = 0;
  std::set<std::string> seen;
  for (const auto& layer : report.layers)
    if (seen.insert(layer.name).second) counted += layer.params;
  EXPECT_GT(counted, 0);
  EXPECT_LE(counted, params);
  auto expected = input_sizes();
  expected[1] = kClasses;
  EXPECT_EQ(report.output_shape, expected);
}

INSTANTIATE_TEST_SUITE_P(Zoo, ModelConformance, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
