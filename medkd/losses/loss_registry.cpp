#include "medkd/losses/loss_registry.h"

#include <algorithm>

#include "medkd/core/error.h"
#include "medkd/losses/compound.h"
#include "medkd/losses/dice.h"
#include "medkd/losses/focal.h"

namespace medkd::losses {
namespace {

template <typename T>
T read(const YAML::Node& options, const std::string& key, T fallback, const std::string& expected) {
  if (!options[key]) return fallback;
  try {
    return options[key].as<T>();
  } catch (const YAML::Exception&) {
    throw Error(str("loss option '", key, "' must be ", expected, ", got '",
                    YAML::Dump(options[key]), "'"));
  }
}

double read_non_negative(const YAML::Node& options, const std::string& key, double fallback) {
  const double value = read<double>(options, key, fallback, "a number");
  MEDKD_CHECK(value >= 0, "loss option '", key, "' must be >= 0, got ", value);
  return value;
}

SoftDiceOptions dice_options(const YAML::Node& o, SoftDiceOptions defaults = {}) {
  return defaults.smooth(read_non_negative(o, "smooth", defaults.smooth()))
      .batch_dice(read<bool>(o, "batch_dice", defaults.batch_dice(), "true or false"))
      .include_background(
          read<bool>(o, "include_background", defaults.include_background(), "true or false"));
}

FocalOptions focal_options(const YAML::Node& o) {
  FocalOptions options;
  options.gamma(read_non_negative(o, "gamma", options.gamma()));
  if (o["alpha"]) {
    const auto alpha = o["alpha"].IsSequence()
                           ? read<std::vector<double>>(o, "alpha", {}, "a number or a list")
                           : std::vector<double>{read<double>(o, "alpha", 0, "a number or a list")};
    for (double a : alpha) MEDKD_CHECK(a >= 0, "loss option 'alpha' must be >= 0, got ", a);
    MEDKD_CHECK(alpha.size() != 1 || alpha[0] <= 1,
                "loss option 'alpha': a single value must be in [0, 1], got ", alpha[0]);
    options.alpha(alpha);
  }
  return options;
}

DiceFocalOptions dice_focal_options(const YAML::Node& o, DiceFocalOptions defaults) {
  return defaults.dice(dice_options(o))
      .focal(focal_options(o))
      .dice_weight(read_non_negative(o, "dice_weight", defaults.dice_weight()))
      .focal_weight(read_non_negative(o, "focal_weight", defaults.focal_weight()));
}

std::vector<std::string> dice_keys() { return {"smooth", "batch_dice", "include_background"}; }
std::vector<std::string> focal_keys() { return {"gamma", "alpha"}; }

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

LossConfig loss_config_from_yaml(const YAML::Node& node,
                                 const std::vector<std::string>& ignored_keys) {
  MEDKD_CHECK(node.IsMap() && node["type"] && node["type"].IsScalar(),
              "a loss entry must be a map with a 'type' key, got '", YAML::Dump(node), "'");
  LossConfig config;
  config.type = node["type"].as<std::string>();
  for (const auto& item : node) {
    const auto key = item.first.as<std::string>();
    if (key == "type" ||
        std::find(ignored_keys.begin(), ignored_keys.end(), key) != ignored_keys.end())
      continue;
    config.options[key] = YAML::Clone(item.second);
  }
  return config;
}

void LossRegistry::add(LossEntry entry) {
  MEDKD_CHECK(!entry.type.empty() && entry.create, "a loss entry needs a type and a factory");
  MEDKD_CHECK(!entries_.count(entry.type), "loss '", entry.type, "' is registered twice");
  const std::string type = entry.type;
  entries_.emplace(type, std::move(entry));
}

const LossEntry& LossRegistry::entry(const std::string& type) const {
  const auto it = entries_.find(type);
  MEDKD_CHECK(it != entries_.end(), "unknown loss type '", type, "' (known: ", join_names(types()),
              ")");
  return it->second;
}

std::vector<std::string> LossRegistry::types() const {
  std::vector<std::string> types;
  for (const auto& item : entries_) types.push_back(item.first);
  return types;
}

SegmentationLoss LossRegistry::create(const LossConfig& config) const {
  const LossEntry& loss = entry(config.type);
  YAML::Node options = config.options ? config.options : YAML::Node(YAML::NodeType::Map);
  if (!options.IsNull()) {
    MEDKD_CHECK(options.IsMap(), "options of loss '", config.type, "' must be a map");
    for (const auto& item : options) {
      const auto key = item.first.as<std::string>();
      MEDKD_CHECK(std::find(loss.option_keys.begin(), loss.option_keys.end(), key) !=
                      loss.option_keys.end(),
                  "unknown option '", key, "' for loss '", config.type,
                  "' (valid: ", loss.option_keys.empty() ? "none" : join_names(loss.option_keys),
                  ")");
    }
  }
  return loss.create(options);
}

void register_builtin_losses(LossRegistry& registry) {
  registry.add({"dice", "soft Dice, 1 - mean Dice (Milletari et al. 2016)", dice_keys(),
                [](const YAML::Node& o) -> SegmentationLoss {
                  const auto options = dice_options(o);
                  return [options](const torch::Tensor& logits, const torch::Tensor& target) {
                    return soft_dice_loss(logits, target, options);
                  };
                }});
  registry.add({"focal", "softmax focal loss, mean over voxels (Lin et al. 2017)", focal_keys(),
                [](const YAML::Node& o) -> SegmentationLoss {
                  const auto options = focal_options(o);
                  return [options](const torch::Tensor& logits, const torch::Tensor& target) {
                    return focal_loss(logits, target, options);
                  };
                }});
  const auto dice_focal_keys =
      concat(concat(dice_keys(), focal_keys()), {"dice_weight", "focal_weight"});
  registry.add({"dice_focal", "soft Dice + focal (Teach-Former, Eq. 3)", dice_focal_keys,
                [](const YAML::Node& o) -> SegmentationLoss {
                  const auto options = dice_focal_options(o, DiceFocalOptions());
                  return [options](const torch::Tensor& logits, const torch::Tensor& target) {
                    return dice_focal_loss(logits, target, options);
                  };
                }});
  registry.add({"focal_dice_half", "0.5 focal + 0.5 soft Dice (HLFD)", dice_focal_keys,
                [](const YAML::Node& o) -> SegmentationLoss {
                  const auto options = dice_focal_options(o, focal_dice_half_options());
                  return [options](const torch::Tensor& logits, const torch::Tensor& target) {
                    return dice_focal_loss(logits, target, options);
                  };
                }});
  registry.add({"dice_ce", "soft Dice (no background) + cross-entropy (nnU-Net)",
                concat(dice_keys(), {"dice_weight", "ce_weight"}),
                [](const YAML::Node& o) -> SegmentationLoss {
                  DiceCeOptions options;
                  options.dice(dice_options(o, options.dice()))
                      .dice_weight(read_non_negative(o, "dice_weight", options.dice_weight()))
                      .ce_weight(read_non_negative(o, "ce_weight", options.ce_weight()));
                  return [options](const torch::Tensor& logits, const torch::Tensor& target) {
                    return dice_ce_loss(logits, target, options);
                  };
                }});
  registry.add({"cross_entropy",
                "cross-entropy, mean over voxels",
                {},
                [](const YAML::Node&) -> SegmentationLoss { return &losses::cross_entropy_loss; }});
}

const LossRegistry& default_loss_registry() {
  static const LossRegistry registry = [] {
    LossRegistry built;
    register_builtin_losses(built);
    return built;
  }();
  return registry;
}

SegmentationLoss make_segmentation_loss(const LossConfig& config) {
  return default_loss_registry().create(config);
}

}  // namespace medkd::losses
