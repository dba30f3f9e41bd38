// `medkd distill` end to end on a tiny synthetic dataset: every recipe of configs/distill/ runs
// with tiny teachers of its architectures, a distilled student is an ordinary model, resume is
// exact, and bad configs fail before training with errors that say what to fix.
#include "medkd/train/distiller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/data/synth/synth_dataset.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/checkpoint.h"
#include "medkd/models/registry.h"
#include "medkd/train/distill_config.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::testing::error_of;
using medkd::testing::TempDir;

namespace {

// Tiny versions of the architectures the recipes name, all on one 32³ (or 32²) plan.
const std::map<std::string, std::string> kTinyTeachers = {
    {"unet", "{name: unet, options: {channels: [4, 8, 16, 32], blocks_per_stage: 1}}"},
    {"h_denseformer",
     "{name: h_denseformer, options: {n_filters: 2, transformer_depth: 4, image_size: 32, "
     "growth_rate: 4, num_heads: 2, dense_layers: 1}}"},
    {"swin_unetr",
     "{name: swin_unetr, options: {feature_size: 6, depths: [1, 1, 1, 1], num_heads: [1, 1, 1, "
     "1], norm: batch}}"},
    {"unetr",
     "{name: unetr, options: {img_size: 32, feature_size: 4, hidden_size: 32, mlp_dim: 64, "
     "num_heads: 2, num_layers: 4}}"},
    {"unet_plus_plus", "{name: unet_plus_plus, options: {filters: [4, 8, 16, 32]}}"},
};

// Options that shrink each student the recipes name (merged over the recipe's own).
const std::map<std::string, std::string> kTinyStudents = {
    {"unet", "{channels: [2, 4, 8, 16]}"},
    {"h_denseformer_light",
     "{image_size: 32, transformer_depth: 4, growth_rate: 4, num_heads: 2, dense_layers: 1}"},
    {"resnet18_plain", "{encoder_channels: [4, 4, 8, 8]}"},
    {"mobile_unet", "{width: 0.25, last_conv: false}"},
};

const char* kTraining = R"(
epochs: 1
iterations_per_epoch: 1
optimizer: {type: adam, lr: 1.0e-3}
validation: {max_cases: 1}
loader: {workers: 1, prefetch: 1}
folds: 2
seed: 2
)";

// The two runs' last students have equal weights, bit for bit.
void expect_same_student(const fs::path& a_run, const fs::path& b_run) {
  const auto a = medkd::inference::load_trained_model(a_run / "checkpoint_last.pt", torch::kCPU);
  const auto b = medkd::inference::load_trained_model(b_run / "checkpoint_last.pt", torch::kCPU);
  const auto pa = a.model->parameters(), pb = b.model->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << b_run.string() << " parameter " << i;
}

// The suite's teachers train for one step: their validation Dice is near 0.
const char* kWeakTeachers = "allow_weak_teachers: true\n";

class Distiller : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    medkd::data::synth::SynthOptions synth;
    synth.kind = "petct";
    synth.preset = "tiny";
    synth.cases = 4;
    synth.unlabelled_cases = 2;  // imagesUl/, for distillation on unlabelled images
    synth.seed = 1;
    synth.quiet = true;
    synth.out = *dir_ / "data";
    medkd::data::synth::write_synth_dataset(synth);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // A tiny teacher of `architecture`, trained for one step on `fold` (once per suite and plan).
  static fs::path teacher(const std::string& architecture, int dims = 3,
                          const std::string& spacing = "", int fold = 0) {
    const std::string run = architecture + "_" + std::to_string(dims) + "d" +
                            (spacing.empty() ? "" : "_spacing") + "_fold" + std::to_string(fold);
    const fs::path out = *dir_ / "teachers" / run;
    if (fs::exists(out / "checkpoint_best.pt")) return out;
    std::string config = "model: " + kTinyTeachers.at(architecture) + "\n" + kTraining +
                         "loss: {type: dice_ce}\ndims: " + std::to_string(dims) + "\n" +
                         "plan: {patch_size: " + (dims == 3 ? "[32, 32, 32]" : "[32, 32, 1]") +
                         ", batch_size: 2" +
                         (spacing.empty() ? "" : ", target_spacing: " + spacing) + "}\n";
    medkd::core::write_text_file(*dir_ / (run + ".yaml"), config);
    medkd::train::TrainOptions options;
    options.dataset = *dir_ / "data";
    options.config = *dir_ / (run + ".yaml");
    options.out = out;
    options.fold = fold;
    options.quiet = true;
    medkd::train::train(options);
    return out;
  }

  static medkd::train::DistillOptions options_for(const fs::path& config, const std::string& run) {
    medkd::train::DistillOptions o;
    o.config = config;
    o.dataset = *dir_ / "data";
    o.run.out = *dir_ / run;
    o.run.quiet = true;
    return o;
  }

  // Distils `config` for its epochs in one call into `straight`, and in two (one epoch, then
  // --resume) into `split`; their students must end bit for bit alike.
  static void distill_straight_and_split(const fs::path& config, const std::string& straight,
                                         const std::string& split) {
    medkd::train::distill(options_for(config, straight));
    auto twice = options_for(config, split);
    twice.run.max_epochs_this_call = 1;
    medkd::train::distill(twice);
    twice.run.resume = true;
    twice.config.clear();
    medkd::train::distill(twice);
    expect_same_student(*dir_ / straight, *dir_ / split);
  }

  static fs::path write(const std::string& name, const std::string& text) {
    medkd::core::write_text_file(*dir_ / name, text);
    return *dir_ / name;
  }

  static TempDir* dir_;
};
TempDir* Distiller::dir_ = nullptr;

// A two-teacher pixel_kl + attention_similarity config with the tiny U-Net student.
std::string simple_config(const fs::path& t1, const fs::path& t2, const std::string& extra = "") {
  return "teachers:\n  - {name: t1, checkpoint: " + t1.string() +
         "}\n  - {name: t2, checkpoint: " + t2.string() +
         "}\nstudent: {model: unet, options: {channels: [2, 4, 8, 16]}}\n" +
         "loss:\n  - {type: dice_focal}\n  - {type: pixel_kl, temperature: 2.0}\n" +
         "  - {type: attention_similarity, teachers: [t2]}\n" + kTraining + kWeakTeachers + extra;
}

TEST_F(Distiller, EveryShippedRecipeRunsWithTinyTeachersOfItsArchitectures) {
  const char* source = std::getenv("MEDKD_SOURCE_DIR");  // set by CTest
  ASSERT_NE(source, nullptr) << "run through ctest, or set MEDKD_SOURCE_DIR";
  int count = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(source) / "configs/distill")) {
    const std::string name = entry.path().stem().string();
    YAML::Node recipe = YAML::LoadFile(entry.path().string());
    const int dims = name == "hlfd" ? 2 : 3;
    for (auto t : recipe["teachers"]) {
      // A teacher is named after its architecture in every recipe.
      const std::string architecture = t["name"].as<std::string>();
      ASSERT_TRUE(kTinyTeachers.count(architecture)) << name << ": no tiny " << architecture;
      t["checkpoint"] = teacher(architecture, dims).string();
    }
    const std::string student = recipe["student"]["model"].as<std::string>();
    ASSERT_TRUE(kTinyStudents.count(student)) << name << ": no tiny " << student;
    for (const auto& item : YAML::Load(kTinyStudents.at(student)))
      recipe["student"]["options"][item.first.as<std::string>()] = item.second;
    for (const auto& item : YAML::Load(kTraining))
      recipe[item.first.as<std::string>()] = item.second;
    recipe["allow_weak_teachers"] = true;
    const fs::path config = write(name + "_tiny.yaml", YAML::Dump(recipe));

    const auto result = medkd::train::distill(options_for(config, "recipe_" + name));
    EXPECT_EQ(result.epochs_completed, 1) << name;
    // The student is an ordinary model for predict; the log has a column per loss entry.
    const auto loaded =
        medkd::inference::load_trained_model(*dir_ / ("recipe_" + name), torch::kCPU);
    EXPECT_EQ(loaded.model->name(), student) << name;
    const std::string log =
        medkd::core::read_text_file(*dir_ / ("recipe_" + name) / "training_log.csv");
    for (const auto& term : recipe["loss"])
      EXPECT_NE(log.find(term["type"].as<std::string>()), std::string::npos) << name << '\n' << log;
    ++count;
  }
  EXPECT_EQ(count, 6);
}

TEST_F(Distiller, AResumedRunEndsBitForBitWhereAStraightRunEnds) {
  const fs::path t = teacher("unet");
  // Two epochs straight, and one + resume + one.
  YAML::Node two = YAML::Load(simple_config(t, t));
  two["epochs"] = 2;
  two["iterations_per_epoch"] = 2;
  distill_straight_and_split(write("resume2.yaml", YAML::Dump(two)), "straight", "split");
  EXPECT_EQ(medkd::core::read_text_file(*dir_ / "straight" / "training_log.csv").substr(0, 60),
            medkd::core::read_text_file(*dir_ / "split" / "training_log.csv").substr(0, 60));
}

TEST_F(Distiller, TeachersTrainedOnDifferentPlansAreAnErrorBeforeTraining) {
  const fs::path a = teacher("unet"), b = teacher("unet", 3, "[8, 8, 8]");
  const fs::path config = write("mismatch.yaml", simple_config(a, b));
  const std::string message =
      error_of([&] { medkd::train::distill(options_for(config, "mismatch")); });
  EXPECT_NE(message.find("t1 and t2"), std::string::npos) << message;
  EXPECT_NE(message.find("target_spacing"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(*dir_ / "mismatch" / "training_log.csv"));
}

// Both ways of leaving the teachers out, a zero weight and --student-alone, end exactly where
// `medkd train` of the same student ends.
TEST_F(Distiller, WithoutItsDistillationTermsTheStudentTrainsExactlyAsTrainDoes) {
  const fs::path t = teacher("unet");
  const std::string student =
      "{name: unet, options: {channels: [2, 4, 8, 16], deep_supervision: true}}";
  const fs::path alone = write(
      "alone.yaml", "model: " + student + "\n" + kTraining + "loss: {type: dice_focal}\ndims: 3\n" +
                        "plan: {patch_size: [32, 32, 32], batch_size: 2}\n");
  medkd::train::TrainOptions train_options;
  train_options.dataset = *dir_ / "data";
  train_options.config = alone;
  train_options.out = *dir_ / "alone";
  train_options.quiet = true;
  medkd::train::train(train_options);
  const fs::path config =
      write("zero.yaml", "teachers: [{name: t, checkpoint: " + t.string() +
                             "}]\nstudent: {model: unet, options: {channels: [2, 4, 8, 16], "
                             "deep_supervision: true}}\n" +
                             "loss:\n  - {type: dice_focal}\n  - {type: pixel_kl, weight: 0}\n" +
                             kTraining + kWeakTeachers);
  medkd::train::distill(options_for(config, "zero"));
  // --student-alone drops the terms whatever their weight; split over two calls, the resumed
  // call keeps the mode without being told.
  const fs::path weighted = write(
      "weighted.yaml", "teachers: [{name: t, checkpoint: " + t.string() +
                           "}]\nstudent: {model: unet, options: {channels: [2, 4, 8, 16], "
                           "deep_supervision: true}}\n" +
                           "loss:\n  - {type: dice_focal}\n  - {type: pixel_kl, weight: 5}\n" +
                           kTraining + kWeakTeachers);
  YAML::Node two_epochs = YAML::LoadFile(alone.string());
  two_epochs["epochs"] = 2;
  train_options.config = write("alone2.yaml", YAML::Dump(two_epochs));
  train_options.out = *dir_ / "alone2";
  medkd::train::train(train_options);
  YAML::Node weighted_two = YAML::LoadFile(weighted.string());
  weighted_two["epochs"] = 2;
  auto student_alone = options_for(write("weighted2.yaml", YAML::Dump(weighted_two)), "by_flag");
  student_alone.student_alone = true;
  student_alone.run.max_epochs_this_call = 1;
  medkd::train::distill(student_alone);
  student_alone.student_alone = false;
  student_alone.run.resume = true;
  medkd::train::distill(student_alone);

  expect_same_student(*dir_ / "alone", *dir_ / "zero");
  expect_same_student(*dir_ / "alone2", *dir_ / "by_flag");
  const std::string log = medkd::core::read_text_file(*dir_ / "by_flag" / "training_log.csv");
  EXPECT_EQ(log.find("pixel_kl"), std::string::npos) << log;
  EXPECT_TRUE(medkd::io::read_checkpoint_metadata(*dir_ / "by_flag" / "checkpoint_last.pt")
                  .value("student_alone", false));

  // A distillation cannot be continued as a baseline.
  auto mixed = options_for(config, "zero");
  mixed.config.clear();
  mixed.run.resume = true;
  mixed.student_alone = true;
  EXPECT_NE(error_of([&] { medkd::train::distill(mixed); }).find("resume it without"),
            std::string::npos);
}

TEST_F(Distiller, ATeacherTrainedOnTheStudentsValidationCasesIsAnError) {
  const fs::path fold1 = teacher("unet", 3, "", 1);  // trains on fold 0's validation cases
  const fs::path config = write("leak.yaml", simple_config(teacher("unet"), fold1));
  const std::string message = error_of([&] { medkd::train::distill(options_for(config, "leak")); });
  EXPECT_NE(message.find("teacher t2 was trained on"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(*dir_ / "leak"));
  auto all_cases = options_for(config, "leak_all");
  all_cases.run.fold = -1;  // no validation: nothing to leak
  EXPECT_NO_THROW(medkd::train::distill(all_cases));
}

TEST_F(Distiller, ConfigErrorsNameTheKeyAndListWhatIsValid) {
  const fs::path t = teacher("unet");
  using medkd::train::DistillConfig;
  const std::string base = simple_config(t, t);
  auto parse = [](const std::string& text) {
    return DistillConfig::from_yaml_text(text, "d.yaml");
  };
  EXPECT_NO_THROW(parse(base));
  std::string m = error_of([&] { parse(base + "epochz: 3\n"); });
  EXPECT_NE(m.find("epochz"), std::string::npos) << m;
  EXPECT_NE(m.find("multi_teacher"), std::string::npos) << m;
  m = error_of([&] { parse(base + "multi_teacher: vote\n"); });
  EXPECT_NE(m.find("confidence"), std::string::npos) << m;
  m = error_of([&] {
    std::string text = base;
    text.replace(text.find("teachers: [t2]"), 14, "teachers: [t3]");
    parse(text);
  });
  EXPECT_NE(m.find("t3"), std::string::npos) << m;
  EXPECT_NE(m.find("t1, t2"), std::string::npos) << m;
  m = error_of([&] {
    std::string text = base;
    text.replace(text.find("{type: dice_focal}"), 18, "{type: dice_focul}");
    parse(text);
  });
  EXPECT_NE(m.find("dice_focul"), std::string::npos) << m;
  EXPECT_NE(m.find("pixel_kl"), std::string::npos) << m;

  // A tap the student lacks: an error listing its taps, before any folder is made.
  std::string text = base;
  text.replace(text.find("{type: attention_similarity, teachers: [t2]}"), 44,
               "{type: hint, taps: [enc.7]}");
  const fs::path bad = write("bad_tap.yaml", text);
  m = error_of([&] { medkd::train::distill(options_for(bad, "bad_tap")); });
  EXPECT_NE(m.find("enc.7"), std::string::npos) << m;
  EXPECT_NE(m.find("bottleneck"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(*dir_ / "bad_tap"));
}

TEST_F(Distiller, ScheduleAndTermOptionMistakesFailBeforeAnyTeacherIsRead) {
  // The teachers named here do not exist: reading the config must fail first.
  const fs::path missing = *dir_ / "no_such_teacher";
  const auto expect_config_error = [&](const std::string& extra_loss, const std::string& extra,
                                       const std::string& wanted,
                                       const std::string& segmentation = "{type: dice_focal}") {
    const fs::path config =
        write("early.yaml", "teachers: [{name: t, checkpoint: " + missing.string() +
                                "}]\nstudent: {model: unet, options: {channels: [2, 4, 8, 16]}}\n" +
                                "loss:\n  - " + segmentation + "\n  - {type: pixel_kl" +
                                extra_loss + "}\n" + kTraining + extra);
    const std::string m = error_of([&] { medkd::train::distill(options_for(config, "early")); });
    EXPECT_NE(m.find(wanted), std::string::npos) << m;
    EXPECT_NE(m.find("early.yaml"), std::string::npos) << m;
    EXPECT_EQ(m.find("no_such_teacher"), std::string::npos) << m;
    EXPECT_FALSE(fs::exists(*dir_ / "early"));
  };
  expect_config_error(", schedule: {warmpu: 10}", "", "start, warmup, decay, final");
  expect_config_error(", temprature: 2", "",
                      "and on every entry: weight, name, teachers, schedule");
  expect_config_error(", foreground: lesion", "", "none, label, teacher, union");
  expect_config_error("", "kd_schedule: {decay: exp}\n", "none, linear or cosine");
  expect_config_error("", "unlabelled_share: 0.5\n", "needs unlabelled folders");
  expect_config_error("", "min_teacher_dice: 2\n", "min_teacher_dice must be a Dice in [0, 1]");
  expect_config_error("", "", "gama", "{type: dice_focal, gama: 2}");
}

TEST_F(Distiller, AWeakTeacherIsAnErrorUnlessTheConfigAllowsIt) {
  const fs::path t = teacher("unet");
  const double dice = medkd::inference::load_trained_model(t, torch::kCPU).state.best_metric;
  ASSERT_LT(dice, 0.99);
  std::ostringstream minimum;
  minimum << "min_teacher_dice: " << std::min(1.0, dice + 0.01) << "\n";
  std::string text = simple_config(t, t);
  text.replace(text.find(kWeakTeachers), std::string(kWeakTeachers).size(), minimum.str());
  const fs::path config = write("weak.yaml", text);
  const std::string m = error_of([&] { medkd::train::distill(options_for(config, "weak")); });
  EXPECT_NE(m.find("teacher t1 has validation Dice"), std::string::npos) << m;
  EXPECT_NE(m.find("allow_weak_teachers: true"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(*dir_ / "weak"));
  // The baseline reads the teachers for their plan only: no quality check.
  auto alone = options_for(config, "weak_alone");
  alone.student_alone = true;
  EXPECT_NO_THROW(medkd::train::distill(alone));
}

// A schedule and unlabelled images in play: the log has each term's effective weight and
// gradient ratio, resume is still exact, and the student is an ordinary model.
TEST_F(Distiller, SchedulesUnlabelledImagesAndDiagnosticsResumeExactly) {
  const fs::path t = teacher("unet");
  YAML::Node recipe = YAML::Load(
      simple_config(t, t,
                    "kd_schedule: {warmup: 2, decay: linear, final: 0.5}\nunlabelled: [imagesUl]\n"
                    "unlabelled_share: 0.5\ndiagnostics_every: 1\n"));
  recipe["loss"][1]["foreground"] = "union";
  recipe["loss"][2]["schedule"] = YAML::Load("{start: 1}");
  recipe["epochs"] = 2;
  recipe["iterations_per_epoch"] = 2;
  distill_straight_and_split(write("unlabelled.yaml", YAML::Dump(recipe)), "unlabelled_straight",
                             "unlabelled_split");
  EXPECT_TRUE(fs::exists(*dir_ / "unlabelled_straight" / "preprocessed_unlabelled"));

  const std::string log =
      medkd::core::read_text_file(*dir_ / "unlabelled_straight" / "training_log.csv");
  EXPECT_NE(log.find("val_foreground_fraction,pixel_kl_weight,pixel_kl_grad_ratio,"
                     "attention_similarity_weight,attention_similarity_grad_ratio"),
            std::string::npos)
      << log;
  // 4 steps: pixel_kl ramps over 2 steps (0, 0.5) then decays linearly from 1 at step 2 to 0.5
  // at step 4 (1, 0.75): epoch means 0.25 and 0.875. attention_similarity starts at step 1 and
  // ramps over 2 more, its decay starting at step 3 (0, 0, 0.5, 1): means 0 and 0.75.
  std::istringstream lines(log);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  const auto column = [&](const std::string& row, const std::string& name) {
    std::vector<std::string> names, cells;
    std::string cell;
    for (std::istringstream h(header); std::getline(h, cell, ',');) names.push_back(cell);
    for (std::istringstream r(row); std::getline(r, cell, ',');) cells.push_back(cell);
    const auto at = std::find(names.begin(), names.end(), name) - names.begin();
    return size_t(at) < cells.size() ? cells[size_t(at)] : std::string();
  };
  EXPECT_DOUBLE_EQ(std::stod(column(first, "pixel_kl_weight")), 0.25);
  EXPECT_DOUBLE_EQ(std::stod(column(second, "pixel_kl_weight")), 0.875);
  EXPECT_DOUBLE_EQ(std::stod(column(first, "attention_similarity_weight")), 0.0);
  EXPECT_DOUBLE_EQ(std::stod(column(second, "attention_similarity_weight")), 0.75);
  EXPECT_GE(std::stod(column(second, "pixel_kl_grad_ratio")), 0.0);
  EXPECT_FALSE(column(first, "val_foreground_fraction").empty());

  // An unlabelled folder that is not there is an error naming it.
  recipe["unlabelled"] = YAML::Load("[imagesXx]");
  const fs::path bad = write("unlabelled_bad.yaml", YAML::Dump(recipe));
  const std::string m =
      error_of([&] { medkd::train::distill(options_for(bad, "unlabelled_bad")); });
  EXPECT_NE(m.find("imagesXx is not a folder"), std::string::npos) << m;
}

}  // namespace
