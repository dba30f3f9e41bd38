#include "medkd/distill/channel_wise.h"

#include "medkd/core/error.h"
#include "medkd/distill/kd_ops.h"

namespace medkd::distill {

torch::Tensor channel_wise(const torch::Tensor& student, const torch::Tensor& teacher,
                           double temperature) {
  check_feature_map(student, "channel_wise", "student");
  check_feature_map(teacher, "channel_wise", "teacher");
  MEDKD_CHECK(student.sizes() == teacher.sizes(), "channel_wise: student ", student.sizes(),
              " and teacher ", teacher.sizes(), " must have the same shape");
  MEDKD_CHECK(temperature > 0, "channel_wise: temperature must be > 0, got ", temperature);
  const int64_t batch = student.size(0), channels = student.size(1);
  const torch::Tensor s = to_loss_precision(student).reshape({batch, channels, -1});  // [N, C, V]
  const torch::Tensor t = to_loss_precision(teacher).reshape({batch, channels, -1});  // [N, C, V]
  const torch::Tensor log_p = torch::log_softmax(s / temperature, 2);
  const torch::Tensor log_q = torch::log_softmax(t / temperature, 2);
  const torch::Tensor kl_sum = (log_q.exp() * (log_q - log_p)).sum();  // Σ_{n,c,v}
  return temperature * temperature * kl_sum / static_cast<double>(batch * channels);
}

namespace {

struct ChannelWiseSettings : TermSettings {
  TapPairs pairs;
  double temperature = 4.0;
};

// CWD on logits by default; on feature taps of different widths an adapter maps the student's
// channels onto the teacher's, since CWD compares channel by channel.
class ChannelWiseTermImpl : public PairwiseTermImpl {
 public:
  ChannelWiseTermImpl(const TermContext& context, const ChannelWiseSettings& settings)
      : PairwiseTermImpl("channel_wise", context, settings.pairs, Adapters::kWhereChannelsDiffer),
        temperature_(settings.temperature) {}

 protected:
  torch::Tensor compare_pair(const torch::Tensor& s, const torch::Tensor& t,
                             const KdBatch&) override {
    return channel_wise(resize_to(s, t.sizes().slice(2)), t, temperature_);
  }

 private:
  double temperature_;
};

}  // namespace

TermEntry channel_wise_term_entry() {
  return make_term_entry<ChannelWiseSettings, ChannelWiseTermImpl>(
      "channel_wise",
      "per channel, KL of the spatial softmax of y_c/T, × T²/(N·C) (CWD, Shu et al. 2021)",
      with_tap_pair_options("[logits]", "tap pairs", {{"temperature", "4.0", "T"}}), 3.0,
      [](const TermOptions& o) {
        ChannelWiseSettings s;
        s.pairs = o.tap_pairs({"logits"});
        s.temperature = o.number("temperature", 4.0);
        MEDKD_CHECK(s.temperature > 0, "channel_wise: temperature must be > 0, got ",
                    s.temperature);
        return s;
      });
}

}  // namespace medkd::distill
