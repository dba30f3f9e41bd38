// Boundary-aware knowledge distillation: pixel_kl weighted separately on a band around the label
// boundaries (where students and teachers disagree most) and on the body of each region.
//
// DESIGN §5 names no single paper for this term: boundary-weighted distillation recurs in the
// medical KD literature in several forms; this one (band by distance in mm, two pixel_kl means)
// is ours.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// The voxels within `band_mm` of a label boundary. A boundary voxel is one with a face neighbour
// (inside the image: the border is not a boundary) of a different label, so both sides of an
// interface count. A voxel is in the band when the Euclidean distance in mm between its centre and
// some boundary voxel's centre is <= band_mm (inclusive), with distances scaled per axis by
// `spacing_mm`, given in tensor order (Y, X or Z, Y, X). band_mm = 0 gives the boundary voxels.
// Computed as a dilation of the boundary by the ball of offsets within band_mm: one shifted OR per
// offset, cheap for bands of a few voxels.
// label: [N, 1, *S] integer (2 or 3 spatial axes); spacing_mm: one value > 0 per spatial axis;
// band_mm >= 0. Returns bool [N, 1, *S]. Throws medkd::Error naming the shape or value on a
// label that is not [N, 1, *S] integer, a spacing count that does not match, or a bad value.
torch::Tensor boundary_band(const torch::Tensor& label, const std::vector<double>& spacing_mm,
                            double band_mm);

// boundary_kd = edge_weight · pixel_kl(s, t, T, band) + body_weight · pixel_kl(s, t, T, ¬band),
// band = boundary_band(label, spacing_mm, band_mm); each pixel_kl is the mean over its own voxels
// (0 when its set is empty).
// s_logits, t_logits: [N, K, *S]; label: [N, 1, *S] with the logits' spatial size (otherwise an
// error naming both shapes); edge_weight, body_weight >= 0.
torch::Tensor boundary_kd(const torch::Tensor& s_logits, const torch::Tensor& t_logits,
                          const torch::Tensor& label, const std::vector<double>& spacing_mm,
                          double band_mm, double edge_weight, double body_weight,
                          double temperature);

// The `boundary_kd` distillation term (term_registry.h).
TermEntry boundary_kd_term_entry();

}  // namespace medkd::distill
