// Per-channel intensity normalisation, chosen by channel name as nnU-Net v2 does
// (nnunetv2/preprocessing/normalization/map_channel_name_to_normalization.py):
//
//   "CT"               -> ct:     clip to the dataset's foreground 0.5 / 99.5 percentiles, then
//                                 subtract the foreground mean and divide by the foreground std
//                                 (all four numbers from the fingerprint, the same for every image)
//   "noNorm" / "none"  -> none:   values left as they are
//   anything else      -> zscore: (x - mean) / std with the image's own mean and std
//
// Names are compared case-insensitively. PET (SUV) is deliberately z-scored per image and never
// clipped: its uptake range differs between scanners and tracers, and clipping at dataset-wide
// percentiles would flatten exactly the hot lesions we segment.
//
// The z-score uses every voxel of the (cropped) image. nnU-Net restricts it to the non-zero mask
// when cropping removed a quarter of the volume; we keep the simpler whole-image rule because we
// crop before normalising, so the background that the mask would exclude is mostly gone already.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace medkd::data {

struct ChannelNormalization {
  std::string scheme = "zscore";  // "ct" | "zscore" | "none"
  // Used by "ct" only (dataset foreground statistics from the fingerprint).
  double clip_low = 0.0;
  double clip_high = 0.0;
  double mean = 0.0;
  double std = 1.0;

  // medkd::Error naming `what` (e.g. "plans.json: normalization[0]") and the bad value.
  void validate(const std::string& what) const;
};

// The schemes known, in the order documentation lists them.
std::vector<std::string> normalization_schemes();

// "ct", "none" or "zscore" for a dataset.json channel name (see the table above).
std::string normalization_scheme_for_channel(const std::string& channel_name);

// Normalises one channel [Z, Y, X] float32 in place.
void normalize_channel(torch::Tensor& channel, const ChannelNormalization& normalization);

// Normalises every channel of `image` [C, Z, Y, X] float32 in place; one entry per channel.
void normalize_channels(torch::Tensor& image, const std::vector<ChannelNormalization>& channels);

}  // namespace medkd::data
