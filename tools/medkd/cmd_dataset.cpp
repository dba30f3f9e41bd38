// `medkd dataset check DIR`: validates an nnU-Net-style dataset and lists every problem.
#include <iostream>

#include "commands.h"
#include "medkd/core/error.h"
#include "medkd/io/dataset_check.h"

namespace medkd::cli {

void add_dataset_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* dataset =
      app.add_subcommand("dataset", "Work with datasets in the nnU-Net v2 raw layout");
  dataset->require_subcommand(1);
  CLI::App* check = dataset->add_subcommand("check", "Validate a dataset and list every problem");
  check->footer(
      "Checks dataset.json, file names, missing channels or labels, labels without images, "
      "unreadable or truncated files, size/spacing/origin/direction mismatches between a case's "
      "files, label values not declared in dataset.json, NaN/Inf voxels and numTraining. Prints "
      "every problem as 'FILE: problem'; exit 0 when clean, 2 otherwise.");
  struct Options {
    std::string dir;
    double tolerance = 1e-4;
  };
  auto options = std::make_shared<Options>();
  check
      ->add_option("DIR", options->dir, "Dataset folder (holds dataset.json, imagesTr/, labelsTr/)")
      ->required();
  check
      ->add_option("--tolerance", options->tolerance,
                   "Relative tolerance for spacing; origin and direction tolerances scale with it")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  check->callback([options, &global] {
    io::DatasetCheckOptions check_options;
    check_options.tolerance = options->tolerance;
    check_options.threads = global.threads;
    check_options.quiet = global.quiet;
    const io::DatasetCheckReport report = io::check_dataset(options->dir, check_options);
    for (const auto& problem : report.problems)
      std::cout << problem.file.string() << ": " << problem.message << '\n';
    if (!report.ok())
      throw Error(str("dataset ", options->dir, " has ", report.problems.size(), " problem(s)"));
    std::cout << options->dir << ": OK\n" << io::format_dataset_summary(report);
  });
}

}  // namespace medkd::cli
