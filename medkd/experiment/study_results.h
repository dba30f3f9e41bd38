// What a finished study (`medkd experiment`) measured, in one plain structure that the tables
// (tables.h), results.csv and the HTML report (report.h) are all made from. No tensors: the
// report and the tables never run a model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace medkd::experiment {

// One run of the study (a network trained alone, or a distilled student), over every fold.
struct RunSummary {
  std::string name;                   // as declared in the study recipe, unique
  std::string role;                   // "teacher", "student" or "distilled"
  std::string architecture;           // registry name, e.g. "unet"
  std::string ablation;               // ablation group it belongs to ("" = none)
  std::vector<std::string> teachers;  // distilled runs: the teachers' run names
  std::string method;    // distilled runs: e.g. "pixel_kl + attention_similarity (sum)"; else ""
  std::string baseline;  // the run it is tested against (paired tests); "" = none
  double params_millions = 0;
  double gflops = 0;         // one forward pass of one patch of the study's plan
  double train_minutes = 0;  // wall time of training, mean over folds; NaN if unknown
};

// One metric value of one case: results.csv has one row per entry.
struct CaseMetric {
  std::string run;
  int fold = 0;
  std::string set;  // "cv" (the fold's validation cases) or a test set's name, e.g. "test"
  std::string case_id;
  int label = 0;  // label value; 0 = the case's mean over the dataset's foreground labels
  double dice = 0, iou = 0, hd95 = 0, assd = 0;  // NaN where undefined (HD95 of an empty mask)
  int seed = -1;  // the training seed of a run trained per seed; -1 = one model per fold
};

// One epoch of one fold's training_log.csv.
struct CurvePoint {
  int64_t epoch = 0;
  double train_loss = 0;
  double val_dice = 0;  // NaN on epochs without validation
};

struct TrainingCurve {
  std::string run;
  int fold = 0;
  std::vector<CurvePoint> points;
  int seed = -1;  // as in CaseMetric
};

// A 2-D slice, row-major, row 0 at the top of the picture.
struct GreySlice {
  int64_t width = 0, height = 0;
  std::vector<float> pixels;  // intensities, any range (the report windows them)
};
struct LabelSlice {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> labels;  // 0 = background
};

// Prediction and ground truth of one case on one slice, for several runs (teacher, student,
// distilled student): Teach-Former Figs. 3-4.
struct Overlay {
  std::string case_id;
  std::string set;  // test set name
  int fold = 0;     // the fold whose models predicted it
  int64_t slice_index = 0;
  GreySlice image;
  LabelSlice reference;
  std::vector<std::string> runs;  // one prediction per run, same order
  std::vector<LabelSlice> predictions;
};

// The teacher gate (study_config.h, TeacherGate) for one teacher of a distilled run and the
// student that run starts from: validation Dice (report label) of each, mean over their models.
struct GateCheck {
  std::string teacher, student;
  double teacher_dice = 0, student_dice = 0;
  double margin = 0;
  bool passed() const { return teacher_dice - student_dice >= margin; }
};

// A table ready to print: tables.md writes it as Markdown, the report as HTML.
struct Table {
  std::string title;
  std::string note;  // a sentence under the title ("" = none)
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each row has header.size() cells
};

struct StudyResults {
  std::string name;         // the study's title
  std::string description;  // what it is, budget and machine; may be empty
  // The label the headline tables, charts and paired tests are of: a label value, or 0 for the
  // foreground mean; label_name names it ("tumour", "foreground").
  int report_label = 0;
  std::string label_name;
  int folds = 0;                         // folds trained
  int seeds = 1;                         // models per fold of each student and distilled run
  std::string primary;                   // the primary comparison's run ("" = none declared)
  std::vector<GateCheck> gate;           // one per (teacher, student) pair of distilled runs
  std::vector<std::string> test_sets;    // names, in the recipe's order
  std::vector<std::string> label_names;  // index = label value; [0] = "background"
  std::vector<RunSummary> runs;          // in the recipe's order
  std::vector<CaseMetric> metrics;
  std::vector<TrainingCurve> curves;
  std::vector<Overlay> overlays;
  std::vector<Table> tables;  // the tables of tables.md, in order
};

}  // namespace medkd::experiment
