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

torch::Tensor kl_foreground_mask(KlForeground source, const torch::Tensor& target,
                                 const torch::Tensor& teacher_logits) {
  MEDKD_CHECK(source != KlForeground::kNone, "pixel_kl: no foreground source given");
  const auto spatial = teacher_logits.sizes().slice(2);
  const auto teacher_foreground = [&] { return teacher_logits.argmax(1, /*keepdim=*/true) != 0; };
  // Unlabelled patches have no label: their foreground is the teacher's.
  if (source == KlForeground::kTeacher || !target.defined()) return teacher_foreground();
  MEDKD_CHECK(target.dim() == teacher_logits.dim() && target.size(1) == 1 &&
                  target.size(0) == teacher_logits.size(0),
              "pixel_kl: foreground from the label needs labels [N, 1, *S] for logits ",
              teacher_logits.sizes(), ", got ", target.sizes());
  const torch::Tensor from_label = resize_label(target, spatial) != 0;
  return source == KlForeground::kLabel ? from_label : from_label | teacher_foreground();
}

torch::Tensor balanced_pixel_kl(const torch::Tensor& student_logits,
                                const torch::Tensor& teacher_logits, double temperature,
                                const torch::Tensor& foreground, double foreground_weight,
                                const torch::Tensor& voxel_weights) {
  MEDKD_CHECK(foreground_weight >= 0 && foreground_weight <= 1,
              "pixel_kl: foreground_weight must be in [0, 1], got ", foreground_weight);
  auto expected = student_logits.sizes().vec();
  expected[1] = 1;
  MEDKD_CHECK(foreground.defined() && foreground.sizes() == c10::IntArrayRef(expected),
              "pixel_kl: foreground mask ",
              foreground.defined() ? foreground.sizes() : c10::IntArrayRef{},
              " must be [N, 1, *S] for logits ", student_logits.sizes());
  const torch::Tensor fg = foreground.to(torch::kFloat32), bg = 1 - fg;
  // The mean over one set; with voxel weights, Σ w·kl / |set|, the plain mean's normaliser, as
  // weighted_pixel_kl keeps it, so the teachers' confidence weights still add up per voxel.
  const auto set_mean = [&](const torch::Tensor& set) {
    if (!voxel_weights.defined()) return pixel_kl(student_logits, teacher_logits, temperature, set);
    const torch::Tensor w = voxel_weights.to(torch::kFloat32) * set;
    return pixel_kl(student_logits, teacher_logits, temperature, w) * (w.sum() / set.sum());
  };
  const bool has_fg = fg.sum().item<double>() > 0, has_bg = bg.sum().item<double>() > 0;
  // A batch without foreground (or without background) is the other set's mean alone, so the
  // term keeps its scale instead of shrinking by the missing set's share.
  if (!has_fg) return set_mean(bg);
  if (!has_bg) return set_mean(fg);
  return foreground_weight * set_mean(fg) + (1 - foreground_weight) * set_mean(bg);
}

namespace {

struct PixelKlSettings : TermSettings {
  TapPairs pairs;
  double temperature = 1.0;
  KlForeground foreground = KlForeground::kNone;
  double foreground_weight = 0.5;
};

KlForeground parse_foreground(const TermOptions& o) {
  const std::string name = o.choice("foreground", "none", {"none", "label", "teacher", "union"});
  if (name == "label") return KlForeground::kLabel;
  if (name == "teacher") return KlForeground::kTeacher;
  if (name == "union") return KlForeground::kUnion;
  return KlForeground::kNone;
}

// `pixel_kl` on logit taps (logits by default; ds.* heads can be added). Teacher logits at
// another resolution are resized to the student's.
class PixelKlTermImpl : public PairwiseTermImpl {
 public:
  PixelKlTermImpl(const TermContext& context, const PixelKlSettings& settings)
      : PairwiseTermImpl("pixel_kl", context, settings.pairs, Adapters::kNone),
        settings_(settings) {
    require_equal_channels("compares class scores");
  }
  bool takes_voxel_weights() const override { return true; }

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch& batch) override {
    const torch::Tensor teacher = resize_to(t, s.sizes().slice(2));
    const double temperature = settings_.temperature;
    if (settings_.foreground != KlForeground::kNone) {
      const torch::Tensor mask = kl_foreground_mask(settings_.foreground, batch.target, teacher);
      torch::Tensor weights;
      if (batch.voxel_weights.defined())
        weights = resize_to(batch.voxel_weights.to(torch::kFloat32), s.sizes().slice(2));
      return balanced_pixel_kl(s, teacher, temperature, mask, settings_.foreground_weight, weights);
    }
    if (!batch.voxel_weights.defined()) return pixel_kl(s, teacher, temperature);
    return weighted_pixel_kl(s, teacher, temperature, batch.voxel_weights);
  }

 private:
  PixelKlSettings settings_;
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
  return make_term_entry<PixelKlSettings, PixelKlTermImpl>(
      "pixel_kl",
      "KL(teacher ‖ student) of softened class probabilities per voxel, × T² (Hinton 2015; "
      "Teach-Former pixel-wise distillation)",
      with_tap_pair_options(
          "[logits]", "logit taps compared pair by pair (logits, ds.*)",
          {{"temperature", "1.0", "T; 4 in the HLFD and EMKD recipes"},
           {"foreground", "none",
            "none (mean over all voxels) | label | teacher | union: average foreground and "
            "background voxels separately"},
           {"foreground_weight", "0.5",
            "with foreground: the foreground mean's share, in [0, 1]"}}),
      1.0, [](const TermOptions& o) {
        PixelKlSettings s;
        s.pairs = o.tap_pairs({"logits"});
        s.temperature = o.number("temperature", 1.0);
        MEDKD_CHECK(s.temperature > 0, "pixel_kl: temperature must be > 0, got ", s.temperature);
        s.foreground = parse_foreground(o);
        s.foreground_weight = o.number("foreground_weight", 0.5);
        MEDKD_CHECK(s.foreground_weight >= 0 && s.foreground_weight <= 1,
                    "pixel_kl: foreground_weight must be in [0, 1], got ", s.foreground_weight);
        MEDKD_CHECK(s.foreground != KlForeground::kNone || !o.has("foreground_weight"),
                    "pixel_kl: foreground_weight needs foreground: label, teacher or union");
        return s;
      });
}

}  // namespace medkd::distill
