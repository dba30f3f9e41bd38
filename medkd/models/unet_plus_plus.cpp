#include "medkd/models/unet_plus_plus.h"

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/resample.h"

namespace medkd::models {
namespace {

// The reference's nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True); trilinear in
// 3-D.
torch::Tensor upsample(const torch::Tensor& x) {
  return nn::upsample(x, 2.0, nn::Interpolation::kLinear, /*align_corners=*/true);
}

nn::Conv conv3(int dims, int64_t in, int64_t out) {
  return nn::Conv(nn::ConvOptions(dims, in, out, {3}).padding({1}));  // bias, as nn.Conv2d
}

nn::Norm batch_norm(int64_t channels) {
  return nn::Norm(nn::NormOptions(nn::NormType::kBatch, channels));
}

}  // namespace

std::vector<int64_t> default_unet_plus_plus_filters() { return {64, 128, 256, 512, 1024}; }

VGGBlockImpl::VGGBlockImpl(int dims, int64_t in_channels, int64_t middle_channels,
                           int64_t out_channels) {
  conv1_ = register_module("conv1", conv3(dims, in_channels, middle_channels));
  bn1_ = register_module("bn1", batch_norm(middle_channels));
  conv2_ = register_module("conv2", conv3(dims, middle_channels, out_channels));
  bn2_ = register_module("bn2", batch_norm(out_channels));
}

torch::Tensor VGGBlockImpl::forward(const torch::Tensor& x) {
  // In place: batch norm's backward does not need its output.
  const torch::Tensor mid = bn1_->forward(conv1_->forward(x)).relu_();
  return bn2_->forward(conv2_->forward(mid)).relu_();
}

UNetPlusPlusImpl::UNetPlusPlusImpl(const UNetPlusPlusOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const auto& filters = options.filters();
  const size_t levels = filters.size();
  MEDKD_CHECK(levels >= 2, "unet_plus_plus: filters needs at least 2 levels, got ", levels);
  for (int64_t f : filters) MEDKD_CHECK(f >= 1, "unet_plus_plus: filters must be >= 1, got ", f);

  // Registered in the reference's order: the backbone, then column by column.
  for (size_t i = 0; i < levels; ++i) {
    const int64_t in = i == 0 ? options.in_channels() : filters[i - 1];
    nodes_.emplace(
        std::make_pair(i, size_t{0}),
        register_module(str("conv", i, "_0"), VGGBlock(dims, in, filters[i], filters[i])));
  }
  for (size_t j = 1; j < levels; ++j) {
    for (size_t i = 0; i + j < levels; ++i) {
      // j same-level predecessors and one upsampled node from the level below (Eq. 1).
      const int64_t in = static_cast<int64_t>(j) * filters[i] + filters[i + 1];
      nodes_.emplace(
          std::make_pair(i, j),
          register_module(str("conv", i, "_", j), VGGBlock(dims, in, filters[i], filters[i])));
    }
  }
  const auto head = [&] {
    return nn::Conv(nn::ConvOptions(dims, filters[0], options.num_classes(), {1}));
  };
  if (options.deep_supervision()) {
    for (size_t j = 1; j < levels; ++j) heads_.push_back(register_module(str("final", j), head()));
  } else {
    heads_.push_back(register_module("final", head()));
  }

  for (size_t i = 0; i < levels; ++i)
    tap_specs_.push_back({str("enc.", i), filters[i], int64_t{1} << i});
  for (size_t k = 0; k + 1 < levels; ++k) {
    const size_t level = levels - 2 - k;
    tap_specs_.push_back({str("dec.", k), filters[level], int64_t{1} << level});
  }
  for (size_t j = 1; j < levels; ++j)
    for (size_t i = 0; i + j + 1 < levels; ++i)
      tap_specs_.push_back({node_tap(i, j), filters[i], int64_t{1} << i});
  tap_specs_.push_back({"logits", options.num_classes(), 1});
  if (options.deep_supervision())
    for (size_t m = 1; m + 1 < levels; ++m)
      tap_specs_.push_back({str("ds.", m), options.num_classes(), 1});
}

std::string UNetPlusPlusImpl::node_tap(size_t level, size_t column) const {
  const size_t levels = options.filters().size();
  if (column == 0) return str("enc.", level);
  if (level + column + 1 == levels) return str("dec.", column - 1);
  return str("x", level, "_", column);
}

torch::Tensor UNetPlusPlusImpl::forward(torch::Tensor x) {
  const size_t levels = options.filters().size();
  check_input(x, std::vector<int64_t>(spatial_dims(), int64_t{1} << (levels - 1)));
  // node[i][j] = X(i, j), [N, filters[i], *S / 2^i]
  std::vector<std::vector<torch::Tensor>> node(levels);
  // As the reference: each new backbone level is followed by the nodes of the diagonal it
  // completes, X(i-1, 1), X(i-2, 2), …, X(0, i).
  for (size_t depth = 0; depth < levels; ++depth) {
    const torch::Tensor below = depth == 0 ? x : nn::max_pool(node[depth - 1][0], {2}, {2});
    node[depth].push_back(nodes_.at({depth, 0})->forward(below));
    tap(node_tap(depth, 0), node[depth][0]);
    for (size_t j = 1; j <= depth; ++j) {
      const size_t i = depth - j;
      std::vector<torch::Tensor> inputs(node[i].begin(), node[i].begin() + j);
      inputs.push_back(upsample(node[i + 1][j - 1]));
      node[i].push_back(nodes_.at({i, j})->forward(torch::cat(inputs, /*dim=*/1)));
      tap(node_tap(i, j), node[i][j]);
    }
  }
  if (options.deep_supervision()) {
    for (size_t m = 1; m + 1 < levels; ++m) {
      const std::string name = str("ds.", m);
      if (tap_wanted(name)) tap(name, heads_[levels - 2 - m]->forward(node[0][levels - 1 - m]));
    }
  }
  return heads_.back()->forward(node[0][levels - 1]);  // [N, K, *S]
}

std::vector<std::string> unet_plus_plus_option_keys() { return {"filters", "deep_supervision"}; }

UNetPlusPlusOptions unet_plus_plus_options_from_config(const ModelConfig& config) {
  UNetPlusPlusOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("unet_plus_plus", config.options, unet_plus_plus_option_keys());
  if (o.has("filters"))
    options.filters(o.get<std::vector<int64_t>>("filters", "a list of integers"));
  if (o.has("deep_supervision"))
    options.deep_supervision(o.get<bool>("deep_supervision", "true or false"));
  return options;
}

}  // namespace medkd::models
