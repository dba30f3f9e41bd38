// Segmentation losses by name, built from config entries such as
//
//   - {type: dice_focal, weight: 1.0, gamma: 2, include_background: false}
//
// Types and their option keys (defaults in dice.h, focal.h, compound.h; docs/losses.md):
//
//   dice             smooth, batch_dice, include_background
//   focal            gamma, alpha
//   dice_focal       smooth, batch_dice, include_background, gamma, alpha, dice_weight,
//   focal_weight focal_dice_half  as dice_focal, weights 0.5 and 0.5 dice_ce          smooth,
//   batch_dice, include_background (false), dice_weight, ce_weight cross_entropy    (none)
//
// An unknown type or key is a medkd::Error listing the valid ones. The registry is filled
// explicitly by register_builtin_losses().
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "medkd/losses/deep_supervision.h"

namespace medkd::losses {

// `options` holds the type's own keys. It is a YAML::Node, so copies of a LossConfig share it;
// treat it as read-only once built.
struct LossConfig {
  std::string type;
  YAML::Node options = YAML::Node(YAML::NodeType::Map);
};

// From a YAML map: `type` plus the loss's keys at the same level. Keys in `ignored_keys` belong to
// the caller (a distillation term's `weight`, say) and are left out of the options.
LossConfig loss_config_from_yaml(const YAML::Node& node,
                                 const std::vector<std::string>& ignored_keys = {});

struct LossEntry {
  std::string type;
  std::string description;               // one line, with the paper
  std::vector<std::string> option_keys;  // every key `create` reads
  std::function<SegmentationLoss(const YAML::Node& options)> create;
};

class LossRegistry {
 public:
  void add(LossEntry entry);  // a second entry of the same type is a medkd::Error
  // Checks the type and option keys, then builds the loss. Option values are checked here too,
  // so a bad config fails before training starts.
  SegmentationLoss create(const LossConfig& config) const;
  const LossEntry& entry(const std::string& type) const;
  std::vector<std::string> types() const;  // sorted

 private:
  std::map<std::string, LossEntry> entries_;
};

void register_builtin_losses(LossRegistry& registry);
const LossRegistry& default_loss_registry();

// default_loss_registry().create(config).
SegmentationLoss make_segmentation_loss(const LossConfig& config);

}  // namespace medkd::losses
