// `medkd compare`: a Teach-Former-style table of trained models (Params, GFLOPs, Dice, IoU, HD95).
#include <algorithm>
#include <iostream>

#include "commands.h"
#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/metrics/comparison.h"

namespace medkd::cli {

void add_compare_command(CLI::App& app, const GlobalOptions& /*global*/) {
  CLI::App* cmd = app.add_subcommand(
      "compare", "Table of models: parameters, GFLOPs and test Dice, IoU, HD95 (mean ± std)");
  cmd->footer(
      "Each --run NAME MODEL SUMMARY adds a run folder (or checkpoint) of `medkd train` or "
      "`medkd distill` and the summary.json `medkd evaluate` wrote for its predictions to the row "
      "NAME; runs of one name (seeds) are averaged, with the sample standard deviation. Params "
      "and GFLOPs (= 2 × MACs, docs/complexity.md) are for one sample of the model's training "
      "patch. Rows keep the order of their first --run. With --baseline NAME every other row gets "
      "two p-values: a paired t-test and a Wilcoxon signed-rank test of its per-case Dice "
      "against the row NAME (run i against run i, cases matched by reference file).");
  struct Options {
    std::vector<std::string> runs;
    std::string label = "1", out, baseline;
    bool markdown = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--run", o->runs, "NAME MODEL SUMMARY (repeatable)")
      ->expected(3)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->required();
  cmd->add_option("--label", o->label, "Label value, or 'foreground' for the foreground mean")
      ->capture_default_str();
  cmd->add_option("--baseline", o->baseline,
                  "Row to test the others against (paired per-case Dice; p-value columns)");
  cmd->add_flag("--markdown", o->markdown, "A Markdown table");
  cmd->add_option("--out", o->out, "Also write the table to this file");
  cmd->callback([o] {
    MEDKD_CHECK(o->runs.size() % 3 == 0, "--run takes NAME MODEL SUMMARY");
    std::vector<metrics::ComparisonRow> rows;
    for (size_t i = 0; i < o->runs.size(); i += 3) {
      const std::string& name = o->runs[i];
      auto it =
          std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.name == name; });
      if (it == rows.end()) {
        rows.push_back({name, {}});
        it = rows.end() - 1;
      }
      it->runs.push_back({o->runs[i + 1], o->runs[i + 2]});
    }
    const std::string table = metrics::comparison_table(
        metrics::compare_models(rows, o->label, o->baseline), o->markdown);
    std::cout << table;
    if (!o->out.empty()) core::write_text_file(o->out, table);
  });
}

}  // namespace medkd::cli
