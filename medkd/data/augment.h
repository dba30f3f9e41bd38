// Data augmentation of training patches, after nnU-Net's default pipeline (Isensee et al.,
// "nnU-Net: a self-configuring method for deep learning-based biomedical image segmentation",
// Nature Methods 2021, and its batchgenerators transforms).
//
// Spatial transforms move image and label together so that they stay aligned: rotation and scaling
// resample once (image linear, label nearest, zeros from outside the patch), quarter turns in the
// axial plane and mirroring are exact. Intensity transforms (Gaussian noise, Gaussian blur,
// multiplicative brightness, contrast, gamma) touch the image only. Every transform fires with its
// own probability per patch; options come from the `augmentation:` map of a training
// configuration, see docs/augmentation.md.
#pragma once

#include <torch/torch.h>

#include <array>
#include <string>

#include "medkd/core/rng.h"

namespace YAML {
class Node;
}

namespace medkd::data {

struct AugmentOptions {
  bool enabled = true;  // false: augment() returns the patch unchanged

  // Spatial (image and label alike).
  double mirror_probability = 0.5;                    // per axis
  std::array<bool, 3> mirror_axes{true, true, true};  // (x, y, z); z is ignored for 2-D patches
  // Off by default as in nnU-Net: scans have a canonical orientation, so quarter turns mostly
  // teach the network poses it will never see.
  double rot90_probability = 0.0;
  double rotation_probability = 0.2;
  double rotation_degrees = 15.0;              // axial-plane angle drawn from [-this, this]
  double rotation_out_of_plane_degrees = 0.0;  // 3-D only: angles around the x and y axes
  double scale_probability = 0.2;
  std::array<double, 2> scale_range{0.85, 1.25};  // magnification of the content, same for all axes

  // Intensity (image only).
  double noise_probability = 0.1;
  std::array<double, 2> noise_std_range{0.0, 0.1};  // standard deviation, in normalised units
  double blur_probability = 0.2;
  std::array<double, 2> blur_sigma_range{0.5, 1.0};  // voxels, drawn per channel
  double brightness_probability = 0.15;
  std::array<double, 2> brightness_range{0.75, 1.25};  // multiplier, drawn per channel
  double contrast_probability = 0.15;
  std::array<double, 2> contrast_range{0.75, 1.25};  // factor, drawn per channel
  double gamma_probability = 0.3;
  double gamma_inverted_probability = 0.1;  // gamma applied to the negated image
  std::array<double, 2> gamma_range{0.7, 1.5};
  bool gamma_retain_stats = true;  // restore each channel's mean and standard deviation

  void validate() const;  // medkd::Error naming the option and the value

  // Options from a YAML map whose keys are the field names above (ranges as [lo, hi], mirror_axes
  // as a list of x, y, z); missing keys keep their defaults, a null node gives the defaults, an
  // unknown key is an error listing the valid ones. The result is validated.
  static AugmentOptions from_yaml(const YAML::Node& node);
  std::string to_yaml() const;  // one-line YAML map with every option, for logs and run records
  std::string to_json() const;  // the same as a JSON object
};

// Augments one patch: `image` [C, *spatial] float32, `label` [1, *spatial] integer class indices,
// with spatial = (Z, Y, X) for dims 3 or (Y, X) for dims 2. Both are replaced by new tensors of the
// same shapes and types; the storage they pointed to is left untouched.
void augment(torch::Tensor& image, torch::Tensor& label, const AugmentOptions& options, int dims,
             core::Rng& rng);

}  // namespace medkd::data
