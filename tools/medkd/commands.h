// The subcommands of the medkd tool. Each lives in its own cmd_<name>.cpp and registers itself on
// the CLI11 application with its options and a callback; main.cpp only wires them up and turns
// exceptions into exit codes (medkd::Error -> 2 with one line, anything else -> 1).
#pragma once

#include <CLI/CLI.hpp>

namespace medkd::cli {

// Options every command understands, parsed before the subcommand runs.
struct GlobalOptions {
  int threads = 0;     // 0 = one per core
  bool quiet = false;  // no progress output
};

void add_synth_command(CLI::App& app, const GlobalOptions& global);
void add_data_command(CLI::App& app, const GlobalOptions& global);
void add_dataset_command(CLI::App& app, const GlobalOptions& global);
void add_evaluate_command(CLI::App& app, const GlobalOptions& global);
void add_labels_command(CLI::App& app, const GlobalOptions& global);
void add_image_command(CLI::App& app, const GlobalOptions& global);
void add_train_command(CLI::App& app, const GlobalOptions& global);
void add_predict_command(CLI::App& app, const GlobalOptions& global);
void add_models_command(CLI::App& app, const GlobalOptions& global);
void add_distill_command(CLI::App& app, const GlobalOptions& global);
void add_compare_command(CLI::App& app, const GlobalOptions& global);
void add_experiment_command(CLI::App& app, const GlobalOptions& global);

}  // namespace medkd::cli
