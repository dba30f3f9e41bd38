#include "medkd/distill/pixel_kl.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {

torch::Tensor pixel_kl(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                       double temperature, const torch::Tensor& voxel_weights) {
  check_feature_map(student_logits, "pixel_kl", "student logits");
  check_feature_map(teacher_logits, "pixel_kl", "teacher logits");
  MEDKD_CHECK(student_logits.sizes() == teacher_logits.sizes(), "pixel_kl: student logits ",
              student_logits.sizes(), " and teacher logits ", teacher_logits.sizes(),
              " must have the same shape");
  MEDKD_CHECK(student_logits.size(1) >= 2, "pixel_kl: needs at least 2 classes (softmax over ",
              "channels), got logits ", student_logits.sizes());
  MEDKD_CHECK(temperature > 0, "pixel_kl: temperature must be > 0, got ", temperature);
  const torch::Tensor log_p =
      torch::log_softmax(to_loss_precision(student_logits) / temperature, 1);
  const torch::Tensor log_q =
      torch::log_softmax(to_loss_precision(teacher_logits) / temperature, 1);
  const torch::Tensor kl = (log_q.exp() * (log_q - log_p)).sum(1, /*keepdim=*/true);  // [N, 1, *S]
  const double t_squared = temperature * temperature;
  if (!voxel_weights.defined()) return t_squared * kl.mean();

  auto expected = student_logits.sizes().vec();
  expected[1] = 1;
  MEDKD_CHECK(voxel_weights.sizes() == c10::IntArrayRef(expected), "pixel_kl: voxel weights ",
              voxel_weights.sizes(), " must be [N, 1, *S] for logits ", student_logits.sizes());
  const torch::Tensor weights = voxel_weights.to(kl.scalar_type());
  MEDKD_CHECK(weights.min().item<double>() >= 0, "pixel_kl: voxel weights must be >= 0, got ",
              "a minimum of ", weights.min().item<double>());
  const torch::Tensor total = weights.sum();
  // All weights 0 makes the numerator exactly 0; dividing it by 1 then gives 0 rather than 0/0.
  const torch::Tensor denominator = torch::where(total > 0, total, torch::ones_like(total));
  return t_squared * (weights * kl).sum() / denominator;
}

namespace {

// `pixel_kl` on logit taps (logits by default; ds.* heads can be added). Teacher logits at
// another resolution are resized to the student's.
class PixelKlTermImpl : public PairwiseTermImpl {
 public:
  PixelKlTermImpl(const TermContext& context, const TermOptions& o)
      : PairwiseTermImpl("pixel_kl", context, o.tap_pairs({"logits"}), Adapters::kNone),
        temperature_(o.number("temperature", 1.0)) {
    MEDKD_CHECK(temperature_ > 0, "pixel_kl: temperature must be > 0, got ", temperature_);
    require_equal_channels("compares class scores");
  }
  bool takes_voxel_weights() const override { return true; }

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch& batch) override {
    const torch::Tensor teacher = resize_to(t, s.sizes().slice(2));
    if (!batch.voxel_weights.defined()) return pixel_kl(s, teacher, temperature_);
    return weighted_pixel_kl(s, teacher, temperature_, batch.voxel_weights);
  }

 private:
  double temperature_;
};

}  // namespace

torch::Tensor weighted_pixel_kl(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, double temperature,
                                const torch::Tensor& voxel_weights) {
  const torch::Tensor w =
      resize_to(voxel_weights.to(torch::kFloat32), student_logits.sizes().slice(2));
  // pixel_kl normalises by Σ w; scaling back by Σ w / voxels keeps the plain mean's normaliser.
  return pixel_kl(student_logits, teacher_logits, temperature, w) * (w.sum() / double(w.numel()));
}

TermEntry pixel_kl_term_entry() {
  return {"pixel_kl",
          "KL(teacher ‖ student) of softened class probabilities per voxel, × T² (Hinton 2015; "
          "Teach-Former pixel-wise distillation)",
          {{"temperature", "1.0", "T; 4 in the HLFD and EMKD recipes"},
           {"taps", "[logits]", "logit taps compared pair by pair (logits, ds.*)"},
           {"student_taps", "-", "instead of taps: the student's side of each pair"},
           {"teacher_taps", "-", "instead of taps: the teacher's side of each pair"}},
          1.0,
          [](const YAML::Node& options, const TermContext& context) -> KdTerm {
            return std::make_shared<PixelKlTermImpl>(context, TermOptions("pixel_kl", options));
          }};
}

}  // namespace medkd::distill
