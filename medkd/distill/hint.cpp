#include "medkd/distill/hint.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {

torch::Tensor hint(const torch::Tensor& s_projected, const torch::Tensor& teacher) {
  check_feature_map(s_projected, "hint", "projected student");
  check_feature_map(teacher, "hint", "teacher");
  MEDKD_CHECK(s_projected.dim() == teacher.dim() && s_projected.size(0) == teacher.size(0) &&
                  s_projected.size(1) == teacher.size(1),
              "hint: projected student ", s_projected.sizes(), " and teacher ", teacher.sizes(),
              " must have the same batch size, channel count and number of spatial axes (project ",
              "the student to the teacher's channels first)");
  const torch::Tensor s = resize_to(to_loss_precision(s_projected), teacher.sizes().slice(2));
  return (s - to_loss_precision(teacher)).pow(2).mean();
}

namespace {

// FitNets: a learned regressor (1×1 conv) on the student always, as in the paper, even where the
// widths already agree.
class HintTermImpl : public PairwiseTermImpl {
 public:
  HintTermImpl(const TermContext& context, const TapPairSettings& settings)
      : PairwiseTermImpl("hint", context, settings.pairs, Adapters::kAlways) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return hint(s, t);
  }
};

}  // namespace

TermEntry hint_term_entry() {
  return make_term_entry<TapPairSettings, HintTermImpl>(
      "hint",
      "mean squared error between a learned 1×1 projection of the student tap and the teacher's "
      "(FitNets, Romero et al. 2015)",
      tap_pair_options("[bottleneck]", "tap pairs"), 1.0, [](const TermOptions& o) {
        TapPairSettings s;
        s.pairs = o.tap_pairs({"bottleneck"});
        return s;
      });
}

}  // namespace medkd::distill
