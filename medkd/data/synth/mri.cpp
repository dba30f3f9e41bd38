#include "medkd/data/synth/mri.h"

#include <algorithm>
#include <cmath>

namespace medkd::data::synth {

namespace {

// Bounds along an axis a shape does not end on (the rasteriser clamps them to the grid).
constexpr double kUnbounded = 1e4;

// A tissue as the three MR contrasts see it.
struct Tissue {
  float t2;       // T2-weighted signal, relative (fat 0.85, urine 1)
  float adc;      // apparent diffusion coefficient, 1e-6 mm^2/s
  float s0;       // diffusion signal at b = 0 with fat suppression, relative
  float texture;  // amplitude of the tissue's fine-grained heterogeneity
};

constexpr Tissue kAir{0.0f, 0.0f, 0.0f, 0.0f};
constexpr Tissue kFat{0.85f, 150.0f, 0.06f, 0.05f};  // fat suppression leaves DWI and ADC dark
constexpr Tissue kMuscle{0.22f, 1450.0f, 0.35f, 0.08f};
constexpr Tissue kCorticalBone{0.03f, 100.0f, 0.02f, 0.0f};
constexpr Tissue kMarrow{0.55f, 500.0f, 0.12f, 0.1f};
constexpr Tissue kUrine{1.0f, 2900.0f, 1.0f, 0.02f};
constexpr Tissue kBladderWall{0.25f, 1500.0f, 0.4f, 0.05f};
constexpr Tissue kRectalWall{0.28f, 1300.0f, 0.55f, 0.1f};
constexpr Tissue kStool{0.6f, 1800.0f, 0.6f, 0.3f};
constexpr Tissue kCapsule{0.2f, 1300.0f, 0.45f, 0.05f};
constexpr Tissue kCentralZone{0.35f, 1100.0f, 0.8f, 0.08f};
constexpr Tissue kStroma{0.18f, 1150.0f, 0.4f, 0.05f};  // anterior fibromuscular stroma
constexpr Tissue kUrethra{0.6f, 1600.0f, 0.6f, 0.05f};
constexpr Tissue kSeminalVesicle{0.9f, 2000.0f, 0.8f, 0.25f};
constexpr Tissue kNeurovascular{0.7f, 1800.0f, 0.5f, 0.3f};

Tissue mix(const Tissue& a, const Tissue& b, float t) {
  return {a.t2 + t * (b.t2 - a.t2), a.adc + t * (b.adc - a.adc), a.s0 + t * (b.s0 - a.s0),
          a.texture + t * (b.texture - a.texture)};
}

// How one shape is painted: its occupancy can be limited to inside one region and outside
// another (a nodule stays in the transition zone, a lesion in the gland).
struct Stroke {
  Tissue tissue;
  const Volume* within = nullptr;
  const Volume* outside = nullptr;
  Volume* record = nullptr;  // keeps the largest occupancy painted (zone and lesion masks)
};

// The tissue properties being painted, one volume per property.
struct Scene {
  explicit Scene(const Grid& g) : grid(g), t2(g), adc(g), s0(g), texture(g) {}

  void blend_voxel(int64_t i, const Tissue& tissue, float occupancy) {
    blend(t2[i], tissue.t2, occupancy);
    blend(adc[i], tissue.adc, occupancy);
    blend(s0[i], tissue.s0, occupancy);
    blend(texture[i], tissue.texture, occupancy);
  }
  void paint(const Bounds& bounds, const SignedDistance& distance, const Stroke& stroke) {
    rasterize(grid, bounds, distance, [&](int64_t i, float occupancy) {
      if (stroke.within) occupancy *= (*stroke.within)[i];
      if (stroke.outside) occupancy *= 1.0f - (*stroke.outside)[i];
      if (occupancy <= 0) return;
      blend_voxel(i, stroke.tissue, occupancy);
      if (stroke.record) (*stroke.record)[i] = std::max((*stroke.record)[i], occupancy);
    });
  }
  // Any shape with bounds() and signed_distance(Point): Lobe, Blob, Capsule.
  template <typename Shape>
  void paint(const Shape& shape, const Stroke& stroke) {
    paint(
        shape.bounds(), [&](const Point& p) { return shape.signed_distance(p); }, stroke);
  }

  Grid grid;
  Volume t2, adc, s0, texture;
};

// One patient's pelvis, centred near the prostate. Lengths in mm.
struct Anatomy {
  Point prostate;
  std::array<double, 3> radii;  // of the gland
  double tz_scale;              // transition zone size: benign hyperplasia enlarges it
  double rectum_radius, rectum_gap, gas_level;
  double body_rx, body_ry, body_cy;
  Tissue peripheral, transition;
};

Anatomy draw_anatomy(core::Rng& rng) {
  Anatomy a;
  a.prostate = {rng.uniform(-2.0, 2.0), rng.uniform(-3.0, 3.0), rng.uniform(-4.0, 4.0)};
  const double enlargement = log_uniform(rng, 1.0, 1.4);
  a.radii = {enlargement * rng.uniform(19.0, 25.0), enlargement * rng.uniform(14.0, 18.0),
             enlargement * rng.uniform(16.0, 22.0)};
  a.tz_scale = 0.75 + 0.6 * (enlargement - 1.0) / 0.4 + rng.uniform(0.0, 0.15);
  a.rectum_radius = rng.uniform(11.0, 17.0);
  a.rectum_gap = rng.uniform(2.0, 6.0);
  a.gas_level = rng.uniform(-0.5, 2.0);  // smooth-field level above which the rectum holds gas
  a.body_rx = rng.uniform(150.0, 190.0);
  a.body_ry = rng.uniform(105.0, 135.0);
  a.body_cy = rng.uniform(5.0, 25.0);
  // Zonal contrast varies between patients and scanners.
  a.peripheral = {static_cast<float>(rng.uniform(0.65, 0.85)),
                  static_cast<float>(rng.uniform(1500.0, 1900.0)),
                  static_cast<float>(rng.uniform(0.8, 1.0)), 0.12f};
  a.transition = {static_cast<float>(rng.uniform(0.38, 0.52)),
                  static_cast<float>(rng.uniform(1150.0, 1400.0)),
                  static_cast<float>(rng.uniform(0.7, 0.85)), 0.22f};
  return a;
}

double rectum_centre_y(const Anatomy& a, double z) {
  // The rectum lies behind the gland and curves backwards as it rises.
  return a.prostate[1] + a.radii[1] + a.rectum_gap + a.rectum_radius + 0.15 * (z - a.prostate[2]);
}

// A uniformly random point inside the ellipsoid with the given centre and radii.
Point random_point_in(const Point& centre, const std::array<double, 3>& radii, core::Rng& rng) {
  for (;;) {
    const double u = rng.uniform(-1.0, 1.0), v = rng.uniform(-1.0, 1.0), w = rng.uniform(-1.0, 1.0);
    if (u * u + v * v + w * w <= 1.0) {
      return {centre[0] + u * radii[0], centre[1] + v * radii[1], centre[2] + w * radii[2]};
    }
  }
}

// ---- Pelvis ----------------------------------------------------------------------------------

void paint_bone(Scene& scene, const Capsule& bone) {
  scene.paint(bone, {kCorticalBone});
  Capsule marrow = bone;
  marrow.ra -= 2;
  marrow.rb -= 2;
  scene.paint(marrow, {kMarrow});
}

void paint_pelvis(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Point& c = a.prostate;
  const double rx = a.radii[0], ry = a.radii[1], rz = a.radii[2];
  // Body of fat; the muscles, bones and organs are painted into it.
  const Bounds everywhere{{-kUnbounded, -kUnbounded, -kUnbounded},
                          {kUnbounded, kUnbounded, kUnbounded}};
  scene.paint(everywhere,
              [&](const Point& p) {
                return ellipse_distance(p[0], p[1] - a.body_cy, a.body_rx, a.body_ry);
              },
              {kFat});
  for (double side : {-1.0, 1.0}) {
    // Gluteal muscles behind, obturator internus along the side wall, the hip bone outside it.
    scene.paint(ellipsoid({side * 60, a.body_cy + a.body_ry - 45, c[2]}, {50, 32, 90}), {kMuscle});
    scene.paint(Capsule{{side * (rx + 22), c[1] - 15, c[2] + 30},
                        {side * (rx + 18), c[1] + 20, c[2] - 25},
                        rng.uniform(9.0, 12.0),
                        rng.uniform(8.0, 11.0)},
                {kMuscle});
    paint_bone(scene, Capsule{{side * (rx + 36), c[1] - 20, c[2] + 40},
                              {side * (rx + 33), c[1] + 25, c[2] - 30},
                              rng.uniform(10.0, 13.0),
                              rng.uniform(9.0, 12.0)});
    // Pubic bones in front, split by the symphysis; the inferior rami run down and outwards.
    const double r = rng.uniform(7.0, 9.0);
    const Point symphysis{side * (r + 2), c[1] - ry - 20, c[2] + 0.2 * rz};
    paint_bone(scene, Capsule{symphysis, {side * 38, c[1] - ry - 12, symphysis[2] + 18}, r, r});
    paint_bone(scene, Capsule{symphysis, {side * 32, c[1] - ry, c[2] - rz - 18}, r - 1, r - 2});
  }
  // Levator ani: a muscular sling around the back and sides of the gland and rectum.
  const double sling_cy = c[1] + 0.5 * ry + 0.5 * a.rectum_radius;
  const double sling_rx = rx + 8, sling_ry = ry + a.rectum_radius + 6;
  scene.paint(everywhere,
              [&](const Point& p) {
                const double ring =
                    std::abs(ellipse_distance(p[0], p[1] - sling_cy, sling_rx, sling_ry)) - 2.0;
                return std::max({ring, c[1] - 0.2 * ry - p[1], p[2] - (c[2] + 0.3 * rz),
                                 (c[2] - rz - 15) - p[2]});
              },
              {kMuscle});

  // Bladder above the gland: wall, then urine.
  const std::array<double, 3> bladder_radii{rng.uniform(30.0, 45.0), rng.uniform(25.0, 35.0),
                                            rng.uniform(22.0, 32.0)};
  const Point bladder{c[0], c[1] - 5, c[2] + rz + 0.85 * bladder_radii[2]};
  scene.paint(
      ellipsoid(bladder, {bladder_radii[0] + 3, bladder_radii[1] + 3, bladder_radii[2] + 3}),
      {kBladderWall});
  scene.paint(ellipsoid(bladder, bladder_radii), {kUrine});

  // Seminal vesicles above and behind the base, convoluted and fluid-filled.
  for (double side : {-1.0, 1.0}) {
    scene.paint(Capsule{{side * 6, c[1] + 0.6 * ry, c[2] + 0.8 * rz},
                        {side * 28, c[1] + 0.9 * ry, c[2] + 0.8 * rz + 12},
                        rng.uniform(4.0, 6.0),
                        rng.uniform(5.0, 7.0)},
                {kSeminalVesicle});
  }

  // Rectum: a muscular wall around gas and stool.
  const Bounds rectum_bounds{{-a.rectum_radius - 2, -kUnbounded, -kUnbounded},
                             {a.rectum_radius + 2, kUnbounded, kUnbounded}};
  auto rectum = [&](const Point& p, double inset) {
    return planar_distance(p[0], p[1] - rectum_centre_y(a, p[2])) - (a.rectum_radius - inset);
  };
  scene.paint(rectum_bounds, [&](const Point& p) { return rectum(p, 0.0); }, {kRectalWall});
  const Volume content = smooth_field(scene.grid, 10.0, rng);
  rasterize(
      scene.grid, rectum_bounds, [&](const Point& p) { return rectum(p, 3.0); },
      [&](int64_t i, float occupancy) {
        const float gas =
            static_cast<float>(std::clamp((content[i] - a.gas_level) * 2.0, 0.0, 1.0));
        scene.blend_voxel(i, mix(kStool, kAir, gas), occupancy);
      });
}

// ---- Gland -----------------------------------------------------------------------------------

struct Zones {
  Blob gland;
  Lobe transition;
  Volume gland_mask, transition_mask;
};

Zones paint_gland(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Point& c = a.prostate;
  const double rx = a.radii[0], ry = a.radii[1], rz = a.radii[2];
  Zones zones{{}, {}, Volume(scene.grid), Volume(scene.grid)};

  // The gland: an ellipsoid widened at the base, its surface gently irregular.
  Lobe body = ellipsoid(c, a.radii);
  body.waves = random_waves(0.04, rng);
  const Lobe base =
      ellipsoid({c[0], c[1] + 0.05 * ry, c[2] + 0.35 * rz}, {0.95 * rx, 0.9 * ry, 0.65 * rz});
  zones.gland.lobes = {body, base};
  const Blob& gland = zones.gland;
  scene.paint(gland, {kCapsule, nullptr, nullptr, &zones.gland_mask});
  scene.paint(gland.bounds(), [&](const Point& p) { return gland.signed_distance(p) + 1.0; },
              {a.peripheral});

  // Neurovascular bundles just outside the capsule, behind and to the sides.
  for (double side : {-1.0, 1.0}) {
    scene.paint(Capsule{{side * 0.8 * rx, c[1] + 0.8 * ry, c[2] - rz},
                        {side * 0.9 * rx, c[1] + 0.75 * ry, c[2] + rz},
                        2.5,
                        2.5},
                {kNeurovascular, nullptr, &zones.gland_mask});
  }

  const Volume* in_gland = &zones.gland_mask;
  zones.transition =
      ellipsoid({c[0], c[1] - 0.22 * ry, c[2] + 0.15 * rz},
                {0.55 * rx * a.tz_scale, 0.5 * ry * a.tz_scale, 0.55 * rz * a.tz_scale});
  scene.paint(zones.transition, {a.transition, in_gland, nullptr, &zones.transition_mask});
  const Volume* in_tz = &zones.transition_mask;
  if (rng.bernoulli(0.8)) {
    scene.paint(
        ellipsoid({c[0], c[1] + 0.3 * ry, c[2] + 0.6 * rz}, {0.4 * rx, 0.28 * ry, 0.3 * rz}),
        {kCentralZone, in_gland, in_tz});
  }
  scene.paint(ellipsoid({c[0], c[1] - 0.9 * ry, c[2] + 0.1 * rz}, {0.6 * rx, 0.32 * ry, 0.8 * rz}),
              {kStroma, in_gland});
  scene.paint(Capsule{{c[0], c[1] - 0.15 * ry, c[2] - rz},
                      {c[0], c[1] - 0.25 * ry, c[2] + rz},
                      rng.uniform(1.5, 2.5),
                      2.0},
              {kUrethra, in_gland});

  // Benign hyperplasia nodules: stromal ones are dark on T2W and low on ADC like cancer;
  // glandular ones are bright with a dark rim.
  const int64_t nodules =
      2 + static_cast<int64_t>(std::lround(5 * (a.tz_scale - 0.75))) + rng.integer(0, 2);
  for (int64_t k = 0; k < nodules; ++k) {
    const Point centre =
        random_point_in(zones.transition.centre,
                        {0.8 * zones.transition.radii[0], 0.8 * zones.transition.radii[1],
                         0.8 * zones.transition.radii[2]},
                        rng);
    const double diameter = rng.uniform(4.0, 14.0) * a.tz_scale;
    const Blob nodule = random_blob(centre, diameter, {2, 0.1, 0.25}, rng);
    if (rng.bernoulli(0.5)) {
      const Tissue stromal{static_cast<float>(rng.uniform(0.25, 0.38)),
                           static_cast<float>(rng.uniform(800.0, 1150.0)),
                           static_cast<float>(rng.uniform(0.8, 0.95)), 0.15f};
      scene.paint(nodule, {stromal, in_tz});
    } else {
      const Tissue glandular{static_cast<float>(rng.uniform(0.6, 0.8)),
                             static_cast<float>(rng.uniform(1500.0, 1800.0)), 0.9f, 0.2f};
      scene.paint(nodule, {kCapsule, in_tz});
      scene.paint(nodule.scaled(0.85), {glandular, in_tz});
    }
  }
  // Benign peripheral-zone changes (prostatitis, atrophy, scars): flat, mildly dark bands.
  const int64_t benign = rng.integer(0, 3);
  for (int64_t k = 0; k < benign; ++k) {
    const Point centre = random_point_in(c, {0.8 * rx, 0.8 * ry, 0.8 * rz}, rng);
    const Blob band = random_blob(centre, rng.uniform(6.0, 16.0), {2, 0.15, 0.6}, rng);
    const Tissue change{static_cast<float>(rng.uniform(0.42, 0.58)),
                        static_cast<float>(rng.uniform(1150.0, 1350.0)), 0.85f, 0.12f};
    scene.paint(band, {change, in_gland, in_tz});
  }
  return zones;
}

// ---- Lesions ---------------------------------------------------------------------------------

void paint_lesions(Scene& scene, const Anatomy& a, const Zones& zones, Volume& lesions,
                   core::Rng& rng) {
  const Point& c = a.prostate;
  const int count = rng.bernoulli(0.25) ? 2 : 1;
  std::vector<std::pair<Point, double>> placed;
  for (int k = 0; k < count; ++k) {
    const double diameter =
        std::max(log_uniform(rng, 5.0, 20.0), resolvable_diameter(scene.grid, 5.0));
    const bool peripheral = rng.bernoulli(0.7);
    for (int attempt = 0; attempt < 60; ++attempt) {
      const Point centre =
          random_point_in(c, {0.9 * a.radii[0], 0.9 * a.radii[1], 0.9 * a.radii[2]}, rng);
      const double in_gland = zones.gland.signed_distance(centre);
      const double in_tz = zones.transition.signed_distance(centre);
      const bool fits = peripheral ? (in_tz > 0.25 * diameter && in_gland < -0.15 * diameter)
                                   : in_tz < -0.2 * diameter;
      bool apart = true;
      for (const auto& [other, other_diameter] : placed) {
        const double d =
            std::hypot(centre[0] - other[0], centre[1] - other[1], centre[2] - other[2]);
        apart = apart && d > 0.5 * (diameter + other_diameter) + 2;
      }
      if (!fits || !apart) continue;
      // Transition-zone cancers are lenticular and ill-defined, peripheral ones rounder.
      const BlobStyle style{3, rng.uniform(0.15, 0.3), peripheral ? 0.3 : 0.5};
      const Blob lesion = random_blob(centre, diameter, style, rng);
      const Tissue tissue{static_cast<float>(rng.uniform(0.2, 0.38)),
                          static_cast<float>(rng.uniform(650.0, 1200.0)),
                          static_cast<float>(rng.uniform(0.85, 1.05)), 0.1f};
      scene.paint(lesion, {tissue, &zones.gland_mask, nullptr, &lesions});
      placed.emplace_back(centre, diameter);
      break;
    }
  }
}

// ---- Scanner ---------------------------------------------------------------------------------

// Two fields mixed so that their correlation is `rho` and the variance stays 1.
Volume correlated_mix(const Volume& a, const Volume& b, float rho) {
  Volume out(a.grid);
  const float other = std::sqrt(1.0f - rho * rho);
  for (int64_t i = 0; i < a.grid.voxels(); ++i) out[i] = rho * a[i] + other * b[i];
  return out;
}

// A smooth multiplicative bias: coil sensitivity falling off with distance from the coil.
Volume bias_field(const Grid& grid, double strength, core::Rng& rng) {
  Volume bias = smooth_field(grid, 80.0, rng);
  const double slope = rng.uniform(-0.004, 0.004);  // per mm, front to back
  for (int64_t z = 0; z < grid.size[2]; ++z) {
    for (int64_t y = 0; y < grid.size[1]; ++y) {
      for (int64_t x = 0; x < grid.size[0]; ++x) {
        const int64_t i = grid.index(x, y, z);
        bias[i] = static_cast<float>(std::exp(strength * bias[i] + slope * grid.coordinate(1, y)));
      }
    }
  }
  return bias;
}

std::vector<Volume> acquire(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Grid& grid = scene.grid;
  const int64_t n = grid.voxels();
  const Volume grain = smooth_field(grid, 2.5, rng);
  const Volume adc_grain = correlated_mix(grain, smooth_field(grid, 2.5, rng), 0.6f);
  const Volume dwi_grain = correlated_mix(grain, smooth_field(grid, 2.5, rng), 0.4f);

  // T2W: tissue signal with texture, coil bias, a slight blur, Rician noise.
  Volume t2w(grid);
  const Volume t2_bias = bias_field(grid, 0.15, rng);
  const double t2_gain = log_uniform(rng, 300.0, 900.0);
  for (int64_t i = 0; i < n; ++i) {
    const float texture = std::max(0.2f, 1.0f + scene.texture[i] * grain[i]);
    t2w[i] = static_cast<float>(t2_gain * scene.t2[i] * texture * t2_bias[i]);
  }
  gaussian_blur(t2w, {0.25, 0.25, 0.0});
  add_rician_noise(t2w, t2_gain * rng.uniform(0.015, 0.03), rng);

  // Diffusion: S(b) = S0 exp(-b ADC) at full resolution, then the coarser DWI resolution.
  Volume adc(grid), dwi(grid), s0 = scene.s0;
  for (int64_t i = 0; i < n; ++i) {
    const float heterogeneity = 0.5f * scene.texture[i];
    adc[i] = scene.adc[i] * std::max(0.3f, 1.0f + heterogeneity * adc_grain[i]);
    dwi[i] = static_cast<float>(scene.s0[i] * std::exp(-kMriHighB * 1e-6 * adc[i])) *
             std::max(0.2f, 1.0f + heterogeneity * dwi_grain[i]);
  }
  const double dwi_sigma = fwhm_to_sigma(rng.uniform(2.2, 3.2));
  for (Volume* v : {&adc, &dwi, &s0}) gaussian_blur(*v, {dwi_sigma, dwi_sigma, 0.0});

  // Gas in the rectum distorts the diffusion images: a bright pile-up and a falsely low ADC
  // at the rectal wall, right behind the peripheral zone.
  if (a.gas_level < 1.5 && rng.bernoulli(0.5)) {
    const double z = a.prostate[2] + rng.uniform(-0.6, 0.3) * a.radii[2];
    const Point centre{rng.uniform(-0.5, 0.5) * a.radii[0],
                       rectum_centre_y(a, z) - a.rectum_radius + 2, z};
    const Blob artefact = random_blob(centre, rng.uniform(8.0, 16.0), {2, 0.3, 0.5}, rng);
    const double gain = rng.uniform(1.0, 2.5);
    rasterize(
        grid, artefact.bounds(), [&](const Point& p) { return artefact.signed_distance(p); },
        [&](int64_t i, float occupancy) {
          dwi[i] *= static_cast<float>(1.0 + gain * occupancy);
          adc[i] *= 1.0f - 0.4f * occupancy;
        });
  }

  // ADC is computed from noisy diffusion images: noisier where there is little signal.
  const double adc_noise = rng.uniform(40.0, 80.0);
  const Volume adc_grain_noise = correlated_noise(grid, 0.5, rng);
  for (int64_t i = 0; i < n; ++i) {
    const double sd = adc_noise / std::sqrt(std::max(s0[i], 0.1f));
    adc[i] = std::clamp(static_cast<float>(adc[i] + sd * adc_grain_noise[i]), 0.0f, 4000.0f);
  }

  const Volume dwi_bias = bias_field(grid, 0.25, rng);
  const double dwi_gain = log_uniform(rng, 100.0, 300.0);
  for (int64_t i = 0; i < n; ++i) dwi[i] = static_cast<float>(dwi_gain * dwi[i] * dwi_bias[i]);
  add_rician_noise(dwi, dwi_gain * rng.uniform(0.025, 0.04), rng);

  std::vector<Volume> channels;
  channels.push_back(std::move(t2w));
  channels.push_back(std::move(adc));
  channels.push_back(std::move(dwi));
  return channels;
}

}  // namespace

std::vector<std::string> mri_channel_names() { return {"T2W", "ADC", "HBV"}; }

std::vector<std::pair<std::string, int>> mri_labels() {
  return {{"background", 0}, {"lesion", kMriLesion}};
}

SynthCase generate_mri_case(const Grid& grid, bool with_lesions, core::Rng& rng) {
  // Each part draws from its own stream (see generate_petct_case).
  core::Rng anatomy_rng = rng.child(0);
  core::Rng organ_rng = rng.child(1);
  core::Rng lesion_rng = rng.child(2);
  core::Rng scanner_rng = rng.child(3);

  const Anatomy anatomy = draw_anatomy(anatomy_rng);
  Scene scene(grid);
  paint_pelvis(scene, anatomy, organ_rng);
  const Zones zones = paint_gland(scene, anatomy, organ_rng);
  Volume lesions(grid);
  if (with_lesions) paint_lesions(scene, anatomy, zones, lesions, lesion_rng);

  SynthCase out;
  out.grid = grid;
  out.channels = acquire(scene, anatomy, scanner_rng);
  out.labels.assign(static_cast<size_t>(grid.voxels()), 0);
  stamp_label(lesions, kMriLesion, out.labels);
  return out;
}

}  // namespace medkd::data::synth
