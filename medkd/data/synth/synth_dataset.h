// `medkd synth`: deterministic synthetic datasets in the nnU-Net v2 raw layout, so that every part
// of medkd can be trained, distilled and evaluated without downloading data.
//
//   DIR/dataset.json                       channel_names, labels, numTraining, file_ending
//   DIR/imagesTr/{kind}_{NNN}_{XXXX}.nii.gz one float32 file per channel
//   DIR/labelsTr/{kind}_{NNN}.nii.gz       uint8 label map
//   DIR/imagesTs/, DIR/labelsTs/           the test cases, numbered after the training cases
//   DIR/imagesUl/                          unlabelled cases (images only), numbered after the
//                                          test cases: for distillation on unlabelled images
//
// Two kinds: "petct" (head-and-neck PET/CT, petct.h) and "mri" (prostate MRI, mri.h). Case i is
// generated from Rng(seed).child(i) alone, so a dataset depends only on the options (not on the
// number of threads or the order in which cases finish) and a case keeps its content when more
// cases are requested. Every fifth case (ids ending in 4 and 9) has no lesion.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "medkd/data/synth/volume.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image.h"

namespace medkd::data::synth {

// What the user asked for. Options left unset come from the preset.
struct SynthOptions {
  std::string kind;                              // "petct" or "mri"
  std::string preset = "standard";               // "standard" or "tiny"
  std::optional<int64_t> cases;                  // training cases
  int64_t test_cases = 0;                        // cases for imagesTs/ and labelsTs/
  int64_t unlabelled_cases = 0;                  // cases for imagesUl/ (no labels written)
  std::optional<std::array<int64_t, 3>> size;    // voxels along x, y, z
  std::optional<std::array<double, 3>> spacing;  // mm along x, y, z
  uint64_t seed = 0;
  std::filesystem::path out;
  bool overwrite = false;  // replace an existing non-empty folder
  bool quiet = false;      // no progress bar
};

// Named defaults for size, spacing and number of training cases.
struct SynthPreset {
  std::string name;
  std::array<int64_t, 3> size;
  std::array<double, 3> spacing;
  int64_t cases;
};

// A dataset to generate: the options after presets are applied and everything is checked.
struct SynthPlan {
  std::string kind;
  std::string preset;
  int64_t cases = 0;
  int64_t test_cases = 0;
  int64_t unlabelled_cases = 0;
  Grid grid;
  uint64_t seed = 0;
  std::filesystem::path out;
  bool overwrite = false;
  bool quiet = false;
};

// The kinds, in the order --help lists them.
std::vector<std::string> synth_kinds();
// The presets of a kind ("standard" first); medkd::Error for an unknown kind.
std::vector<SynthPreset> synth_presets(const std::string& kind);

// Applies the preset and validates every option once; throws medkd::Error naming the option and
// the value received ("--size must be three positive integers, got 0,4,4").
SynthPlan plan_synth_dataset(const SynthOptions& options);

// "X,Y,Z" -> numbers, for --size (positive integers) and --spacing (positive mm). Throws
// medkd::Error naming `option` when the text is not three numbers separated by commas.
std::array<int64_t, 3> parse_size(const std::string& text, const std::string& option = "--size");
std::array<double, 3> parse_spacing(const std::string& text,
                                    const std::string& option = "--spacing");

// Case `index` counts training cases first, then test cases.
std::string synth_case_id(const SynthPlan& plan, int64_t index);  // "petct_007"
bool synth_case_has_lesions(int64_t index);                       // false for every fifth case

// One generated case as images: [C, Z, Y, X] float32 channels and a [1, Z, Y, X] uint8 label
// map, both with the volume centred on the origin and an identity direction.
struct SynthImages {
  io::Image image;
  io::Image label;
};
SynthImages generate_synth_case(const SynthPlan& plan, int64_t index);

// dataset.json of a plan: channel names, labels, numTraining = training cases, ".nii.gz".
io::DatasetJson synth_dataset_json(const SynthPlan& plan);

// Generates the cases in parallel (core::parallel_for, one progress step per case) and writes the
// whole folder atomically. Returns the plan it followed.
SynthPlan write_synth_dataset(const SynthOptions& options);

}  // namespace medkd::data::synth
