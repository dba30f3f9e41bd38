#include "medkd/distill/term_registry.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "medkd/core/error.h"
#include "medkd/distill/affinity.h"
#include "medkd/distill/attention_similarity.h"
#include "medkd/distill/attention_transfer.h"
#include "medkd/distill/boundary.h"
#include "medkd/distill/channel_wise.h"
#include "medkd/distill/hint.h"
#include "medkd/distill/hlfd.h"
#include "medkd/distill/kd_schedule.h"
#include "medkd/distill/pixel_kl.h"

namespace medkd::distill {

void TermRegistry::add(TermEntry entry) {
  MEDKD_CHECK(!entry.type.empty() && entry.create, "a term entry needs a type and a factory");
  MEDKD_CHECK(!entries_.count(entry.type), "term '", entry.type, "' is registered twice");
  const std::string type = entry.type;
  entries_.emplace(type, std::move(entry));
}

const TermEntry& TermRegistry::entry(const std::string& type) const {
  const auto it = entries_.find(type);
  MEDKD_CHECK(it != entries_.end(), "unknown distillation term '", type,
              "' (known: ", join_names(types()), ")");
  return it->second;
}

std::vector<std::string> TermRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& item : entries_) out.push_back(item.first);
  return out;
}

TermSettingsPtr TermRegistry::parse(const std::string& type, const YAML::Node& options,
                                    const std::vector<std::string>& entry_keys) const {
  const TermEntry& term = entry(type);
  std::vector<std::string> keys;
  for (const auto& option : term.options) keys.push_back(option.key);
  if (options && !options.IsNull()) {
    MEDKD_CHECK(options.IsMap(), "options of term '", type, "' must be a map");
    for (const auto& item : options) {
      const auto key = item.first.as<std::string>();
      MEDKD_CHECK(std::find(keys.begin(), keys.end(), key) != keys.end(), "unknown option '", key,
                  "' for term '", type, "' (valid: ", keys.empty() ? "none" : join_names(keys),
                  entry_keys.empty() ? "" : "; and on every entry: " + join_names(entry_keys), ")");
    }
  }
  return term.parse(TermOptions(type, options ? options : YAML::Node(YAML::NodeType::Map)));
}

KdTerm TermRegistry::create(const std::string& type, const TermSettings& settings,
                            const TermContext& context) const {
  return entry(type).create(settings, context);
}

KdTerm TermRegistry::create(const std::string& type, const YAML::Node& options,
                            const TermContext& context) const {
  const TermSettingsPtr settings = parse(type, options);
  return create(type, *settings, context);
}

void register_builtin_terms(TermRegistry& registry) {
  registry.add(pixel_kl_term_entry());
  registry.add(attention_similarity_term_entry());
  registry.add(hlfd_term_entry());
  registry.add(attention_transfer_term_entry());
  registry.add(hint_term_entry());
  registry.add(channel_wise_term_entry());
  registry.add(pairwise_affinity_term_entry());
  registry.add(region_affinity_term_entry());
  registry.add(boundary_kd_term_entry());
}

const TermRegistry& default_term_registry() {
  static const TermRegistry registry = [] {
    TermRegistry built;
    register_builtin_terms(built);
    return built;
  }();
  return registry;
}

std::string describe_terms(const TermRegistry& registry) {
  std::ostringstream out;
  for (const auto& type : registry.types()) {
    const TermEntry& e = registry.entry(type);
    out << type << " — " << e.description << "\n    weight: " << e.default_weight << '\n';
    for (const auto& o : e.options)
      out << "    " << std::left << std::setw(22) << o.key << std::setw(28) << o.default_value
          << o.meaning << '\n';
  }
  out << "every term also takes\n";
  const std::vector<TermOption> common{
      {"weight", "the term's (above)", "its share of the loss (× the schedule's factor)"},
      {"name", "the type", "its column in training_log.csv"},
      {"teachers", "every teacher", "the teachers it reads"},
      {"schedule", "the run's kd_schedule", "when the term counts: the keys below"}};
  for (const auto& o : common)
    out << "    " << std::left << std::setw(22) << o.key << std::setw(28) << o.default_value
        << o.meaning << '\n';
  for (const auto& k : kd_schedule_keys())
    out << "    " << std::left << std::setw(22) << ("schedule." + k.key) << std::setw(28)
        << k.default_value << k.meaning << '\n';
  return out.str();
}

std::vector<TermOption> tap_pair_options(const std::string& default_taps,
                                         const std::string& meaning) {
  return {{"taps", default_taps, meaning},
          {"student_taps", "-", "instead of taps: the student's side of each pair"},
          {"teacher_taps", "-", "instead of taps: the teacher's side of each pair"}};
}

std::vector<TermOption> with_tap_pair_options(const std::string& default_taps,
                                              const std::string& meaning,
                                              std::vector<TermOption> options) {
  std::vector<TermOption> all = tap_pair_options(default_taps, meaning);
  all.insert(all.end(), options.begin(), options.end());
  return all;
}

TermOptions::TermOptions(std::string term, const YAML::Node& options)
    : term_(std::move(term)), options_(options) {}

bool TermOptions::has(const std::string& key) const {
  return options_ && options_.IsMap() && options_[key];
}

double TermOptions::number(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  try {
    return options_[key].as<double>();
  } catch (const YAML::Exception&) {
    throw Error(
        str(term_, " option '", key, "' must be a number, got '", YAML::Dump(options_[key]), "'"));
  }
}

std::string TermOptions::text(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  MEDKD_CHECK(options_[key].IsScalar(), term_, " option '", key, "' must be a name, got '",
              YAML::Dump(options_[key]), "'");
  return options_[key].as<std::string>();
}

std::string TermOptions::choice(const std::string& key, const std::string& fallback,
                                const std::vector<std::string>& valid) const {
  const std::string value = text(key, fallback);
  MEDKD_CHECK(std::find(valid.begin(), valid.end(), value) != valid.end(), term_, ": unknown ", key,
              " '", value, "' (valid: ", join_names(valid), ")");
  return value;
}

std::vector<std::string> TermOptions::names(const std::string& key,
                                            const std::vector<std::string>& fallback) const {
  if (!has(key)) return fallback;
  const YAML::Node node = options_[key];
  if (node.IsScalar()) return {node.as<std::string>()};
  MEDKD_CHECK(node.IsSequence() && node.size() > 0, term_, " option '", key,
              "' must be a tap name or a non-empty list of them, got '", YAML::Dump(node), "'");
  std::vector<std::string> out;
  for (const auto& item : node) {
    MEDKD_CHECK(item.IsScalar(), term_, " option '", key, "' must list tap names, got '",
                YAML::Dump(item), "'");
    out.push_back(item.as<std::string>());
  }
  return out;
}

TapPairs TermOptions::tap_pairs(const std::vector<std::string>& fallback) const {
  const bool separate = has("student_taps") || has("teacher_taps");
  MEDKD_CHECK(!(separate && has("taps")), term_,
              ": give either taps or student_taps and teacher_taps, not both");
  std::vector<std::pair<std::string, std::string>> pairs;
  if (!separate) {
    for (const auto& name : names("taps", fallback)) pairs.emplace_back(name, name);
    return pairs;
  }
  MEDKD_CHECK(has("student_taps") && has("teacher_taps"), term_,
              ": student_taps and teacher_taps go together");
  const auto student = names("student_taps", {}), teacher = names("teacher_taps", {});
  MEDKD_CHECK(student.size() == teacher.size(), term_, ": student_taps has ", student.size(),
              " names but teacher_taps has ", teacher.size());
  for (size_t i = 0; i < student.size(); ++i) pairs.emplace_back(student[i], teacher[i]);
  return pairs;
}

}  // namespace medkd::distill
