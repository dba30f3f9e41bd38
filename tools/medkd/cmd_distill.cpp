// `medkd distill`: trains a student from one or more frozen teachers.
#include <iostream>

#include "commands.h"
#include "device_option.h"
#include "medkd/core/error.h"
#include "medkd/distill/term_registry.h"
#include "medkd/train/distiller.h"

namespace medkd::cli {

void add_distill_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand(
      "distill", "Train a student from frozen teachers (knowledge distillation)");
  cmd->footer(
      "The config names the teachers (run folders of `medkd train`), the student, how teachers "
      "are combined and the loss: one segmentation loss plus distillation terms, each with a "
      "weight. The student trains on the teachers' plan with the trainer's schedule, validation, "
      "checkpoints and --resume; checkpoint_best.pt holds the student alone, for `medkd predict`. "
      "--student-alone trains the same student without the distillation terms, the baseline a "
      "distilled student is compared with. Each term may ramp in (schedule: warmup, start, decay), "
      "read unlabelled images (unlabelled: [DIR]) and shows its effective weight and gradient "
      "ratio in training_log.csv; a teacher whose validation Dice is below min_teacher_dice "
      "(0.05) is refused unless allow_weak_teachers: true. Config keys: docs/distillation.md; "
      "recipes: configs/distill/; terms: --list-terms.");
  struct Options {
    std::string config, dataset, out, cache, device = "cpu";
    int fold = 0;
    bool resume = false, amp = false, list_terms = false, student_alone = false;
    int64_t max_epochs = 0;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--config", o->config, "Distillation recipe (YAML); optional with --resume");
  cmd->add_option("--out", o->out, "Run folder to create (or continue with --resume)");
  cmd->add_option("--dataset", o->dataset, "Dataset folder (overrides the config's dataset)");
  cmd->add_option("--fold", o->fold,
                  "Cross-validation fold to train (-1: all cases, no validation)")
      ->capture_default_str();
  cmd->add_flag("--resume", o->resume, "Continue the run in --out from its last state");
  cmd->add_option("--cache", o->cache, "Folder for preprocessed cases (default: OUT/preprocessed)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--amp", o->amp, "Mixed precision (bfloat16 autocast) on CUDA");
  cmd->add_option(
      "--max-epochs", o->max_epochs,
      "Stop after this many epochs in this call (state written; continue with --resume)");
  cmd->add_flag("--student-alone", o->student_alone,
                "Train the recipe's student without its distillation terms (the baseline: same "
                "plan, loss, budget and seed)");
  cmd->add_flag("--list-terms", o->list_terms,
                "List the distillation terms with their options and defaults, and exit");
  cmd->callback([o, &global] {
    if (o->list_terms) {
      std::cout << distill::describe_terms(distill::default_term_registry());
      return;
    }
    MEDKD_CHECK(!o->out.empty(), "--out is required");
    train::DistillOptions options;
    options.config = o->config;
    options.dataset = o->dataset;
    options.student_alone = o->student_alone;
    options.run.out = o->out;
    options.run.cache = o->cache;
    options.run.fold = o->fold;
    options.run.resume = o->resume;
    options.run.device = parse_device(o->device);
    options.run.amp = o->amp;
    options.run.threads = global.threads;
    options.run.quiet = global.quiet;
    options.run.max_epochs_this_call = o->max_epochs;
    const train::TrainResult result = train::distill(options);
    std::cout << (o->student_alone ? "trained the student alone for " : "distilled ")
              << result.epochs_completed << " epoch(s)";
    if (result.best_val_dice > -1e299)
      std::cout << ", best validation Dice " << result.best_val_dice;
    if (result.stopped_early) std::cout << " (stopped early)";
    std::cout << "; student in " << o->out << '\n';
  });
}

}  // namespace medkd::cli
