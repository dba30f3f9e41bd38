// H-DenseFormer, a hybrid CNN-transformer U-Net for multimodal tumour segmentation (Shi et al.,
// "H-DenseFormer: An Efficient Hybrid Densely Connected Transformer for Multimodal Tumor
// Segmentation", MICCAI 2023), for 2-D and 3-D input. Teach-Former (Hossain et al.) uses it as
// teacher T1 and, with fewer filters, as student S1.
//
// Layer names, counts and the forward pass follow the authors' code,
// github.com/shijun18/H-DenseFormer (models/HDenseFormer.py, 3-D, and models/HDenseFormer_2D.py,
// 2-D, which differ only in the dimensionality of their layers):
//
//   Multi-path Parallel Embedding: one transformer per input channel (attns.{m}): a patch_size
//     conv from 1 to 4·n_filters channels (patch_embeddings), a learned position embedding
//     (position_embeddings, zeros), then transformer_depth / 4 Densely Connected Transformer
//     blocks (blocks.{b}.0). A DCT block has `dense_layers` layers; layer i maps the
//     concatenation of the block input and every earlier layer's output (4·n_filters +
//     i·growth_rate features) to growth_rate features (layers.{i}.0), then pre-norm attention and a
//     pre-norm MLP (layers.{i}.1, layers.{i}.2), each with a residual; out_layer maps the full
//     concatenation back to 4·n_filters. The token grids of all modalities are concatenated on
//     channels and brought to stride 8 by deep_conv (conv 3 -> instance norm -> ReLU -> upsampling
//     by patch_size / 8).
//   Encoder: a plain U-Net encoder with n_filters, 2, 4, 8·n_filters channels, two BasicConv
//     (conv 3 without bias -> affine instance norm -> ReLU) per level and 2× max pooling; the
//     fused transformer features are added to every level (up1/up2/up3 bring them to strides 4,
//     2, 1), so each encoder level output is CNN + transformer features.
//   Decoder: transposed conv 3, stride 2, concatenation with the skip, two BasicConvs; 1×1 heads
//     on the bottleneck and on the two coarser decoder levels give deep supervision.
//
// Faithful to the reference, including two oddities: the MLP of each DCT layer runs twice (its
// residual output goes through the same pre-norm MLP once more, and that joins the dense
// concatenation), which costs compute but no parameters; and the UpConv convs keep biases that
// the following instance norm cancels, built anyway so that counts match. Dropout (0.5 in the
// reference, training only) is left out.
//
// Parameter counts (pinned in tests/models/test_h_denseformer.cpp): the HECKTOR configuration
// (2 channels, 2 classes, 144³, n_filters 32, transformer_depth 24 as in the repository's
// config.py) has 11,561,288 parameters; without the position embeddings, which module-wise
// profilers such as thop do not see, 11,374,664, within 0.01 M of Teach-Former's 11.38 M. The
// 2-D PI-CAI configuration (3 channels, 384²) has 5,197,032, without them 4,975,848 (Teach-Former:
// 4.98 M).
//
// Input [N, in_channels, (Z,) Y, X] with every spatial size equal to image_size (the position
// embeddings fix the token grid); output logits [N, num_classes, (Z,) Y, X]. Taps: enc.0..enc.3
// (n_filters·{1,2,4,8} at strides 1, 2, 4, 8, the fused encoder levels; enc.3 is the bottleneck),
// dec.0..dec.2 (4, 2, 1·n_filters at strides 4, 2, 1), logits, ds.1..ds.3 (the heads at strides
// 2, 4, 8: the reference's out1, out2, out3).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "medkd/models/segmentation_model.h"

namespace medkd::models {

struct HDenseFormerOptions {
  HDenseFormerOptions(int spatial_dims, int64_t in_channels, int64_t num_classes)
      : spatial_dims_(spatial_dims), in_channels_(in_channels), num_classes_(num_classes) {}
  TORCH_ARG(int, spatial_dims);
  TORCH_ARG(int64_t, in_channels);  // one transformer path per channel (modality)
  TORCH_ARG(int64_t, num_classes);
  // CNN width; the transformer embedding is 4·n_filters. HDenseFormer_32, the model of the paper.
  TORCH_ARG(int64_t, n_filters) = 32;
  // The repository's config.py trains with 24 (the class's own default is 12); every 4 make one
  // DCT block (integer division, as the reference).
  TORCH_ARG(int64_t, transformer_depth) = 24;
  // Per axis in tensor order, or one value for all axes; empty means the reference's defaults,
  // 144³ (HECKTOR) in 3-D and 384² (PI-CAI) in 2-D.
  TORCH_ARG(std::vector<int64_t>, image_size) = std::vector<int64_t>{};
  // Patch embedding kernel and stride; a multiple of 8, since deep_conv upsamples the token grid
  // by patch_size / 8 to meet the encoder at stride 8 (the reference: 16, upsampling by 2).
  TORCH_ARG(int64_t, patch_size) = 16;
  // Features each DCT layer adds to the dense concatenation (also the attention and MLP width).
  TORCH_ARG(int64_t, growth_rate) = 32;
  // Attention heads of width growth_rate / num_heads; with one head the reference has no output
  // projection.
  TORCH_ARG(int64_t, num_heads) = 8;
  // Layers per DCT block (the `depth` of the reference's DensePreConv_AttentionBlock).
  TORCH_ARG(int64_t, dense_layers) = 4;
  // What name() reports: the registry entry the model was made from (a preset names itself).
  TORCH_ARG(std::string, registry_name) = "h_denseformer";
};

class HDenseFormerImpl : public SegmentationModelImpl {
 public:
  explicit HDenseFormerImpl(const HDenseFormerOptions& options);

  torch::Tensor forward(torch::Tensor x) override;  // [N, C_in, *image_size] -> [N, K, *image_size]
  std::vector<TapSpec> tap_specs() const override { return tap_specs_; }
  std::string name() const override { return options.registry_name(); }

  // image_size with the default resolved, per axis.
  const std::vector<int64_t>& image_size() const { return image_size_; }

  HDenseFormerOptions options;

 private:
  std::vector<int64_t> image_size_;
  std::vector<torch::nn::AnyModule> attns_;  // one Dense_TransformerBlock per modality
  torch::nn::AnyModule deep_conv_;
  std::vector<torch::nn::AnyModule> ups_;             // up1, up2, up3: to strides 4, 2, 1
  std::vector<torch::nn::AnyModule> encoder_blocks_;  // block_{l}_{1,2}_left, level l = 1..4
  std::vector<torch::nn::AnyModule> upconvs_;         // upconv_3, upconv_2, upconv_1
  std::vector<torch::nn::AnyModule> decoder_blocks_;  // block_{l}_{1,2}_right, l = 3, 2, 1
  std::vector<torch::nn::AnyModule> ds_heads_;        // conv1x1_d1, conv1x1_d2, conv1x1_d3
  torch::nn::AnyModule head_;                         // conv1x1
  std::vector<TapSpec> tap_specs_;
};
TORCH_MODULE(HDenseFormer);

// The keys of ModelConfig::options that h_denseformer reads: n_filters, transformer_depth,
// image_size, patch_size, growth_rate, num_heads, dense_layers.
std::vector<std::string> h_denseformer_option_keys();
// Typed options from a config (`image_size` takes an integer or a list); `registry_name` is
// config.name. A key of the wrong type is a medkd::Error naming it; value ranges are checked by the
// HDenseFormer constructor.
HDenseFormerOptions h_denseformer_options_from_config(const ModelConfig& config);

}  // namespace medkd::models
