#include "medkd/models/resnet_encoder.h"

#include "medkd/core/error.h"

namespace medkd::models {
namespace {

// A bias-free conv with "same" padding, initialised as torchvision's ResNet.__init__ does
// (Kaiming normal, fan_out, ReLU gain) rather than with PyTorch's layer default.
nn::Conv resnet_conv(int dims, int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  nn::Conv conv(
      nn::ConvOptions(dims, in, out, {kernel}).stride({stride}).padding({kernel / 2}).bias(false));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
  return conv;
}

nn::Norm batch_norm(int64_t channels) {
  return nn::Norm(nn::NormOptions(nn::NormType::kBatch, channels));
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int dims, int64_t in_channels, int64_t channels, int64_t stride) {
  conv1_ = register_module("conv1", resnet_conv(dims, in_channels, channels, 3, stride));
  bn1_ = register_module("bn1", batch_norm(channels));
  conv2_ = register_module("conv2", resnet_conv(dims, channels, channels, 3, 1));
  bn2_ = register_module("bn2", batch_norm(channels));
  if (stride != 1 || in_channels != channels) {
    downsample_ = register_module(
        "downsample", torch::nn::Sequential(resnet_conv(dims, in_channels, channels, 1, stride),
                                            batch_norm(channels)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  // In-place ReLUs act on batch-norm outputs, which batch norm's backward does not need.
  torch::Tensor out = bn1_->forward(conv1_->forward(x)).relu_();
  out = bn2_->forward(conv2_->forward(out));
  const torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
  return (out + identity).relu_();
}

std::vector<int64_t> default_resnet_channels() { return {64, 128, 256, 512}; }

std::vector<int64_t> resnet_blocks_per_layer(int64_t depth, const std::string& model) {
  if (depth == 18) return {2, 2, 2, 2};
  if (depth == 34) return {3, 4, 6, 3};
  throw Error(str(model, ": depth must be 18 or 34 (basic-block ResNets), got ", depth));
}

ResNetEncoder::ResNetEncoder(torch::nn::Module& owner, const std::string& model, int spatial_dims,
                             int64_t in_channels, int64_t depth,
                             const std::vector<int64_t>& channels)
    : channels_(channels) {
  const auto blocks = resnet_blocks_per_layer(depth, model);
  MEDKD_CHECK(channels.size() == 4, model,
              ": encoder_channels needs 4 entries (layer1 … layer4), got ", channels.size());
  for (int64_t c : channels) MEDKD_CHECK(c >= 1, model, ": encoder_channels must be >= 1, got ", c);

  conv1_ =
      owner.register_module("conv1", resnet_conv(spatial_dims, in_channels, channels[0], 7, 2));
  bn1_ = owner.register_module("bn1", batch_norm(channels[0]));
  int64_t in = channels[0];
  for (size_t layer = 0; layer < 4; ++layer) {
    // torchvision's _make_layer: the first block of layer2 … layer4 halves the resolution.
    const int64_t stride = layer == 0 ? 1 : 2;
    torch::nn::Sequential blocks_of_layer;
    for (int64_t b = 0; b < blocks[layer]; ++b) {
      blocks_of_layer->push_back(
          BasicBlock(spatial_dims, in, channels[layer], b == 0 ? stride : 1));
      in = channels[layer];
    }
    layers_.push_back(owner.register_module(str("layer", layer + 1), blocks_of_layer));
  }
}

std::vector<torch::Tensor> ResNetEncoder::forward(torch::Tensor x) {
  std::vector<torch::Tensor> stages;
  x = bn1_->forward(conv1_->forward(x)).relu_();  // [N, c0, *S/2]
  stages.push_back(x);
  x = nn::max_pool(x, {3}, {2}, {1});  // [N, c0, *S/4]
  for (auto& layer : layers_) {
    x = layer->forward(x);  // [N, c_l, *S/2^(l+2)]
    stages.push_back(x);
  }
  return stages;
}

std::vector<int64_t> ResNetEncoder::stage_channels() const {
  return {channels_[0], channels_[0], channels_[1], channels_[2], channels_[3]};
}

}  // namespace medkd::models
