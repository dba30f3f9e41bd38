#include "medkd/distill/attention_transfer.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {

torch::Tensor attention_transfer(const torch::Tensor& student, const torch::Tensor& teacher,
                                 double p) {
  check_feature_map(student, "attention_transfer", "student");
  check_feature_map(teacher, "attention_transfer", "teacher");
  check_same_batch_and_rank(student, teacher, "attention_transfer");
  const torch::Tensor s = resize_to(to_loss_precision(student), teacher.sizes().slice(2));
  return (attention_map(s, p) - attention_map(teacher, p)).pow(2).mean();  // over [N, prod(S_t)]
}

namespace {

// Attention transfer on listed tap pairs; attention maps need no equal channel counts.
class AttentionTransferTermImpl : public PairwiseTermImpl {
 public:
  AttentionTransferTermImpl(const TermContext& context, const TermOptions& o)
      : PairwiseTermImpl("attention_transfer", context, o.tap_pairs({"enc.1", "enc.2", "enc.-1"}),
                         Adapters::kNone),
        p_(o.number("p", 2.0)) {
    MEDKD_CHECK(p_ > 0, "attention_transfer: p must be > 0, got ", p_);
  }

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return attention_transfer(s, t, p_);
  }

 private:
  double p_;
};

}  // namespace

TermEntry attention_transfer_term_entry() {
  return {"attention_transfer",
          "squared difference of normalised spatial attention maps mean_c |F|^p (Zagoruyko & "
          "Komodakis 2017)",
          {{"taps", "[enc.1, enc.2, enc.-1]", "tap pairs (the deepest encoder stage is enc.-1)"},
           {"student_taps", "-", "instead of taps: the student's side of each pair"},
           {"teacher_taps", "-", "instead of taps: the teacher's side of each pair"},
           {"p", "2", "exponent of the attention map"}},
          1.0,
          [](const YAML::Node& options, const TermContext& context) -> KdTerm {
            return std::make_shared<AttentionTransferTermImpl>(
                context, TermOptions("attention_transfer", options));
          }};
}

}  // namespace medkd::distill
