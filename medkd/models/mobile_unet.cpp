#include "medkd/models/mobile_unet.h"

#include <algorithm>
#include <array>

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/resample.h"

namespace medkd::models {
namespace {

// The paper's Table 2: expansion t, output channels c, repeats n, first stride s.
struct BottleneckSetting {
  int64_t t, c, n, s;
};
constexpr std::array<BottleneckSetting, 7> kInvertedResidualSetting = {{{1, 16, 1, 1},
                                                                        {6, 24, 2, 2},
                                                                        {6, 32, 3, 2},
                                                                        {6, 64, 4, 2},
                                                                        {6, 96, 3, 1},
                                                                        {6, 160, 3, 2},
                                                                        {6, 320, 1, 1}}};
constexpr int64_t kFirstChannels = 32, kLastChannels = 1280;
// Ends of smp's stages in `features`: [0:2], [2:4], [4:7], [7:14], [14:].
constexpr std::array<size_t, 4> kStageEnds = {2, 4, 7, 14};

// A bias-free conv initialised as torchvision's MobileNetV2 (Kaiming normal, fan_out).
nn::Conv conv(int dims, int64_t in, int64_t out, int64_t kernel, int64_t stride = 1,
              int64_t groups = 1) {
  nn::Conv layer(nn::ConvOptions(dims, in, out, {kernel})
                     .stride({stride})
                     .padding({kernel / 2})
                     .groups(groups)
                     .bias(false));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_normal_(layer->weight, 0.0, torch::kFanOut);
  return layer;
}

nn::Norm batch_norm(int64_t channels) {
  return nn::Norm(nn::NormOptions(nn::NormType::kBatch, channels));
}

torch::Tensor upsample_nearest(const torch::Tensor& x) {
  return nn::upsample(x, 2.0, nn::Interpolation::kNearest);
}

}  // namespace

int64_t make_divisible(double value, int64_t divisor) {
  const auto rounded = static_cast<int64_t>(value + divisor / 2.0) / divisor * divisor;
  const int64_t result = std::max(divisor, rounded);
  return result < 0.9 * value ? result + divisor : result;
}

ConvNormReLU6Impl::ConvNormReLU6Impl(int dims, int64_t in, int64_t out, int64_t kernel,
                                     int64_t stride, int64_t groups) {
  conv_ = register_module("0", conv(dims, in, out, kernel, stride, groups));
  norm_ = register_module("1", batch_norm(out));
}

torch::Tensor ConvNormReLU6Impl::forward(const torch::Tensor& x) {
  // In place: batch norm's backward does not need its output.
  torch::Tensor y = norm_->forward(conv_->forward(x));
  torch::hardtanh_(y, 0.0, 6.0);
  return y;
}

InvertedResidualImpl::InvertedResidualImpl(int dims, int64_t in_channels, int64_t out_channels,
                                           int64_t stride, int64_t expand_ratio)
    : residual_(stride == 1 && in_channels == out_channels) {
  const int64_t hidden = in_channels * expand_ratio;
  torch::nn::Sequential layers;
  if (expand_ratio != 1) layers->push_back(ConvNormReLU6(dims, in_channels, hidden, 1));
  layers->push_back(ConvNormReLU6(dims, hidden, hidden, 3, stride, /*groups=*/hidden));
  // The linear bottleneck: no activation after the projection (paper §3.2).
  layers->push_back(conv(dims, hidden, out_channels, 1));
  layers->push_back(batch_norm(out_channels));
  conv_ = register_module("conv", layers);
}

torch::Tensor InvertedResidualImpl::forward(const torch::Tensor& x) {
  return residual_ ? x + conv_->forward(x) : conv_->forward(x);
}

SeparableConvImpl::SeparableConvImpl(int dims, int64_t in_channels, int64_t out_channels) {
  depthwise_ = register_module(
      "depthwise", ConvNormReLU6(dims, in_channels, in_channels, 3, 1, /*groups=*/in_channels));
  pointwise_ = register_module("pointwise", ConvNormReLU6(dims, in_channels, out_channels, 1));
}

torch::Tensor SeparableConvImpl::forward(const torch::Tensor& x) {
  return pointwise_->forward(depthwise_->forward(x));
}

MobileUNetDecoderBlockImpl::MobileUNetDecoderBlockImpl(int dims, int64_t in_channels,
                                                       int64_t skip_channels,
                                                       int64_t out_channels) {
  conv1_ = register_module("conv1", SeparableConv(dims, in_channels + skip_channels, out_channels));
  conv2_ = register_module("conv2", SeparableConv(dims, out_channels, out_channels));
}

torch::Tensor MobileUNetDecoderBlockImpl::forward(torch::Tensor x, const torch::Tensor& skip) {
  x = upsample_nearest(x);                                   // [N, in, *2S]
  if (skip.defined()) x = torch::cat({x, skip}, /*dim=*/1);  // [N, in + skip, *2S]
  return conv2_->forward(conv1_->forward(x));                // [N, out, *2S]
}

MobileUNetImpl::MobileUNetImpl(const MobileUNetOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  const double width = options.width();
  MEDKD_CHECK(width > 0.0, "mobile_unet: width must be > 0, got ", width);
  const auto& decoder_option = options.decoder_channels();
  MEDKD_CHECK(decoder_option.empty() || decoder_option.size() == 5,
              "mobile_unet: decoder_channels needs 5 entries (one per decoder block) or none, got ",
              decoder_option.size());
  for (int64_t c : decoder_option)
    MEDKD_CHECK(c >= 1, "mobile_unet: decoder_channels must be >= 1, got ", c);

  // torchvision's MobileNetV2.__init__, features only.
  features_ = torch::nn::Sequential();
  int64_t in = make_divisible(kFirstChannels * width);
  features_->push_back(ConvNormReLU6(dims, options.in_channels(), in, 3, 2));
  std::vector<int64_t> width_after;  // channels after each entry of features
  width_after.push_back(in);
  for (const auto& setting : kInvertedResidualSetting) {
    const int64_t out = make_divisible(setting.c * width);
    for (int64_t i = 0; i < setting.n; ++i) {
      features_->push_back(InvertedResidual(dims, in, out, i == 0 ? setting.s : 1, setting.t));
      width_after.push_back(out);
      in = out;
    }
  }
  if (options.last_conv()) {
    const int64_t last = make_divisible(kLastChannels * std::max(1.0, width));
    features_->push_back(ConvNormReLU6(dims, in, last, 1));
    width_after.push_back(last);
  }
  register_module("features", features_);
  stage_ends_.assign(kStageEnds.begin(), kStageEnds.end());
  stage_ends_.push_back(features_->size());
  std::vector<int64_t> stage_channels;
  for (size_t end : stage_ends_) stage_channels.push_back(width_after[end - 1]);

  std::vector<int64_t> decoder_channels = decoder_option;
  if (decoder_channels.empty())
    decoder_channels = {stage_channels[3], stage_channels[2], stage_channels[1], stage_channels[0],
                        stage_channels[0]};
  torch::nn::ModuleList blocks;
  in = stage_channels[4];
  for (size_t i = 0; i < 5; ++i) {
    const int64_t skip = i < 4 ? stage_channels[3 - i] : 0;
    blocks_.push_back(MobileUNetDecoderBlock(dims, in, skip, decoder_channels[i]));
    blocks->push_back(blocks_.back());
    in = decoder_channels[i];
  }
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>("Decoder"));
  decoder->register_module("blocks", blocks);
  head_ = nn::Conv(nn::ConvOptions(dims, in, options.num_classes(), {1}));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::kaiming_normal_(head_->weight, 0.0, torch::kFanOut);
    head_->bias.zero_();
  }
  register_module("segmentation_head", torch::nn::Sequential(head_));

  for (size_t s = 0; s < 5; ++s)
    tap_specs_.push_back({str("enc.", s), stage_channels[s], int64_t{2} << s});
  for (size_t i = 0; i < 5; ++i)
    tap_specs_.push_back({str("dec.", i), decoder_channels[i], int64_t{16} >> i});
  tap_specs_.push_back({"logits", options.num_classes(), 1});
}

torch::Tensor MobileUNetImpl::forward(torch::Tensor x) {
  check_input(x, std::vector<int64_t>(spatial_dims(), 32));
  std::vector<torch::Tensor> features;
  size_t next = 0;
  for (size_t s = 0; s < stage_ends_.size(); ++s) {
    for (; next < stage_ends_[s]; ++next) x = (features_->begin() + next)->forward(x);
    tap(str("enc.", s), x);  // [N, c_s, *S / 2^(s+1)]
    features.push_back(x);
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    x = blocks_[i]->forward(x, i < 4 ? features[3 - i] : torch::Tensor());  // [N, d_i, *S/2^(4-i)]
    tap(str("dec.", i), x);
  }
  return head_->forward(x);  // [N, K, *S]
}

std::vector<std::string> mobile_unet_option_keys() {
  return {"width", "last_conv", "decoder_channels"};
}

MobileUNetOptions mobile_unet_options_from_config(const ModelConfig& config) {
  MobileUNetOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("mobile_unet", config.options, mobile_unet_option_keys());
  if (o.has("width")) options.width(o.get<double>("width", "a number"));
  if (o.has("last_conv")) options.last_conv(o.get<bool>("last_conv", "true or false"));
  if (o.has("decoder_channels"))
    options.decoder_channels(
        o.get<std::vector<int64_t>>("decoder_channels", "a list of 5 integers"));
  return options;
}

}  // namespace medkd::models
