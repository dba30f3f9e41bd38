// `medkd synth`: writes a deterministic synthetic dataset (head-and-neck PET/CT or prostate MRI)
// in the nnU-Net v2 raw layout. The options are collected as text here and checked once by the
// library (data/synth/synth_dataset.h), so the messages are the same from code and command line.
#include <array>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "medkd/core/error.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/io/image.h"

namespace medkd::cli {

namespace {

std::string presets_help() {
  std::string text;
  for (const auto& kind : data::synth::synth_kinds()) {
    for (const auto& preset : data::synth::synth_presets(kind)) {
      text += "  " + kind + " " + preset.name + ": " + io::format_size(preset.size) +
              " voxels at " + io::format_triple(preset.spacing) + " mm, " +
              std::to_string(preset.cases) + " cases\n";
    }
  }
  return text;
}

// CLI11 reads "-1" into an unsigned option as 2^64 - 1; refuse a sign before it converts.
CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) {
        return text.find_first_of("+-") == std::string::npos
                   ? std::string()
                   : "must be a non-negative integer, got " + text;
      },
      "");
}

}  // namespace

void add_synth_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* synth = app.add_subcommand(
      "synth", "Write a synthetic PET/CT or prostate MRI dataset in the nnU-Net v2 raw layout");
  synth->footer(
      "Kinds:\n"
      "  petct  head-and-neck FDG PET/CT like HECKTOR. Channels 0000 CT (HU), 0001 PET (SUV);\n"
      "         labels 1 tumour (primary), 2 lymph_node (metastatic).\n"
      "  mri    prostate MRI like PI-CAI. Channels 0000 T2W, 0001 ADC (1e-6 mm^2/s),\n"
      "         0002 HBV (b=1400 DWI); label 1 lesion (clinically significant cancer).\n"
      "Presets (--size, --spacing and --cases override them):\n" +
      presets_help() +
      "The output depends only on the options: case i is drawn from --seed and i alone, whatever\n"
      "the number of threads. Every fifth case (ids ending in 4 and 9) has no lesion. Test cases\n"
      "(imagesTs/, labelsTs/) are numbered after the training cases, unlabelled cases (imagesUl/,\n"
      "images only) after the test cases. See docs/synthetic-data.md.");

  struct Options {
    std::string kind;
    std::string preset = "standard";
    int64_t cases = 0;
    int64_t test_cases = 0;
    int64_t unlabelled_cases = 0;
    std::string size;
    std::string spacing;
    uint64_t seed = 0;
    std::string out;
    bool overwrite = false;
  };
  auto options = std::make_shared<Options>();
  synth->add_option("--kind", options->kind, "What to generate: petct or mri")->required();
  synth->add_option("--cases", options->cases,
                    "Training cases (imagesTr/, labelsTr/); default from the preset");
  synth
      ->add_option("--test-cases", options->test_cases,
                   "Test cases with labels (imagesTs/, labelsTs/)")
      ->capture_default_str();
  synth
      ->add_option("--unlabelled-cases", options->unlabelled_cases,
                   "Cases without labels (imagesUl/), for distillation on unlabelled images")
      ->capture_default_str();
  synth->add_option("--size", options->size,
                    "Voxels along x,y,z, e.g. 96,96,64; default from the preset");
  synth->add_option("--spacing", options->spacing,
                    "Voxel spacing in mm along x,y,z, e.g. 2,2,3; default from the preset");
  synth->add_option("--seed", options->seed, "Random seed; the same seed gives the same files")
      ->check(non_negative_integer())
      ->capture_default_str();
  synth
      ->add_option("--preset", options->preset,
                   "standard (realistic sizes) or tiny (coarse and fast, for tests)")
      ->capture_default_str();
  synth->add_option("--out", options->out, "Dataset folder to create")->required();
  synth->add_flag("--overwrite", options->overwrite, "Replace --out if it exists and is not empty");

  synth->callback([synth, options, &global] {
    data::synth::SynthOptions request;
    request.kind = options->kind;
    request.preset = options->preset;
    if (synth->count("--cases") > 0) request.cases = options->cases;
    request.test_cases = options->test_cases;
    request.unlabelled_cases = options->unlabelled_cases;
    if (synth->count("--size") > 0) request.size = data::synth::parse_size(options->size);
    if (synth->count("--spacing") > 0) {
      request.spacing = data::synth::parse_spacing(options->spacing);
    }
    request.seed = options->seed;
    request.out = options->out;
    request.overwrite = options->overwrite;
    request.quiet = global.quiet;

    const data::synth::SynthPlan plan = data::synth::write_synth_dataset(request);
    std::array<double, 3> field_of_view;
    for (int axis = 0; axis < 3; ++axis) {
      field_of_view[axis] = static_cast<double>(plan.grid.size[axis]) * plan.grid.spacing[axis];
    }
    std::cout << "synth: wrote " << plan.out.string() << '\n'
              << "  " << plan.cases << " training + " << plan.test_cases << " test "
              << (plan.unlabelled_cases > 0
                      ? medkd::str("+ ", plan.unlabelled_cases, " unlabelled ")
                      : std::string())
              << plan.kind << " cases (seed " << plan.seed << ")\n"
              << "  " << io::format_size(plan.grid.size) << " voxels at "
              << io::format_triple(plan.grid.spacing) << " mm (field of view "
              << io::format_triple(field_of_view) << " mm)\n";
  });
}

}  // namespace medkd::cli
