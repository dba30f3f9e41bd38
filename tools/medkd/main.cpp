// medkd: knowledge distillation for medical image segmentation, on the command line.
//
// Exit codes: 0 success; 2 bad input or usage (one line on stderr naming the file or option);
// 1 internal error (a bug: please report it with the command that caused it).
#include <torch/torch.h>

#include <iostream>
#include <string>

#include "commands.h"
#include "medkd/core/allocator.h"
#include "medkd/core/error.h"
#include "medkd/core/threads.h"
#include "medkd/core/version.h"

namespace {

std::string single_line(std::string message) {
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  return message;
}

int run(int argc, char** argv) {
  CLI::App app{"medkd: train, distil, evaluate and run segmentation networks for medical images"};
  app.name("medkd");
  app.fallthrough();  // global options may follow the subcommand
  app.require_subcommand(0, 1);
  medkd::cli::GlobalOptions global;
  bool show_version = false;
  app.add_flag("--version", show_version,
               "Print medkd, LibTorch and ITK versions, CUDA availability, threads and BLAS");
  app.add_option("--threads", global.threads,
                 "CPU threads for tensor operations and parallel work (0 = one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("-q,--quiet", global.quiet, "No progress output");
  medkd::cli::add_synth_command(app, global);
  medkd::cli::add_data_command(app, global);
  medkd::cli::add_dataset_command(app, global);
  medkd::cli::add_evaluate_command(app, global);
  medkd::cli::add_labels_command(app, global);
  medkd::cli::add_train_command(app, global);
  medkd::cli::add_distill_command(app, global);
  medkd::cli::add_predict_command(app, global);
  medkd::cli::add_image_command(app, global);
  medkd::cli::add_models_command(app, global);
  medkd::cli::add_compare_command(app, global);
  medkd::cli::add_experiment_command(app, global);
  // Threads must be set before any command runs, so after parsing and before the callbacks.
  app.parse_complete_callback([&] { medkd::core::set_num_threads(global.threads); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << "medkd: " << single_line(e.what()) << " (see medkd --help)\n";
    return 2;
  }
  if (show_version) {
    std::cout << medkd::core::format_runtime_info(medkd::core::runtime_info());
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
    std::cerr << "medkd: no command given (see the list above)\n";
    return 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  medkd::core::tune_allocator();  // before the first tensor
  try {
    return run(argc, argv);
  } catch (const medkd::Error& e) {
    std::cerr << "medkd: " << single_line(e.what()) << '\n';
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "medkd: internal error: " << single_line(e.what_without_backtrace()) << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "medkd: internal error: " << single_line(e.what()) << '\n';
    return 1;
  }
}
