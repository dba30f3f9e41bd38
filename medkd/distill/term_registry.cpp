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

KdTerm TermRegistry::create(const std::string& type, const YAML::Node& options,
                            const TermContext& context) const {
  const TermEntry& term = entry(type);
  std::vector<std::string> keys;
  for (const auto& option : term.options) keys.push_back(option.key);
  if (options && !options.IsNull()) {
    MEDKD_CHECK(options.IsMap(), "options of term '", type, "' must be a map");
    for (const auto& item : options) {
      const auto key = item.first.as<std::string>();
      MEDKD_CHECK(std::find(keys.begin(), keys.end(), key) != keys.end(), "unknown option '", key,
                  "' for term '", type, "' (valid: ", keys.empty() ? "none" : join_names(keys),
                  ")");
    }
  }
  return term.create(options ? options : YAML::Node(YAML::NodeType::Map), context);
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
  return out.str();
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

std::vector<std::pair<std::string, std::string>> TermOptions::tap_pairs(
    const std::vector<std::string>& fallback) const {
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
