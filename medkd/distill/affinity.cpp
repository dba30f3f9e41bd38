#include "medkd/distill/affinity.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {
namespace {

constexpr double kCosineEps = 1e-8;

// Cosine similarities between the rows of each sample: [N, M, C] -> [N, M, M].
torch::Tensor cosine_matrix(const torch::Tensor& vectors) {
  const torch::Tensor unit =
      vectors / vectors.norm(2, {2}, /*keepdim=*/true).clamp_min(kCosineEps);  // [N, M, C]
  return torch::bmm(unit, unit.transpose(1, 2));
}

torch::Tensor max_pool_to_nodes(const torch::Tensor& x, double pool_scale) {
  std::vector<int64_t> grid;
  for (int64_t axis = 2; axis < x.dim(); ++axis)
    grid.push_back(std::max<int64_t>(
        1, static_cast<int64_t>(std::floor(static_cast<double>(x.size(axis)) * pool_scale))));
  if (x.dim() == 4) return std::get<0>(torch::adaptive_max_pool2d(x, grid));  // [N, C, *grid]
  return std::get<0>(torch::adaptive_max_pool3d(x, grid));
}

struct Prototypes {
  torch::Tensor vectors;  // [N, K, C]: mean feature per class (0 for absent classes)
  torch::Tensor present;  // [N, K] bool
};

Prototypes class_prototypes(const torch::Tensor& features, const torch::Tensor& label,
                            int64_t num_classes) {
  const int64_t batch = features.size(0), channels = features.size(1);
  const torch::Tensor indices = resize_label(label, features.sizes().slice(2)).reshape({batch, -1});
  const torch::Tensor masks =
      torch::one_hot(indices, num_classes).to(features.scalar_type()).transpose(1, 2);  // [N, K, V]
  const torch::Tensor flat = features.reshape({batch, channels, -1});                   // [N, C, V]
  const torch::Tensor sums = torch::bmm(masks, flat.transpose(1, 2));                   // [N, K, C]
  const torch::Tensor counts = masks.sum(2);                                            // [N, K]
  return {sums / counts.clamp_min(1).unsqueeze(2), counts > 0};
}

}  // namespace

torch::Tensor pairwise_affinity(const torch::Tensor& student, const torch::Tensor& teacher,
                                double pool_scale) {
  check_feature_map(student, "pairwise_affinity", "student");
  check_feature_map(teacher, "pairwise_affinity", "teacher");
  check_same_batch_and_rank(student, teacher, "pairwise_affinity");
  MEDKD_CHECK(pool_scale > 0 && pool_scale <= 1,
              "pairwise_affinity: pool_scale must be in (0, 1], got ", pool_scale);
  const torch::Tensor t_nodes = max_pool_to_nodes(to_loss_precision(teacher), pool_scale);
  const torch::Tensor s_nodes = resize_to(max_pool_to_nodes(to_loss_precision(student), pool_scale),
                                          t_nodes.sizes().slice(2));
  const int64_t batch = teacher.size(0);
  // Node vectors: [N, C, *grid] -> [N, nodes, C].
  const torch::Tensor a_t =
      cosine_matrix(t_nodes.reshape({batch, t_nodes.size(1), -1}).transpose(1, 2));
  const torch::Tensor a_s =
      cosine_matrix(s_nodes.reshape({batch, s_nodes.size(1), -1}).transpose(1, 2));
  const auto nodes = static_cast<double>(a_t.size(1));
  return (a_t - a_s).pow(2).sum() / (nodes * nodes) / static_cast<double>(batch);
}

torch::Tensor region_affinity(const torch::Tensor& student, const torch::Tensor& teacher,
                              const torch::Tensor& label, int64_t num_classes) {
  check_feature_map(student, "region_affinity", "student");
  check_feature_map(teacher, "region_affinity", "teacher");
  check_same_batch_and_rank(student, teacher, "region_affinity");
  MEDKD_CHECK(num_classes >= 2, "region_affinity: needs at least 2 classes, got ", num_classes);
  MEDKD_CHECK(label.defined() && label.dim() == student.dim() && label.size(0) == student.size(0) &&
                  label.size(1) == 1,
              "region_affinity: label must be [N, 1, *spatial] for student ", student.sizes(),
              " and teacher ", teacher.sizes(), ", got ",
              label.defined() ? label.sizes() : c10::IntArrayRef{});
  MEDKD_CHECK(c10::isIntegralType(label.scalar_type(), /*includeBool=*/false),
              "region_affinity: label must hold integer class indices, got ", label.scalar_type());
  const torch::Tensor indices = label.to(torch::kLong);
  const auto range = torch::aminmax(indices);
  const int64_t lo = std::get<0>(range).item<int64_t>(), hi = std::get<1>(range).item<int64_t>();
  MEDKD_CHECK(lo >= 0 && hi < num_classes, "region_affinity: label values must be in [0, ",
              num_classes, "), got [", lo, ", ", hi, "]");

  const Prototypes s = class_prototypes(to_loss_precision(student), indices, num_classes);
  const Prototypes t = class_prototypes(to_loss_precision(teacher), indices, num_classes);
  const torch::Tensor present = s.present & t.present;  // [N, K]
  const torch::Tensor off_diagonal =
      ~torch::eye(num_classes, present.options()).unsqueeze(0);  // [1, K, K]
  const torch::Tensor pairs =
      present.unsqueeze(2) & present.unsqueeze(1) & off_diagonal;  // [N, K, K]
  const torch::Tensor squared =
      (cosine_matrix(t.vectors) - cosine_matrix(s.vectors)).pow(2);  // [N, K, K]
  const torch::Tensor pair_weights = pairs.to(squared.scalar_type());
  const torch::Tensor pair_counts = pair_weights.sum({1, 2});  // [N]
  const torch::Tensor per_sample =
      (squared * pair_weights).sum({1, 2}) / pair_counts.clamp_min(1);  // [N], 0 without pairs
  const torch::Tensor samples = (pair_counts > 0).to(squared.scalar_type()).sum();
  return per_sample.sum() / samples.clamp_min(1);
}

namespace {

struct PairwiseAffinitySettings : TermSettings {
  TapPairs pairs;
  double pool_scale = 0.5;
};

// Structured KD's pair-wise affinity on listed taps; affinity matrices compare across widths.
class PairwiseAffinityTermImpl : public PairwiseTermImpl {
 public:
  PairwiseAffinityTermImpl(const TermContext& context, const PairwiseAffinitySettings& settings)
      : PairwiseTermImpl("pairwise_affinity", context, settings.pairs, Adapters::kNone),
        pool_scale_(settings.pool_scale) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return pairwise_affinity(s, t, pool_scale_);
  }

 private:
  double pool_scale_;
};

// EMKD's region affinity: class prototypes from the batch's labels.
class RegionAffinityTermImpl : public PairwiseTermImpl {
 public:
  RegionAffinityTermImpl(const TermContext& context, const TapPairSettings& settings)
      : PairwiseTermImpl("region_affinity", context, settings.pairs, Adapters::kNone),
        num_classes_(context.student->num_classes()) {}
  bool needs_labels() const override { return true; }

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch& batch) override {
    return region_affinity(s, t, batch.target, num_classes_);
  }

 private:
  int64_t num_classes_;
};

}  // namespace

TermEntry pairwise_affinity_term_entry() {
  return make_term_entry<PairwiseAffinitySettings, PairwiseAffinityTermImpl>(
      "pairwise_affinity",
      "squared difference of node-to-node cosine similarities after max pooling (structured KD, "
      "Liu et al. 2019)",
      with_tap_pair_options(
          "[bottleneck]", "tap pairs",
          {{"pool_scale", "0.5", "node grid = tap size × pool_scale (max pooling)"}}),
      1.0, [](const TermOptions& o) {
        PairwiseAffinitySettings s;
        s.pairs = o.tap_pairs({"bottleneck"});
        s.pool_scale = o.number("pool_scale", 0.5);
        MEDKD_CHECK(s.pool_scale > 0 && s.pool_scale <= 1,
                    "pairwise_affinity: pool_scale must be in (0, 1], got ", s.pool_scale);
        return s;
      });
}

TermEntry region_affinity_term_entry() {
  return make_term_entry<TapPairSettings, RegionAffinityTermImpl>(
      "region_affinity",
      "squared difference of cosine similarities between class prototypes (EMKD, Qin et al. 2021)",
      tap_pair_options("[dec.last]", "tap pairs (EMKD: its low and high encoder features)"), 1.0,
      [](const TermOptions& o) {
        TapPairSettings s;
        s.pairs = o.tap_pairs({"dec.last"});
        return s;
      });
}

}  // namespace medkd::distill
