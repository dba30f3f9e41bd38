// One knowledge-distillation loss term, and how several teachers are combined for it.
//
// A term names the taps it reads from the student and from each teacher (DESIGN.md §4 names:
// enc.*, bottleneck, dec.*, dec.last, logits, ds.*). The distiller records them in one forward
// pass of each network and asks the term for its value against each teacher, or against the
// teachers' ensemble, as `multi_teacher` says:
//
//   sum         Σ_i term(student, teacher_i)                 (Teach-Former: every teacher counts)
//   mean        the same divided by the number of teachers
//   ensemble    term(student, ensemble): logits (and ds.*) become the log of the teachers' mean
//               probabilities (plus their mean log-partition per voxel, so that identical
//               teachers give their own logits back), feature taps their mean (equal shapes)
//   confidence  Σ_i term weighted per voxel by w_i = softmax_i(−H_i), H_i the entropy of teacher
//               i's prediction there: at each voxel the surest teacher counts most. For terms
//               that are sums over voxels of the logits (pixel_kl, boundary_kd); other terms
//               average their teachers, as with mean.
//
// Terms are modules because some own trainable adapters (1×1 convs that map a student tap's
// channels onto a teacher's). Adapters are trained with the student, saved in the distillation
// state and never part of the exported student.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "medkd/models/segmentation_model.h"
#include "medkd/nn/layers.h"

namespace medkd::distill {

enum class MultiTeacher { kSum, kMean, kEnsemble, kConfidence };

// "sum", "mean", "ensemble", "confidence"; anything else is a medkd::Error listing them.
MultiTeacher parse_multi_teacher(const std::string& name);
std::string multi_teacher_name(MultiTeacher mode);

// What a term is built from: the networks whose taps it will compare, so that it can check tap
// names and create adapters for channel counts that differ.
struct TermContext {
  const models::SegmentationModelImpl* student = nullptr;
  std::vector<const models::SegmentationModelImpl*> teachers;  // the term's teachers, in order
  std::vector<std::string> teacher_names;                      // for error messages
  MultiTeacher multi_teacher = MultiTeacher::kSum;
  // Voxel spacing of the training patches in mm, tensor order ([Z, Y, X] or [Y, X]).
  std::vector<double> spacing_mm;
};

// One comparison: the student's taps against one teacher's (or the ensemble's).
struct KdBatch {
  const models::Taps& student;
  const models::Taps& teacher;
  int64_t teacher_index = 0;    // which teacher, for per-teacher adapters (0 for the ensemble)
  const torch::Tensor& target;  // [N, 1, *S] int64 labels; undefined on unlabelled patches
  // [N, 1, *S] weights of this teacher per voxel (multi_teacher: confidence), else undefined.
  // A term scales each voxel's contribution by them and keeps its normalisation.
  torch::Tensor voxel_weights = {};
};

class KdTermImpl : public torch::nn::Module {
 public:
  ~KdTermImpl() override = default;
  // The tap names this term reads, as the config wrote them (aliases allowed).
  virtual models::TapSet student_taps() const = 0;
  virtual models::TapSet teacher_taps() const = 0;
  // True for terms that are sums over voxels of the logits, which multi_teacher: confidence can
  // weight per voxel.
  virtual bool takes_voxel_weights() const { return false; }
  // True for terms that read the batch's labels (KdBatch::target); they are left out on patches
  // of unlabelled images, where the target is undefined.
  virtual bool needs_labels() const { return false; }
  // The term's value (a scalar with the student's graph).
  virtual torch::Tensor compute(const KdBatch& batch) = 0;
};

using KdTerm = std::shared_ptr<KdTermImpl>;

// The term over several teachers' taps (`teachers[i]` holds what teacher_taps() named, plus
// "logits" for ensemble and confidence), combined as `mode` says.
torch::Tensor combine_teachers(KdTermImpl& term, const models::Taps& student,
                               const std::vector<const models::Taps*>& teachers,
                               const torch::Tensor& target, MultiTeacher mode);

// The teachers' ensemble: for logits and ds.* taps, log of the mean softmax over teachers plus
// the mean logsumexp per voxel (a softmax of it gives the mean probabilities; one teacher, or
// identical ones, give their logits back); for any other tap, the mean. Shapes must agree.
models::Taps ensemble_taps(const std::vector<const models::Taps*>& teachers);

// Per-voxel weights of each teacher from the entropy of its prediction: w_i = softmax over
// teachers of −H_i, H_i = −Σ_k p_ik log p_ik. Returns one [N, 1, *S] tensor per teacher; they sum
// to 1 at every voxel.
std::vector<torch::Tensor> confidence_weights(const std::vector<torch::Tensor>& teacher_logits);

// Checks that every network of `context` has the tap `name` (a medkd::Error listing the
// network's taps otherwise) and returns the student's and each teacher's spec of it.
struct TapPair {
  models::TapSpec student;
  std::vector<models::TapSpec> teachers;
};
TapPair resolve_tap_pair(const TermContext& context, const std::string& student_tap,
                         const std::string& teacher_tap);

// Where a pairwise term puts adapters: nowhere (the term compares across channel counts, or
// needs equal ones), on pairs whose channel counts differ, or on every pair (FitNets' regressor).
enum class Adapters { kNone, kWhereChannelsDiffer, kAlways };

// The common shape of most terms: student tap a_j against teacher tap b_j for each configured
// pair j, summed over the pairs, with an optional adapter per (pair, teacher) that maps the
// student tensor onto the teacher's channels before compare_pair() sees it.
class PairwiseTermImpl : public KdTermImpl {
 public:
  PairwiseTermImpl(std::string type, const TermContext& context,
                   std::vector<std::pair<std::string, std::string>> pairs, Adapters adapters);
  models::TapSet student_taps() const override;
  models::TapSet teacher_taps() const override;
  torch::Tensor compute(const KdBatch& batch) override;

 protected:
  // One pair: `s` the student tensor (adapted), `t` the teacher's.
  virtual torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                                     const KdBatch& batch) = 0;
  // The specs of pair j's taps, as resolved on the networks (channels, strides).
  const TapPair& pair_spec(size_t j) const { return specs_[j]; }
  const std::string& type() const { return type_; }
  // A medkd::Error, saying `why`, unless every pair has the same channels on both sides.
  void require_equal_channels(const std::string& why) const;

 private:
  std::string type_;
  std::vector<std::string> teacher_names_;
  std::vector<std::pair<std::string, std::string>> pairs_;
  std::vector<TapPair> specs_;
  // adapter_index_[j][i]: index into adapters_ for pair j and teacher i, or -1 for none.
  std::vector<std::vector<int64_t>> adapter_index_;
  torch::nn::ModuleList adapters_;
};

// A trainable 1×1 convolution (with bias, PyTorch's initialisation) from `in` to `out` channels.
// [N, in, *S] -> [N, out, *S]
nn::Conv make_adapter(int spatial_dims, int64_t in, int64_t out);

}  // namespace medkd::distill
