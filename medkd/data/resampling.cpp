#include "medkd/data/resampling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medkd/core/error.h"
#include "medkd/io/image.h"

namespace medkd::data {

namespace F = torch::nn::functional;

namespace {

void check_size(const std::array<int64_t, 3>& size_xyz, const char* what) {
  MEDKD_CHECK(size_xyz[0] > 0 && size_xyz[1] > 0 && size_xyz[2] > 0, what,
              ": target size must be positive, got ", io::format_size(size_xyz));
}

bool same_size(const torch::Tensor& volume, const std::array<int64_t, 3>& size_xyz) {
  return volume.size(3) == size_xyz[0] && volume.size(2) == size_xyz[1] &&
         volume.size(1) == size_xyz[2];
}

// Trilinear interpolation of [C, Z, Y, X] float32, channels as one batch of C volumes.
torch::Tensor trilinear(const torch::Tensor& volume, const std::array<int64_t, 3>& size_xyz) {
  return F::interpolate(volume.unsqueeze(0),  // [1, C, Z, Y, X]
                        F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{size_xyz[2], size_xyz[1], size_xyz[0]})
                            .mode(torch::kTrilinear)
                            .align_corners(false))
      .squeeze(0);
}

// Bicubic in-plane per slice, then linear along z only (the in-plane size is already final,
// and with align_corners = false an unchanged axis is sampled exactly at its voxel centres).
torch::Tensor bicubic_then_linear_z(const torch::Tensor& volume,
                                    const std::array<int64_t, 3>& size_xyz) {
  torch::Tensor slices = volume.transpose(0, 1);  // [Z, C, Y, X]: slices as the batch
  if (slices.size(2) != size_xyz[1] || slices.size(3) != size_xyz[0]) {
    slices = F::interpolate(slices, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{size_xyz[1], size_xyz[0]})
                                        .mode(torch::kBicubic)
                                        .align_corners(false));  // [Z, C, Y', X']
  }
  torch::Tensor out = slices.transpose(0, 1);  // [C, Z, Y', X']
  if (out.size(1) != size_xyz[2]) out = trilinear(out.contiguous(), size_xyz);
  return out.contiguous();
}

}  // namespace

torch::Tensor nearest_source_indices(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  std::vector<int64_t> indices(static_cast<size_t>(out_size));
  for (int64_t i = 0; i < out_size; ++i) {
    const auto source = static_cast<int64_t>(std::floor((static_cast<double>(i) + 0.5) * scale));
    indices[static_cast<size_t>(i)] = std::min(source, in_size - 1);
  }
  return torch::tensor(indices, torch::kLong);
}

std::string to_string(ImageInterpolation interpolation) {
  return interpolation == ImageInterpolation::kCubic ? "cubic" : "linear";
}

std::string to_string(LabelInterpolation interpolation) {
  return interpolation == LabelInterpolation::kLinearOneHot ? "linear_onehot" : "nearest";
}

ImageInterpolation parse_image_interpolation(const std::string& text, const std::string& what) {
  if (text == "linear") return ImageInterpolation::kLinear;
  if (text == "cubic") return ImageInterpolation::kCubic;
  throw Error(str(what, " must be linear or cubic, got '", text, "'"));
}

LabelInterpolation parse_label_interpolation(const std::string& text, const std::string& what) {
  if (text == "nearest") return LabelInterpolation::kNearest;
  if (text == "linear_onehot") return LabelInterpolation::kLinearOneHot;
  throw Error(str(what, " must be nearest or linear_onehot, got '", text, "'"));
}

std::array<int64_t, 3> resampled_size(const std::array<int64_t, 3>& size_xyz,
                                      const std::array<double, 3>& spacing_xyz,
                                      const std::array<double, 3>& target_spacing_xyz) {
  std::array<int64_t, 3> out{};
  for (int axis = 0; axis < 3; ++axis) {
    MEDKD_CHECK(spacing_xyz[axis] > 0 && target_spacing_xyz[axis] > 0,
                "spacings must be positive, got ", io::format_triple(spacing_xyz), " -> ",
                io::format_triple(target_spacing_xyz));
    const double extent = static_cast<double>(size_xyz[axis]) * spacing_xyz[axis];
    // nearbyint rounds halves to even, as numpy.round in nnU-Net's compute_new_shape does.
    out[axis] = std::max<int64_t>(
        1, static_cast<int64_t>(std::nearbyint(extent / target_spacing_xyz[axis])));
  }
  return out;
}

torch::Tensor resample_image(const torch::Tensor& image, const std::array<int64_t, 3>& size_xyz,
                             ImageInterpolation interpolation) {
  MEDKD_CHECK(image.dim() == 4, "resample_image needs [C, Z, Y, X], got ", image.dim(),
              " dimensions");
  check_size(size_xyz, "resample_image");
  torch::NoGradGuard no_grad;
  const torch::Tensor volume = image.to(torch::kFloat32).contiguous();
  // Callers normalise the result in place; it must never alias the caller's image.
  if (same_size(volume, size_xyz))
    return volume.data_ptr() == image.data_ptr() ? volume.clone() : volume;
  if (interpolation == ImageInterpolation::kCubic) return bicubic_then_linear_z(volume, size_xyz);
  return trilinear(volume, size_xyz);
}

torch::Tensor resample_label(const torch::Tensor& label, const std::array<int64_t, 3>& size_xyz,
                             LabelInterpolation interpolation, int64_t num_classes) {
  MEDKD_CHECK(label.dim() == 4 && label.size(0) == 1, "resample_label needs [1, Z, Y, X], got ",
              label.sizes());
  MEDKD_CHECK(!label.is_floating_point(), "resample_label needs integer class indices, got ",
              label.scalar_type());
  MEDKD_CHECK(num_classes >= 1, "resample_label: num_classes must be >= 1, got ", num_classes);
  check_size(size_xyz, "resample_label");
  torch::NoGradGuard no_grad;
  const auto out_type = num_classes <= 256 ? torch::kUInt8 : torch::kInt64;
  if (same_size(label, size_xyz)) {
    const torch::Tensor out = label.to(out_type).contiguous();
    return out.data_ptr() == label.data_ptr() ? out.clone() : out;
  }

  if (interpolation == LabelInterpolation::kNearest) {
    // Index arithmetic instead of interpolate(): stays in integers, and LibTorch 1.13 warns on
    // every call of its "nearest-exact" mode.
    torch::Tensor out = label;
    for (int axis = 0; axis < 3; ++axis)
      out =
          out.index_select(3 - axis, nearest_source_indices(label.size(3 - axis), size_xyz[axis]));
    return out.to(out_type).contiguous();
  }
  const torch::Tensor classes = label[0].to(torch::kLong);  // [Z, Y, X]
  MEDKD_CHECK(classes.max().item<int64_t>() < num_classes && classes.min().item<int64_t>() >= 0,
              "resample_label: class indices must lie in [0, ", num_classes, ")");
  // One class at a time keeps memory at two volumes of the output size instead of K.
  torch::Tensor best_score;
  torch::Tensor best_class;
  for (int64_t k = 0; k < num_classes; ++k) {
    const torch::Tensor mask = classes == k;
    if (k > 0 && !mask.any().item<bool>()) continue;  // an absent class never wins
    const torch::Tensor onehot = mask.to(torch::kFloat32).unsqueeze(0);  // [1, Z, Y, X]
    const torch::Tensor score = trilinear(onehot, size_xyz)[0];          // [Z', Y', X']
    if (k == 0) {
      best_score = score;
      best_class = torch::zeros(score.sizes(), torch::kLong);
      continue;
    }
    // Strictly greater: ties go to the lower index, as torch::argmax does.
    const torch::Tensor better = score > best_score;
    best_score = torch::where(better, score, best_score);
    best_class.masked_fill_(better, k);
  }
  return best_class.unsqueeze(0).to(out_type);  // [1, Z', Y', X']
}

torch::Tensor resample_scores(const torch::Tensor& scores, const std::array<int64_t, 3>& size_xyz) {
  return resample_image(scores, size_xyz, ImageInterpolation::kLinear);
}

}  // namespace medkd::data
