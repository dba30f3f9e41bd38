#include "medkd/models/resnet_unet.h"

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/resample.h"

namespace medkd::models {
namespace {

// smp's Conv2dReLU with batch norm: conv (no bias, the norm follows) -> BN -> ReLU, as a
// Sequential so that the names are .0 and .1. Kaiming-uniform weights (smp's initialize_decoder).
torch::nn::Sequential conv_bn_relu(int dims, int64_t in, int64_t out) {
  nn::Conv conv(nn::ConvOptions(dims, in, out, {3}).padding({1}).bias(false));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_uniform_(conv->weight, 0.0, torch::kFanIn, torch::kReLU);
  }
  return torch::nn::Sequential(conv, nn::Norm(nn::NormOptions(nn::NormType::kBatch, out)),
                               torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)));
}

torch::Tensor upsample_nearest(const torch::Tensor& x) {
  return nn::upsample(x, 2.0, nn::Interpolation::kNearest);
}

}  // namespace

std::vector<int64_t> default_resnet_unet_decoder_channels() { return {256, 128, 64, 32, 16}; }

ResNetUNetDecoderBlockImpl::ResNetUNetDecoderBlockImpl(int dims, int64_t in_channels,
                                                       int64_t skip_channels,
                                                       int64_t out_channels) {
  conv1_ = register_module("conv1", conv_bn_relu(dims, in_channels + skip_channels, out_channels));
  conv2_ = register_module("conv2", conv_bn_relu(dims, out_channels, out_channels));
}

torch::Tensor ResNetUNetDecoderBlockImpl::forward(torch::Tensor x, const torch::Tensor& skip) {
  x = upsample_nearest(x);                                   // [N, in, *2S]
  if (skip.defined()) x = torch::cat({x, skip}, /*dim=*/1);  // [N, in + skip, *2S]
  return conv2_->forward(conv1_->forward(x));                // [N, out, *2S]
}

ResNetUNetImpl::ResNetUNetImpl(const ResNetUNetOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const auto& decoder_channels = options.decoder_channels();
  MEDKD_CHECK(decoder_channels.size() == 5,
              "resnet_unet: decoder_channels needs 5 entries (one per decoder block), got ",
              decoder_channels.size());
  for (int64_t c : decoder_channels)
    MEDKD_CHECK(c >= 1, "resnet_unet: decoder_channels must be >= 1, got ", c);

  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>("ResNetEncoder"));
  encoder_ = std::make_unique<ResNetEncoder>(*encoder, "resnet_unet", dims, options.in_channels(),
                                             options.depth(), options.encoder_channels());
  const auto stage_channels = encoder_->stage_channels();
  const auto stage_strides = ResNetEncoder::stage_strides();

  // smp's UnetDecoder: the first block takes layer4, each later one the previous block's output;
  // block i concatenates the encoder feature 3 - i (layer3, layer2, layer1, stem; none for the
  // last block).
  torch::nn::ModuleList blocks;
  int64_t in = stage_channels[4];
  for (size_t i = 0; i < 5; ++i) {
    const int64_t skip = i < 4 ? stage_channels[3 - i] : 0;
    blocks_.push_back(ResNetUNetDecoderBlock(dims, in, skip, decoder_channels[i]));
    blocks->push_back(blocks_.back());
    in = decoder_channels[i];
  }
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>("UnetDecoder"));
  decoder->register_module("blocks", blocks);

  head_ = nn::Conv(nn::ConvOptions(dims, in, options.num_classes(), {3}).padding({1}));
  {
    torch::NoGradGuard no_grad;  // smp's initialize_head
    torch::nn::init::xavier_uniform_(head_->weight);
    head_->bias.zero_();
  }
  register_module("segmentation_head", torch::nn::Sequential(head_));

  for (size_t s = 0; s < 5; ++s)
    tap_specs_.push_back({str("enc.", s), stage_channels[s], stage_strides[s]});
  for (size_t i = 0; i < 5; ++i)
    tap_specs_.push_back({str("dec.", i), decoder_channels[i], int64_t{16} >> i});
  tap_specs_.push_back({"logits", options.num_classes(), 1});
}

torch::Tensor ResNetUNetImpl::forward(torch::Tensor x) {
  check_input(x, std::vector<int64_t>(spatial_dims(), ResNetEncoder::kTotalStride));
  const auto features = encoder_->forward(x);  // strides 2, 4, 8, 16, 32
  for (size_t s = 0; s < features.size(); ++s) tap(str("enc.", s), features[s]);
  x = features[4];
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = blocks_[i]->forward(x, i < 4 ? features[3 - i] : torch::Tensor());  // [N, d_i, *S/2^(4-i)]
    tap(str("dec.", i), x);
  }
  return head_->forward(x);  // [N, K, *S]
}

std::vector<std::string> resnet_unet_option_keys() {
  return {"depth", "encoder_channels", "decoder_channels"};
}

ResNetUNetOptions resnet_unet_options_from_config(const ModelConfig& config) {
  ResNetUNetOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("resnet_unet", config.options, resnet_unet_option_keys());
  if (o.has("depth")) options.depth(o.get<int64_t>("depth", "18 or 34"));
  if (o.has("encoder_channels"))
    options.encoder_channels(
        o.get<std::vector<int64_t>>("encoder_channels", "a list of 4 integers"));
  if (o.has("decoder_channels"))
    options.decoder_channels(
        o.get<std::vector<int64_t>>("decoder_channels", "a list of 5 integers"));
  return options;
}

}  // namespace medkd::models
