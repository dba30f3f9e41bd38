#include "medkd/distill/boundary.h"

#include <cmath>

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"
#include "medkd/distill/pixel_kl.h"

namespace medkd::distill {
namespace {

// mask shifted by `offset` voxels along `dim` (out[i] = mask[i − offset]), false where it
// leaves the image.
torch::Tensor shifted(const torch::Tensor& mask, int64_t dim, int64_t offset) {
  const int64_t length = mask.size(dim);
  if (offset == 0) return mask;
  if (std::abs(offset) >= length) return torch::zeros_like(mask);
  std::vector<int64_t> padding(2 * static_cast<size_t>(mask.dim()), 0);
  // constant_pad_nd lists (before, after) pairs from the last axis backwards.
  const size_t pair = 2 * static_cast<size_t>(mask.dim() - 1 - dim);
  const torch::Tensor kept = offset > 0 ? mask.narrow(dim, 0, length - offset)
                                        : mask.narrow(dim, -offset, length + offset);
  padding[pair + (offset > 0 ? 0 : 1)] = std::abs(offset);
  return torch::constant_pad_nd(kept, padding, 0);
}

// Voxels with a face neighbour of another label: [N, 1, *S] -> bool [N, 1, *S].
torch::Tensor boundary_voxels(const torch::Tensor& label) {
  torch::Tensor boundary = torch::zeros(label.sizes(), label.options().dtype(torch::kBool));
  for (int64_t dim = 2; dim < label.dim(); ++dim) {
    const int64_t length = label.size(dim);
    if (length < 2) continue;
    const torch::Tensor differs =
        label.narrow(dim, 1, length - 1) != label.narrow(dim, 0, length - 1);  // pairs (i, i+1)
    std::vector<int64_t> before(2 * static_cast<size_t>(label.dim()), 0), after = before;
    const size_t pair = 2 * static_cast<size_t>(label.dim() - 1 - dim);
    after[pair + 1] = 1;  // the pair marks its first voxel i ...
    before[pair] = 1;     // ... and its second voxel i + 1
    boundary = boundary | torch::constant_pad_nd(differs, after, 0) |
               torch::constant_pad_nd(differs, before, 0);
  }
  return boundary;
}

}  // namespace

torch::Tensor boundary_band(const torch::Tensor& label, const std::vector<double>& spacing_mm,
                            double band_mm) {
  MEDKD_CHECK(label.defined() && (label.dim() == 4 || label.dim() == 5) && label.size(1) == 1,
              "boundary_band: label must be [N, 1, *spatial] with 2 or 3 spatial axes, got ",
              label.defined() ? label.sizes() : c10::IntArrayRef{});
  MEDKD_CHECK(c10::isIntegralType(label.scalar_type(), /*includeBool=*/true),
              "boundary_band: label must hold integer class indices, got ", label.scalar_type());
  const auto axes = static_cast<size_t>(label.dim() - 2);
  MEDKD_CHECK(spacing_mm.size() == axes, "boundary_band: ", spacing_mm.size(),
              " spacing values for label ", label.sizes(), " with ", axes, " spatial axes");
  for (double spacing : spacing_mm)
    MEDKD_CHECK(spacing > 0 && std::isfinite(spacing),
                "boundary_band: spacing must be positive, got ", spacing);
  MEDKD_CHECK(band_mm >= 0 && std::isfinite(band_mm), "boundary_band: band_mm must be >= 0, got ",
              band_mm);

  const torch::Tensor boundary = boundary_voxels(label);
  // Every offset of the ball, axis by axis; the tolerance keeps offsets exactly on the sphere.
  std::vector<int64_t> reach(axes);
  for (size_t a = 0; a < axes; ++a)
    reach[a] = static_cast<int64_t>(std::floor(band_mm / spacing_mm[a] + 1e-9));
  const double limit = band_mm * band_mm * (1 + 1e-9) + 1e-12;
  torch::Tensor band = torch::zeros_like(boundary);
  std::vector<int64_t> offset(axes);
  for (size_t a = 0; a < axes; ++a) offset[a] = -reach[a];
  while (true) {
    double squared = 0;
    for (size_t a = 0; a < axes; ++a)
      squared += std::pow(static_cast<double>(offset[a]) * spacing_mm[a], 2);
    if (squared <= limit) {
      torch::Tensor moved = boundary;
      for (size_t a = 0; a < axes; ++a)
        moved = shifted(moved, 2 + static_cast<int64_t>(a), offset[a]);
      band = band | moved;
    }
    // Next offset of the box [-reach, reach]^axes, counting like an odometer.
    size_t a = 0;
    while (a < axes && offset[a] == reach[a]) {
      offset[a] = -reach[a];
      ++a;
    }
    if (a == axes) break;
    ++offset[a];
  }
  return band;  // [N, 1, *S] bool
}

torch::Tensor boundary_kd(const torch::Tensor& s_logits, const torch::Tensor& t_logits,
                          const torch::Tensor& label, const std::vector<double>& spacing_mm,
                          double band_mm, double edge_weight, double body_weight,
                          double temperature) {
  check_feature_map(s_logits, "boundary_kd", "student logits");
  MEDKD_CHECK(label.defined() && label.dim() == s_logits.dim() &&
                  label.size(0) == s_logits.size(0) && label.size(1) == 1 &&
                  label.sizes().slice(2) == s_logits.sizes().slice(2),
              "boundary_kd: label must be [N, 1, *spatial] matching student logits ",
              s_logits.sizes(), ", got ", label.defined() ? label.sizes() : c10::IntArrayRef{});
  MEDKD_CHECK(edge_weight >= 0 && body_weight >= 0, "boundary_kd: weights must be >= 0, got ",
              "edge_weight ", edge_weight, ", body_weight ", body_weight);
  const torch::Tensor band = boundary_band(label, spacing_mm, band_mm);
  return edge_weight * pixel_kl(s_logits, t_logits, temperature, band) +
         body_weight * pixel_kl(s_logits, t_logits, temperature, ~band);
}

namespace {

struct BoundaryKdSettings : TermSettings {
  TapPairs pairs;
  double band_mm = 2.0, edge_weight = 2.0, body_weight = 1.0, temperature = 1.0;
};

// Boundary-aware KD on the logits: voxels within band_mm of a label boundary weighted apart
// from the rest. With multi_teacher: confidence each region's voxels are also weighted per
// teacher, keeping the region's voxel count as the normaliser.
class BoundaryKdTermImpl : public PairwiseTermImpl {
 public:
  BoundaryKdTermImpl(const TermContext& context, const BoundaryKdSettings& settings)
      : PairwiseTermImpl("boundary_kd", context, settings.pairs, Adapters::kNone),
        spacing_(context.spacing_mm),
        band_mm_(settings.band_mm),
        edge_weight_(settings.edge_weight),
        body_weight_(settings.body_weight),
        temperature_(settings.temperature) {
    require_equal_channels("compares class scores");
    if (spacing_.empty()) spacing_.assign(size_t(context.student->spatial_dims()), 1.0);
  }
  bool takes_voxel_weights() const override { return true; }
  bool needs_labels() const override { return true; }

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch& batch) override {
    MEDKD_CHECK(s.sizes().slice(2) == batch.target.sizes().slice(2),
                "boundary_kd compares full-resolution logits with the label; a tap at another "
                "resolution cannot be used");
    if (!batch.voxel_weights.defined())
      return boundary_kd(s, t, batch.target, spacing_, band_mm_, edge_weight_, body_weight_,
                         temperature_);
    const torch::Tensor edge = boundary_band(batch.target, spacing_, band_mm_).to(torch::kFloat32);
    const torch::Tensor body = 1 - edge;
    const torch::Tensor& w = batch.voxel_weights;
    auto region = [&](const torch::Tensor& mask) {
      const torch::Tensor weights = mask * w;
      // pixel_kl's Σ w·kl / Σ w, rescaled to Σ w·kl / |region|.
      return pixel_kl(s, t, temperature_, weights) * weights.sum() / mask.sum().clamp_min(1.0);
    };
    return edge_weight_ * region(edge) + body_weight_ * region(body);
  }

 private:
  std::vector<double> spacing_;
  double band_mm_, edge_weight_, body_weight_, temperature_;
};

}  // namespace

TermEntry boundary_kd_term_entry() {
  return make_term_entry<BoundaryKdSettings, BoundaryKdTermImpl>(
      "boundary_kd",
      "pixel_kl weighted apart on voxels near label boundaries and elsewhere (boundary-aware KD)",
      with_tap_pair_options("[logits]", "full-resolution logit taps",
                            {{"band_mm", "2.0", "half-width of the boundary band, mm"},
                             {"edge_weight", "2.0", "weight of the band's mean KL"},
                             {"body_weight", "1.0", "weight of the rest's mean KL"},
                             {"temperature", "1.0", "T"}}),
      1.0, [](const TermOptions& o) {
        BoundaryKdSettings s;
        s.pairs = o.tap_pairs({"logits"});
        s.band_mm = o.number("band_mm", 2.0);
        s.edge_weight = o.number("edge_weight", 2.0);
        s.body_weight = o.number("body_weight", 1.0);
        s.temperature = o.number("temperature", 1.0);
        MEDKD_CHECK(s.band_mm >= 0, "boundary_kd: band_mm must be >= 0, got ", s.band_mm);
        MEDKD_CHECK(s.edge_weight >= 0 && s.body_weight >= 0,
                    "boundary_kd: edge_weight and body_weight must be >= 0");
        MEDKD_CHECK(s.temperature > 0, "boundary_kd: temperature must be > 0, got ", s.temperature);
        return s;
      });
}

}  // namespace medkd::distill
