#include "medkd/data/normalization.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "medkd/core/error.h"

namespace medkd::data {

namespace {

// nnU-Net divides by max(std, 1e-8) so that a constant image becomes zeros instead of NaN.
constexpr double kMinStd = 1e-8;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

std::vector<std::string> normalization_schemes() { return {"ct", "zscore", "none"}; }

void ChannelNormalization::validate(const std::string& what) const {
  const auto schemes = normalization_schemes();
  MEDKD_CHECK(std::find(schemes.begin(), schemes.end(), scheme) != schemes.end(), what,
              ": scheme must be ct, zscore or none, got '", scheme, "'");
  if (scheme != "ct") return;
  MEDKD_CHECK(std::isfinite(clip_low) && std::isfinite(clip_high) && clip_low <= clip_high, what,
              ": ct clip range must be finite with clip_low <= clip_high, got ", clip_low, " .. ",
              clip_high);
  MEDKD_CHECK(std::isfinite(mean), what, ": ct mean must be finite, got ", mean);
  MEDKD_CHECK(std::isfinite(std) && std >= 0, what, ": ct std must be finite and >= 0, got ", std);
}

std::string normalization_scheme_for_channel(const std::string& channel_name) {
  const std::string name = lowercase(channel_name);
  if (name == "ct") return "ct";
  if (name == "nonorm" || name == "none") return "none";
  return "zscore";  // MR sequences, PET and anything unknown
}

void normalize_channel(torch::Tensor& channel, const ChannelNormalization& normalization) {
  MEDKD_CHECK(channel.scalar_type() == torch::kFloat32, "normalize_channel needs float32, got ",
              channel.scalar_type());
  torch::NoGradGuard no_grad;
  if (normalization.scheme == "none") return;
  if (normalization.scheme == "ct") {
    channel.clamp_(normalization.clip_low, normalization.clip_high);
    channel.sub_(normalization.mean).div_(std::max(normalization.std, kMinStd));
    return;
  }
  MEDKD_CHECK(normalization.scheme == "zscore", "unknown normalisation scheme '",
              normalization.scheme, "'");
  if (channel.numel() == 0) return;
  // Statistics in double: a 512^3 CT summed in float32 loses the mean's third digit.
  const torch::Tensor values = channel.to(torch::kFloat64);
  const double mean = values.mean().item<double>();
  const double std = values.std(/*unbiased=*/false).item<double>();  // numpy's ddof = 0
  channel.sub_(mean).div_(std::max(std, kMinStd));
}

void normalize_channels(torch::Tensor& image, const std::vector<ChannelNormalization>& channels) {
  MEDKD_CHECK(image.dim() == 4, "normalize_channels needs [C, Z, Y, X], got ", image.dim(),
              " dimensions");
  MEDKD_CHECK(image.size(0) == static_cast<int64_t>(channels.size()), "image has ", image.size(0),
              " channel(s) but the plan normalises ", channels.size());
  for (int64_t c = 0; c < image.size(0); ++c) {
    torch::Tensor channel = image[c];  // [Z, Y, X], a view: normalised in place
    normalize_channel(channel, channels[c]);
  }
}

}  // namespace medkd::data
