#include "medkd/train/distiller.h"

#include <algorithm>
#include <set>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/distill/term_registry.h"
#include "medkd/inference/predictor.h"
#include "medkd/io/checkpoint.h"
#include "medkd/io/dataset.h"
#include "medkd/losses/deep_supervision.h"
#include "medkd/losses/loss_registry.h"
#include "medkd/models/registry.h"
#include "medkd/train/distill_config.h"
#include "medkd/train/splits.h"
#include "medkd/train/training_loop.h"

namespace medkd::train {
namespace fs = std::filesystem;

namespace {

struct Teacher {
  std::string name;
  inference::LoadedModel loaded;
  models::TapSet wanted;  // what the terms read from it
};

// What a distillation run optimises and resumes: the student and every term's adapters.
class DistillationModuleImpl : public torch::nn::Module {
 public:
  DistillationModuleImpl(models::SegmentationModel student,
                         const std::vector<distill::KdTerm>& terms)
      : student(register_module("student", student)) {
    for (size_t k = 0; k < terms.size(); ++k) register_module(str("term", k), terms[k]);
  }
  models::SegmentationModel student;
};

// The plan fields that change what a network sees; teachers must agree on all of them.
std::vector<std::string> plan_differences(const data::Plan& a, const data::Plan& b) {
  const auto ja = data::plan_to_json(a), jb = data::plan_to_json(b);
  std::vector<std::string> fields;
  for (const auto& [key, value] : ja.items()) {
    if (key == "patch_size" || key == "batch_size" || key == "median_shape" ||
        key == "patch_divisor")
      continue;
    if (!jb.contains(key) || jb[key] != value) fields.push_back(key);
  }
  return fields;
}

// The plan's spacing in tensor order ([Z, Y, X], or [Y, X] for 2-D).
std::vector<double> tensor_order_spacing(const data::Plan& plan) {
  const auto& s = plan.target_spacing;
  if (plan.dims == 2) return {s[1], s[0]};
  return {s[2], s[1], s[0]};
}

// The cases a teacher was trained on, from its run folder's splits.json and the fold in its
// checkpoint; empty when unknown (a checkpoint file on its own, or a run on every case: "*").
std::set<std::string> teacher_training_cases(const inference::LoadedModel& teacher,
                                             const std::vector<std::string>& all_ids) {
  const nlohmann::json metadata = io::read_checkpoint_metadata(teacher.checkpoint);
  const int fold = metadata.contains("fold") ? metadata["fold"].get<int>() : -2;
  if (fold == -1) return {all_ids.begin(), all_ids.end()};
  const fs::path splits = teacher.checkpoint.parent_path() / "splits.json";
  if (fold < 0 || !fs::exists(splits)) return {};
  const std::vector<Fold> folds = load_splits(splits);
  if (fold >= int(folds.size())) return {};
  return {folds[fold].train.begin(), folds[fold].train.end()};
}

}  // namespace

TrainResult distill(const DistillOptions& options) {
  const TrainOptions& run = options.run;
  const fs::path out = run.out;
  const fs::path state_file = out / "distill_state.pt";
  if (run.resume) {
    MEDKD_CHECK(fs::exists(state_file), "--resume: ", state_file.string(),
                " does not exist (nothing to resume)");
  } else {
    MEDKD_CHECK(!fs::exists(state_file) && !fs::exists(out / "checkpoint_last.pt"), "--out ",
                out.string(), " already holds a run; use --resume or another --out");
    MEDKD_CHECK(!options.config.empty(), "--config is required");
  }
  const fs::path config_path =
      run.resume && options.config.empty() ? out / "config.yaml" : options.config;
  DistillConfig config = DistillConfig::from_file(config_path);
  bool student_alone = options.student_alone;
  if (run.resume) {
    const bool started_alone =
        io::read_checkpoint_metadata(out / "checkpoint_last.pt").value("student_alone", false);
    MEDKD_CHECK(started_alone || !student_alone, "--student-alone: ", out.string(),
                " is a distillation with its terms; resume it without --student-alone");
    student_alone = started_alone;
  }
  if (student_alone) config.terms.clear();
  const fs::path dataset_path = options.dataset.empty() ? config.dataset : options.dataset;
  MEDKD_CHECK(!dataset_path.empty(), config_path.string(),
              ": no dataset (give 'dataset:' in the config or --dataset)");

  // Teachers first: their plan decides everything else, and a bad checkpoint fails at once.
  std::vector<Teacher> teachers;
  for (const auto& spec : config.teachers) {
    Teacher teacher;
    teacher.name = spec.name;
    try {
      teacher.loaded = inference::load_trained_model(spec.checkpoint, run.device);
    } catch (const Error& e) {
      throw Error(str("teacher ", spec.name, " (", spec.checkpoint.string(), "): ", e.what()));
    }
    for (auto& p : teacher.loaded.model->parameters()) p.set_requires_grad(false);
    teachers.push_back(std::move(teacher));
  }
  const data::Plan& plan = teachers.front().loaded.plan;
  for (size_t i = 1; i < teachers.size(); ++i) {
    const auto fields = plan_differences(plan, teachers[i].loaded.plan);
    MEDKD_CHECK(fields.empty(), "teachers ", teachers.front().name, " and ", teachers[i].name,
                " were trained on different plans (", join_names(fields),
                " differ); a student learns from teachers that saw the same preprocessed images");
  }

  const io::Dataset dataset = io::open_dataset(dataset_path);
  MEDKD_CHECK(dataset.meta.channel_names == plan.channel_names, "dataset ", dataset_path.string(),
              " has channels ", join_names(dataset.meta.channel_names),
              " but the teachers were trained on ", join_names(plan.channel_names));

  models::ModelConfig student_config;
  student_config.name = config.student_model;
  student_config.spatial_dims = plan.dims;
  student_config.in_channels = plan.num_channels();
  student_config.num_classes = plan.num_classes();
  student_config.options = YAML::Clone(config.student_options);
  torch::manual_seed(config.training.seed);
  models::SegmentationModel student = models::default_model_registry().create(student_config);
  for (const Teacher& teacher : teachers)
    MEDKD_CHECK(teacher.loaded.model->num_classes() == student->num_classes(), "teacher ",
                teacher.name, " predicts ", teacher.loaded.model->num_classes(),
                " classes but the plan has ", student->num_classes());

  const losses::DeepSupervisionLoss segmentation_loss(
      losses::make_segmentation_loss(losses::loss_config_from_yaml(config.training.loss)));
  std::vector<distill::KdTerm> terms;
  std::vector<std::vector<size_t>> term_teachers;
  const auto& registry = distill::default_term_registry();
  for (const auto& spec : config.terms) {
    distill::TermContext context;
    context.student = student.get();
    context.multi_teacher = config.multi_teacher;
    context.spacing_mm = tensor_order_spacing(plan);
    std::vector<size_t> chosen;
    for (size_t i = 0; i < teachers.size(); ++i)
      if (spec.teachers.empty() || std::find(spec.teachers.begin(), spec.teachers.end(),
                                             teachers[i].name) != spec.teachers.end())
        chosen.push_back(i);
    for (size_t i : chosen) {
      context.teachers.push_back(teachers[i].loaded.model.get());
      context.teacher_names.push_back(teachers[i].name);
    }
    distill::KdTerm term;
    try {
      term = registry.create(spec.type, spec.options, context);
    } catch (const Error& e) {
      throw Error(str(config_path.string(), ": loss '", spec.name, "': ", e.what()));
    }
    const bool needs_logits = config.multi_teacher == distill::MultiTeacher::kConfidence ||
                              config.multi_teacher == distill::MultiTeacher::kEnsemble;
    for (size_t i : chosen) {
      for (const auto& tap : term->teacher_taps()) teachers[i].wanted.insert(tap);
      if (needs_logits) teachers[i].wanted.insert("logits");
    }
    terms.push_back(term);
    term_teachers.push_back(chosen);
  }

  models::TapSet student_wanted{"logits"};
  std::vector<std::string> heads;  // deep-supervision heads, finest first
  for (const auto& name : student->tap_names())
    if (name.rfind("ds.", 0) == 0) heads.push_back(name);
  student_wanted.insert(heads.begin(), heads.end());
  for (const auto& term : terms)
    for (const auto& tap : term->student_taps()) student_wanted.insert(tap);

  // A teacher that learnt the student's validation cases would leak them into the choice of the
  // best student and into its reported Dice.
  if (run.fold >= 0) {
    std::vector<std::string> all_ids;
    for (const auto& c : dataset.training) all_ids.push_back(c.id);
    const std::vector<Fold> folds = make_splits(all_ids, config.training.folds, kSplitSeed);
    const Fold& student_fold = select_fold(folds, run.fold);
    for (const Teacher& teacher : teachers) {
      const std::set<std::string> seen = teacher_training_cases(teacher.loaded, all_ids);
      for (const auto& id : student_fold.val)
        MEDKD_CHECK(!seen.count(id), "teacher ", teacher.name, " was trained on ", id,
                    ", a validation case of the student's fold ", run.fold,
                    ": distil on the fold the teachers were trained on (the same --fold and "
                    "folds), or with --fold -1");
    }
  }

  // Everything checked: now the run folder is created and the cases preprocessed.
  fs::create_directories(out);
  if (!run.resume) core::write_text_file(out / "config.yaml", config.source);
  nlohmann::json teacher_records = nlohmann::json::array();
  for (const Teacher& t : teachers)
    teacher_records.push_back(
        {{"name", t.name},
         {"checkpoint", fs::absolute(t.loaded.checkpoint).string()},
         {"model", io::read_checkpoint_metadata(t.loaded.checkpoint)["model"]}});
  core::write_text_file(out / "teachers.json", teacher_records.dump(2) + "\n");
  data::save_plan(plan, out / "plans.json");
  FoldCases cases = prepare_fold_cases(dataset, plan, config.training, out, run.cache, run.fold,
                                       run.threads, run.quiet);

  TrainingLoop loop;
  loop.config = config.training;
  loop.plan = plan;
  loop.train_cases = std::move(cases.train);
  loop.val_cases = std::move(cases.val);
  loop.model = student;
  loop.trained = std::make_shared<DistillationModuleImpl>(student, terms);
  loop.state_file = state_file;
  loop.term_names.push_back(config.segmentation_name);
  for (const auto& spec : config.terms) loop.term_names.push_back(spec.name);
  const torch::Device device = run.device;
  loop.step = [&](const data::Batch& batch) {
    const torch::Tensor image = batch.image.to(device);
    const torch::Tensor target = batch.label.to(device);
    std::vector<models::Taps> teacher_taps(teachers.size());
    {
      torch::InferenceMode frozen;
      for (size_t i = 0; i < teachers.size(); ++i)
        if (!teachers[i].wanted.empty())
          teachers[i].loaded.model->forward_with_taps(image, teacher_taps[i], teachers[i].wanted);
    }
    // Inference tensors cannot be saved for the student's backward pass: the terms get copies.
    for (auto& taps : teacher_taps)
      for (auto& item : taps) item.second = item.second.clone();

    models::Taps student_taps;
    std::vector<torch::Tensor> outputs{
        student->forward_with_taps(image, student_taps, student_wanted).to(torch::kFloat32)};
    for (const auto& head : heads) outputs.push_back(student_taps.at(head).to(torch::kFloat32));
    const torch::Tensor segmentation = segmentation_loss(outputs, target);
    StepLoss loss{config.segmentation_weight * segmentation, {segmentation.item<double>()}};
    for (size_t k = 0; k < terms.size(); ++k) {
      std::vector<const models::Taps*> chosen;
      for (size_t i : term_teachers[k]) chosen.push_back(&teacher_taps[i]);
      const torch::Tensor value =
          distill::combine_teachers(*terms[k], student_taps, chosen, target, config.multi_teacher);
      loss.total = loss.total + config.terms[k].weight * value;
      loss.terms.push_back(value.item<double>());
    }
    return loss;
  };
  loop.out = out;
  loop.metadata = {{"model", models::model_config_to_json(student_config)},
                   {"plan", data::plan_to_json(plan)},
                   {"fold", run.fold},
                   {"dataset", dataset.meta.name},
                   {"teachers", teacher_records},
                   {"multi_teacher", distill::multi_teacher_name(config.multi_teacher)},
                   {"student_alone", student_alone}};
  loop.options = run;
  return run_training_loop(loop);
}

}  // namespace medkd::train
