// Resampling images and label maps to a plan's target spacing (and back), on tensors.
//
// Sizes and spacings are in ITK's (x, y, z) order, tensors are [C, Z, Y, X]. Every interpolation
// goes through torch::nn::functional::interpolate with align_corners = false, i.e. voxel centres
// are aligned the way ITK places them (voxel i covers [i, i + 1) in units of the spacing), so a
// volume resampled by an integer factor and back lands on its original voxel centres.
//
// Images: "linear" (trilinear) or "cubic". LibTorch has no tricubic mode, so cubic is bicubic
// in-plane, slice by slice, followed by linear interpolation along z. That matches what nnU-Net
// does for anisotropic data (order 3 in-plane, a low order along the slice axis,
// nnunetv2/preprocessing/resampling/default_resampling.py) and costs little elsewhere.
//
// Labels: "nearest" (each output voxel takes the class of the input voxel whose centre is nearest,
// torch's "nearest-exact") or "linear_onehot": every class is interpolated linearly as a one-hot
// channel and the most probable class wins, as nnU-Net's resize_segmentation does with order 1;
// it gives smoother boundaries than nearest neighbour when upsampling coarse slices.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <string>

namespace medkd::data {

enum class ImageInterpolation { kLinear, kCubic };
enum class LabelInterpolation { kNearest, kLinearOneHot };

// "linear" | "cubic" and "nearest" | "linear_onehot"; parsing throws medkd::Error naming `what`.
std::string to_string(ImageInterpolation interpolation);
std::string to_string(LabelInterpolation interpolation);
ImageInterpolation parse_image_interpolation(const std::string& text, const std::string& what);
LabelInterpolation parse_label_interpolation(const std::string& text, const std::string& what);

// nnU-Net's compute_new_shape: round(size * spacing / target_spacing) per axis (halves to even),
// at least 1.
std::array<int64_t, 3> resampled_size(const std::array<int64_t, 3>& size_xyz,
                                      const std::array<double, 3>& spacing_xyz,
                                      const std::array<double, 3>& target_spacing_xyz);

// Resamples `image` [C, Z, Y, X] (any floating type) to `size_xyz`; returns float32
// [C, Z', Y', X'], always a new tensor (a copy when the size already matches).
torch::Tensor resample_image(const torch::Tensor& image, const std::array<int64_t, 3>& size_xyz,
                             ImageInterpolation interpolation);

// Resamples a map of class indices `label` [1, Z, Y, X] (integer, values in [0, num_classes)) to
// `size_xyz`; returns a new uint8 [1, Z', Y', X'] for num_classes <= 256, int64 otherwise.
torch::Tensor resample_label(const torch::Tensor& label, const std::array<int64_t, 3>& size_xyz,
                             LabelInterpolation interpolation, int64_t num_classes);

// Resamples per-class scores or probabilities [K, Z, Y, X] linearly (float32 result); used to bring
// predictions back to the original grid.
torch::Tensor resample_scores(const torch::Tensor& scores, const std::array<int64_t, 3>& size_xyz);

// For each of `out_size` output voxels along one axis, the input voxel whose centre is nearest to
// its centre (torch's "nearest-exact", without LibTorch 1.13's per-call warning):
// floor((i + 0.5) · in / out), as an int64 index tensor for index_select.
torch::Tensor nearest_source_indices(int64_t in_size, int64_t out_size);

}  // namespace medkd::data
