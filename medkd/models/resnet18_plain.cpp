#include "medkd/models/resnet18_plain.h"

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/resample.h"

namespace medkd::models {
namespace {

// Bilinear (2-D) or trilinear (3-D) resampling to `size` with align_corners=True, as the HLFD
// student's F.interpolate(..., mode='bilinear', align_corners=True).
torch::Tensor upsample_to(const torch::Tensor& x, const std::vector<int64_t>& size) {
  return nn::resize(x, size, nn::Interpolation::kLinear, /*align_corners=*/true);
}

}  // namespace

ResNet18PlainImpl::ResNet18PlainImpl(const ResNet18PlainOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const int dims = options.spatial_dims();
  encoder_ = std::make_unique<ResNetEncoder>(*this, "resnet18_plain", dims, options.in_channels(),
                                             /*depth=*/18, options.encoder_channels());
  const auto channels = encoder_->stage_channels();
  // nn.Conv2d(512, num_classes, kernel_size=1): PyTorch's default initialisation, with bias.
  last_conv_ = register_module(
      "last_conv", nn::Conv(nn::ConvOptions(dims, channels[4], options.num_classes(), {1})));

  const auto strides = ResNetEncoder::stage_strides();
  for (size_t s = 0; s < 5; ++s) tap_specs_.push_back({str("enc.", s), channels[s], strides[s]});
  // s_d5 = up(s_e4), s_d4 = up(s_e3), s_d3 = up(s_e2), s_d2 = up(s_e1): enc.3 … enc.0.
  for (size_t i = 0; i < 4; ++i) tap_specs_.push_back({str("dec.", i), channels[3 - i], 1});
  tap_specs_.push_back({"logits", options.num_classes(), 1});
}

torch::Tensor ResNet18PlainImpl::forward(torch::Tensor x) {
  check_input(x, std::vector<int64_t>(spatial_dims(), ResNetEncoder::kTotalStride));
  const std::vector<int64_t> input_size(x.sizes().begin() + 2, x.sizes().end());
  const auto features = encoder_->forward(x);  // strides 2, 4, 8, 16, 32
  for (size_t s = 0; s < features.size(); ++s) tap(str("enc.", s), features[s]);
  for (size_t i = 0; i < 4; ++i) {
    // Full-resolution copies of wide feature maps are costly: made only when a loss asks.
    const std::string name = str("dec.", i);
    if (tap_wanted(name)) tap(name, upsample_to(features[3 - i], input_size));  // [N, c, *S]
  }
  return upsample_to(last_conv_->forward(features[4]), input_size);  // [N, K, *S]
}

std::vector<std::string> resnet18_plain_option_keys() { return {"encoder_channels"}; }

ResNet18PlainOptions resnet18_plain_options_from_config(const ModelConfig& config) {
  ResNet18PlainOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  const ModelOptionReader o("resnet18_plain", config.options, resnet18_plain_option_keys());
  if (o.has("encoder_channels"))
    options.encoder_channels(
        o.get<std::vector<int64_t>>("encoder_channels", "a list of 4 integers"));
  return options;
}

}  // namespace medkd::models
