// `medkd labels perturb`: writes a perturbed copy of a folder of label maps (simulated second
// rater), for exercising evaluation pipelines with known disagreement.
#include <iostream>

#include "commands.h"
#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/data/label_perturbation.h"
#include "medkd/io/image_io.h"

namespace medkd::cli {
namespace fs = std::filesystem;

void add_labels_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* labels = app.add_subcommand("labels", "Utilities for label maps");
  labels->require_subcommand(1);
  CLI::App* perturb = labels->add_subcommand(
      "perturb",
      "Write a perturbed copy of every label map in a folder, as a second rater might draw it: "
      "each structure is shifted by up to --max-shift voxels per axis, dilated or eroded by one "
      "voxel, or dropped, at random but reproducibly from --seed.");
  struct Options {
    std::string input, output;
    uint64_t seed = 0;
    bool overwrite = false;
    data::LabelPerturbationOptions perturbation;
  };
  auto o = std::make_shared<Options>();
  perturb->add_option("--in", o->input, "Folder of label maps (e.g. labelsTr/)")->required();
  perturb->add_option("--out", o->output, "Folder to create with the perturbed copies")->required();
  perturb->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  perturb->add_option("--max-shift", o->perturbation.max_shift, "Largest shift per axis in voxels")
      ->capture_default_str();
  perturb
      ->add_option("--dilate", o->perturbation.dilate_probability,
                   "Probability that a structure grows by one voxel")
      ->capture_default_str();
  perturb
      ->add_option("--erode", o->perturbation.erode_probability,
                   "Probability that a structure shrinks by one voxel")
      ->capture_default_str();
  perturb
      ->add_option("--drop", o->perturbation.drop_probability,
                   "Probability that a structure is left out entirely")
      ->capture_default_str();
  perturb->add_flag("--overwrite", o->overwrite, "Replace --out if it exists");
  perturb->callback([o, &global] {
    o->perturbation.validate();
    MEDKD_CHECK(fs::is_directory(o->input), "--in ", o->input, " is not a folder");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(o->input))
      if (io::is_image_file(entry.path()) && entry.path().filename().string().rfind('.', 0) != 0)
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    MEDKD_CHECK(!files.empty(), "--in ", o->input, ": no label files");
    core::ProgressBar progress("perturb", static_cast<int64_t>(files.size()),
                               core::ProgressOptions{global.quiet});
    core::build_folder_atomically(o->output, o->overwrite, [&](const fs::path& tmp) {
      const core::Rng root(o->seed);
      for (size_t i = 0; i < files.size(); ++i) {
        const io::Image labels = io::read_image(files[i]);
        MEDKD_CHECK(labels.is_integer(), files[i].string(), ": not an integer label map");
        core::Rng rng = root.child(i);
        io::write_image(data::perturb_labels(labels, o->perturbation, rng),
                        tmp / files[i].filename());
        progress.advance(1, files[i].filename().string());
      }
    });
    progress.finish();
    std::cout << "wrote " << files.size() << " perturbed label map(s) to " << o->output << '\n';
  });
}

}  // namespace medkd::cli
