// The distillation terms that a config can name, with their options and defaults.
//
// Registered explicitly by register_builtin_terms() (no static initialisers); each term's file
// pair provides its entry (`pixel_kl_term_entry()` and so on). `medkd distill --list-terms`
// prints describe_terms().
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "medkd/distill/kd_term.h"

namespace medkd::distill {

struct TermOption {
  std::string key;
  std::string default_value;  // as YAML text ("1.0", "[bottleneck, dec.last]")
  std::string meaning;
};

struct TermEntry {
  std::string type;         // "pixel_kl"
  std::string description;  // one line, with the paper
  std::vector<TermOption> options;
  double default_weight = 1.0;
  // Builds the term from its options (keys checked against `options` before the call).
  std::function<KdTerm(const YAML::Node& options, const TermContext& context)> create;
};

class TermRegistry {
 public:
  void add(TermEntry entry);
  bool contains(const std::string& type) const { return entries_.count(type) != 0; }
  // A medkd::Error listing the known types when `type` is unknown.
  const TermEntry& entry(const std::string& type) const;
  std::vector<std::string> types() const;
  // Checks option keys (an unknown key is an error listing the term's keys), then builds.
  KdTerm create(const std::string& type, const YAML::Node& options,
                const TermContext& context) const;

 private:
  std::map<std::string, TermEntry> entries_;
};

void register_builtin_terms(TermRegistry& registry);
const TermRegistry& default_term_registry();

// Every term with its description, default weight and options (key, default, meaning).
std::string describe_terms(const TermRegistry& registry);

// Reads a term's options: typed values with errors naming the term and key, and the tap lists
// that most terms take as `taps: [a, b]` (student tap a against teacher tap a, …) or as
// `student_taps` / `teacher_taps` of equal length.
class TermOptions {
 public:
  TermOptions(std::string term, const YAML::Node& options);
  bool has(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;
  std::vector<std::string> names(const std::string& key,
                                 const std::vector<std::string>& fallback) const;
  // (student tap, teacher tap) pairs from taps / student_taps / teacher_taps.
  std::vector<std::pair<std::string, std::string>> tap_pairs(
      const std::vector<std::string>& fallback) const;

 private:
  std::string term_;
  YAML::Node options_;
};

}  // namespace medkd::distill
