#include "medkd/train/distiller.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
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

// One built term: the module, the teachers it reads (indices into the teachers) and its spec.
struct BuiltTerm {
  distill::KdTerm term;
  std::vector<size_t> teachers;
  const KdTermSpec* spec = nullptr;
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

std::vector<Teacher> load_teachers(const DistillConfig& config, torch::Device device) {
  std::vector<Teacher> teachers;
  for (const auto& spec : config.teachers) {
    Teacher teacher;
    teacher.name = spec.name;
    try {
      teacher.loaded = inference::load_trained_model(spec.checkpoint, device);
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
  return teachers;
}

// The validation Dice a teacher's checkpoint stored, NaN when it was trained without validation.
double teacher_validation_dice(const Teacher& teacher) {
  const double best = teacher.loaded.state.best_metric;
  return best > -1e299 ? best : NAN;
}

// Prints every teacher's validation Dice, and refuses one below the config's minimum: a teacher
// that found no lesion teaches the student to find none (the PET/CT study once summed a UNETR
// teacher at test Dice 0.001 into every KD term).
void check_teacher_quality(const std::vector<Teacher>& teachers, const DistillConfig& config,
                           const fs::path& config_path, bool quiet) {
  for (const Teacher& t : teachers) {
    const double dice = teacher_validation_dice(t);
    if (!quiet) {
      std::cerr << "teacher " << t.name << ": ";
      if (std::isnan(dice))
        std::cerr << "validation Dice unknown (trained without validation cases)";
      else
        std::cerr << "validation Dice " << std::setprecision(3) << dice;
      std::cerr << " (" << t.loaded.checkpoint.string() << ")\n";
    }
    MEDKD_CHECK(std::isnan(dice) || dice >= config.min_teacher_dice || config.allow_weak_teachers,
                config_path.string(), ": teacher ", t.name, " has validation Dice ", dice,
                ", below min_teacher_dice ", config.min_teacher_dice,
                ": it has little to teach; train it longer, leave it out, or set "
                "allow_weak_teachers: true");
  }
}

std::vector<BuiltTerm> build_terms(const DistillConfig& config, const fs::path& config_path,
                                   const models::SegmentationModelImpl& student,
                                   std::vector<Teacher>& teachers, const data::Plan& plan) {
  std::vector<BuiltTerm> built;
  const auto& registry = distill::default_term_registry();
  const bool needs_logits = config.multi_teacher == distill::MultiTeacher::kConfidence ||
                            config.multi_teacher == distill::MultiTeacher::kEnsemble;
  for (const auto& spec : config.terms) {
    distill::TermContext context;
    context.student = &student;
    context.multi_teacher = config.multi_teacher;
    context.spacing_mm = tensor_order_spacing(plan);
    BuiltTerm term;
    term.spec = &spec;
    for (size_t i = 0; i < teachers.size(); ++i)
      if (spec.teachers.empty() || std::find(spec.teachers.begin(), spec.teachers.end(),
                                             teachers[i].name) != spec.teachers.end())
        term.teachers.push_back(i);
    for (size_t i : term.teachers) {
      context.teachers.push_back(teachers[i].loaded.model.get());
      context.teacher_names.push_back(teachers[i].name);
    }
    try {
      term.term = registry.create(spec.type, *spec.settings, context);
    } catch (const Error& e) {
      throw Error(str(config_path.string(), ": loss '", spec.name, "': ", e.what()));
    }
    for (size_t i : term.teachers) {
      for (const auto& tap : term.term->teacher_taps()) teachers[i].wanted.insert(tap);
      if (needs_logits) teachers[i].wanted.insert("logits");
    }
    built.push_back(std::move(term));
  }
  return built;
}

// A teacher that learnt the student's validation cases would leak them into the choice of the
// best student and into its reported Dice.
void check_no_validation_leak(const std::vector<Teacher>& teachers, const io::Dataset& dataset,
                              const DistillConfig& config, int fold) {
  if (fold < 0) return;
  std::vector<std::string> all_ids;
  for (const auto& c : dataset.training) all_ids.push_back(c.id);
  const std::vector<Fold> folds = make_splits(all_ids, config.training.folds, kSplitSeed);
  const Fold& student_fold = select_fold(folds, fold);
  for (const Teacher& teacher : teachers) {
    const std::set<std::string> seen = teacher_training_cases(teacher.loaded, all_ids);
    for (const auto& id : student_fold.val)
      MEDKD_CHECK(!seen.count(id), "teacher ", teacher.name, " was trained on ", id,
                  ", a validation case of the student's fold ", fold,
                  ": distil on the fold the teachers were trained on (the same --fold and "
                  "folds), or with --fold -1");
  }
}

// The unlabelled cases of the config's folders, preprocessed with the plan into their own cache
// (their ids may repeat training ids), each with an all-background placeholder label so that the
// sampler and the augmentations treat them like any case; the step never reads that label.
CaseList load_unlabelled_cases(const DistillConfig& config, const io::Dataset& dataset,
                               const data::Plan& plan, const fs::path& out, const fs::path& cache,
                               int threads, bool quiet) {
  std::vector<io::CaseFiles> files;
  std::set<std::string> ids;
  for (const fs::path& folder : config.unlabelled) {
    // A relative folder is the dataset's own (imagesUl) when the dataset has it.
    const fs::path resolved = folder.is_relative() && fs::is_directory(dataset.root / folder)
                                  ? dataset.root / folder
                                  : folder;
    MEDKD_CHECK(fs::is_directory(resolved), "unlabelled: ", folder.string(),
                " is not a folder (relative folders are looked up in the dataset ",
                dataset.root.string(), ", then in the working directory)");
    const std::vector<io::CaseFiles> found = io::list_image_cases(resolved, dataset.meta);
    MEDKD_CHECK(!found.empty(), "unlabelled: ", resolved.string(), " holds no images named {case}_",
                "0000", dataset.meta.file_ending);
    for (const auto& c : found) {
      MEDKD_CHECK(ids.insert(c.id).second, "unlabelled: case ", c.id,
                  " appears in two unlabelled folders");
      files.push_back(c);
    }
  }
  data::PreprocessedCache preprocessed(
      cache.empty() ? out / "preprocessed_unlabelled" : cache / "unlabelled", plan,
      config.training.seed);
  preprocessed.preprocess_all(files, threads, core::ProgressOptions{quiet});
  CaseList cases;
  for (const auto& f : files) {
    auto placeholder = std::make_shared<data::PreprocessedCase>(*preprocessed.get_or_create(f));
    auto label_size = placeholder->image.sizes().vec();
    label_size[0] = 1;
    placeholder->label = torch::zeros(label_size, torch::kUInt8);
    placeholder->class_locations.assign(size_t(plan.num_classes()), {});
    cases.push_back(placeholder);
  }
  return cases;
}

// The norm of d value / d at (over every tensor of `at`); 0 when value does not depend on them.
double gradient_norm(const torch::Tensor& value, const std::vector<torch::Tensor>& at) {
  if (!value.requires_grad() || at.empty()) return 0;
  const auto gradients = torch::autograd::grad({value}, at, {}, /*retain_graph=*/true,
                                               /*create_graph=*/false, /*allow_unused=*/true);
  double squares = 0;
  for (const auto& g : gradients)
    if (g.defined()) squares += g.to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(squares);
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
  // Read and checked completely, every term's options included, before any teacher is loaded.
  DistillConfig config = DistillConfig::from_file(config_path);
  bool student_alone = options.student_alone;
  if (run.resume) {
    const bool started_alone =
        io::read_checkpoint_metadata(out / "checkpoint_last.pt").value("student_alone", false);
    MEDKD_CHECK(started_alone || !student_alone, "--student-alone: ", out.string(),
                " is a distillation with its terms; resume it without --student-alone");
    student_alone = started_alone;
  }
  if (student_alone) {
    config.terms.clear();
    config.unlabelled.clear();
  }
  const fs::path dataset_path = options.dataset.empty() ? config.dataset : options.dataset;
  MEDKD_CHECK(!dataset_path.empty(), config_path.string(),
              ": no dataset (give 'dataset:' in the config or --dataset)");

  // Teachers first: their plan decides everything else, and a bad checkpoint fails at once.
  std::vector<Teacher> teachers = load_teachers(config, run.device);
  const data::Plan& plan = teachers.front().loaded.plan;
  if (!student_alone) check_teacher_quality(teachers, config, config_path, run.quiet);

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
  const std::vector<BuiltTerm> terms = build_terms(config, config_path, *student, teachers, plan);

  models::TapSet student_wanted{"logits"};
  std::vector<std::string> heads;  // deep-supervision heads, finest first
  for (const auto& name : student->tap_names())
    if (name.rfind("ds.", 0) == 0) heads.push_back(name);
  student_wanted.insert(heads.begin(), heads.end());
  // On unlabelled patches only the terms' taps are needed (no deep-supervision heads).
  models::TapSet term_student_taps;
  for (const auto& t : terms)
    for (const auto& tap : t.term->student_taps()) term_student_taps.insert(tap);
  student_wanted.insert(term_student_taps.begin(), term_student_taps.end());

  check_no_validation_leak(teachers, dataset, config, run.fold);

  // Everything checked: now the run folder is created and the cases preprocessed.
  fs::create_directories(out);
  if (!run.resume) core::write_text_file(out / "config.yaml", config.source);
  nlohmann::json teacher_records = nlohmann::json::array();
  for (const Teacher& t : teachers) {
    const double dice = teacher_validation_dice(t);
    teacher_records.push_back(
        {{"name", t.name},
         {"checkpoint", fs::absolute(t.loaded.checkpoint).string()},
         {"model", io::read_checkpoint_metadata(t.loaded.checkpoint)["model"]},
         {"validation_dice", std::isnan(dice) ? nlohmann::json() : nlohmann::json(dice)}});
  }
  core::write_text_file(out / "teachers.json", teacher_records.dump(2) + "\n");
  data::save_plan(plan, out / "plans.json");
  FoldCases cases = prepare_fold_cases(dataset, plan, config.training, out, run.cache, run.fold,
                                       run.threads, run.quiet);

  std::vector<distill::KdTerm> modules;
  for (const auto& t : terms) modules.push_back(t.term);
  TrainingLoop loop;
  loop.config = config.training;
  loop.plan = plan;
  loop.train_cases = std::move(cases.train);
  loop.val_cases = std::move(cases.val);
  if (!config.unlabelled.empty()) {
    loop.unlabelled_cases =
        load_unlabelled_cases(config, dataset, plan, out, run.cache, run.threads, run.quiet);
    const double share = config.unlabelled_share;
    loop.unlabelled_batch_size = std::max<int64_t>(
        1, int64_t(std::llround(double(plan.batch_size) * share / (1.0 - share))));
  }
  loop.model = student;
  loop.trained = std::make_shared<DistillationModuleImpl>(student, modules);
  loop.state_file = state_file;
  loop.term_names.push_back(config.segmentation_name);
  for (const auto& spec : config.terms) {
    loop.term_names.push_back(spec.name);
    loop.diagnostic_names.push_back(spec.name + "_weight");
    loop.diagnostic_names.push_back(spec.name + "_grad_ratio");
  }
  const torch::Device device = run.device;

  // Every teacher that some term reads, frozen, on `image`.
  const auto run_teachers = [&](const torch::Tensor& image) {
    std::vector<models::Taps> taps(teachers.size());
    {
      torch::InferenceMode frozen;
      for (size_t i = 0; i < teachers.size(); ++i)
        if (!teachers[i].wanted.empty())
          teachers[i].loaded.model->forward_with_taps(image, taps[i], teachers[i].wanted);
    }
    // Inference tensors cannot be saved for the student's backward pass: the terms get copies.
    for (auto& t : taps)
      for (auto& item : t) item.second = item.second.clone();
    return taps;
  };
  // Term k's value on one batch (target undefined on unlabelled patches).
  const auto term_value = [&](size_t k, const models::Taps& student_taps,
                              const std::vector<models::Taps>& teacher_taps,
                              const torch::Tensor& target) {
    std::vector<const models::Taps*> chosen;
    for (size_t i : terms[k].teachers) chosen.push_back(&teacher_taps[i]);
    return distill::combine_teachers(*terms[k].term, student_taps, chosen, target,
                                     config.multi_teacher);
  };

  loop.step = [&](const data::Batch& batch, const StepContext& context) {
    const torch::Tensor image = batch.image.to(device);
    const torch::Tensor target = batch.label.to(device);
    const std::vector<models::Taps> teacher_taps = run_teachers(image);

    models::Taps student_taps;
    std::vector<torch::Tensor> outputs{
        student->forward_with_taps(image, student_taps, student_wanted).to(torch::kFloat32)};
    for (const auto& head : heads) outputs.push_back(student_taps.at(head).to(torch::kFloat32));
    const torch::Tensor segmentation = segmentation_loss(outputs, target);
    const torch::Tensor weighted_segmentation = config.segmentation_weight * segmentation;
    StepLoss loss{weighted_segmentation, {segmentation.item<double>()}};

    std::vector<double> weights(terms.size());
    std::vector<torch::Tensor> labelled(terms.size()), values(terms.size());
    for (size_t k = 0; k < terms.size(); ++k) {
      weights[k] =
          terms[k].spec->weight * terms[k].spec->schedule.factor(context.step, context.total_steps);
      labelled[k] = values[k] = term_value(k, student_taps, teacher_taps, target);
    }

    // Unlabelled patches: the KD terms alone, on the same augmented view for teachers and
    // student, averaged with the labelled patches' value by patch count.
    const bool any_weight =
        std::any_of(weights.begin(), weights.end(), [](double w) { return w > 0; });
    if (context.unlabelled != nullptr && any_weight) {
      const torch::Tensor u_image = context.unlabelled->image.to(device);
      const std::vector<models::Taps> u_teacher = run_teachers(u_image);
      models::Taps u_student;
      student->forward_with_taps(u_image, u_student, term_student_taps);
      const double n = double(image.size(0)), n_u = double(u_image.size(0));
      for (size_t k = 0; k < terms.size(); ++k) {
        if (terms[k].term->needs_labels()) continue;
        const torch::Tensor u_value = term_value(k, u_student, u_teacher, torch::Tensor());
        values[k] = (n * values[k] + n_u * u_value) / (n + n_u);
      }
    }
    for (size_t k = 0; k < terms.size(); ++k) {
      loss.total = loss.total + weights[k] * values[k];
      loss.terms.push_back(values[k].item<double>());
    }

    // Diagnostics: each term's effective weight every step, and every diagnostics_every steps
    // the ratio of its gradient to the segmentation loss's at the student taps it reads.
    if (!terms.empty()) {
      loss.diagnostics.assign(2 * terms.size(), NAN);
      const bool measure =
          config.diagnostics_every > 0 && context.step % config.diagnostics_every == 0;
      std::map<std::string, double> segmentation_norms;  // by tap set
      for (size_t k = 0; k < terms.size(); ++k) {
        loss.diagnostics[2 * k] = weights[k];
        if (!measure) continue;
        std::vector<torch::Tensor> at;
        std::string key;
        for (const auto& name : terms[k].term->student_taps()) {
          const torch::Tensor& tap = student_taps.at(name);
          if (tap.requires_grad()) at.push_back(tap), key += name + ",";
        }
        if (!segmentation_norms.count(key))
          segmentation_norms[key] = gradient_norm(weighted_segmentation, at);
        const double reference = segmentation_norms[key];
        const double own = weights[k] > 0 ? gradient_norm(weights[k] * labelled[k], at) : 0.0;
        loss.diagnostics[2 * k + 1] = reference > 0 ? own / reference : NAN;
      }
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
