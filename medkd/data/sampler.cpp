#include "medkd/data/sampler.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "medkd/core/error.h"

namespace medkd::data {

void PatchSamplerOptions::validate() const {
  MEDKD_CHECK(dims == 2 || dims == 3, "sampler dims must be 2 or 3, got ", dims);
  const char* axes = "xyz";
  for (int axis = 0; axis < dims; ++axis)
    MEDKD_CHECK(patch_size[axis] >= 1, "patch_size (", axes[axis], ") must be >= 1, got ",
                patch_size[axis]);
  MEDKD_CHECK(foreground_fraction >= 0 && foreground_fraction <= 1,
              "foreground_fraction must be in [0, 1], got ", foreground_fraction);
}

namespace {

// Start of a uniformly placed patch along an axis of `size` voxels. A volume that is not larger
// than the patch is centred in it (the remainder padded on both sides).
int64_t uniform_start(int64_t size, int64_t patch, core::Rng& rng) {
  if (size <= patch) return -(patch - size) / 2;
  return rng.integer(0, size - patch);
}

// Start of a patch centred on voxel `centre`, shifted back inside the volume where it fits.
int64_t centred_start(int64_t size, int64_t patch, int64_t centre) {
  if (size <= patch) return -(patch - size) / 2;
  return std::clamp<int64_t>(centre - patch / 2, 0, size - patch);
}

// The box [start, start + extent) of `volume` [C, *spatial] as a new tensor [C, *extent]; voxels
// outside the volume are 0. The result never shares memory with `volume`, so augmentation may
// modify it in place.
torch::Tensor crop_with_padding(const torch::Tensor& volume, const std::vector<int64_t>& start,
                                const std::vector<int64_t>& extent) {
  std::vector<int64_t> shape{volume.size(0)};
  shape.insert(shape.end(), extent.begin(), extent.end());
  torch::Tensor out = torch::zeros(shape, volume.options());  // [C, *extent]
  torch::Tensor source = volume;
  torch::Tensor target = out;
  for (size_t axis = 0; axis < extent.size(); ++axis) {
    const int64_t dim = static_cast<int64_t>(axis) + 1;
    const int64_t lo = std::max<int64_t>(start[axis], 0);
    const int64_t hi = std::min<int64_t>(start[axis] + extent[axis], volume.size(dim));
    if (hi <= lo) return out;
    source = source.narrow(dim, lo, hi - lo);
    target = target.narrow(dim, lo - start[axis], hi - lo);
  }
  target.copy_(source);
  return out;
}

// A uniformly chosen (z, y, x) among the recorded locations of a uniformly chosen class, or none.
std::optional<std::array<int64_t, 3>> pick_foreground_location(const PreprocessedCase& source,
                                                               core::Rng& rng) {
  std::vector<size_t> classes;
  for (size_t k = 1; k < source.class_locations.size(); ++k)
    if (!source.class_locations[k].empty()) classes.push_back(k);
  if (classes.empty()) return std::nullopt;
  const auto& locations =
      source.class_locations[classes[rng.integer(0, static_cast<int64_t>(classes.size()) - 1)]];
  const auto location = locations[rng.integer(0, static_cast<int64_t>(locations.size()) - 1)];
  for (int axis = 0; axis < 3; ++axis)
    MEDKD_CHECK(location[axis] >= 0 && location[axis] < source.image.size(axis + 1), "case ",
                source.id, ": class location (z, y, x) = (", location[0], ", ", location[1], ", ",
                location[2], ") is outside the volume");
  return location;
}

}  // namespace

Patch sample_patch(const PreprocessedCase& source, const PatchSamplerOptions& options,
                   core::Rng& rng) {
  const bool foreground = rng.bernoulli(options.foreground_fraction);
  return sample_patch(source, options, foreground, rng);
}

Patch sample_patch(const PreprocessedCase& source, const PatchSamplerOptions& options,
                   bool foreground, core::Rng& rng) {
  options.validate();
  MEDKD_CHECK(source.image.defined() && source.image.dim() == 4, "case ", source.id,
              ": image must be [C, Z, Y, X], got ",
              source.image.defined() ? source.image.sizes() : torch::IntArrayRef{});
  MEDKD_CHECK(source.label.defined(), "case ", source.id, " has no label to train on");
  MEDKD_CHECK(source.label.dim() == 4 && source.label.size(0) == 1 &&
                  source.label.sizes().slice(1) == source.image.sizes().slice(1),
              "case ", source.id, ": label ", source.label.sizes(), " does not match image ",
              source.image.sizes());
  const int64_t size_z = source.image.size(1), size_y = source.image.size(2),
                size_x = source.image.size(3);
  const int64_t patch_z = options.patch_size[2], patch_y = options.patch_size[1],
                patch_x = options.patch_size[0];

  std::optional<std::array<int64_t, 3>> centre;
  if (foreground) centre = pick_foreground_location(source, rng);

  Patch patch;
  patch.centred_on_foreground = centre.has_value();
  if (options.dims == 3) {
    std::vector<int64_t> start;
    if (centre)
      start = {centred_start(size_z, patch_z, (*centre)[0]),
               centred_start(size_y, patch_y, (*centre)[1]),
               centred_start(size_x, patch_x, (*centre)[2])};
    else
      start = {uniform_start(size_z, patch_z, rng), uniform_start(size_y, patch_y, rng),
               uniform_start(size_x, patch_x, rng)};
    const std::vector<int64_t> extent{patch_z, patch_y, patch_x};
    patch.image = crop_with_padding(source.image, start, extent);  // [C, Z, Y, X]
    patch.label = crop_with_padding(source.label, start, extent);  // [1, Z, Y, X]
    return patch;
  }

  // 2-D: one axial slice; a foreground patch takes the slice through its location.
  const int64_t z = centre ? (*centre)[0] : rng.integer(0, size_z - 1);
  std::vector<int64_t> start;
  if (centre)
    start = {centred_start(size_y, patch_y, (*centre)[1]),
             centred_start(size_x, patch_x, (*centre)[2])};
  else
    start = {uniform_start(size_y, patch_y, rng), uniform_start(size_x, patch_x, rng)};
  const std::vector<int64_t> extent{patch_y, patch_x};
  patch.image = crop_with_padding(source.image.select(1, z), start, extent);  // [C, Y, X]
  patch.label = crop_with_padding(source.label.select(1, z), start, extent);  // [1, Y, X]
  return patch;
}

}  // namespace medkd::data
