// The small float-volume toolbox the synthetic data generators (petct.h, mri.h) are built from: a
// voxel grid placed in millimetres, soft shapes rasterised with partial-volume edges, irregular
// "blobs" for lesions, separable Gaussian blur, smooth random fields for texture and bias, and the
// noise models of CT, PET and MRI.
//
// Everything works on plain std::vector<float> in the memory order of a [Z, Y, X] tensor (x
// fastest), because generating a case is thousands of tiny per-voxel operations that would be slow
// as tensor calls; the dataset writer converts to tensors once, at the end. All sizes and blur
// widths are in millimetres so that a generator behaves the same at any spacing, anisotropic
// included.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "medkd/core/rng.h"

namespace medkd::data::synth {

// A physical position (x, y, z) in mm. Axes follow ITK's LPS convention with an identity
// direction: x towards the patient's left, y towards posterior, z towards the head.
using Point = std::array<double, 3>;

// A regular voxel grid whose voxel centres are centred on the physical origin.
struct Grid {
  std::array<int64_t, 3> size{1, 1, 1};    // voxels along x, y, z
  std::array<double, 3> spacing{1, 1, 1};  // mm along x, y, z

  int64_t voxels() const { return size[0] * size[1] * size[2]; }
  int64_t index(int64_t x, int64_t y, int64_t z) const { return (z * size[1] + y) * size[0] + x; }
  // Physical coordinate (mm) of the centre of voxel `i` along `axis`.
  double coordinate(int axis, int64_t i) const {
    return (static_cast<double>(i) - 0.5 * static_cast<double>(size[axis] - 1)) * spacing[axis];
  }
  Point point(int64_t x, int64_t y, int64_t z) const {
    return {coordinate(0, x), coordinate(1, y), coordinate(2, z)};
  }
  // Voxel centres along `axis` lie in [-half_extent, +half_extent].
  double half_extent(int axis) const {
    return 0.5 * static_cast<double>(size[axis] - 1) * spacing[axis];
  }
  // Physical position of voxel (0, 0, 0), as an image's geometry stores it.
  std::array<double, 3> origin() const {
    return {-half_extent(0), -half_extent(1), -half_extent(2)};
  }
  // The distance over which a shape's edge fades from fully inside to fully outside a voxel: the
  // voxel's mean size (geometric mean of the spacings).
  double edge_width() const;
};

// One value per voxel of a grid, x fastest: values[grid.index(x, y, z)].
struct Volume {
  Grid grid;
  std::vector<float> values;

  Volume() = default;
  explicit Volume(const Grid& g, float fill = 0.0f)
      : grid(g), values(static_cast<size_t>(g.voxels()), fill) {}

  float& operator[](int64_t i) { return values[static_cast<size_t>(i)]; }
  float operator[](int64_t i) const { return values[static_cast<size_t>(i)]; }
};

// One generated case: co-registered channels on one grid and its label map (same voxel order).
struct SynthCase {
  Grid grid;
  std::vector<Volume> channels;
  std::vector<uint8_t> labels;
};

// ---- Shapes ----------------------------------------------------------------------------------

// An axis-aligned box in mm; rasterisation only visits the voxels inside it.
struct Bounds {
  Point lo{0, 0, 0};
  Point hi{0, 0, 0};
};

// Signed distance in mm from a physical point to a shape's surface, negative inside. The shapes
// below return cheap approximations that are exact on the surface and good to a few percent
// near it, which is all partial-volume edges need.
using SignedDistance = std::function<double(const Point&)>;

// Fraction of a voxel inside a surface `signed_distance` mm away, for an edge `width` mm wide:
// 1 deep inside, 0.5 on the surface, 0 outside.
float edge_occupancy(double signed_distance, double width);

// Calls visit(voxel index, occupancy) for every voxel inside `bounds` (widened by half an edge)
// whose occupancy is positive. Occupancy comes from edge_occupancy() with the grid's edge width,
// so shapes get partial-volume borders and small shapes do not vanish between voxel centres.
void rasterize(const Grid& grid, const Bounds& bounds, const SignedDistance& distance,
               const std::function<void(int64_t, float)>& visit);

// Length of the in-plane vector (dx, dy); std::hypot is several times slower in per-voxel loops.
inline double planar_distance(double dx, double dy) { return std::sqrt(dx * dx + dy * dy); }

// Approximate signed distance to an axis-aligned ellipse with semi-axes (rx, ry), from the offset
// (dx, dy) of a point to its centre: the first-order estimate (rho - 1) / |grad rho|.
double ellipse_distance(double dx, double dy, double rx, double ry);

// A segment from `a` to `b` thickened to radius ra at a and rb at b (a tapered capsule): muscles,
// vessels, rami of bones.
struct Capsule {
  Point a{0, 0, 0};
  Point b{0, 0, 0};
  double ra = 1.0;
  double rb = 1.0;

  double signed_distance(const Point& p) const;
  Bounds bounds() const;
};

// An ellipsoid (any orientation) whose surface is pushed in and out by a smooth random function
// of direction: rho(u) = 1 + sum_k amplitude_k cos(frequency_k . u + phase_k). With no waves it
// is a plain ellipsoid.
struct Lobe {
  struct Wave {
    std::array<double, 3> frequency{0, 0, 0};
    double phase = 0.0;
    double amplitude = 0.0;
  };
  Point centre{0, 0, 0};
  std::array<double, 3> radii{1, 1, 1};                   // mm along the lobe's own axes
  std::array<double, 9> axes{1, 0, 0, 0, 1, 0, 0, 0, 1};  // row-major; column j = axis j (mm)
  std::vector<Wave> waves;

  double signed_distance(const Point& p) const;
  Bounds bounds() const;
};

// An axis-aligned ellipsoid.
Lobe ellipsoid(const Point& centre, const std::array<double, 3>& radii);

// A union of lobes: an irregular lesion, gland or nodule.
struct Blob {
  std::vector<Lobe> lobes;

  double signed_distance(const Point& p) const;
  Bounds bounds() const;
  // The same shape shrunk by `factor` towards the first lobe's centre (a necrotic core).
  Blob scaled(double factor) const;
};

// How irregular a random blob is.
struct BlobStyle {
  int max_lobes = 3;           // 1 + up to this many - 1 satellite lobes
  double irregularity = 0.25;  // amplitude of the surface waves relative to the radius
  double elongation = 0.25;    // radii vary by up to this fraction around the mean radius
};

// A random irregular blob of about `diameter` mm (the main lobe's mean diameter; satellites stay
// within it) centred on `centre`, randomly oriented.
Blob random_blob(const Point& centre, double diameter, const BlobStyle& style, core::Rng& rng);

// Random surface waves for a Lobe whose amplitudes sum to `irregularity` (none when it is 0).
std::vector<Lobe::Wave> random_waves(double irregularity, core::Rng& rng);

// A uniformly distributed random rotation, row-major.
std::array<double, 9> random_rotation(core::Rng& rng);

// ---- Fields, blur and noise -------------------------------------------------------------------

// A smooth random field with zero mean and unit variance at every voxel whose values decorrelate
// over about `scale_mm`: Gaussian values on a lattice `scale_mm` apart (randomly shifted) joined by
// cubic B-splines. Used for tissue texture and bias fields.
Volume smooth_field(const Grid& grid, double scale_mm, core::Rng& rng);

// Blurs in place with a Gaussian of standard deviation sigma_mm[axis] (mm), separably, with edge
// values repeated beyond the border. Axes whose sigma is under a tenth of a voxel are left alone.
void gaussian_blur(Volume& volume, const std::array<double, 3>& sigma_mm);
void gaussian_blur(Volume& volume, double sigma_mm);

// Standard deviation of a Gaussian with the given full width at half maximum.
double fwhm_to_sigma(double fwhm);

// White Gaussian noise blurred by sigma_mm and rescaled to unit variance: the grain of
// reconstructed CT and PET noise, correlated over neighbouring voxels.
Volume correlated_noise(const Grid& grid, double sigma_mm, core::Rng& rng);

// Magnitude of the signal plus complex Gaussian noise of standard deviation `sigma` per component:
// the Rician noise of magnitude MR images (biased upwards where the signal is low).
void add_rician_noise(Volume& volume, double sigma, core::Rng& rng);

// target + occupancy * (value - target): paints `value` over a voxel partly covered by a shape.
inline void blend(float& target, float value, float occupancy) {
  target += occupancy * (value - target);
}

// The label map of `occupancy`: `label` where occupancy >= 0.5, written over `labels`.
void stamp_label(const Volume& occupancy, uint8_t label, std::vector<uint8_t>& labels);

// A random number whose logarithm is uniform in [log lo, log hi]: sizes and uptakes spread over
// an order of magnitude, small ones as common per octave as large ones.
double log_uniform(core::Rng& rng, double lo, double hi);

// 0 below edge0, 1 beyond edge1, a smooth cubic in between (edge1 < edge0 reverses the ramp).
double smoothstep(double edge0, double edge1, double x);

// The smallest lesion diameter (mm) worth drawing on `grid`: `preferred`, raised to 1.5 voxels
// along the coarsest axis so that every labelled lesion shows in the label map.
double resolvable_diameter(const Grid& grid, double preferred);

}  // namespace medkd::data::synth
