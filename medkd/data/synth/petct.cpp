#include "medkd/data/synth/petct.h"

#include <algorithm>
#include <cmath>

namespace medkd::data::synth {

namespace {

constexpr double kPi = 3.14159265358979323846;
// Bounds along an axis a shape does not end on (the rasteriser clamps them to the grid).
constexpr double kUnbounded = 1e4;

// A tissue as the two scanners see it.
struct Tissue {
  float hu;   // CT attenuation
  float suv;  // PET activity before the scanner's blur and noise
};

constexpr float kAirHu = -1000.0f;
constexpr Tissue kAir{kAirHu, 0.0f};

// How one shape is painted.
struct Stroke {
  Tissue tissue;
  const Volume* texture = nullptr;  // SUV *= max(0.2, 1 + texture_gain * texture)
  float texture_gain = 0.0f;
  bool inside_body = true;   // organs stay inside the skin
  bool spare_bone = false;   // lesions push soft tissue and air aside but never bone
  Volume* record = nullptr;  // keeps the largest occupancy painted (bone map, lesion masks)
};

// CT and PET being painted, plus the occupancies later strokes must respect.
struct Scene {
  explicit Scene(const Grid& g) : grid(g), ct(g, kAirHu), pet(g), body(g), bone(g) {}

  void paint(const Bounds& bounds, const SignedDistance& distance, const Stroke& stroke) {
    rasterize(grid, bounds, distance, [&](int64_t i, float occupancy) {
      if (stroke.inside_body) occupancy *= body[i];
      if (stroke.spare_bone) occupancy *= 1.0f - bone[i];
      if (occupancy <= 0) return;
      float suv = stroke.tissue.suv;
      if (stroke.texture) {
        suv *= std::max(0.2f, 1.0f + stroke.texture_gain * (*stroke.texture)[i]);
      }
      blend(ct[i], stroke.tissue.hu, occupancy);
      blend(pet[i], suv, occupancy);
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
  Volume ct;    // HU
  Volume pet;   // SUV
  Volume body;  // occupancy of the body (inside the skin)
  Volume bone;  // occupancy of bone
};

double lerp(double a, double b, double t) { return a + t * (b - a); }

// One patient's anatomy. Lengths in mm; z levels already include the patient's shift along the
// body axis, so the field of view cuts every case at a slightly different height.
struct Anatomy {
  // Levels along z, bottom to top.
  double shoulder_z, larynx_low, jaw_low, oropharynx_low, jaw_high, palate, nasopharynx_top,
      brain_base;
  // Skin: a neck ellipse that widens into the shoulders below and the head above.
  double neck_rx, neck_ry, neck_cy, head_rx, head_ry, head_cy, shoulder_rx, shoulder_ry;
  // Waves 2, 3 and 4 around the outline: amplitude * cos(k * angle + phase) expands into
  // (amplitude cos phase) * cos(k angle) - (amplitude sin phase) * sin(k angle).
  std::array<double, 3> outline_cos, outline_sin;
  double fat;  // subcutaneous fat thickness
  // Cranial cavity (brain) and skull thickness.
  Point cranium;
  std::array<double, 3> cranium_radii;
  double skull;
  // Mandible: an elliptic arch.
  double jaw_rx, jaw_ry, jaw_cy, jaw_thickness;
  // Spine: vertebral bodies (discs between them) and the spinal canal behind them.
  double spine_y, vertebra_rx, vertebra_ry, vertebra_period, vertebra_phase, canal_radius;
  // Airway: pharynx above the larynx, trachea below it.
  double airway_y, pharynx_rx, pharynx_ry, larynx_r, trachea_r, airway_phase;
  // Carotid artery position (the jugular vein and the lymph nodes lie beside it).
  double carotid_x, carotid_y;
  // Tissue values of this patient.
  double soft_hu, soft_suv, fat_suv, brain_suv, bone_hu, cartilage_hu;
};

Anatomy draw_anatomy(core::Rng& rng) {
  Anatomy a;
  const double shift = rng.uniform(-10.0, 10.0);
  a.shoulder_z = -60 + shift;
  a.larynx_low = -45 + shift;
  a.jaw_low = -14 + shift + rng.uniform(-3.0, 3.0);
  a.oropharynx_low = -10 + shift;
  a.jaw_high = 14 + shift + rng.uniform(-3.0, 3.0);
  a.palate = a.jaw_high + rng.uniform(19.0, 23.0);
  a.nasopharynx_top = a.palate + 10;
  a.brain_base = 72 + shift + rng.uniform(-4.0, 4.0);

  a.neck_rx = rng.uniform(50.0, 62.0);
  a.neck_ry = rng.uniform(48.0, 58.0);
  a.neck_cy = rng.uniform(6.0, 12.0);
  a.cranium_radii = {rng.uniform(60.0, 67.0), rng.uniform(74.0, 84.0), rng.uniform(55.0, 62.0)};
  a.skull = rng.uniform(5.0, 8.0);
  a.cranium = {0.0, a.neck_cy + rng.uniform(-2.0, 4.0), a.brain_base + a.cranium_radii[2]};
  a.head_rx = a.cranium_radii[0] + a.skull + rng.uniform(5.0, 9.0);
  a.head_ry = a.cranium_radii[1] + a.skull + rng.uniform(6.0, 10.0);
  a.head_cy = a.cranium[1] - 4;  // the face adds depth in front of the cranium
  a.shoulder_rx = rng.uniform(150.0, 185.0);
  a.shoulder_ry = rng.uniform(85.0, 100.0);
  for (int k = 0; k < 3; ++k) {
    const double amplitude = rng.uniform(0.0, 0.035);
    const double phase = rng.uniform(0.0, 2 * kPi);
    a.outline_cos[k] = amplitude * std::cos(phase);
    a.outline_sin[k] = amplitude * std::sin(phase);
  }
  a.fat = log_uniform(rng, 3.0, 15.0);

  a.spine_y = a.neck_cy + rng.uniform(12.0, 17.0);
  a.vertebra_rx = rng.uniform(10.0, 13.0);
  a.vertebra_ry = rng.uniform(8.0, 10.0);
  a.vertebra_period = rng.uniform(15.0, 18.0);
  a.vertebra_phase = rng.uniform(0.0, a.vertebra_period);
  a.canal_radius = rng.uniform(6.0, 8.0);

  a.airway_y = a.spine_y - a.vertebra_ry - rng.uniform(12.0, 16.0);
  a.pharynx_rx = rng.uniform(12.0, 18.0);
  a.pharynx_ry = rng.uniform(5.0, 9.0);
  a.larynx_r = rng.uniform(7.0, 9.0);
  a.trachea_r = rng.uniform(8.0, 10.0);
  a.airway_phase = rng.uniform(0.0, 2 * kPi);

  a.jaw_rx = rng.uniform(40.0, 47.0);
  a.jaw_ry = rng.uniform(44.0, 52.0);
  a.jaw_cy = a.airway_y + rng.uniform(-8.0, -2.0);
  a.jaw_thickness = rng.uniform(6.0, 9.0);

  a.carotid_x = a.pharynx_rx + rng.uniform(10.0, 14.0);
  a.carotid_y = a.airway_y + rng.uniform(6.0, 12.0);

  a.soft_hu = rng.uniform(38.0, 50.0);
  a.soft_suv = rng.uniform(0.5, 0.8);
  a.fat_suv = rng.uniform(0.25, 0.4);
  a.brain_suv = rng.uniform(7.0, 11.0);
  a.bone_hu = rng.uniform(1000.0, 1400.0);
  a.cartilage_hu = rng.uniform(120.0, 400.0);
  return a;
}

// Signed distance to the skin: the neck/head/shoulder tube united with the jaw and face.
double body_distance(const Anatomy& a, const Point& p) {
  const double z = p[2];
  const double head = smoothstep(a.oropharynx_low + 10, a.brain_base - 15, z);
  const double shoulders = smoothstep(a.shoulder_z, a.shoulder_z - 45, z);
  double rx = lerp(lerp(a.neck_rx, a.head_rx, head), a.shoulder_rx, shoulders);
  double ry = lerp(lerp(a.neck_ry, a.head_ry, head), a.shoulder_ry, shoulders);
  const double cy = lerp(lerp(a.neck_cy, a.head_cy, head), a.neck_cy + 12, shoulders);
  // Above the middle of the cranium the head closes over the vertex.
  const double crown = a.cranium_radii[2] + a.skull + 6;
  if (z > a.cranium[2]) {
    const double t = (z - a.cranium[2]) / crown;
    const double f = std::sqrt(std::max(0.02, 1 - t * t));
    rx *= f;
    ry *= f;
  }
  // Waves around the outline, evaluated from powers of the unit direction (no trigonometry).
  const double dx = p[0], dy = p[1] - cy;
  const double r = planar_distance(dx, dy);
  double wave = 1.0;
  if (r > 1e-9) {
    const double c = dx / r, s = dy / r;
    double re = c * c - s * s, im = 2 * c * s;  // (c + i s)^2
    for (int k = 0; k < 3; ++k) {
      wave += a.outline_cos[k] * re - a.outline_sin[k] * im;
      const double next_re = re * c - im * s;
      im = re * s + im * c;
      re = next_re;
    }
  }
  double distance = ellipse_distance(dx, dy, rx * wave, ry * wave);
  // The lower face and chin stick out in front of the neck around the mandible.
  const double bottom = a.jaw_low - 12, top = a.nasopharynx_top;
  if (z > bottom && z < top) {
    const double taper = z < a.jaw_low ? std::sqrt(1 - std::pow((a.jaw_low - z) / 12, 2)) : 1.0;
    const double face =
        ellipse_distance(p[0], p[1] - a.jaw_cy, (a.jaw_rx + 9) * taper, (a.jaw_ry + 9) * taper);
    distance = std::min(distance, std::max(face, z - top));
  }
  return distance;
}

double airway_centre_y(const Anatomy& a, double z) {
  const double pharynx = smoothstep(a.oropharynx_low - 6, a.oropharynx_low + 6, z);
  // The larynx lies in front of the pharynx and the trachea runs forwards as it descends.
  const double lower = a.airway_y - 6 - 0.2 * std::max(0.0, a.larynx_low - z);
  return lerp(lower, a.airway_y, pharynx);
}

std::array<double, 2> airway_radii(const Anatomy& a, double z) {
  const double pharynx = smoothstep(a.oropharynx_low - 6, a.oropharynx_low + 6, z);
  const double trachea = smoothstep(a.larynx_low + 4, a.larynx_low - 8, z);
  // The pharyngeal lumen opens and narrows along its length.
  const double lumen = 0.75 + 0.35 * std::sin(z / 9 + a.airway_phase);
  const double rx = lerp(lerp(1.1 * a.larynx_r, a.pharynx_rx, pharynx), a.trachea_r, trachea);
  const double ry =
      lerp(lerp(0.85 * a.larynx_r, a.pharynx_ry * lumen, pharynx), 0.9 * a.trachea_r, trachea);
  return {rx, ry};
}

double airway_distance(const Anatomy& a, const Point& p) {
  const auto radii = airway_radii(a, p[2]);
  const double d = ellipse_distance(p[0], p[1] - airway_centre_y(a, p[2]), radii[0], radii[1]);
  return std::max(d, p[2] - a.nasopharynx_top);
}

// Radius of the airway ellipse along the in-plane direction `theta`.
double airway_wall(const Anatomy& a, double z, double theta) {
  const auto radii = airway_radii(a, z);
  const double c = std::cos(theta) / radii[0], s = std::sin(theta) / radii[1];
  return 1.0 / std::sqrt(c * c + s * s);
}

double spine_centre_y(const Anatomy& a, double z) {
  return a.spine_y - 4 * std::sin((z - a.oropharynx_low) / 45);  // cervical lordosis
}

// ---- Anatomy ---------------------------------------------------------------------------------

void paint_body(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Grid& grid = scene.grid;
  const double width = grid.edge_width();
  const float fat_hu = static_cast<float>(rng.uniform(-110.0, -90.0));
  const Tissue fat{fat_hu, static_cast<float>(a.fat_suv)};
  const Tissue muscle{static_cast<float>(a.soft_hu), static_cast<float>(a.soft_suv)};
  // Fat planes between the muscles and around the glands: where a smooth field runs high.
  const Volume planes = smooth_field(grid, 8.0, rng);
  // The skin is evaluated once per voxel and shared by the fat and muscle layers.
  for (int64_t z = 0; z < grid.size[2]; ++z) {
    for (int64_t y = 0; y < grid.size[1]; ++y) {
      for (int64_t x = 0; x < grid.size[0]; ++x) {
        const int64_t i = grid.index(x, y, z);
        const double skin = body_distance(a, grid.point(x, y, z));
        const float body = edge_occupancy(skin, width);
        if (body <= 0) continue;
        scene.body[i] = body;
        blend(scene.ct[i], fat.hu, body);
        blend(scene.pet[i], fat.suv, body);
        const float deep = edge_occupancy(skin + a.fat, width);
        const float planes_here = static_cast<float>(std::clamp((planes[i] - 1.2) * 2.0, 0.0, 1.0));
        const float muscle_here = deep * (1.0f - planes_here);
        blend(scene.ct[i], muscle.hu, muscle_here);
        blend(scene.pet[i], muscle.suv, muscle_here);
      }
    }
  }
}

void paint_neck_soft_tissue(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const float soft_hu = static_cast<float>(a.soft_hu);
  for (double side : {-1.0, 1.0}) {
    // Sternocleidomastoid, from the mastoid down to the sternum. Now and then it is tense during
    // the uptake period and takes up FDG: a hot band that is not tumour.
    const bool active = rng.bernoulli(0.2);
    const Capsule muscle{{side * (a.neck_rx - 10), a.spine_y + 4, a.brain_base - 20},
                         {side * 14, a.airway_y - 28, a.shoulder_z - 50},
                         rng.uniform(6.0, 8.0),
                         rng.uniform(8.0, 10.0)};
    const float muscle_suv = static_cast<float>(active ? rng.uniform(2.2, 3.5) : a.soft_suv * 1.1);
    scene.paint(muscle, {{soft_hu + 5, muscle_suv}});

    // Carotid artery and jugular vein: blood pool without contrast agent.
    const float blood_suv = static_cast<float>(rng.uniform(1.4, 2.0));
    const Capsule carotid{{side * a.carotid_x, a.carotid_y - 4, a.shoulder_z - 60},
                          {side * (a.carotid_x + 4), a.carotid_y + 6, a.nasopharynx_top},
                          rng.uniform(3.5, 4.5),
                          rng.uniform(3.0, 4.0)};
    scene.paint(carotid, {{42.0f, blood_suv}});
    const Capsule jugular{{side * (a.carotid_x + 10), a.carotid_y, a.shoulder_z - 60},
                          {side * (a.carotid_x + 12), a.carotid_y + 10, a.nasopharynx_top},
                          rng.uniform(5.0, 7.0),
                          rng.uniform(4.0, 6.0)};
    scene.paint(jugular, {{40.0f, blood_suv}});

    // Salivary glands: parotid (fatty, behind the jaw) and submandibular, both with uptake.
    const Lobe parotid = ellipsoid({side * (a.neck_rx - 13), a.spine_y - 12, a.jaw_high + 10},
                                   {rng.uniform(9.0, 12.0), 17, rng.uniform(16.0, 22.0)});
    scene.paint(parotid, {{static_cast<float>(rng.uniform(-10.0, 25.0)),
                           static_cast<float>(rng.uniform(1.5, 3.0))}});
    const Lobe submandibular =
        ellipsoid({side * (a.jaw_rx - 14), a.jaw_cy + 0.1 * a.jaw_ry, a.jaw_low + 3},
                  {rng.uniform(8.0, 10.0), 12, 10});
    scene.paint(submandibular, {{soft_hu + 5, static_cast<float>(rng.uniform(1.5, 3.0))}});

    // Palatine tonsil in the lateral wall of the oropharynx: physiological uptake right where
    // oropharyngeal tumours grow.
    const double tonsil_z = a.oropharynx_low + rng.uniform(16.0, 26.0);
    const Lobe tonsil = ellipsoid({side * (a.pharynx_rx + 3), a.airway_y + 1, tonsil_z},
                                  {rng.uniform(6.0, 8.0), rng.uniform(7.0, 10.0), 12});
    scene.paint(tonsil, {{soft_hu + 8, static_cast<float>(rng.uniform(2.0, 4.5))}});

    // Thyroid lobe beside the trachea: iodine makes it bright on CT.
    const double thyroid_z = a.larynx_low - 25;
    const Lobe thyroid = ellipsoid(
        {side * (a.trachea_r + 9), airway_centre_y(a, thyroid_z) + 2, thyroid_z}, {8, 9, 20});
    scene.paint(
        thyroid,
        {{static_cast<float>(rng.uniform(90.0, 130.0)),
          static_cast<float>(rng.bernoulli(0.1) ? rng.uniform(3.0, 5.0) : rng.uniform(0.8, 1.5))}});
  }
  // Lingual tonsil at the base of the tongue.
  const Lobe lingual =
      ellipsoid({0, a.airway_y - a.pharynx_ry - 5, a.oropharynx_low + 8}, {13, 6, 10});
  scene.paint(lingual, {{soft_hu + 6, static_cast<float>(rng.uniform(1.8, 3.5))}});

  // Benign lymph nodes along the jugular chain: mild uptake, never labelled.
  const int64_t benign = rng.integer(2, 6);
  for (int64_t k = 0; k < benign; ++k) {
    const double side = rng.bernoulli(0.5) ? 1.0 : -1.0;
    const Point centre{side * (a.carotid_x + rng.uniform(4.0, 16.0)),
                       a.carotid_y + rng.uniform(-14.0, 10.0),
                       rng.uniform(a.larynx_low - 30, a.jaw_high + 5)};
    const Blob node = random_blob(centre, rng.uniform(4.0, 10.0), {1, 0.08, 0.3}, rng);
    scene.paint(node, {{static_cast<float>(a.soft_hu - rng.uniform(5.0, 15.0)),
                        static_cast<float>(rng.uniform(0.8, 2.2))}});
  }
}

void paint_head(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Grid& grid = scene.grid;
  std::array<double, 3> outer = a.cranium_radii;
  for (auto& r : outer) r += a.skull;
  scene.paint(ellipsoid(a.cranium, outer),
              {{static_cast<float>(a.bone_hu), 0.25f}, nullptr, 0, true, false, &scene.bone});
  // Brain: cortex hot, white matter cooler; the texture mixes them at the scale of gyri.
  const Volume gyri = smooth_field(grid, 7.0, rng);
  const Lobe brain = ellipsoid(a.cranium, a.cranium_radii);
  const float brain_suv = static_cast<float>(a.brain_suv);
  scene.paint(brain.bounds(), [&](const Point& p) { return brain.signed_distance(p); },
              {{32.0f, 0.72f * brain_suv}, &gyri, 0.4f});

  // Nasal cavity and the maxillary sinuses (air in a thin shell of bone).
  const Lobe nasal = ellipsoid({0, a.airway_y - 30, a.palate + 15}, {8, 26, 14});
  scene.paint(nasal, {kAir});
  for (double side : {-1.0, 1.0}) {
    const Point centre{side * 22, a.airway_y - 32, a.palate + 16};
    const std::array<double, 3> radii{rng.uniform(10.0, 12.0), 14, 14};
    scene.paint(ellipsoid(centre, {radii[0] + 1.5, radii[1] + 1.5, radii[2] + 1.5}),
                {{700.0f, 0.25f}, nullptr, 0, true, false, &scene.bone});
    scene.paint(ellipsoid(centre, radii), {kAir});
  }
}

void paint_spine(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const double top = a.brain_base - 6;  // the atlas, just under the skull base
  const float bone_hu = static_cast<float>(a.bone_hu);
  const Stroke cortical{{bone_hu, 0.3f}, nullptr, 0, true, false, &scene.bone};
  const Stroke cancellous{
      {static_cast<float>(rng.uniform(220.0, 350.0)), static_cast<float>(rng.uniform(0.7, 1.1))},
      nullptr,
      0,
      true,
      false,
      &scene.bone};
  const Bounds column{{-40, a.spine_y - 25, -kUnbounded}, {40, a.spine_y + 45, top}};
  // Offset along z from the middle of the nearest disc.
  auto from_disc = [&](double z) {
    const double t = z - a.vertebra_phase;
    return t - a.vertebra_period * std::round(t / a.vertebra_period);
  };
  const double disc_height = 4.0;

  // Posterior arch around the canal, with spinous and transverse processes; one per vertebra,
  // so the arches are separated at the level of the discs.
  const double canal_offset = a.vertebra_ry + 2 + a.canal_radius;
  scene.paint(
      column,
      [&](const Point& p) {
        const double cy = spine_centre_y(a, p[2]) + canal_offset;
        const double arch = planar_distance(p[0], p[1] - cy) - (a.canal_radius + 3);
        const double spinous =
            planar_distance(p[0], std::max(0.0, p[1] - cy - a.canal_radius - 10)) - 3.0;
        const double transverse = planar_distance(std::max(0.0, std::abs(p[0]) - a.vertebra_rx - 8),
                                                  p[1] - cy + a.canal_radius + 2) -
                                  3.5;
        const double gap = 0.5 * disc_height - std::abs(from_disc(p[2]));
        return std::max(
            {std::min({arch, std::max(spinous, cy - p[1]), transverse}), gap, p[2] - top});
      },
      cortical);
  // Vertebral bodies: cortical rim around cancellous bone, discs between them.
  auto vertebra = [&](const Point& p, double inset) {
    const double d =
        ellipse_distance(p[0], p[1] - spine_centre_y(a, p[2]), a.vertebra_rx, a.vertebra_ry);
    return std::max(d + inset, p[2] - top);
  };
  scene.paint(
      column, [&](const Point& p) { return vertebra(p, 0.0); }, cortical);
  scene.paint(
      column, [&](const Point& p) { return vertebra(p, 1.5); }, cancellous);
  scene.paint(column,
              [&](const Point& p) {
                return std::max(vertebra(p, 0.0), std::abs(from_disc(p[2])) - 0.5 * disc_height);
              },
              {{80.0f, 0.4f}});
  // Spinal cord in its canal.
  scene.paint(column,
              [&](const Point& p) {
                const double cy = spine_centre_y(a, p[2]) + canal_offset;
                return std::max(planar_distance(p[0], p[1] - cy) - a.canal_radius, p[2] - top);
              },
              {{35.0f, 0.6f}});
}

void paint_jaw(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Stroke bone{{static_cast<float>(a.bone_hu), 0.25f}, nullptr, 0, true, false, &scene.bone};
  const Bounds jaw_bounds{{-a.jaw_rx - 10, a.jaw_cy - a.jaw_ry - 10, a.jaw_low - 2},
                          {a.jaw_rx + 10, a.jaw_cy + a.jaw_ry, a.jaw_high + 30}};
  // The arch: a band around an ellipse, only in front of the angles of the jaw.
  auto arch = [&](const Point& p, double shrink, double half_width, double low, double high) {
    const double band =
        std::abs(ellipse_distance(p[0], p[1] - a.jaw_cy, a.jaw_rx - shrink, a.jaw_ry - shrink)) -
        half_width;
    return std::max({band, p[1] - (a.jaw_cy + 0.35 * a.jaw_ry), low - p[2], p[2] - high});
  };
  scene.paint(
      jaw_bounds,
      [&](const Point& p) { return arch(p, 0, 0.5 * a.jaw_thickness, a.jaw_low, a.jaw_high); },
      bone);
  for (double side : {-1.0, 1.0}) {  // rami rising behind the angles
    const double x = side * a.jaw_rx * 0.93;
    scene.paint(Capsule{{x, a.jaw_cy + 0.33 * a.jaw_ry, a.jaw_low + 4},
                        {x * 0.95, a.jaw_cy + 0.38 * a.jaw_ry + 5, a.jaw_high + 28},
                        5,
                        4},
                bone);
  }
  // Hard palate between the mouth and the nose.
  scene.paint(
      jaw_bounds,
      [&](const Point& p) {
        const double plate = ellipse_distance(p[0], p[1] - a.jaw_cy, a.jaw_rx - 20, a.jaw_ry - 10);
        return std::max(
            {plate, std::abs(p[2] - a.palate) - 1.5, p[1] - (a.jaw_cy + 0.2 * a.jaw_ry)});
      },
      bone);
  // Lower and upper rows of teeth, denser than any bone, meeting at the bite.
  const Stroke enamel{{static_cast<float>(rng.uniform(1800.0, 2600.0)), 0.2f},
                      nullptr,
                      0,
                      true,
                      false,
                      &scene.bone};
  const double bite = 0.5 * (a.jaw_high + a.palate);
  scene.paint(
      jaw_bounds,
      [&](const Point& p) {
        return std::min(arch(p, 3, 3.0, a.jaw_high - 2, bite - 1),
                        arch(p, 3, 3.0, bite + 1, a.palate - 2));
      },
      enamel);
  // Some mouths hold air between the tongue and the palate.
  if (rng.bernoulli(0.5)) {
    scene.paint(ellipsoid({0, a.jaw_cy - 0.35 * a.jaw_ry, a.jaw_high + 12}, {18, 20, 2.5}), {kAir});
  }
}

void paint_airway(Scene& scene, const Anatomy& a) {
  const Bounds neck{{-40, a.airway_y - 60, -kUnbounded}, {40, a.airway_y + 30, a.nasopharynx_top}};
  // Thyroid and cricoid cartilage and the tracheal rings: a partly calcified band around the
  // front and sides of the larynx and trachea.
  scene.paint(neck,
              [&](const Point& p) {
                const double lumen = airway_distance(a, p);
                const double band = std::max(lumen - 3.5, 1.5 - lumen);
                const double front = p[1] - airway_centre_y(a, p[2]) - 2;
                return std::max({band, front, p[2] - (a.oropharynx_low - 3)});
              },
              {{static_cast<float>(a.cartilage_hu), 0.45f}});
  scene.paint(neck, [&](const Point& p) { return airway_distance(a, p); }, {kAir});
}

// Streaks from a metal filling: the bright and dark rays of beam hardening, in the slices
// through the tooth.
void add_dental_streaks(Scene& scene, const Anatomy& a, core::Rng& rng) {
  const Grid& grid = scene.grid;
  const double angle = rng.uniform(-0.6 * kPi, 0.6 * kPi) - 0.5 * kPi;  // along the front teeth
  const Point filling{(a.jaw_rx - 3) * std::cos(angle), a.jaw_cy + (a.jaw_ry - 3) * std::sin(angle),
                      a.jaw_high + rng.uniform(2.0, 14.0)};
  const double amplitude = rng.uniform(150.0, 400.0);
  const double rays = static_cast<double>(rng.integer(10, 24));
  const double phase = rng.uniform(0.0, 2 * kPi);
  scene.paint(ellipsoid(filling, {2.5, 2.5, 2.0}), {{3071.0f, 0.2f}});
  for (int64_t z = 0; z < grid.size[2]; ++z) {
    const double dz = std::abs(grid.coordinate(2, z) - filling[2]);
    if (dz > 6) continue;
    const double slice_weight = 1 - dz / 6;
    for (int64_t y = 0; y < grid.size[1]; ++y) {
      for (int64_t x = 0; x < grid.size[0]; ++x) {
        const double dx = grid.coordinate(0, x) - filling[0];
        const double dy = grid.coordinate(1, y) - filling[1];
        const double r = planar_distance(dx, dy);
        if (r < 3) continue;
        const int64_t i = grid.index(x, y, z);
        scene.ct[i] +=
            static_cast<float>(scene.body[i] * slice_weight * amplitude *
                               std::cos(rays * std::atan2(dy, dx) + phase) * std::exp(-r / 50));
      }
    }
  }
}

// ---- Lesions ---------------------------------------------------------------------------------

struct Placed {
  Point centre;
  double diameter;
};

bool overlaps(const std::vector<Placed>& placed, const Point& centre, double diameter) {
  for (const auto& other : placed) {
    const double d = std::hypot(centre[0] - other.centre[0], centre[1] - other.centre[1],
                                centre[2] - other.centre[2]);
    if (d < 0.5 * (diameter + other.diameter) + 3) return true;
  }
  return false;
}

// Keeps a lesion centre inside the field of view along z where the volume allows it.
double clamp_to_view(const Grid& grid, double z, double diameter) {
  const double reach = grid.half_extent(2) - 0.3 * diameter;
  return reach > 0 ? std::clamp(z, -reach, reach) : 0.0;
}

// The primary tumour grows from the mucosa of the pharynx or larynx into the neighbouring soft
// tissue (and sometimes into the lumen).
Placed place_tumour(const Anatomy& a, const Grid& grid, core::Rng& rng) {
  double diameter = rng.bernoulli(0.1) ? log_uniform(rng, 5.0, 12.0) : log_uniform(rng, 12.0, 40.0);
  diameter = std::max(diameter, resolvable_diameter(grid, 5.0));
  const double site = rng.uniform();
  double z, theta;
  if (site < 0.55) {  // oropharynx: tonsil (lateral wall) or base of tongue (front wall)
    z = rng.uniform(a.oropharynx_low, a.oropharynx_low + 30);
    if (rng.bernoulli(0.7)) {
      theta = rng.bernoulli(0.5) ? 0.0 : kPi;
      theta += rng.uniform(-0.6, 0.6);
    } else {
      theta = -0.5 * kPi + rng.uniform(-0.5, 0.5);
    }
  } else if (site < 0.85) {  // larynx and hypopharynx: any wall
    z = rng.uniform(a.larynx_low + 3, a.oropharynx_low - 2);
    theta = rng.uniform(-kPi, kPi);
  } else {  // nasopharynx: back and side walls
    z = rng.uniform(a.nasopharynx_top - 20, a.nasopharynx_top - 5);
    theta = 0.5 * kPi + rng.uniform(-1.0, 1.0);
  }
  z = clamp_to_view(grid, z, diameter);
  const double reach = airway_wall(a, z, theta) + 0.3 * diameter;
  return {{reach * std::cos(theta), airway_centre_y(a, z) + reach * std::sin(theta), z}, diameter};
}

// A lesion: soft tissue with heterogeneous uptake, and a cold necrotic core when large.
void paint_lesion(Scene& scene, const Blob& blob, double diameter, double hu, double suv,
                  double necrosis_from, const Volume& heterogeneity, Volume& mask, core::Rng& rng) {
  Stroke stroke{{static_cast<float>(hu), static_cast<float>(suv)}, &heterogeneity, 0.35f};
  stroke.spare_bone = true;
  stroke.record = &mask;
  scene.paint(blob, stroke);
  if (diameter >= necrosis_from && rng.bernoulli(0.6)) {
    const Blob core = blob.scaled(rng.uniform(0.35, 0.55));
    Stroke necrotic{{static_cast<float>(hu - rng.uniform(20.0, 35.0)),
                     static_cast<float>(suv * rng.uniform(0.1, 0.3))}};
    necrotic.spare_bone = true;
    necrotic.record = &mask;
    scene.paint(core, necrotic);
  }
}

void paint_lesions(Scene& scene, const Anatomy& a, Volume& tumour, Volume& nodes, core::Rng& rng) {
  const Grid& grid = scene.grid;
  const Volume heterogeneity = smooth_field(grid, 5.0, rng);
  std::vector<Placed> placed;

  const Placed primary = place_tumour(a, grid, rng);
  const BlobStyle tumour_style{4, rng.uniform(0.15, 0.35), 0.3};
  const Blob tumour_blob = random_blob(primary.centre, primary.diameter, tumour_style, rng);
  // Tumours barely differ from muscle on CT.
  const double tumour_hu = a.soft_hu + rng.uniform(5.0, 15.0);
  const double tumour_suv = log_uniform(rng, 4.0, 14.0);
  paint_lesion(scene, tumour_blob, primary.diameter, tumour_hu, tumour_suv, 22.0, heterogeneity,
               tumour, rng);
  placed.push_back(primary);

  // Metastatic nodes: mostly on the tumour's side, at or below its level.
  const double draw = rng.uniform();
  const int count = draw < 0.25 ? 0 : draw < 0.6 ? 1 : draw < 0.85 ? 2 : 3;
  const double tumour_side = primary.centre[0] >= 0 ? 1.0 : -1.0;
  for (int k = 0; k < count; ++k) {
    double diameter = std::max(log_uniform(rng, 5.0, 20.0), resolvable_diameter(grid, 5.0));
    const double side = rng.bernoulli(0.7) ? tumour_side : -tumour_side;
    for (int attempt = 0; attempt < 30; ++attempt) {
      const double low = std::max(a.larynx_low - 30, primary.centre[2] - 50);
      const double high = std::min(a.jaw_high + 5, primary.centre[2] + 20);
      const Point centre{side * (a.carotid_x + rng.uniform(6.0, 18.0)),
                         a.carotid_y + rng.uniform(-12.0, 10.0),
                         clamp_to_view(grid, rng.uniform(std::min(low, high), high), diameter)};
      if (overlaps(placed, centre, diameter)) continue;
      const Blob node = random_blob(centre, diameter, {2, 0.12, 0.3}, rng);
      const double node_hu = a.soft_hu - rng.uniform(0.0, 10.0);
      const double node_suv = log_uniform(rng, 2.0, 8.0);
      paint_lesion(scene, node, diameter, node_hu, node_suv, 14.0, heterogeneity, nodes, rng);
      placed.push_back({centre, diameter});
      break;
    }
  }
}

// ---- Scanners --------------------------------------------------------------------------------

void acquire_pet(Scene& scene, core::Rng& rng) {
  const Grid& grid = scene.grid;
  // Uptake varies smoothly within tissues (perfusion, partial voluming of small structures).
  const Volume texture = smooth_field(grid, 12.0, rng);
  for (int64_t i = 0; i < grid.voxels(); ++i) {
    scene.pet[i] *= std::max(0.5f, 1.0f + 0.08f * texture[i]);
  }
  gaussian_blur(scene.pet, fwhm_to_sigma(rng.uniform(5.0, 7.0)));
  // Counting statistics: the variance grows with the activity; reconstruction correlates the
  // noise over a few millimetres.
  const double variance_per_suv = rng.uniform(0.02, 0.06);
  const Volume noise = correlated_noise(grid, 2.0, rng);
  for (int64_t i = 0; i < grid.voxels(); ++i) {
    const double sd = std::sqrt(variance_per_suv * std::max(scene.pet[i], 0.02f));
    scene.pet[i] = std::max(0.0f, static_cast<float>(scene.pet[i] + sd * noise[i]));
  }
}

void acquire_ct(Scene& scene, core::Rng& rng) {
  const Grid& grid = scene.grid;
  gaussian_blur(scene.ct, 0.5);
  const double sd = rng.uniform(10.0, 20.0);
  const Volume noise = correlated_noise(grid, 0.6, rng);
  for (int64_t i = 0; i < grid.voxels(); ++i) {
    scene.ct[i] = std::clamp(static_cast<float>(scene.ct[i] + sd * noise[i]), -1024.0f, 3071.0f);
  }
}

}  // namespace

std::vector<std::string> petct_channel_names() { return {"CT", "PET"}; }

std::vector<std::pair<std::string, int>> petct_labels() {
  return {{"background", 0}, {"tumour", kPetCtTumour}, {"lymph_node", kPetCtLymphNode}};
}

SynthCase generate_petct_case(const Grid& grid, bool with_lesions, core::Rng& rng) {
  // Each part draws from its own stream, so changing one part of the model leaves the others'
  // random choices (and existing datasets' anatomy) as they were.
  core::Rng anatomy_rng = rng.child(0);
  core::Rng organ_rng = rng.child(1);
  core::Rng lesion_rng = rng.child(2);
  core::Rng scanner_rng = rng.child(3);

  const Anatomy anatomy = draw_anatomy(anatomy_rng);
  Scene scene(grid);
  paint_body(scene, anatomy, organ_rng);
  paint_neck_soft_tissue(scene, anatomy, organ_rng);
  paint_head(scene, anatomy, organ_rng);
  paint_spine(scene, anatomy, organ_rng);
  paint_jaw(scene, anatomy, organ_rng);
  paint_airway(scene, anatomy);

  Volume tumour(grid), nodes(grid);
  if (with_lesions) paint_lesions(scene, anatomy, tumour, nodes, lesion_rng);

  if (scanner_rng.bernoulli(0.3)) add_dental_streaks(scene, anatomy, scanner_rng);
  acquire_ct(scene, scanner_rng);
  acquire_pet(scene, scanner_rng);

  SynthCase out;
  out.grid = grid;
  out.labels.assign(static_cast<size_t>(grid.voxels()), 0);
  stamp_label(nodes, kPetCtLymphNode, out.labels);
  stamp_label(tumour, kPetCtTumour, out.labels);
  out.channels.push_back(std::move(scene.ct));
  out.channels.push_back(std::move(scene.pet));
  return out;
}

}  // namespace medkd::data::synth
