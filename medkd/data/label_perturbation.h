// Simulated annotation variability: a label map redrawn the way a second rater might draw it.
//
// Used to exercise evaluation pipelines with known, controllable disagreement (the demo evaluates
// a perturbed copy of a dataset's labels against the originals) and to study how sensitive a
// metric is to boundary noise. Each structure (connected or not, per label value) is
// independently shifted by up to `max_shift` voxels per axis, grown or shrunk by one voxel with
// probabilities `dilate_probability` / `erode_probability`, and dropped entirely with
// `drop_probability`.
#pragma once

#include <cstdint>

#include "medkd/core/rng.h"
#include "medkd/io/image.h"

namespace medkd::data {

struct LabelPerturbationOptions {
  int64_t max_shift = 1;  // voxels, per axis
  double dilate_probability = 0.3;
  double erode_probability = 0.3;
  double drop_probability = 0.0;

  void validate() const;  // medkd::Error naming the option
};

// Returns a perturbed copy (same geometry and integer type) of the label map `labels` [1, Z, Y, X].
io::Image perturb_labels(const io::Image& labels, const LabelPerturbationOptions& options,
                         core::Rng& rng);

}  // namespace medkd::data
