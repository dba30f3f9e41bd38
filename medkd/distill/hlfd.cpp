#include "medkd/distill/hlfd.h"

#include <algorithm>
#include <functional>
#include <string>

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"
#include "medkd/distill/pixel_kl.h"
#include "medkd/nn/layers.h"

namespace medkd::distill {
namespace {

constexpr double kImportanceMapPower = 4;

// Checks a non-empty list of taps sharing N and the number of spatial axes; `what` names it.
void check_tap_list(const std::vector<torch::Tensor>& taps, const std::string& term,
                    const std::string& what) {
  MEDKD_CHECK(!taps.empty(), term, ": no ", what, " given");
  for (size_t i = 0; i < taps.size(); ++i) {
    check_feature_map(taps[i], term, str(what, "[", i, "]"));
    MEDKD_CHECK(taps[i].dim() == taps[0].dim() && taps[i].size(0) == taps[0].size(0), term, ": ",
                what, "[", i, "] ", taps[i].sizes(), " and ", what, "[0] ", taps[0].sizes(),
                " must have the same batch size and number of spatial axes");
  }
}

// Per spatial axis, `pick` (min or max) over the taps' sizes.
std::vector<int64_t> common_size(const std::vector<torch::Tensor>& taps,
                                 const std::function<int64_t(int64_t, int64_t)>& pick) {
  std::vector<int64_t> size = taps[0].sizes().slice(2).vec();
  for (const auto& tap : taps)
    for (size_t axis = 0; axis < size.size(); ++axis)
      size[axis] = pick(size[axis], tap.size(2 + static_cast<int64_t>(axis)));
  return size;
}

torch::Tensor resize_and_concatenate(const std::vector<torch::Tensor>& taps, at::IntArrayRef size) {
  std::vector<torch::Tensor> resized;
  resized.reserve(taps.size());
  for (const auto& tap : taps) resized.push_back(resize_to(to_loss_precision(tap), size));
  return torch::cat(resized, 1);  // [N, Σ C_i, *size]
}

}  // namespace

torch::Tensor imd(const torch::Tensor& student, const torch::Tensor& teacher) {
  check_feature_map(student, "hlfd imd", "student");
  check_feature_map(teacher, "hlfd imd", "teacher");
  check_same_batch_and_rank(student, teacher, "hlfd imd");
  const torch::Tensor s = resize_to(to_loss_precision(student), teacher.sizes().slice(2));
  const torch::Tensor difference =
      attention_map(s, kImportanceMapPower) - attention_map(teacher, kImportanceMapPower);
  return difference.pow(2).sum(1).mean();  // Σ over space, mean over the batch
}

torch::Tensor unify_middle(const std::vector<torch::Tensor>& teacher_middle,
                           at::IntArrayRef target) {
  check_tap_list(teacher_middle, "hlfd unify_middle", "teacher middle tap");
  MEDKD_CHECK(static_cast<int64_t>(target.size()) == teacher_middle[0].dim() - 2,
              "hlfd unify_middle: target size ", target, " does not match the spatial axes of ",
              teacher_middle[0].sizes());
  const auto smallest =
      common_size(teacher_middle, [](int64_t a, int64_t b) { return std::min(a, b); });
  return resize_to(resize_and_concatenate(teacher_middle, smallest), target);
}

torch::Tensor ufd(const torch::Tensor& student_early,
                  const std::vector<torch::Tensor>& teacher_middle) {
  check_feature_map(student_early, "hlfd ufd", "student early tap");
  check_tap_list(teacher_middle, "hlfd ufd", "teacher middle tap");
  check_same_batch_and_rank(student_early, teacher_middle[0], "hlfd ufd");
  return imd(student_early, unify_middle(teacher_middle, student_early.sizes().slice(2)));
}

torch::Tensor ifd(const std::vector<torch::Tensor>& student_intermediates,
                  const torch::Tensor& teacher_bottleneck) {
  check_tap_list(student_intermediates, "hlfd ifd", "student intermediate tap");
  torch::Tensor total;
  for (const auto& tap : student_intermediates) {
    const torch::Tensor term = imd(tap, teacher_bottleneck);
    total = total.defined() ? total + term : term;
  }
  return total;
}

torch::Tensor unify_decoder(const std::vector<torch::Tensor>& teacher_decoder) {
  check_tap_list(teacher_decoder, "hlfd unify_decoder", "teacher decoder tap");
  const auto largest =
      common_size(teacher_decoder, [](int64_t a, int64_t b) { return std::max(a, b); });
  return resize_and_concatenate(teacher_decoder, largest);
}

torch::Tensor pmd(const torch::Tensor& y_projected, const torch::Tensor& teacher,
                  double temperature) {
  check_feature_map(y_projected, "hlfd pmd", "projected student");
  check_feature_map(teacher, "hlfd pmd", "teacher");
  MEDKD_CHECK(y_projected.dim() == teacher.dim() && y_projected.size(0) == teacher.size(0) &&
                  y_projected.size(1) == teacher.size(1),
              "hlfd pmd: projected student ", y_projected.sizes(), " and teacher ", teacher.sizes(),
              " must have the same batch size, channel count and number of spatial axes");
  return pixel_kl(resize_to(to_loss_precision(y_projected), teacher.sizes().slice(2)), teacher,
                  temperature);
}

namespace {

// The dec.k taps a network declares (not aliases), coarsest first.
std::vector<std::string> decoder_taps(const models::SegmentationModelImpl& model) {
  std::vector<std::string> out;
  for (const auto& name : model.tap_names())
    if (name.rfind("dec.", 0) == 0 && name != "dec.last") out.push_back(name);
  return out;
}

// The teacher's middle decoder taps for UPD when the config names none. A UNet++ teacher offers
// its top-row nodes x0_1 … x0_{L-2} (the full-resolution nested nodes before the last), which is
// what the authors tap (RethinkingKD_ISBI24, networks/NestedUNet.py returns x0_1, x0_2, x0_3 and
// train_kd.py feeds them to the pixel level); other teachers every decoder stage but the last.
std::vector<std::string> default_teacher_decoder(const models::SegmentationModelImpl& teacher) {
  const std::vector<std::string> names = teacher.tap_names();
  std::vector<std::string> top_row;
  for (int column = 1;; ++column) {
    const std::string name = str("x0_", column);
    if (std::find(names.begin(), names.end(), name) == names.end()) break;
    top_row.push_back(name);
  }
  if (!top_row.empty()) return top_row;
  std::vector<std::string> decoder = decoder_taps(teacher);
  if (decoder.size() > 1) decoder.pop_back();
  return decoder;
}

struct HlfdSettings : TermSettings {
  double beta = 0.9, lambda = 0.1, temperature = 4.0;
  bool fresh_random = false;
  // The authors' kl_div(view(-1, 2), 'batchmean') divides a sum over voxels and channels by
  // (N·C·|S|)/2: the per-voxel KL times 2/C. "voxel" keeps the per-voxel mean.
  bool authors_normalization = true;
  std::string student_early = "enc.0", teacher_bottleneck = "bottleneck";
  std::vector<std::string> teacher_middle{"enc.1", "enc.2", "enc.3"};
  std::vector<std::string> student_intermediate{"enc.1", "enc.2", "enc.3"};
  std::vector<std::string> teacher_decoder;  // empty: default_teacher_decoder()
  std::vector<std::string> student_decoder;  // empty: every dec.k of the student
};

// HLFD: L = λ·(0.5·UPD + 0.5·IPD) + β·(0.5·UFD + 0.5·IFD) (hlfd.h). The projections of the pixel
// level are learned adapters (one per teacher for UPD, one per student decoder tap for IPD), or,
// as the authors' code does, fresh untrained 1×1 convs drawn every step.
class HlfdTermImpl : public KdTermImpl {
 public:
  HlfdTermImpl(const TermContext& context, const HlfdSettings& settings)
      : beta_(settings.beta),
        lambda_(settings.lambda),
        temperature_(settings.temperature),
        fresh_random_(settings.fresh_random),
        authors_normalization_(settings.authors_normalization),
        spatial_dims_(context.student->spatial_dims()),
        num_classes_(context.student->num_classes()) {
    student_early_ = settings.student_early;
    teacher_middle_ = settings.teacher_middle;
    student_intermediate_ = settings.student_intermediate;
    teacher_bottleneck_ = settings.teacher_bottleneck;
    student_decoder_ = settings.student_decoder.empty() ? decoder_taps(*context.student)
                                                        : settings.student_decoder;
    MEDKD_CHECK(!student_decoder_.empty(), "hlfd: the student ", context.student->name(),
                " has no decoder taps; set student_decoder");

    const auto check_student = [&](const std::string& tap) {
      try {
        return context.student->resolve_tap(tap);
      } catch (const Error& e) {
        throw Error(str("hlfd: student: ", e.what()));
      }
    };
    check_student(student_early_);
    for (const auto& tap : student_intermediate_) check_student(tap);
    const int64_t first_decoder_channels = check_student(student_decoder_.front()).channels;

    upd_adapters_ = register_module("upd_adapters", torch::nn::ModuleList());
    ipd_adapters_ = register_module("ipd_adapters", torch::nn::ModuleList());
    for (size_t i = 0; i < context.teachers.size(); ++i) {
      const models::SegmentationModelImpl& teacher = *context.teachers[i];
      const std::string who = i < context.teacher_names.size() ? context.teacher_names[i] : "";
      const std::vector<std::string> decoder = settings.teacher_decoder.empty()
                                                   ? default_teacher_decoder(teacher)
                                                   : settings.teacher_decoder;
      int64_t unified = 0;
      try {
        for (const auto& tap : teacher_middle_) teacher.resolve_tap(tap);
        teacher.resolve_tap(teacher_bottleneck_);
        for (const auto& tap : decoder) unified += teacher.resolve_tap(tap).channels;
      } catch (const Error& e) {
        throw Error(str("hlfd: teacher ", who, ": ", e.what()));
      }
      MEDKD_CHECK(!decoder.empty(), "hlfd: teacher ", who,
                  " has no decoder taps; set teacher_decoder");
      teacher_decoder_.push_back(decoder);
      unified_channels_.push_back(unified);
      student_decoder_channels_ = first_decoder_channels;
      if (!fresh_random_)
        upd_adapters_->push_back(make_adapter(spatial_dims_, first_decoder_channels, unified));
    }
    if (!fresh_random_)
      for (const auto& tap : student_decoder_)
        ipd_adapters_->push_back(
            make_adapter(spatial_dims_, check_student(tap).channels, num_classes_));
    for (const auto& tap : student_decoder_)
      decoder_channels_.push_back(check_student(tap).channels);
  }

  models::TapSet student_taps() const override {
    models::TapSet out{student_early_};
    out.insert(student_intermediate_.begin(), student_intermediate_.end());
    out.insert(student_decoder_.begin(), student_decoder_.end());
    return out;
  }

  models::TapSet teacher_taps() const override {
    models::TapSet out{teacher_bottleneck_, "logits"};
    out.insert(teacher_middle_.begin(), teacher_middle_.end());
    for (const auto& decoder : teacher_decoder_) out.insert(decoder.begin(), decoder.end());
    return out;
  }

  torch::Tensor compute(const KdBatch& batch) override {
    const size_t i = size_t(batch.teacher_index);
    const auto taps_of = [](const models::Taps& taps, const std::vector<std::string>& names) {
      std::vector<torch::Tensor> out;
      for (const auto& name : names) out.push_back(taps.at(name));
      return out;
    };
    const torch::Tensor feature =
        0.5 * ufd(batch.student.at(student_early_), taps_of(batch.teacher, teacher_middle_)) +
        0.5 * ifd(taps_of(batch.student, student_intermediate_),
                  batch.teacher.at(teacher_bottleneck_));

    const torch::Tensor unified = unify_decoder(taps_of(batch.teacher, teacher_decoder_[i]));
    const torch::Tensor& first = batch.student.at(student_decoder_.front());
    torch::Tensor upd;
    if (fresh_random_) {
      // The authors' code: a new, untrained projection of the teacher side every step.
      nn::Conv random = fresh_projection(unified_channels_[i], student_decoder_channels_, unified);
      upd =
          normalized(pmd(first, random->forward(unified), temperature_), student_decoder_channels_);
    } else {
      upd = normalized(
          pmd(upd_adapters_[i]->as<nn::ConvImpl>()->forward(first), unified, temperature_),
          unified_channels_[i]);
    }

    const torch::Tensor& teacher_logits = batch.teacher.at("logits");
    torch::Tensor ipd;
    for (size_t j = 0; j < student_decoder_.size(); ++j) {
      const torch::Tensor& d = batch.student.at(student_decoder_[j]);
      const torch::Tensor projected =
          fresh_random_ ? fresh_projection(decoder_channels_[j], num_classes_, d)->forward(d)
                        : ipd_adapters_[j]->as<nn::ConvImpl>()->forward(d);
      const torch::Tensor value =
          normalized(pmd(projected, teacher_logits, temperature_), num_classes_);
      ipd = ipd.defined() ? ipd + value : value;
    }
    const torch::Tensor pixel = 0.5 * upd + 0.5 * ipd;
    return lambda_ * pixel + beta_ * feature;
  }

 private:
  // A pixel-level KL over `channels` channels, as the authors normalise it (× 2/C) or per voxel.
  torch::Tensor normalized(const torch::Tensor& kl, int64_t channels) const {
    return authors_normalization_ ? kl * (2.0 / double(channels)) : kl;
  }

  // An untrained 1×1 conv (PyTorch's initialisation from the run's generator), on `like`'s
  // device, whose weights get no gradient.
  nn::Conv fresh_projection(int64_t in, int64_t out, const torch::Tensor& like) const {
    nn::Conv conv = make_adapter(spatial_dims_, in, out);
    conv->to(like.device());
    for (auto& p : conv->parameters()) p.set_requires_grad(false);
    return conv;
  }

  double beta_, lambda_, temperature_;
  bool fresh_random_ = false, authors_normalization_ = true;
  int spatial_dims_;
  int64_t num_classes_;
  std::string student_early_, teacher_bottleneck_;
  std::vector<std::string> teacher_middle_, student_intermediate_, student_decoder_;
  std::vector<std::vector<std::string>> teacher_decoder_;  // per teacher
  std::vector<int64_t> unified_channels_;                  // per teacher
  int64_t student_decoder_channels_ = 0;                   // of student_decoder[0]
  std::vector<int64_t> decoder_channels_;                  // of each student_decoder tap
  torch::nn::ModuleList upd_adapters_, ipd_adapters_;
};

}  // namespace

TermEntry hlfd_term_entry() {
  return make_term_entry<HlfdSettings, HlfdTermImpl>(
      "hlfd",
      "hierarchical layer-selective feedback: λ·(UPD+IPD)/2 + β·(UFD+IFD)/2 (Gorade et al., ISBI "
      "2024)",
      {{"beta", "0.9", "weight of the feature level"},
       {"lambda", "0.1", "weight of the pixel level"},
       {"temperature", "4.0", "T of the pixel-level KL"},
       {"projection", "adapter", "adapter (learned 1×1 convs) | fresh_random (the authors' code)"},
       {"pixel_normalization", "authors",
        "authors (per-voxel KL × 2/C, as kl_div(view(-1, 2), batchmean)) | voxel (per-voxel mean)"},
       {"student_early", "enc.0", "UFD: the student's early tap"},
       {"teacher_middle", "[enc.1, enc.2, enc.3]", "UFD: the teacher's middle taps"},
       {"student_intermediate", "[enc.1, enc.2, enc.3]",
        "IFD: student taps vs the teacher's bottleneck"},
       {"teacher_bottleneck", "bottleneck", "IFD: the teacher's deepest tap"},
       {"teacher_decoder", "x0_1… or dec.* (below)",
        "UPD: the teacher's middle decoder taps (UNet++: its top-row nodes x0_1…x0_{L-2}; "
        "others: every dec.k but the last)"},
       {"student_decoder", "every dec.k", "UPD (first) and IPD: the student's decoder taps"}},
      1.0, [](const TermOptions& o) {
        HlfdSettings s;
        s.beta = o.number("beta", 0.9);
        s.lambda = o.number("lambda", 0.1);
        s.temperature = o.number("temperature", 4.0);
        MEDKD_CHECK(s.beta >= 0 && s.lambda >= 0, "hlfd: beta and lambda must be >= 0");
        MEDKD_CHECK(s.temperature > 0, "hlfd: temperature must be > 0, got ", s.temperature);
        s.fresh_random =
            o.choice("projection", "adapter", {"adapter", "fresh_random"}) == "fresh_random";
        s.authors_normalization =
            o.choice("pixel_normalization", "authors", {"authors", "voxel"}) == "authors";
        s.student_early = o.text("student_early", s.student_early);
        s.teacher_middle = o.names("teacher_middle", s.teacher_middle);
        s.student_intermediate = o.names("student_intermediate", s.student_intermediate);
        s.teacher_bottleneck = o.text("teacher_bottleneck", s.teacher_bottleneck);
        s.teacher_decoder = o.names("teacher_decoder", {});
        s.student_decoder = o.names("student_decoder", {});
        return s;
      });
}

}  // namespace medkd::distill
