#include "medkd/experiment/study_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "medkd/core/error.h"
#include "medkd/train/distill_config.h"
#include "medkd/train/train_config.h"

namespace medkd::experiment {
namespace {

const char* kStudy = R"(
name: tiny
dataset: {synth: {kind: petct, preset: tiny}}
folds: 3
plan: {patch_size: [16, 16, 8], batch_size: 2}
training: {epochs: 5, iterations_per_epoch: 4, loss: {type: dice_ce}}
budgets:
  small: {folds: 2, epochs: 1}
  teachers: {runs: [Big Teacher, other teacher]}
  one: {runs: [student, KD]}
runs:
  - {name: Big Teacher, role: teacher, model: {name: unet, options: {channels: [4, 8, 16]}}}
  - {name: other teacher, role: teacher, model: {name: unet, options: {channels: [4, 8, 16]}},
     training: {iterations_per_epoch: 7}}
  - {name: student, role: student, model: {name: unet, options: {channels: [2, 4, 8]}}}
  - name: KD
    role: distilled
    student: student
    teachers: [Big Teacher, other teacher]
    multi_teacher: mean
    loss: [{type: dice_ce}, {type: pixel_kl, teachers: [Big Teacher]}]
    ablation: teachers
)";

std::string with(const std::string& from, const std::string& to) {
  std::string text = kStudy;
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& text, const std::string& budget = "") {
  try {
    StudyConfig::from_yaml_text(text, "study.yaml", budget);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(StudyConfig, ReadsRunsFoldsAndTheDefaultTestSet) {
  const auto study = StudyConfig::from_yaml_text(kStudy, "study.yaml", "");
  EXPECT_EQ(study.name, "tiny");
  EXPECT_EQ(study.folds, 3);
  ASSERT_EQ(study.runs.size(), 4u);
  EXPECT_EQ(study.runs[0].slug, "big_teacher");
  ASSERT_EQ(study.test_sets.size(), 1u);
  EXPECT_EQ(study.test_sets[0].name, "test");
  EXPECT_EQ(study.test_sets[0].images, "imagesTs");
  // A distilled run trains its student's network and is tested against it by default.
  const RunSpec& kd = study.run("KD");
  EXPECT_EQ(kd.model["options"]["channels"][2].as<int>(), 8);
  EXPECT_EQ(kd.baseline, "student");
  // Without a choice, the overlays show the first teacher, student and distilled run.
  EXPECT_EQ(study.overlays.runs, (std::vector<std::string>{"Big Teacher", "student", "KD"}));
}

TEST(StudyConfig, ABudgetOverridesFoldsAndTrainingKeys) {
  const auto study = StudyConfig::from_yaml_text(kStudy, "study.yaml", "small");
  EXPECT_EQ(study.folds, 2);
  EXPECT_EQ(study.budget, "small");
  const auto recipe = train::TrainConfig::from_yaml_text(
      run_recipe(study, study.run("Big Teacher"), "data", {}), "recipe");
  EXPECT_EQ(recipe.epochs, 1);
  EXPECT_EQ(recipe.iterations_per_epoch, 4);
  EXPECT_EQ(recipe.folds, 2);
}

TEST(StudyConfig, ABudgetCanKeepASubsetOfTheRuns) {
  const auto study = StudyConfig::from_yaml_text(kStudy, "study.yaml", "teachers");
  ASSERT_EQ(study.runs.size(), 2u);
  EXPECT_EQ(study.runs[1].name, "other teacher");
  EXPECT_EQ(study.overlays.runs, (std::vector<std::string>{"Big Teacher"}));
  // A kept distilled run needs its teachers kept too.
  EXPECT_NE(
      error_of(kStudy, "one")
          .find("names teacher 'Big Teacher', which is not a run with role teacher in this budget"),
      std::string::npos);
}

TEST(StudyConfig, RunsKeptByABudgetKeepTheirOwnLossAndModel) {
  // Dropped runs sit between kept ones, so that the kept ones move up in the list.
  const char* text = R"(
name: subset
dataset: {synth: {kind: petct, preset: tiny}}
plan: {patch_size: [16, 16, 8], batch_size: 2}
budgets: {small: {runs: [T, S, KD pixel, KD attention]}}
runs:
  - {name: T, role: teacher, model: {name: unet, options: {channels: [4, 8, 16]}}}
  - {name: dropped student, role: student, model: {name: unet, options: {channels: [3, 6, 12]}}}
  - {name: S, role: student, model: {name: unet, options: {channels: [2, 4, 8]}}}
  - {name: KD dropped, role: distilled, student: dropped student, teachers: [T],
     loss: [{type: dice_ce}, {type: hint, taps: [enc.0]}]}
  - {name: KD pixel, role: distilled, student: S, teachers: [T],
     loss: [{type: dice_ce}, {type: pixel_kl}]}
  - {name: KD attention, role: distilled, student: S, teachers: [T],
     loss: [{type: dice_ce}, {type: attention_similarity, taps: [enc.0]}, {type: pixel_kl}]}
)";
  const auto study = StudyConfig::from_yaml_text(text, "study.yaml", "small");
  ASSERT_EQ(study.runs.size(), 4u);
  const RunSpec& pixel = study.run("KD pixel");
  ASSERT_EQ(pixel.loss.size(), 2u);
  EXPECT_EQ(pixel.loss[1]["type"].as<std::string>(), "pixel_kl");
  const RunSpec& attention = study.run("KD attention");
  ASSERT_EQ(attention.loss.size(), 3u);
  EXPECT_EQ(attention.loss[1]["type"].as<std::string>(), "attention_similarity");
  EXPECT_EQ(attention.loss[2]["type"].as<std::string>(), "pixel_kl");
  EXPECT_EQ(study.run("S").model["options"]["channels"][0].as<int>(), 2);
  EXPECT_EQ(attention.model["options"]["channels"][0].as<int>(), 2);
}

TEST(StudyConfig, ARunsOwnTrainingKeysOverrideTheStudys) {
  const auto study = StudyConfig::from_yaml_text(kStudy, "study.yaml", "");
  const auto recipe = train::TrainConfig::from_yaml_text(
      run_recipe(study, study.run("other teacher"), "data", {}), "recipe");
  EXPECT_EQ(recipe.iterations_per_epoch, 7);
  EXPECT_EQ(recipe.epochs, 5);
  EXPECT_EQ(recipe.plan.patch_size.value()[2], 8);
}

TEST(StudyConfig, ABudgetsStudentTrainingReachesStudentsAndDistilledRunsButNotTeachers) {
  const auto study = StudyConfig::from_yaml_text(
      with("small: {folds: 2, epochs: 1}",
           "small: {folds: 2, epochs: 1, student_training: {epochs: 3, iterations_per_epoch: 9}}"),
      "study.yaml", "small");
  const auto teacher = train::TrainConfig::from_yaml_text(
      run_recipe(study, study.run("other teacher"), "data", {}), "recipe");
  EXPECT_EQ(teacher.epochs, 1);
  EXPECT_EQ(teacher.iterations_per_epoch, 7);
  const auto student = train::TrainConfig::from_yaml_text(
      run_recipe(study, study.run("student"), "data", {}), "recipe");
  EXPECT_EQ(student.epochs, 3);
  EXPECT_EQ(student.iterations_per_epoch, 9);
  const auto kd = train::DistillConfig::from_yaml_text(
      run_recipe(study, study.run("KD"), "data/set", {"runs/a/fold-0", "runs/b/fold-0"}), "recipe");
  EXPECT_EQ(kd.training.epochs, 3);
  EXPECT_EQ(kd.training.iterations_per_epoch, 9);
  // Without the budget, nothing of it applies.
  const auto plain = StudyConfig::from_yaml_text(kStudy, "study.yaml", "");
  EXPECT_EQ(train::TrainConfig::from_yaml_text(run_recipe(plain, plain.run("student"), "data", {}),
                                               "recipe")
                .epochs,
            5);
}

TEST(StudyConfig, ADistilledRecipeNamesTeachersByFolderAndKeepsItsOwnLoss) {
  const auto study = StudyConfig::from_yaml_text(kStudy, "study.yaml", "");
  const auto recipe = train::DistillConfig::from_yaml_text(
      run_recipe(study, study.run("KD"), "data/set", {"runs/a/fold-0", "runs/b/fold-0"}), "recipe");
  EXPECT_EQ(recipe.dataset, "data/set");
  ASSERT_EQ(recipe.teachers.size(), 2u);
  EXPECT_EQ(recipe.teachers[0].name, "big_teacher");
  EXPECT_EQ(recipe.teachers[1].checkpoint, "runs/b/fold-0");
  EXPECT_EQ(recipe.multi_teacher, distill::MultiTeacher::kMean);
  EXPECT_EQ(recipe.student_model, "unet");
  ASSERT_EQ(recipe.terms.size(), 1u);
  EXPECT_EQ(recipe.terms[0].teachers, (std::vector<std::string>{"big_teacher"}));
  EXPECT_EQ(recipe.segmentation_name, "dice_ce");
  EXPECT_EQ(recipe.training.folds, 3);
}

TEST(StudyConfig, ADistilledRunPassesItsDistillationKeysToItsRecipe) {
  std::string text = kStudy;
  text.replace(text.find("    ablation: teachers"), 0,
               "    distillation: {kd_schedule: {warmup: 0.2}, unlabelled: [imagesUl], "
               "allow_weak_teachers: true}\n");
  const auto study = StudyConfig::from_yaml_text(text, "study.yaml", "");
  const auto recipe = train::DistillConfig::from_yaml_text(
      run_recipe(study, study.run("KD"), "data/set", {"runs/a/fold-0", "runs/b/fold-0"}), "recipe");
  EXPECT_TRUE(recipe.allow_weak_teachers);
  ASSERT_EQ(recipe.unlabelled.size(), 1u);
  EXPECT_EQ(recipe.unlabelled[0], "imagesUl");
  ASSERT_EQ(recipe.terms.size(), 1u);
  EXPECT_EQ(recipe.terms[0].schedule.warmup, 0.2);
  // A misspelt key is caught when the study is read, naming the run.
  text.replace(text.find("allow_weak_teachers"), 19, "allow_weak_teacher");
  const std::string m = error_of(text);
  EXPECT_NE(m.find("allow_weak_teacher"), std::string::npos) << m;
  EXPECT_NE(m.find("run 'KD'"), std::string::npos) << m;
}

TEST(StudyConfig, MistakesAreReportedWithTheFileAndTheRun) {
  EXPECT_NE(
      error_of(kStudy, "large")
          .find("--budget large: study.yaml has no such budget (budgets: small, teachers, one)"),
      std::string::npos);
  EXPECT_NE(error_of(with("folds: 3", "fold: 3")).find("unknown key \"fold\" in the study"),
            std::string::npos);
  EXPECT_NE(error_of(with("role: student", "role: pupil")).find("run 'student' has role 'pupil'"),
            std::string::npos);
  EXPECT_NE(
      error_of(with("teachers: [Big Teacher, other teacher]", "teachers: [Big Teacher, nobody]"))
          .find("run 'KD' names teacher 'nobody'"),
      std::string::npos);
  EXPECT_NE(error_of(with("student: student", "student: Big Teacher"))
                .find("names student 'Big Teacher', which is not a run with role student"),
            std::string::npos);
  EXPECT_NE(error_of(with("name: KD", "name: student")).find("run 'student' is declared twice"),
            std::string::npos);
  EXPECT_NE(error_of(with("name: KD", "name: Student")).find("share its folder runs/student"),
            std::string::npos);
  EXPECT_NE(error_of(with("plan: {patch_size: [16, 16, 8], batch_size: 2}", "plan: {}"))
                .find("plan needs patch_size and batch_size"),
            std::string::npos);
  // A run's training keys are checked by the trainer's own parser, naming the run.
  EXPECT_NE(error_of(with("iterations_per_epoch: 7", "iterations_per_epok: 7"))
                .find("run 'other teacher'"),
            std::string::npos);
  EXPECT_NE(error_of(with("small: {folds: 2, epochs: 1}", "small: {student_training: 3}"), "small")
                .find("budgets.small.student_training must be a mapping"),
            std::string::npos);
  EXPECT_NE(error_of(with("small: {folds: 2, epochs: 1}",
                          "small: {student_training: {plan: {batch_size: 4}}}"),
                     "small")
                .find("student_training.plan is set by the study itself"),
            std::string::npos);
  EXPECT_NE(error_of(with("small: {folds: 2, epochs: 1}", "small: {student_training: {epochz: 2}}"),
                     "small")
                .find("run 'student'"),
            std::string::npos);
  EXPECT_NE(error_of(with("name: tiny", "name: tiny\ntest_sets: [{name: cv}]"))
                .find("cross-validation set"),
            std::string::npos);
}

TEST(StudyConfig, TeacherAndStudentTrainingGoUnderARunsOwnKeysAndABudgetsGoOver) {
  const auto study =
      StudyConfig::from_yaml_text(with("budgets:",
                                       "teacher_training: {epochs: 20, iterations_per_epoch: 3}\n"
                                       "student_training: {epochs: 2}\nbudgets:"),
                                  "study.yaml", "");
  const auto recipe = [&](const std::string& run) {
    return train::TrainConfig::from_yaml_text(run_recipe(study, study.run(run), "data", {}), "r");
  };
  EXPECT_EQ(recipe("Big Teacher").epochs, 20);
  EXPECT_EQ(recipe("Big Teacher").iterations_per_epoch, 3);
  EXPECT_EQ(recipe("other teacher").iterations_per_epoch, 7);  // its own key wins
  EXPECT_EQ(recipe("student").epochs, 2);
  EXPECT_EQ(recipe("student").iterations_per_epoch, 4);
  const auto budget = StudyConfig::from_yaml_text(
      with("small: {folds: 2, epochs: 1}",
           "small: {folds: 2, teacher_training: {iterations_per_epoch: 2}}"),
      "study.yaml", "small");
  EXPECT_EQ(train::TrainConfig::from_yaml_text(
                run_recipe(budget, budget.run("other teacher"), "data", {}), "r")
                .iterations_per_epoch,
            2);  // the budget's wins over the run's own
}

TEST(StudyConfig, SeedsRunFoldsGateAndPrimaryAreRead) {
  const auto study = StudyConfig::from_yaml_text(
      with("budgets:",
           "seeds: [3, 1, 2]\nrun_folds: [2, 0]\ngate: {margin: 0.1, on_fail: continue}\n"
           "primary: KD\nbudgets:"),
      "study.yaml", "");
  EXPECT_EQ(study.seeds, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(study.run_folds, (std::vector<int>{0, 2}));
  EXPECT_DOUBLE_EQ(study.gate.margin, 0.1);
  EXPECT_FALSE(study.gate.stop);
  EXPECT_EQ(study.primary, "KD");
  EXPECT_TRUE(trained_per_seed(study, study.run("student")));
  EXPECT_TRUE(trained_per_seed(study, study.run("KD")));
  EXPECT_FALSE(trained_per_seed(study, study.run("Big Teacher")));
  // The seed replaces the training seed of the run.
  const auto kd = train::DistillConfig::from_yaml_text(
      run_recipe(study, study.run("KD"), "data/set", {"a", "b"}, 2), "recipe");
  EXPECT_EQ(kd.training.seed, 2u);
  // Defaults: every fold, no seeds, a gate of 0.05 that stops, no primary.
  const auto plain = StudyConfig::from_yaml_text(kStudy, "study.yaml", "");
  EXPECT_EQ(plain.run_folds, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(plain.seeds.empty());
  EXPECT_DOUBLE_EQ(plain.gate.margin, 0.05);
  EXPECT_TRUE(plain.gate.stop);
  EXPECT_TRUE(plain.primary.empty());
  // A budget may choose fewer seeds and folds.
  const auto small = StudyConfig::from_yaml_text(
      with("small: {folds: 2, epochs: 1}", "small: {seeds: [5], run_folds: [1]}"), "study.yaml",
      "small");
  EXPECT_EQ(small.seeds, (std::vector<int>{5}));
  EXPECT_EQ(small.run_folds, (std::vector<int>{1}));
}

TEST(StudyConfig, ABudgetMayChangeTheOptionsOfAGeneratedDataset) {
  const auto study = StudyConfig::from_yaml_text(
      with("small: {folds: 2, epochs: 1}", "small: {dataset: {synth: {test_cases: 3}}}"),
      "study.yaml", "small");
  EXPECT_EQ(study.dataset.options["test_cases"].as<int>(), 3);
  EXPECT_EQ(study.dataset.options["preset"].as<std::string>(), "tiny");  // the study's own
  EXPECT_NE(
      error_of(with("small: {folds: 2, epochs: 1}", "small: {dataset: {path: data}}"), "small")
          .find("budgets.small.dataset must be {synth: {...}}"),
      std::string::npos);
}

TEST(StudyConfig, BadSeedsFoldsGateOrPrimaryAreErrorsNamingTheKey) {
  const auto error = [](const std::string& line) {
    return error_of(with("budgets:", line + "\nbudgets:"));
  };
  EXPECT_NE(error("seeds: [1, 1]").find("seeds lists a value twice"), std::string::npos);
  EXPECT_NE(error("seeds: []").find("seeds must be a non-empty list"), std::string::npos);
  EXPECT_NE(error("seeds: [-1]").find("seeds[0] must be an integer ≥ 0"), std::string::npos);
  EXPECT_NE(error("run_folds: [3]").find("run_folds names fold 3, but the study has 3 folds"),
            std::string::npos);
  EXPECT_NE(error("gate: {margin: 2}").find("gate.margin must be a Dice difference"),
            std::string::npos);
  EXPECT_NE(error("gate: {on_fail: ignore}").find("gate.on_fail must be stop or continue"),
            std::string::npos);
  EXPECT_NE(error("gate: {marign: 0.1}").find("unknown key \"marign\" in gate"), std::string::npos);
  EXPECT_NE(error("primary: Big Teacher").find("no baseline"), std::string::npos);
  EXPECT_NE(error("primary: nobody").find("no run named 'nobody'"), std::string::npos);
  EXPECT_NE(error("teacher_training: {plan: {batch_size: 4}}")
                .find("teacher_training.plan is set by the study itself"),
            std::string::npos);
}

// Every study recipe in configs/experiments/ parses, with its small budget, and every distilled
// run has a baseline to be tested against.
TEST(StudyConfig, EveryShippedStudyRecipeParsesWithItsSmallBudget) {
  const char* source = std::getenv("MEDKD_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(source) / "configs/experiments")) {
    SCOPED_TRACE(entry.path().string());
    const auto study = StudyConfig::from_file(entry.path(), "small");
    EXPECT_EQ(study.budget, "small");
    EXPECT_GE(study.folds, 2);
    for (const auto& run : study.runs) {
      if (run.role == "distilled") {
        EXPECT_FALSE(run.baseline.empty()) << run.name;
      }
    }
    ++count;
  }
  EXPECT_EQ(count, 5);
}

}  // namespace
}  // namespace medkd::experiment
