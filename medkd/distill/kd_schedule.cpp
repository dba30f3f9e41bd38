#include "medkd/distill/kd_schedule.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "medkd/core/error.h"

namespace medkd::distill {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A start or warm-up length in steps: fractions of the run are rounded to whole steps.
double in_steps(double value, int64_t total_steps) {
  return value < 1 ? std::round(value * double(total_steps)) : value;
}

double read_length(const YAML::Node& node, const std::string& key, const std::string& where) {
  double value = 0;
  MEDKD_CHECK(node.IsScalar() && YAML::convert<double>::decode(node, value) &&
                  std::isfinite(value) && value >= 0,
              where, ": ", key, " must be a number >= 0 (steps, or a fraction of the run below 1)",
              ", got '", YAML::Dump(node), "'");
  MEDKD_CHECK(value < 1 || value == std::floor(value), where, ": ", key,
              " of 1 or more counts steps and must be a whole number, got ", value);
  return value;
}

}  // namespace

double KdSchedule::factor(int64_t step, int64_t total_steps) const {
  const double t = double(step);
  const double begin = in_steps(start, total_steps);
  if (t < begin) return 0.0;
  const double ramp = in_steps(warmup, total_steps);
  const double ramped = ramp > 0 ? std::min((t - begin) / ramp, 1.0) : 1.0;
  if (decay == KdDecay::kNone) return ramped;
  const double decay_begin = begin + ramp;
  const double span = double(total_steps) - decay_begin;
  const double u = span > 0 ? std::clamp((t - decay_begin) / span, 0.0, 1.0) : 1.0;
  const double decayed = decay == KdDecay::kLinear
                             ? 1.0 - (1.0 - final_factor) * u
                             : final_factor + (1.0 - final_factor) * (1.0 + std::cos(kPi * u)) / 2;
  return ramped * decayed;
}

bool KdSchedule::is_constant() const {
  return start == 0 && warmup == 0 && (decay == KdDecay::kNone || final_factor == 1);
}

std::string KdSchedule::describe() const {
  if (is_constant()) return "none";
  std::ostringstream out;
  const char* separator = "";
  if (start > 0) out << "start " << start, separator = ", ";
  if (warmup > 0) out << separator << "warmup " << warmup, separator = ", ";
  if (decay != KdDecay::kNone)
    out << separator << "decay " << (decay == KdDecay::kLinear ? "linear" : "cosine") << " to "
        << final_factor;
  return out.str();
}

const std::vector<KdScheduleKey>& kd_schedule_keys() {
  static const std::vector<KdScheduleKey> keys{
      {"start", "0", "step (>= 1) or fraction of the run (< 1) at which the term switches on"},
      {"warmup", "0", "linear ramp from 0 over this many steps, or this fraction of the run"},
      {"decay", "none", "none | linear | cosine: from the end of the ramp to the end of the run"},
      {"final", "0", "the factor a decay ends at, in [0, 1]"}};
  return keys;
}

KdSchedule parse_kd_schedule(const YAML::Node& node, const KdSchedule& base,
                             const std::string& where) {
  if (!node || node.IsNull()) return base;
  std::vector<std::string> valid;
  for (const auto& k : kd_schedule_keys()) valid.push_back(k.key);
  MEDKD_CHECK(node.IsMap(), where, " must be a mapping of ", join_names(valid), ", got '",
              YAML::Dump(node), "'");
  KdSchedule s = base;
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    MEDKD_CHECK(std::find(valid.begin(), valid.end(), key) != valid.end(), where,
                ": unknown key \"", key, "\" (valid: ", join_names(valid), ")");
    const YAML::Node value = item.second;
    if (key == "start") {
      s.start = read_length(value, "start", where);
    } else if (key == "warmup") {
      s.warmup = read_length(value, "warmup", where);
    } else if (key == "decay") {
      const std::string name = value.IsScalar() ? value.as<std::string>() : "";
      MEDKD_CHECK(name == "none" || name == "linear" || name == "cosine", where,
                  ": decay must be none, linear or cosine, got '", YAML::Dump(value), "'");
      s.decay = name == "linear"   ? KdDecay::kLinear
                : name == "cosine" ? KdDecay::kCosine
                                   : KdDecay::kNone;
    } else {
      double f = -1;
      MEDKD_CHECK(value.IsScalar() && YAML::convert<double>::decode(value, f) && f >= 0 && f <= 1,
                  where, ": final must be a number in [0, 1], got '", YAML::Dump(value), "'");
      s.final_factor = f;
    }
  }
  MEDKD_CHECK(s.decay != KdDecay::kNone || !node["final"], where,
              ": final needs a decay (linear or cosine)");
  return s;
}

}  // namespace medkd::distill
