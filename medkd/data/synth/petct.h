// Synthetic head-and-neck PET/CT cases in the spirit of the HECKTOR challenge, for `medkd synth
// --kind petct`: a CT in Hounsfield units and a PET in SUV on one grid, with the primary tumour
// and the pathological lymph nodes labelled.
//
// The anatomy (neck and head outline, subcutaneous fat, muscle, spine, mandible and teeth, skull
// and brain, airway, larynx cartilage, sinuses, vessels, salivary glands, tonsils, thyroid, benign
// nodes) varies from case to case. Tumours are irregular blobs in the wall of the pharynx or
// larynx, barely different from muscle on CT; on PET they are hot but heterogeneous, with cold
// necrotic cores when large, and they compete with physiological uptake that is not tumour (brain,
// tonsils, salivary glands, activated muscle, benign nodes) and with the malignant lymph nodes,
// which have their own label. PET is blurred by the scanner's point-spread function and noisy;
// the label maps come from the shapes before blur. docs/synthetic-data.md describes the model
// and its numbers.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "medkd/core/rng.h"
#include "medkd/data/synth/volume.h"

namespace medkd::data::synth {

// Label values of a PET/CT case.
constexpr uint8_t kPetCtTumour = 1;
constexpr uint8_t kPetCtLymphNode = 2;

// Channel names in file order: 0000 = "CT" (HU), 0001 = "PET" (SUV).
std::vector<std::string> petct_channel_names();
// {"background", 0}, {"tumour", 1}, {"lymph_node", 2}.
std::vector<std::pair<std::string, int>> petct_labels();

// One case on `grid` (the volume's centre sits at the level of the oropharynx). Without lesions
// the case has no tumour and no malignant node, only the physiological uptake. Every random
// choice comes from `rng`, so the same generator state gives the same case.
SynthCase generate_petct_case(const Grid& grid, bool with_lesions, core::Rng& rng);

}  // namespace medkd::data::synth
