// Synthetic prostate MRI cases in the spirit of the PI-CAI challenge, for `medkd synth --kind
// mri`: a T2-weighted image, an apparent diffusion coefficient (ADC) map and a high-b-value
// diffusion image ("HBV") on one grid, with clinically significant cancer labelled as "lesion".
//
// The pelvis (fat, muscles, pubic and hip bones, rectum with gas and stool, bladder, seminal
// vesicles, neurovascular bundles) surrounds a gland with its zones: a bright peripheral zone
// with high ADC, a heterogeneous transition zone full of benign (BPH) nodules, a dark anterior
// fibromuscular stroma and central zone, a capsule and the urethra. Lesions are dark on T2W, low
// on ADC and bright on DWI, but each of those traits is shared by something benign (stromal
// nodules, the stroma, muscle, fat on ADC, susceptibility artefacts near rectal gas), so no single
// channel separates them. The DWI signal follows S0 * exp(-b * ADC); magnitude images carry
// Rician noise, DWI at a lower SNR and resolution than T2W. docs/synthetic-data.md describes the
// model and its numbers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "medkd/core/rng.h"
#include "medkd/data/synth/volume.h"

namespace medkd::data::synth {

// Label value of a lesion.
constexpr uint8_t kMriLesion = 1;
// The b-value (s/mm^2) of the diffusion channel.
constexpr double kMriHighB = 1400.0;

// Channel names in file order, as in PI-CAI's nnU-Net baseline: 0000 = "T2W", 0001 = "ADC"
// (in 1e-6 mm^2/s), 0002 = "HBV".
std::vector<std::string> mri_channel_names();
// {"background", 0}, {"lesion", 1}.
std::vector<std::pair<std::string, int>> mri_labels();

// One case on `grid` (centred on the prostate). Without lesions the gland holds only its benign
// look-alikes. Every random choice comes from `rng`.
SynthCase generate_mri_case(const Grid& grid, bool with_lesions, core::Rng& rng);

}  // namespace medkd::data::synth
