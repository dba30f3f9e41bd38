#include "medkd/distill/attention_similarity.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {
namespace {

// Σ_c F_c² per voxel: [N, C, *S] -> [N, 1, *S].
torch::Tensor channel_energy(const torch::Tensor& x) { return x.pow(2).sum(1, /*keepdim=*/true); }

// Each sample scaled to unit L1 mass: [N, ...] -> [N, L].
torch::Tensor unit_l1_per_sample(const torch::Tensor& x) {
  const torch::Tensor flat = x.reshape({x.size(0), -1});  // [N, L]
  return flat / flat.abs().sum(1, /*keepdim=*/true).clamp_min(1e-12);
}

}  // namespace

ChannelMatch parse_channel_match(const std::string& name) {
  if (name == "interpolate") return ChannelMatch::kInterpolate;
  if (name == "attention_map") return ChannelMatch::kAttentionMap;
  throw Error(str("attention_similarity: unknown channel_match '", name,
                  "' (valid: ", join_names({"interpolate", "attention_map"}), ")"));
}

torch::Tensor attention_similarity(const torch::Tensor& student, const torch::Tensor& teacher,
                                   ChannelMatch mode) {
  check_feature_map(student, "attention_similarity", "student");
  check_feature_map(teacher, "attention_similarity", "teacher");
  check_same_batch_and_rank(student, teacher, "attention_similarity");
  torch::Tensor s = to_loss_precision(student);
  torch::Tensor t = to_loss_precision(teacher);
  if (mode == ChannelMatch::kAttentionMap) {
    s = channel_energy(s);  // [N, 1, *S_s]
    t = channel_energy(t);  // [N, 1, *S_t]
  } else {
    s = interpolate_channels(s, t.size(1));  // [N, C_t, *S_s]
  }
  s = resize_to(s, t.sizes().slice(2));  // [N, C_t or 1, *S_t]
  // at::norm's backward is 0 (not NaN) where the difference vanishes, so s == t trains cleanly.
  return (unit_l1_per_sample(s) - unit_l1_per_sample(t)).norm(2, {1}).mean();
}

namespace {

// Teach-Former's coarse + fine attention-map similarity, one pair per map (bottleneck and
// dec.last by default), summed. channel_match: adapter puts a learned 1×1 conv on the student
// where channel counts differ and then compares as interpolate does (which is then the identity).
class AttentionSimilarityTermImpl : public PairwiseTermImpl {
 public:
  AttentionSimilarityTermImpl(const TermContext& context, const TermOptions& o)
      : AttentionSimilarityTermImpl(context, o, o.text("channel_match", "interpolate")) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return attention_similarity(s, t, mode_);
  }

 private:
  AttentionSimilarityTermImpl(const TermContext& context, const TermOptions& o,
                              const std::string& match)
      : PairwiseTermImpl("attention_similarity", context, o.tap_pairs({"bottleneck", "dec.last"}),
                         match == "adapter" ? Adapters::kWhereChannelsDiffer : Adapters::kNone),
        mode_(match == "adapter" ? ChannelMatch::kInterpolate : parse_channel_match(match)) {}

  ChannelMatch mode_;
};

}  // namespace

TermEntry attention_similarity_term_entry() {
  return {"attention_similarity",
          "‖ s/‖s‖₁ − t/‖t‖₁ ‖₂ per sample on a coarse and a fine map (Teach-Former)",
          {{"taps", "[bottleneck, dec.last]", "the coarse and the fine map"},
           {"student_taps", "-", "instead of taps: the student's side of each pair"},
           {"teacher_taps", "-", "instead of taps: the teacher's side of each pair"},
           {"channel_match", "interpolate",
            "interpolate (along channels) | adapter (learned 1×1 conv) | attention_map (Σ_c F²)"}},
          1.0,
          [](const YAML::Node& options, const TermContext& context) -> KdTerm {
            return std::make_shared<AttentionSimilarityTermImpl>(
                context, TermOptions("attention_similarity", options));
          }};
}

}  // namespace medkd::distill
