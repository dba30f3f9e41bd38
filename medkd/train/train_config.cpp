#include "medkd/train/train_config.h"

#include <set>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"

namespace medkd::train {

namespace {

// Rejects keys of `node` that are not in `valid`, listing the valid ones.
void check_keys(const YAML::Node& node, const std::set<std::string>& valid,
                const std::string& where, const std::string& file) {
  MEDKD_CHECK(node.IsMap(), file, ": ", where, " must be a mapping");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (valid.count(key)) continue;
    throw Error(str(file, ": unknown key \"", key, "\" in ", where,
                    " (valid: ", join_names({valid.begin(), valid.end()}), ")"));
  }
}

template <typename T>
T get(const YAML::Node& node, const std::string& key, T fallback, const std::string& file) {
  if (!node[key]) return fallback;
  try {
    return node[key].as<T>();
  } catch (const YAML::Exception&) {
    throw Error(str(file, ": \"", key, "\" has the wrong type"));
  }
}

template <typename T>
std::array<T, 3> triple(const YAML::Node& node, const std::string& key, const std::string& file) {
  MEDKD_CHECK(node.IsSequence() && node.size() == 3, file, ": ", key,
              " must be a list of three numbers (x, y, z)");
  return {node[0].as<T>(), node[1].as<T>(), node[2].as<T>()};
}

}  // namespace

TrainConfig TrainConfig::from_yaml_text(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(str(file, ": not valid YAML (line ", e.mark.line + 1, ": ", e.msg, ")"));
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  check_keys(root,
             {"model", "dims", "plan", "epochs", "iterations_per_epoch", "optimizer", "lr_schedule",
              "loss", "early_stopping", "validation", "sampling", "augmentation", "loader", "folds",
              "seed"},
             "the config", file);
  TrainConfig c;
  c.source = text;
  try {
    if (root["model"]) {
      const YAML::Node m = root["model"];
      check_keys(m, {"name", "options"}, "model", file);
      c.model_name = get<std::string>(m, "name", c.model_name, file);
      if (m["options"]) c.model_options = YAML::Clone(m["options"]);
    }
    c.dims = get<int>(root, "dims", 3, file);
    MEDKD_CHECK(c.dims == 2 || c.dims == 3, file, ": dims must be 2 or 3, got ", c.dims);
    c.plan.dims = c.dims;
    if (root["plan"]) {
      const YAML::Node p = root["plan"];
      check_keys(p, {"patch_size", "batch_size", "target_spacing", "batch_voxels"}, "plan", file);
      if (p["patch_size"])
        c.plan.patch_size = triple<int64_t>(p["patch_size"], "plan.patch_size", file);
      if (p["batch_size"]) c.plan.batch_size = p["batch_size"].as<int64_t>();
      if (p["target_spacing"])
        c.plan.target_spacing = triple<double>(p["target_spacing"], "plan.target_spacing", file);
      if (p["batch_voxels"]) c.plan.batch_voxels = p["batch_voxels"].as<int64_t>();
    }
    c.plan.validate();
    c.epochs = get<int64_t>(root, "epochs", c.epochs, file);
    c.iterations_per_epoch =
        get<int64_t>(root, "iterations_per_epoch", c.iterations_per_epoch, file);
    MEDKD_CHECK(c.epochs >= 1, file, ": epochs must be >= 1, got ", c.epochs);
    MEDKD_CHECK(c.iterations_per_epoch >= 1, file, ": iterations_per_epoch must be >= 1, got ",
                c.iterations_per_epoch);
    if (root["optimizer"]) {
      const YAML::Node o = root["optimizer"];
      check_keys(o, {"type", "lr", "weight_decay", "momentum", "nesterov"}, "optimizer", file);
      c.optimizer.type = get<std::string>(o, "type", c.optimizer.type, file);
      c.optimizer.lr = get<double>(o, "lr", c.optimizer.type == "sgd" ? 1e-2 : 1e-3, file);
      c.optimizer.weight_decay = get<double>(o, "weight_decay", c.optimizer.weight_decay, file);
      c.optimizer.momentum = get<double>(o, "momentum", c.optimizer.momentum, file);
      c.optimizer.nesterov = get<bool>(o, "nesterov", c.optimizer.nesterov, file);
    }
    MEDKD_CHECK(c.optimizer.type == "adam" || c.optimizer.type == "sgd", file,
                ": optimizer.type must be adam or sgd, got ", c.optimizer.type);
    MEDKD_CHECK(c.optimizer.lr > 0, file, ": optimizer.lr must be positive");
    if (root["lr_schedule"]) {
      const YAML::Node s = root["lr_schedule"];
      check_keys(s, {"type", "exponent", "per"}, "lr_schedule", file);
      c.schedule.type = get<std::string>(s, "type", c.schedule.type, file);
      c.schedule.exponent = get<double>(s, "exponent", c.schedule.exponent, file);
      c.schedule.per = get<std::string>(s, "per", c.schedule.per, file);
    }
    MEDKD_CHECK(c.schedule.type == "poly" || c.schedule.type == "constant", file,
                ": lr_schedule.type must be poly or constant, got ", c.schedule.type);
    MEDKD_CHECK(c.schedule.per == "iteration" || c.schedule.per == "epoch", file,
                ": lr_schedule.per must be iteration or epoch, got ", c.schedule.per);
    if (root["loss"]) c.loss = YAML::Clone(root["loss"]);
    if (root["early_stopping"]) {
      check_keys(root["early_stopping"], {"patience"}, "early_stopping", file);
      c.patience = get<int>(root["early_stopping"], "patience", c.patience, file);
    }
    if (root["validation"]) {
      const YAML::Node v = root["validation"];
      check_keys(v, {"every", "max_cases", "overlap"}, "validation", file);
      c.validation_every = get<int64_t>(v, "every", 1, file);
      c.validation_max_cases = get<int64_t>(v, "max_cases", 0, file);
      c.validation_overlap = get<double>(v, "overlap", 0.5, file);
      MEDKD_CHECK(c.validation_every >= 1, file, ": validation.every must be >= 1");
    }
    if (root["sampling"]) {
      check_keys(root["sampling"], {"foreground_fraction"}, "sampling", file);
      c.foreground_fraction =
          get<double>(root["sampling"], "foreground_fraction", c.foreground_fraction, file);
      MEDKD_CHECK(c.foreground_fraction >= 0 && c.foreground_fraction <= 1, file,
                  ": sampling.foreground_fraction must be in [0, 1], got ", c.foreground_fraction);
    }
    if (root["augmentation"])
      c.augmentation = data::AugmentOptions::from_yaml(root["augmentation"]);
    if (root["loader"]) {
      check_keys(root["loader"], {"workers", "prefetch"}, "loader", file);
      c.workers = get<int>(root["loader"], "workers", c.workers, file);
      c.prefetch = get<int>(root["loader"], "prefetch", c.prefetch, file);
    }
    c.folds = get<int>(root, "folds", c.folds, file);
    MEDKD_CHECK(c.folds >= 2, file, ": folds must be >= 2, got ", c.folds);
    c.seed = get<uint64_t>(root, "seed", 0, file);
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.rfind(file, 0) == 0) throw;
    throw Error(str(file, ": ", message));
  } catch (const YAML::Exception& e) {
    throw Error(str(file, ": ", e.msg));
  }
  return c;
}

TrainConfig TrainConfig::from_file(const std::filesystem::path& path) {
  return from_yaml_text(core::read_text_file(path), path.string());
}

}  // namespace medkd::train
