// `medkd experiment`: runs a study (teachers, students, distilled students over k folds and test
// sets) and writes results.csv, tables.md and report.html.
#include "commands.h"
#include "device_option.h"
#include "medkd/experiment/runner.h"

namespace medkd::cli {

void add_experiment_command(CLI::App& app, const GlobalOptions& global) {
  CLI::App* cmd = app.add_subcommand(
      "experiment", "Run a study: k-fold runs, test sets, tables, p-values and an HTML report");
  cmd->footer(
      "A study recipe (configs/experiments/) names a dataset, the runs (teachers, students "
      "trained alone, distilled students), the folds and the seeds. Teachers train first, then "
      "students; the teacher gate is checked before any distilled run. Running the command "
      "again reuses every finished run and resumes an interrupted one from its last epoch, so "
      "an interruption loses at most one epoch. OUT gets runs/RUN/fold-F/ or fold-F-seed-S/ "
      "(run folders with predictions), results.csv (one row per model x set x case x label), "
      "tables.md (the papers' tables; the primary comparison, paired tests with bootstrap CIs, "
      "Holm-corrected p-values and the minimum detectable effect) and report.html (one "
      "self-contained page). --dry-run lists the work with the measured cost of one training "
      "step of each network and the estimated time. Recipe keys and statistics: "
      "docs/experiments.md.");
  struct Options {
    std::string config, out, budget, device = "cpu";
    bool dry_run = false, amp = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--config", o->config, "Study recipe (YAML)")->required();
  cmd->add_option("--out", o->out, "Study folder (created, or continued)")->required();
  cmd->add_option("--budget", o->budget,
                  "A budget of the recipe (e.g. small): overrides of folds and training keys");
  cmd->add_flag("--dry-run", o->dry_run,
                "List the runs, what is finished, and the estimated cost; train nothing");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_flag("--amp", o->amp, "Mixed precision (bfloat16 autocast) on CUDA");
  cmd->callback([o, &global] {
    experiment::ExperimentOptions options;
    options.config = o->config;
    options.out = o->out;
    options.budget = o->budget;
    options.dry_run = o->dry_run;
    options.device = parse_device(o->device);
    options.amp = o->amp;
    options.threads = global.threads;
    options.quiet = global.quiet;
    experiment::run_experiment(options);
  });
}

}  // namespace medkd::cli
