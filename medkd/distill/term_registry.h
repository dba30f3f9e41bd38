// The distillation terms that a config can name, with their options and defaults.
//
// Registered explicitly by register_builtin_terms() (no static initialisers); each term's file
// pair provides its entry (`pixel_kl_term_entry()` and so on). `medkd distill --list-terms`
// prints describe_terms().
#pragma once

#include <functional>
#include <map>
#include <memory>
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

// A term's options, read and checked once when the config is read, before any network exists;
// each term derives its own struct (PixelKlSettings, …). No term reads YAML after that.
struct TermSettings {
  virtual ~TermSettings() = default;
};
using TermSettingsPtr = std::shared_ptr<const TermSettings>;

class TermOptions;

struct TermEntry {
  std::string type;         // "pixel_kl"
  std::string description;  // one line, with the paper
  std::vector<TermOption> options;
  double default_weight = 1.0;
  // Reads the options (keys already checked against `options`) into the term's settings.
  std::function<TermSettingsPtr(const TermOptions& options)> parse;
  // Builds the term from its settings against the networks it will compare.
  std::function<KdTerm(const TermSettings& settings, const TermContext& context)> create;
};

// The entry of a term whose settings are `Settings` (read by `parse`) and whose module is `Term`,
// constructed as Term(context, settings).
template <typename Settings, typename Term>
TermEntry make_term_entry(std::string type, std::string description,
                          std::vector<TermOption> options, double default_weight,
                          std::function<Settings(const TermOptions&)> parse) {
  TermEntry entry;
  entry.type = std::move(type);
  entry.description = std::move(description);
  entry.options = std::move(options);
  entry.default_weight = default_weight;
  entry.parse = [parse](const TermOptions& o) -> TermSettingsPtr {
    return std::make_shared<const Settings>(parse(o));
  };
  entry.create = [](const TermSettings& settings, const TermContext& context) -> KdTerm {
    return std::make_shared<Term>(context, dynamic_cast<const Settings&>(settings));
  };
  return entry;
}

class TermRegistry {
 public:
  void add(TermEntry entry);
  bool contains(const std::string& type) const { return entries_.count(type) != 0; }
  // A medkd::Error listing the known types when `type` is unknown.
  const TermEntry& entry(const std::string& type) const;
  std::vector<std::string> types() const;
  // Checks option keys (an unknown key is an error listing the term's keys, and `entry_keys`, the
  // keys its caller takes on every entry) and values.
  TermSettingsPtr parse(const std::string& type, const YAML::Node& options,
                        const std::vector<std::string>& entry_keys = {}) const;
  // Builds a term from settings that parse() returned for the same type.
  KdTerm create(const std::string& type, const TermSettings& settings,
                const TermContext& context) const;
  // parse() then create().
  KdTerm create(const std::string& type, const YAML::Node& options,
                const TermContext& context) const;

 private:
  std::map<std::string, TermEntry> entries_;
};

void register_builtin_terms(TermRegistry& registry);
const TermRegistry& default_term_registry();

// Every term with its description, default weight and options (key, default, meaning).
std::string describe_terms(const TermRegistry& registry);

using TapPairs = std::vector<std::pair<std::string, std::string>>;

// The settings of a term that takes nothing but tap pairs.
struct TapPairSettings : TermSettings {
  TapPairs pairs;
};

// The three tap options most terms take: taps (default `default_taps`, described by `meaning`),
// student_taps and teacher_taps.
std::vector<TermOption> tap_pair_options(const std::string& default_taps,
                                         const std::string& meaning);

// `options` after the tap options.
std::vector<TermOption> with_tap_pair_options(const std::string& default_taps,
                                              const std::string& meaning,
                                              std::vector<TermOption> options);

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
  TapPairs tap_pairs(const std::vector<std::string>& fallback) const;
  // A name among `valid` (an error listing them otherwise).
  std::string choice(const std::string& key, const std::string& fallback,
                     const std::vector<std::string>& valid) const;

 private:
  std::string term_;
  YAML::Node options_;
};

}  // namespace medkd::distill
