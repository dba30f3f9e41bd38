// Surface-distance metrics of one label: HD95 and ASSD in mm, with exact Euclidean distances on
// anisotropic grids.
//
//   surface voxels: foreground voxels with a face neighbour that is background or outside the
//                   image (axes of size 1 are ignored, so a single slice behaves as a 2-D image);
//   d(A→B):         distance from each surface voxel of A to the nearest surface voxel of B;
//   HD95 = max(q95(d(P→G)), q95(d(G→P))), quantiles by linear interpolation;
//   ASSD = (Σ d(P→G) + Σ d(G→P)) / (|S_P| + |S_G|).
// These match MONAI's HausdorffDistanceMetric(percentile=95) and SurfaceDistanceMetric(symmetric).
#pragma once

#include <cstdint>
#include <vector>

#include "medkd/metrics/distance_transform.h"

namespace medkd::metrics {

// 1 where mask[i] is a surface voxel (see above).
std::vector<uint8_t> surface_voxels(const std::vector<uint8_t>& mask, const Grid3& grid);

struct SurfaceDistances {
  std::vector<double> pred_to_ref;  // d(P→G), one per surface voxel of P
  std::vector<double> ref_to_pred;  // d(G→P), one per surface voxel of G
};

// Distances between the surfaces of two non-empty masks on the same grid. The distance transform
// runs only on the bounding box of both surfaces, which is exact: every voxel that can be the
// nearest surface voxel lies inside it.
SurfaceDistances surface_distances(const std::vector<uint8_t>& pred,
                                   const std::vector<uint8_t>& ref, const Grid3& grid,
                                   int threads = 1);

// q-th percentile (q in [0, 100]) with linear interpolation between order statistics (NumPy's
// default); NaN for an empty list.
double percentile(std::vector<double> values, double q);

struct SurfaceMetrics {
  double hd95 = 0;
  double assd = 0;
};
SurfaceMetrics surface_metrics(const SurfaceDistances& distances);

}  // namespace medkd::metrics
