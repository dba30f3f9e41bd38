#include "medkd/models/ux_net.h"

#include "medkd/core/error.h"
#include "medkd/models/model_options.h"
#include "medkd/nn/layers.h"
#include "medkd/nn/unetr_blocks.h"

namespace medkd::models {
namespace {

// The reference's channels-first LayerNorm (eps 1e-6), also what its ux_block computes with a
// channels-last LayerNorm between two permutes.
nn::Norm channel_layer_norm(int64_t channels) {
  return nn::Norm(nn::NormOptions(nn::NormType::kLayerChannels, channels).eps(1e-6));
}

// ux_block: [N, dim, *S] -> [N, dim, *S].
class UxBlockImpl : public torch::nn::Module {
 public:
  UxBlockImpl(int dims, int64_t dim, int64_t kernel_size, double layer_scale_init_value)
      : dwconv_(
            nn::ConvOptions(dims, dim, dim, {kernel_size}).padding({kernel_size / 2}).groups(dim)),
        norm_(channel_layer_norm(dim)),
        pwconv1_(nn::ConvOptions(dims, dim, 4 * dim, {1}).groups(dim)),
        pwconv2_(nn::ConvOptions(dims, 4 * dim, dim, {1}).groups(dim)) {
    register_module("dwconv", dwconv_);
    register_module("norm", norm_);
    register_module("pwconv1", pwconv1_);
    register_module("pwconv2", pwconv2_);
    if (layer_scale_init_value > 0)
      gamma_ = register_parameter("gamma", torch::full({dim}, layer_scale_init_value));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = pwconv2_(torch::gelu(pwconv1_(norm_(dwconv_(x)))));
    if (gamma_.defined()) {
      std::vector<int64_t> shape(x.dim(), 1);
      shape[1] = gamma_.size(0);
      y = y * gamma_.view(shape);  // per channel
    }
    return x + y;
  }

 private:
  nn::Conv dwconv_;
  nn::Norm norm_;
  nn::Conv pwconv1_, pwconv2_;
  torch::Tensor gamma_;
};
TORCH_MODULE(UxBlock);

}  // namespace

std::vector<int64_t> default_ux_net_depths() { return {2, 2, 2, 2}; }
std::vector<int64_t> default_ux_net_feat_size() { return {48, 96, 192, 384}; }

UXNetImpl::UXNetImpl(const UXNetOptions& options_)
    : SegmentationModelImpl(options_.spatial_dims(), options_.in_channels(),
                            options_.num_classes()),
      options(options_) {
  const auto& o = options;
  const int dims = o.spatial_dims();
  const auto& fs = o.feat_size();
  const auto& depths = o.depths();
  // The reference's encoder has exactly four stages and three downsampling layers.
  MEDKD_CHECK(fs.size() == 4, "ux_net: feat_size needs 4 values, got ", fs.size());
  MEDKD_CHECK(depths.size() == 4, "ux_net: depths needs 4 values, got ", depths.size());
  for (int64_t c : fs) MEDKD_CHECK(c >= 1, "ux_net: feat_size must be >= 1, got ", c);
  for (int64_t d : depths) MEDKD_CHECK(d >= 1, "ux_net: depths must be >= 1, got ", d);
  MEDKD_CHECK(o.hidden_size() >= 1, "ux_net: hidden_size must be >= 1, got ", o.hidden_size());
  MEDKD_CHECK(o.kernel_size() >= 1 && o.kernel_size() % 2 == 1,
              "ux_net: kernel_size must be odd and >= 1, got ", o.kernel_size());
  MEDKD_CHECK(o.layer_scale_init_value() >= 0, "ux_net: layer_scale_init_value must be >= 0, got ",
              o.layer_scale_init_value());

  auto backbone = register_module("uxnet_3d", std::make_shared<torch::nn::Module>("uxnet_conv"));
  torch::nn::ModuleList downsample_layers, stages;
  // Stem: conv 7, stride 2, padding 3 -> layer norm.
  downsample_layers_.push_back(torch::nn::Sequential(
      nn::Conv(nn::ConvOptions(dims, o.in_channels(), fs[0], {7}).stride({2}).padding({3})),
      channel_layer_norm(fs[0])));
  for (size_t i = 0; i < 3; ++i)
    downsample_layers_.push_back(
        torch::nn::Sequential(channel_layer_norm(fs[i]),
                              nn::Conv(nn::ConvOptions(dims, fs[i], fs[i + 1], {2}).stride({2}))));
  for (size_t i = 0; i < 4; ++i) {
    torch::nn::Sequential stage;
    for (int64_t j = 0; j < depths[i]; ++j)
      stage->push_back(UxBlock(dims, fs[i], o.kernel_size(), o.layer_scale_init_value()));
    stages_.push_back(stage);
    downsample_layers->push_back(downsample_layers_[i]);
    stages->push_back(stage);
  }
  backbone->register_module("downsample_layers", downsample_layers);
  backbone->register_module("stages", stages);
  for (size_t i = 0; i < 4; ++i) {
    nn::Norm norm = channel_layer_norm(fs[i]);
    backbone->register_module(str("norm", i), norm);
    stage_norms_.emplace_back(norm);
  }

  const auto add = [&](const std::string& name, auto module) {
    register_module(name, module);
    return torch::nn::AnyModule(module);
  };
  const std::vector<int64_t> widths{fs[0], fs[1], fs[2], fs[3], o.hidden_size()};
  for (size_t i = 0; i < 5; ++i) {
    const int64_t in = i == 0 ? o.in_channels() : fs[i - 1];
    encoders_.push_back(add(str("encoder", i + 1),
                            nn::UnetrBasicBlock(dims, in, widths[i], o.norm(), o.res_block())));
  }
  for (size_t i = 4; i >= 1; --i)  // decoder5 (hidden -> fs[3]) .. decoder2 (fs[1] -> fs[0])
    decoders_.push_back(add(str("decoder", i + 1), nn::UnetrUpBlock(dims, widths[i], widths[i - 1],
                                                                    o.norm(), o.res_block())));
  decoder1_ = add("decoder1", nn::UnetrBasicBlock(dims, fs[0], fs[0], o.norm(), o.res_block()));
  out_ = add("out", nn::UnetOutBlock(dims, fs[0], o.num_classes()));

  for (size_t i = 0; i < 5; ++i) tap_specs_.push_back({str("enc.", i), widths[i], int64_t{1} << i});
  for (size_t i = 0; i < 4; ++i)
    tap_specs_.push_back({str("dec.", i), widths[3 - i], int64_t{1} << (3 - i)});
  tap_specs_.push_back({"dec.4", fs[0], 1});
  tap_specs_.push_back({"logits", o.num_classes(), 1});
}

torch::Tensor UXNetImpl::forward(torch::Tensor x) {
  check_input(x, std::vector<int64_t>(spatial_dims(), 16));
  // The backbone: feat_size[i] channels at stride 2^(i+1), each through its layer norm.
  std::vector<torch::Tensor> outs;
  torch::Tensor h = x;
  for (size_t i = 0; i < 4; ++i) {
    h = stages_[i]->forward(downsample_layers_[i]->forward(h));
    outs.push_back(stage_norms_[i].forward(h));
  }
  std::vector<torch::Tensor> enc;  // [N, widths[i], *S / 2^i]
  enc.push_back(encoders_[0].forward(x));
  for (size_t i = 1; i < 5; ++i) enc.push_back(encoders_[i].forward(outs[i - 1]));
  for (size_t i = 0; i < 5; ++i) tap(str("enc.", i), enc[i]);

  torch::Tensor y = enc[4];
  for (size_t i = 0; i < 4; ++i) {
    y = decoders_[i].forward(y, enc[3 - i]);  // [N, feat_size[3 - i], *S / 2^(3 - i)]
    tap(str("dec.", i), y);
  }
  y = decoder1_.forward(y);  // [N, feat_size[0], *S]
  tap("dec.4", y);
  return out_.forward(y);  // [N, K, *S]
}

std::vector<std::string> ux_net_option_keys() {
  return {"depths", "feat_size", "hidden_size", "kernel_size", "layer_scale_init_value",
          "norm",   "res_block"};
}

UXNetOptions ux_net_options_from_config(const ModelConfig& config) {
  UXNetOptions options(config.spatial_dims, config.in_channels, config.num_classes);
  if (!config.name.empty()) options.registry_name(config.name);
  const ModelOptionReader o("ux_net", config.options, ux_net_option_keys());
  if (o.has("depths")) options.depths(o.get<std::vector<int64_t>>("depths", "a list of integers"));
  if (o.has("feat_size"))
    options.feat_size(o.get<std::vector<int64_t>>("feat_size", "a list of integers"));
  if (o.has("hidden_size")) options.hidden_size(o.get<int64_t>("hidden_size", "an integer"));
  if (o.has("kernel_size")) options.kernel_size(o.get<int64_t>("kernel_size", "an integer"));
  if (o.has("layer_scale_init_value"))
    options.layer_scale_init_value(o.get<double>("layer_scale_init_value", "a number"));
  if (o.has("norm")) options.norm(nn::parse_norm(o.get<std::string>("norm", "a name")));
  if (o.has("res_block")) options.res_block(o.get<bool>("res_block", "true or false"));
  return options;
}

}  // namespace medkd::models
