#include "medkd/distill/attention_transfer.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {

torch::Tensor attention_transfer(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double p, AtReduction reduction) {
  check_feature_map(student, "attention_transfer", "student");
  check_feature_map(teacher, "attention_transfer", "teacher");
  check_same_batch_and_rank(student, teacher, "attention_transfer");
  const torch::Tensor s = resize_to(to_loss_precision(student), teacher.sizes().slice(2));
  const torch::Tensor squared = (attention_map(s, p) - attention_map(teacher, p)).pow(2);
  // squared: [N, prod(S_t)]
  return reduction == AtReduction::kSum ? squared.sum(1).mean() : squared.mean();
}

namespace {

struct AttentionTransferSettings : TermSettings {
  TapPairs pairs;
  double p = 2;
  AtReduction reduction = AtReduction::kMean;
};

// Attention transfer on listed tap pairs; attention maps need no equal channel counts.
class AttentionTransferTermImpl : public PairwiseTermImpl {
 public:
  AttentionTransferTermImpl(const TermContext& context, const AttentionTransferSettings& settings)
      : PairwiseTermImpl("attention_transfer", context, settings.pairs, Adapters::kNone),
        p_(settings.p),
        reduction_(settings.reduction) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return attention_transfer(s, t, p_, reduction_);
  }

 private:
  double p_;
  AtReduction reduction_;
};

}  // namespace

TermEntry attention_transfer_term_entry() {
  return make_term_entry<AttentionTransferSettings, AttentionTransferTermImpl>(
      "attention_transfer",
      "squared difference of normalised spatial attention maps mean_c |F|^p (Zagoruyko & "
      "Komodakis 2017; EMKD's importance maps with p 4, reduction sum)",
      with_tap_pair_options(
          "[enc.1, enc.2, enc.-1]", "tap pairs (the deepest encoder stage is enc.-1)",
          {{"p", "2", "exponent of the attention map (EMKD: 4)"},
           {"reduction", "mean",
            "mean (over space: the AT paper, CIRKD) | sum (over space: EMKD, scale-free)"}}),
      1.0, [](const TermOptions& o) {
        AttentionTransferSettings s;
        s.pairs = o.tap_pairs({"enc.1", "enc.2", "enc.-1"});
        s.p = o.number("p", 2.0);
        MEDKD_CHECK(s.p > 0, "attention_transfer: p must be > 0, got ", s.p);
        s.reduction = o.choice("reduction", "mean", {"mean", "sum"}) == "sum" ? AtReduction::kSum
                                                                              : AtReduction::kMean;
        return s;
      });
}

}  // namespace medkd::distill
