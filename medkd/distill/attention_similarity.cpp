#include "medkd/distill/attention_similarity.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {
namespace {

// Σ_c F_c² per voxel: [N, C, *S] -> [N, 1, *S].
torch::Tensor channel_energy(const torch::Tensor& x) { return x.pow(2).sum(1, /*keepdim=*/true); }

// Each sample scaled to unit L1 mass or unit L2 norm: [N, ...] -> [N, L].
torch::Tensor unit_per_sample(const torch::Tensor& x, SimilarityNorm norm) {
  const torch::Tensor flat = x.reshape({x.size(0), -1});  // [N, L]
  const torch::Tensor size = norm == SimilarityNorm::kL1
                                 ? flat.abs().sum(1, /*keepdim=*/true)
                                 : flat.pow(2).sum(1, /*keepdim=*/true).sqrt();
  return flat / size.clamp_min(1e-12);
}

}  // namespace

ChannelMatch parse_channel_match(const std::string& name) {
  if (name == "interpolate") return ChannelMatch::kInterpolate;
  if (name == "attention_map") return ChannelMatch::kAttentionMap;
  throw Error(str("attention_similarity: unknown channel_match '", name,
                  "' (valid: ", join_names({"interpolate", "attention_map"}), ")"));
}

torch::Tensor attention_similarity(const torch::Tensor& student, const torch::Tensor& teacher,
                                   ChannelMatch mode, SimilarityNorm norm) {
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
  return (unit_per_sample(s, norm) - unit_per_sample(t, norm)).norm(2, {1}).mean();
}

namespace {

struct AttentionSimilaritySettings : TermSettings {
  TapPairs pairs;
  std::string channel_match = "attention_map";
  SimilarityNorm norm = SimilarityNorm::kL2;
};

// Teach-Former's coarse + fine attention-map similarity, one pair per map (bottleneck and
// dec.last by default), summed. channel_match: adapter puts a learned 1×1 conv on the student
// where channel counts differ and then compares as interpolate does (which is then the identity).
class AttentionSimilarityTermImpl : public PairwiseTermImpl {
 public:
  AttentionSimilarityTermImpl(const TermContext& context,
                              const AttentionSimilaritySettings& settings)
      : PairwiseTermImpl(
            "attention_similarity", context, settings.pairs,
            settings.channel_match == "adapter" ? Adapters::kWhereChannelsDiffer : Adapters::kNone),
        mode_(settings.channel_match == "adapter" ? ChannelMatch::kInterpolate
                                                  : parse_channel_match(settings.channel_match)),
        norm_(settings.norm) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return attention_similarity(s, t, mode_, norm_);
  }

 private:
  ChannelMatch mode_;
  SimilarityNorm norm_;
};

}  // namespace

TermEntry attention_similarity_term_entry() {
  return make_term_entry<AttentionSimilaritySettings, AttentionSimilarityTermImpl>(
      "attention_similarity",
      "‖ s/‖s‖ − t/‖t‖ ‖₂ per sample on a coarse and a fine map (Teach-Former Eq. 1)",
      with_tap_pair_options(
          "[bottleneck, dec.last]", "the coarse and the fine map",
          {{"channel_match", "attention_map",
            "attention_map (Σ_c F² per voxel) | adapter (learned 1×1 conv) | interpolate (along "
            "the channel index: the paper's literal variant)"},
           {"normalization", "l2",
            "l2 (unit vectors: distance in [0, 2]) | l1 (the paper's unit L1 mass: ~1/√size)"}}),
      1.0, [](const TermOptions& o) {
        AttentionSimilaritySettings s;
        s.pairs = o.tap_pairs({"bottleneck", "dec.last"});
        s.channel_match =
            o.choice("channel_match", "attention_map", {"attention_map", "adapter", "interpolate"});
        s.norm = o.choice("normalization", "l2", {"l2", "l1"}) == "l1" ? SimilarityNorm::kL1
                                                                       : SimilarityNorm::kL2;
        return s;
      });
}

}  // namespace medkd::distill
