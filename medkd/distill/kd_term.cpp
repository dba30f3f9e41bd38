#include "medkd/distill/kd_term.h"

#include "medkd/core/error.h"

namespace medkd::distill {
namespace {

bool is_logits_tap(const std::string& name) {
  return name == "logits" || name.rfind("ds.", 0) == 0;
}

std::string shape_text(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace

MultiTeacher parse_multi_teacher(const std::string& name) {
  if (name == "sum") return MultiTeacher::kSum;
  if (name == "mean") return MultiTeacher::kMean;
  if (name == "ensemble") return MultiTeacher::kEnsemble;
  if (name == "confidence") return MultiTeacher::kConfidence;
  throw Error(str("unknown multi_teacher '", name, "' (valid: sum, mean, ensemble, confidence)"));
}

std::string multi_teacher_name(MultiTeacher mode) {
  switch (mode) {
    case MultiTeacher::kSum:
      return "sum";
    case MultiTeacher::kMean:
      return "mean";
    case MultiTeacher::kEnsemble:
      return "ensemble";
    case MultiTeacher::kConfidence:
      return "confidence";
  }
  return "?";
}

models::Taps ensemble_taps(const std::vector<const models::Taps*>& teachers) {
  MEDKD_CHECK(!teachers.empty(), "an ensemble needs at least one teacher");
  models::Taps out;
  for (const auto& [name, first] : *teachers.front()) {
    std::vector<torch::Tensor> values;
    for (const models::Taps* taps : teachers) {
      const auto it = taps->find(name);
      MEDKD_CHECK(it != taps->end(), "ensemble: a teacher lacks tap '", name, "'");
      MEDKD_CHECK(it->second.sizes() == first.sizes(),
                  "ensemble: teachers disagree on the shape of '", name, "': ", shape_text(first),
                  " and ", shape_text(it->second),
                  " (multi_teacher: ensemble needs equal shapes; use sum or mean)");
      values.push_back(it->second.to(torch::kFloat32));
    }
    const torch::Tensor stacked = torch::stack(values);  // [teachers, N, C, *S]
    if (is_logits_tap(name)) {
      // log of the mean probabilities, shifted per voxel by the mean log-partition: a softmax
      // over classes gives the mean probabilities, and identical teachers give their own logits
      // back (which terms that normalise over space, such as channel_wise, need).
      const torch::Tensor log_partition = torch::logsumexp(stacked, 2, /*keepdim=*/true);
      out[name] =
          torch::log(torch::softmax(stacked, 2).mean(0).clamp_min(1e-30)) + log_partition.mean(0);
    } else {
      out[name] = stacked.mean(0);
    }
  }
  return out;
}

std::vector<torch::Tensor> confidence_weights(const std::vector<torch::Tensor>& teacher_logits) {
  MEDKD_CHECK(!teacher_logits.empty(), "confidence weights need at least one teacher");
  std::vector<torch::Tensor> negative_entropy;
  for (const auto& logits : teacher_logits) {
    MEDKD_CHECK(logits.sizes() == teacher_logits.front().sizes(),
                "confidence: teachers' logits differ in shape: ",
                shape_text(teacher_logits.front()), " and ", shape_text(logits));
    const torch::Tensor log_p = torch::log_softmax(logits.to(torch::kFloat32), 1);
    negative_entropy.push_back((log_p.exp() * log_p).sum(1, /*keepdim=*/true));  // [N, 1, *S]
  }
  const torch::Tensor weights = torch::softmax(torch::stack(negative_entropy), 0);
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < weights.size(0); ++i) out.push_back(weights[i]);
  return out;
}

torch::Tensor combine_teachers(KdTermImpl& term, const models::Taps& student,
                               const std::vector<const models::Taps*>& teachers,
                               const torch::Tensor& target, MultiTeacher mode) {
  MEDKD_CHECK(!teachers.empty(), "a distillation term needs at least one teacher");
  if (mode == MultiTeacher::kEnsemble) {
    const models::Taps ensemble = ensemble_taps(teachers);
    return term.compute(KdBatch{student, ensemble, 0, target});
  }
  // A term that is not a sum over voxels cannot be weighted per voxel: it averages its teachers.
  if (mode == MultiTeacher::kConfidence && !term.takes_voxel_weights()) mode = MultiTeacher::kMean;
  std::vector<torch::Tensor> weights;
  if (mode == MultiTeacher::kConfidence) {
    std::vector<torch::Tensor> logits;
    for (const models::Taps* taps : teachers) logits.push_back(taps->at("logits"));
    weights = confidence_weights(logits);
  }
  torch::Tensor total;
  for (size_t i = 0; i < teachers.size(); ++i) {
    KdBatch batch{student, *teachers[i], int64_t(i), target};
    if (!weights.empty()) batch.voxel_weights = weights[i];
    const torch::Tensor value = term.compute(batch);
    total = total.defined() ? total + value : value;
  }
  if (mode == MultiTeacher::kMean) total = total / double(teachers.size());
  return total;
}

TapPair resolve_tap_pair(const TermContext& context, const std::string& student_tap,
                         const std::string& teacher_tap) {
  MEDKD_CHECK(context.student != nullptr, "a distillation term needs the student");
  TapPair pair;
  try {
    pair.student = context.student->resolve_tap(student_tap);
  } catch (const Error& e) {
    throw Error(str("student: ", e.what()));
  }
  for (size_t i = 0; i < context.teachers.size(); ++i) {
    try {
      pair.teachers.push_back(context.teachers[i]->resolve_tap(teacher_tap));
    } catch (const Error& e) {
      const std::string who =
          i < context.teacher_names.size() ? context.teacher_names[i] : str("teacher ", i);
      throw Error(str("teacher ", who, ": ", e.what()));
    }
  }
  return pair;
}

PairwiseTermImpl::PairwiseTermImpl(std::string type, const TermContext& context,
                                   std::vector<std::pair<std::string, std::string>> pairs,
                                   Adapters adapters)
    : type_(std::move(type)), teacher_names_(context.teacher_names), pairs_(std::move(pairs)) {
  MEDKD_CHECK(!pairs_.empty(), type_, ": no taps to compare");
  adapters_ = register_module("adapters", torch::nn::ModuleList());
  for (const auto& [student_tap, teacher_tap] : pairs_) {
    specs_.push_back(resolve_tap_pair(context, student_tap, teacher_tap));
    const TapPair& spec = specs_.back();
    std::vector<int64_t> per_teacher;
    for (const auto& teacher : spec.teachers) {
      const bool differ = teacher.channels != spec.student.channels;
      if (adapters == Adapters::kAlways || (adapters == Adapters::kWhereChannelsDiffer && differ)) {
        per_teacher.push_back(int64_t(adapters_->size()));
        nn::Conv adapter =
            make_adapter(context.student->spatial_dims(), spec.student.channels, teacher.channels);
        // Between equal widths an adapter starts as the identity, so that a student that already
        // matches its teacher starts at the term's minimum.
        if (!differ) {
          torch::NoGradGuard no_grad;
          adapter->weight.zero_();
          for (int64_t c = 0; c < teacher.channels; ++c) adapter->weight[c][c].fill_(1.0);
          adapter->bias.zero_();
        }
        adapters_->push_back(adapter);
      } else {
        per_teacher.push_back(-1);
      }
    }
    adapter_index_.push_back(per_teacher);
  }
}

void PairwiseTermImpl::require_equal_channels(const std::string& why) const {
  for (size_t j = 0; j < specs_.size(); ++j)
    for (size_t i = 0; i < specs_[j].teachers.size(); ++i) {
      const std::string who = i < teacher_names_.size() ? teacher_names_[i] : str(i);
      MEDKD_CHECK(specs_[j].teachers[i].channels == specs_[j].student.channels, type_, " ", why,
                  ": the student's ", pairs_[j].first, " has ", specs_[j].student.channels,
                  " channels, teacher ", who, "'s ", pairs_[j].second, " has ",
                  specs_[j].teachers[i].channels);
    }
}

models::TapSet PairwiseTermImpl::student_taps() const {
  models::TapSet out;
  for (const auto& pair : pairs_) out.insert(pair.first);
  return out;
}

models::TapSet PairwiseTermImpl::teacher_taps() const {
  models::TapSet out;
  for (const auto& pair : pairs_) out.insert(pair.second);
  return out;
}

torch::Tensor PairwiseTermImpl::compute(const KdBatch& batch) {
  torch::Tensor total;
  for (size_t j = 0; j < pairs_.size(); ++j) {
    torch::Tensor s = batch.student.at(pairs_[j].first);
    const torch::Tensor& t = batch.teacher.at(pairs_[j].second);
    const auto& per_teacher = adapter_index_[j];
    const size_t i = size_t(batch.teacher_index);
    if (i < per_teacher.size() && per_teacher[i] >= 0)
      s = adapters_[size_t(per_teacher[i])]->as<nn::ConvImpl>()->forward(s);
    const torch::Tensor value = compare_pair(s, t, batch);
    total = total.defined() ? total + value : value;
  }
  return total;
}

nn::Conv make_adapter(int spatial_dims, int64_t in, int64_t out) {
  return nn::Conv(nn::ConvOptions(spatial_dims, in, out, {1}));
}

}  // namespace medkd::distill
