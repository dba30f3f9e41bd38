#include "medkd/data/synth/volume.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace medkd::data::synth {

namespace {

constexpr double kPi = 3.14159265358979323846;

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

double norm(const std::array<double, 3>& a) { return std::sqrt(dot(a, a)); }

std::array<double, 3> random_unit_vector(core::Rng& rng) {
  for (;;) {
    const std::array<double, 3> v{rng.normal(), rng.normal(), rng.normal()};
    const double length = norm(v);
    if (length > 1e-9) return {v[0] / length, v[1] / length, v[2] / length};
  }
}

// Radii around `radius` varied by up to `elongation`, keeping `radius` as their geometric mean so
// that the volume matches a sphere of that radius.
std::array<double, 3> random_radii(double radius, double elongation, core::Rng& rng) {
  std::array<double, 3> radii;
  double log_mean = 0;
  for (auto& r : radii) {
    r = 1.0 + elongation * rng.uniform(-1.0, 1.0);
    log_mean += std::log(r) / 3;
  }
  for (auto& r : radii) r *= radius / std::exp(log_mean);
  return radii;
}

Bounds union_bounds(const Bounds& a, const Bounds& b) {
  Bounds out;
  for (int j = 0; j < 3; ++j) {
    out.lo[j] = std::min(a.lo[j], b.lo[j]);
    out.hi[j] = std::max(a.hi[j], b.hi[j]);
  }
  return out;
}

// Normalised Gaussian weights for offsets -radius..radius (in voxels).
std::vector<double> gaussian_kernel(double sigma_voxels) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma_voxels)));
  std::vector<double> kernel(2 * radius + 1);
  double total = 0;
  for (int k = -radius; k <= radius; ++k) {
    kernel[k + radius] = std::exp(-0.5 * k * k / (sigma_voxels * sigma_voxels));
    total += kernel[k + radius];
  }
  for (auto& w : kernel) w /= total;
  return kernel;
}

// Convolves every line of `n` elements along one axis. The volume is seen as
// [outer, n, inner] with `inner` contiguous values per step along the axis. Lines along y and z
// are processed `inner` at a time so the innermost loop runs over contiguous memory; lines along
// x (inner = 1) are padded and convolved one by one, which also vectorises.
void convolve_axis(std::vector<float>& values, int64_t outer, int64_t n, int64_t inner,
                   const std::vector<double>& kernel) {
  const int64_t radius = static_cast<int64_t>(kernel.size() / 2);
  std::vector<float> weights(kernel.begin(), kernel.end());
  if (inner == 1) {
    std::vector<float> padded(static_cast<size_t>(n + 2 * radius));
    for (int64_t o = 0; o < outer; ++o) {
      float* line = values.data() + o * n;
      for (int64_t j = 0; j < n + 2 * radius; ++j) {
        padded[j] = line[std::clamp<int64_t>(j - radius, 0, n - 1)];
      }
      std::fill(line, line + n, 0.0f);
      for (int64_t k = 0; k <= 2 * radius; ++k) {
        const float w = weights[k];
        const float* in = padded.data() + k;
        for (int64_t i = 0; i < n; ++i) line[i] += w * in[i];
      }
    }
    return;
  }
  std::vector<float> source(static_cast<size_t>(n * inner));
  for (int64_t o = 0; o < outer; ++o) {
    float* block = values.data() + o * n * inner;
    std::copy(block, block + n * inner, source.begin());
    for (int64_t i = 0; i < n; ++i) {
      float* out = block + i * inner;
      std::fill(out, out + inner, 0.0f);
      for (int64_t k = -radius; k <= radius; ++k) {
        const int64_t j = std::clamp<int64_t>(i + k, 0, n - 1);
        const float w = weights[k + radius];
        const float* in = source.data() + j * inner;
        for (int64_t e = 0; e < inner; ++e) out[e] += w * in[e];
      }
    }
  }
}

// Sigma in voxels below which blurring is skipped: the kernel would be a delta.
constexpr double kNegligibleSigma = 0.1;

}  // namespace

double Grid::edge_width() const { return std::cbrt(spacing[0] * spacing[1] * spacing[2]); }

float edge_occupancy(double signed_distance, double width) {
  return static_cast<float>(std::clamp(0.5 - signed_distance / width, 0.0, 1.0));
}

void rasterize(const Grid& grid, const Bounds& bounds, const SignedDistance& distance,
               const std::function<void(int64_t, float)>& visit) {
  const double width = grid.edge_width();
  std::array<int64_t, 3> lo, hi;
  for (int axis = 0; axis < 3; ++axis) {
    const double centre = 0.5 * static_cast<double>(grid.size[axis] - 1);
    const double first = (bounds.lo[axis] - 0.5 * width) / grid.spacing[axis] + centre;
    const double last = (bounds.hi[axis] + 0.5 * width) / grid.spacing[axis] + centre;
    lo[axis] = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(first)));
    hi[axis] = std::min<int64_t>(grid.size[axis] - 1, static_cast<int64_t>(std::floor(last)));
    if (lo[axis] > hi[axis]) return;
  }
  for (int64_t z = lo[2]; z <= hi[2]; ++z) {
    for (int64_t y = lo[1]; y <= hi[1]; ++y) {
      for (int64_t x = lo[0]; x <= hi[0]; ++x) {
        const float occupancy = edge_occupancy(distance(grid.point(x, y, z)), width);
        if (occupancy > 0) visit(grid.index(x, y, z), occupancy);
      }
    }
  }
}

double ellipse_distance(double dx, double dy, double rx, double ry) {
  const double u = dx / rx;
  const double v = dy / ry;
  const double rho = planar_distance(u, v);
  if (rho < 1e-12) return -std::min(rx, ry);
  const double gradient = planar_distance(dx / (rx * rx), dy / (ry * ry)) / rho;
  return (rho - 1.0) / gradient;
}

double Capsule::signed_distance(const Point& p) const {
  const std::array<double, 3> ab{b[0] - a[0], b[1] - a[1], b[2] - a[2]};
  const std::array<double, 3> ap{p[0] - a[0], p[1] - a[1], p[2] - a[2]};
  const double length2 = dot(ab, ab);
  const double t = length2 > 0 ? std::clamp(dot(ap, ab) / length2, 0.0, 1.0) : 0.0;
  const std::array<double, 3> off{ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]};
  return norm(off) - (ra + t * (rb - ra));
}

Bounds Capsule::bounds() const {
  const double r = std::max(ra, rb);
  Bounds out;
  for (int j = 0; j < 3; ++j) {
    out.lo[j] = std::min(a[j], b[j]) - r;
    out.hi[j] = std::max(a[j], b[j]) + r;
  }
  return out;
}

double Lobe::signed_distance(const Point& p) const {
  const std::array<double, 3> d{p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]};
  std::array<double, 3> q;  // p in the lobe's frame
  for (int j = 0; j < 3; ++j) q[j] = axes[j] * d[0] + axes[3 + j] * d[1] + axes[6 + j] * d[2];
  const std::array<double, 3> u{q[0] / radii[0], q[1] / radii[1], q[2] / radii[2]};
  const double rho = norm(u);
  if (rho < 1e-12) return -std::min({radii[0], radii[1], radii[2]});
  const std::array<double, 3> g{u[0] / radii[0], u[1] / radii[1], u[2] / radii[2]};
  const double gradient = norm(g) / rho;
  double boundary = 1.0;
  if (!waves.empty()) {
    const double length = norm(q);
    const std::array<double, 3> direction{q[0] / length, q[1] / length, q[2] / length};
    for (const auto& wave : waves) {
      boundary += wave.amplitude * std::cos(dot(wave.frequency, direction) + wave.phase);
    }
  }
  return (rho - boundary) / gradient;
}

Bounds Lobe::bounds() const {
  double bulge = 1.0;
  for (const auto& wave : waves) bulge += std::abs(wave.amplitude);
  const double reach = bulge * std::max({radii[0], radii[1], radii[2]});
  return {{centre[0] - reach, centre[1] - reach, centre[2] - reach},
          {centre[0] + reach, centre[1] + reach, centre[2] + reach}};
}

Lobe ellipsoid(const Point& centre, const std::array<double, 3>& radii) {
  Lobe lobe;
  lobe.centre = centre;
  lobe.radii = radii;
  return lobe;
}

double Blob::signed_distance(const Point& p) const {
  double best = std::numeric_limits<double>::infinity();
  for (const auto& lobe : lobes) best = std::min(best, lobe.signed_distance(p));
  return best;
}

Bounds Blob::bounds() const {
  if (lobes.empty()) return {};
  Bounds out = lobes.front().bounds();
  for (const auto& lobe : lobes) out = union_bounds(out, lobe.bounds());
  return out;
}

Blob Blob::scaled(double factor) const {
  Blob out = *this;
  if (lobes.empty()) return out;
  const Point origin = lobes.front().centre;
  for (auto& lobe : out.lobes) {
    for (int j = 0; j < 3; ++j) {
      lobe.centre[j] = origin[j] + factor * (lobe.centre[j] - origin[j]);
      lobe.radii[j] *= factor;
    }
  }
  return out;
}

std::vector<Lobe::Wave> random_waves(double irregularity, core::Rng& rng) {
  if (irregularity <= 0) return {};
  // Five waves of one to three bumps across the sphere read as a lumpy, not spiky, surface.
  constexpr int kWaves = 5;
  std::vector<Lobe::Wave> waves(kWaves);
  double total = 0;
  for (auto& wave : waves) {
    const auto direction = random_unit_vector(rng);
    const double frequency = rng.uniform(1.5, 3.5);
    for (int j = 0; j < 3; ++j) wave.frequency[j] = frequency * direction[j];
    wave.phase = rng.uniform(0.0, 2 * kPi);
    wave.amplitude = rng.uniform(0.5, 1.0);
    total += wave.amplitude;
  }
  for (auto& wave : waves) wave.amplitude *= irregularity / total;
  return waves;
}

std::array<double, 9> random_rotation(core::Rng& rng) {
  // A normalised 4-D Gaussian vector is a uniformly distributed unit quaternion.
  double w, x, y, z, length;
  do {
    w = rng.normal();
    x = rng.normal();
    y = rng.normal();
    z = rng.normal();
    length = std::sqrt(w * w + x * x + y * y + z * z);
  } while (length < 1e-9);
  w /= length;
  x /= length;
  y /= length;
  z /= length;
  return {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
          2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
          2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
}

Blob random_blob(const Point& centre, double diameter, const BlobStyle& style, core::Rng& rng) {
  const int count = static_cast<int>(rng.integer(1, std::max(1, style.max_lobes)));
  // Satellites bulge out of the main lobe by up to a third of its radius; shrinking the main lobe
  // keeps the whole blob close to the requested diameter.
  const double radius = 0.5 * diameter * (count > 1 ? 0.85 : 1.0);
  Blob blob;
  Lobe main;
  main.centre = centre;
  main.radii = random_radii(radius, style.elongation, rng);
  main.axes = random_rotation(rng);
  main.waves = random_waves(style.irregularity, rng);
  blob.lobes.push_back(main);
  for (int k = 1; k < count; ++k) {
    const auto direction = random_unit_vector(rng);
    const double offset = radius * rng.uniform(0.4, 0.7);
    Lobe satellite;
    for (int j = 0; j < 3; ++j) satellite.centre[j] = centre[j] + offset * direction[j];
    satellite.radii = random_radii(radius * rng.uniform(0.4, 0.6), style.elongation, rng);
    satellite.axes = random_rotation(rng);
    satellite.waves = random_waves(style.irregularity, rng);
    blob.lobes.push_back(satellite);
  }
  return blob;
}

Volume smooth_field(const Grid& grid, double scale_mm, core::Rng& rng) {
  // Per axis: for every voxel, the first of the four lattice nodes it depends on and their cubic
  // B-spline weights. The weights are divided by their L2 norm: the field is a weighted sum of
  // independent unit Gaussians, so its variance is the product of the three sums of squared
  // weights, and this makes it exactly 1 everywhere (a raw B-spline would dip between nodes).
  struct AxisWeights {
    std::vector<int64_t> first;
    std::vector<std::array<double, 4>> weights;
    int64_t nodes = 0;
  };
  std::array<AxisWeights, 3> axes;
  for (int axis = 0; axis < 3; ++axis) {
    const double step = std::max(scale_mm, grid.spacing[axis]);
    const double shift = rng.uniform(0.0, step);
    AxisWeights& a = axes[axis];
    const int64_t n = grid.size[axis];
    a.first.resize(static_cast<size_t>(n));
    a.weights.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const double t = (grid.coordinate(axis, i) + grid.half_extent(axis) + shift) / step;
      const double cell = std::floor(t);
      const double f = t - cell;
      std::array<double, 4> w{(1 - f) * (1 - f) * (1 - f) / 6, (3 * f * f * f - 6 * f * f + 4) / 6,
                              (-3 * f * f * f + 3 * f * f + 3 * f + 1) / 6, f * f * f / 6};
      const double length = std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2] + w[3] * w[3]);
      for (auto& v : w) v /= length;
      a.first[i] = static_cast<int64_t>(cell);
      a.weights[i] = w;
      a.nodes = std::max(a.nodes, a.first[i] + 4);
    }
  }
  const int64_t nx = grid.size[0], ny = grid.size[1], nz = grid.size[2];
  const int64_t lx = axes[0].nodes, ly = axes[1].nodes, lz = axes[2].nodes;
  std::vector<float> lattice(static_cast<size_t>(lx * ly * lz));
  std::normal_distribution<float> gaussian(0.0f, 1.0f);
  for (auto& v : lattice) v = gaussian(rng.engine());

  // Interpolate one axis at a time: [lz, ly, lx] -> [lz, ly, nx] -> [lz, ny, nx] -> [nz, ny, nx].
  std::vector<float> along_x(static_cast<size_t>(lz * ly * nx));
  for (int64_t row = 0; row < lz * ly; ++row) {
    for (int64_t x = 0; x < nx; ++x) {
      const float* nodes = lattice.data() + row * lx + axes[0].first[x];
      const auto& w = axes[0].weights[x];
      along_x[row * nx + x] =
          static_cast<float>(w[0] * nodes[0] + w[1] * nodes[1] + w[2] * nodes[2] + w[3] * nodes[3]);
    }
  }
  std::vector<float> along_y(static_cast<size_t>(lz * ny * nx), 0.0f);
  for (int64_t zl = 0; zl < lz; ++zl) {
    for (int64_t y = 0; y < ny; ++y) {
      float* out = along_y.data() + (zl * ny + y) * nx;
      for (int m = 0; m < 4; ++m) {
        const float w = static_cast<float>(axes[1].weights[y][m]);
        const float* in = along_x.data() + (zl * ly + axes[1].first[y] + m) * nx;
        for (int64_t x = 0; x < nx; ++x) out[x] += w * in[x];
      }
    }
  }
  Volume field(grid, 0.0f);
  for (int64_t z = 0; z < nz; ++z) {
    float* out = field.values.data() + z * ny * nx;
    for (int m = 0; m < 4; ++m) {
      const float w = static_cast<float>(axes[2].weights[z][m]);
      const float* in = along_y.data() + (axes[2].first[z] + m) * ny * nx;
      for (int64_t e = 0; e < ny * nx; ++e) out[e] += w * in[e];
    }
  }
  return field;
}

void gaussian_blur(Volume& volume, const std::array<double, 3>& sigma_mm) {
  const Grid& grid = volume.grid;
  const int64_t nx = grid.size[0], ny = grid.size[1], nz = grid.size[2];
  // [outer, n, inner] views of the volume along x, y and z.
  const std::array<std::array<int64_t, 3>, 3> views{
      {{ny * nz, nx, 1}, {nz, ny, nx}, {1, nz, nx * ny}}};
  for (int axis = 0; axis < 3; ++axis) {
    const double sigma = sigma_mm[axis] / grid.spacing[axis];
    if (sigma < kNegligibleSigma || grid.size[axis] < 2) continue;
    const auto& v = views[axis];
    convolve_axis(volume.values, v[0], v[1], v[2], gaussian_kernel(sigma));
  }
}

void gaussian_blur(Volume& volume, double sigma_mm) {
  gaussian_blur(volume, {sigma_mm, sigma_mm, sigma_mm});
}

double fwhm_to_sigma(double fwhm) { return fwhm / (2.0 * std::sqrt(2.0 * std::log(2.0))); }

Volume correlated_noise(const Grid& grid, double sigma_mm, core::Rng& rng) {
  Volume noise(grid);
  std::normal_distribution<float> gaussian(0.0f, 1.0f);
  for (auto& v : noise.values) v = gaussian(rng.engine());
  gaussian_blur(noise, sigma_mm);
  // Blurring averages independent values: the variance drops to the product over the blurred
  // axes of the sum of squared kernel weights. Undo that so the caller sets the amplitude.
  double variance = 1.0;
  for (int axis = 0; axis < 3; ++axis) {
    const double sigma = sigma_mm / grid.spacing[axis];
    if (sigma < kNegligibleSigma || grid.size[axis] < 2) continue;
    double sum = 0;
    for (double w : gaussian_kernel(sigma)) sum += w * w;
    variance *= sum;
  }
  const float gain = static_cast<float>(1.0 / std::sqrt(variance));
  for (auto& v : noise.values) v *= gain;
  return noise;
}

void add_rician_noise(Volume& volume, double sigma, core::Rng& rng) {
  std::normal_distribution<float> gaussian(0.0f, static_cast<float>(sigma));
  for (auto& v : volume.values) {
    const float real = v + gaussian(rng.engine());
    const float imaginary = gaussian(rng.engine());
    v = std::sqrt(real * real + imaginary * imaginary);
  }
}

void stamp_label(const Volume& occupancy, uint8_t label, std::vector<uint8_t>& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (occupancy.values[i] >= 0.5f) labels[i] = label;
  }
}

double log_uniform(core::Rng& rng, double lo, double hi) {
  return std::exp(rng.uniform(std::log(lo), std::log(hi)));
}

double smoothstep(double edge0, double edge1, double x) {
  const double t = std::clamp((x - edge0) / (edge1 - edge0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

double resolvable_diameter(const Grid& grid, double preferred) {
  double coarsest = 0;
  for (int axis = 0; axis < 3; ++axis) {
    if (grid.size[axis] > 1) coarsest = std::max(coarsest, grid.spacing[axis]);
  }
  return std::max(preferred, 1.5 * coarsest);
}

}  // namespace medkd::data::synth
