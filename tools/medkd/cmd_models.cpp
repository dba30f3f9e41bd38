// `medkd models`: the model zoo with parameters, MACs, FLOPs and tap shapes for an input size, or
// one network with any options, so that a student can be sized before it is trained.
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "medkd/core/error.h"
#include "medkd/models/model_summary.h"
#include "medkd/models/registry.h"

namespace medkd::cli {
namespace {

// "C,X,Y,Z" or "C,X,Y" -> channels and the spatial size in tensor order ([Z, Y, X] / [Y, X]).
std::pair<int64_t, std::vector<int64_t>> parse_input(const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      MEDKD_CHECK(used == item.size() && v >= 1, "");
      values.push_back(v);
    } catch (const std::exception&) {
      throw Error(str("--input: '", text, "' is not C,X,Y,Z or C,X,Y with positive integers"));
    }
  }
  MEDKD_CHECK(values.size() == 3 || values.size() == 4, "--input: '", text,
              "' needs C,X,Y (2-D) or C,X,Y,Z (3-D)");
  return {values[0], std::vector<int64_t>(values.rbegin(), values.rend() - 1)};
}

std::string format_shape(const std::vector<int64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "×" : "") + std::to_string(shape[i]);
  return s;
}

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

void print_summary(const models::ModelSummary& s, bool layers) {
  const auto& c = s.complexity;
  std::cout << std::left << std::setw(22) << s.config.name << std::right << std::setw(11)
            << fixed(double(c.params) / 1e6, 3) << std::setw(11) << fixed(double(c.macs) / 1e9, 2)
            << std::setw(11) << fixed(c.flops() / 1e9, 2) << "   "
            << (s.preset_options_yaml.empty() ? "-" : s.preset_options_yaml) << '\n';
  std::cout << "    taps:";
  for (const auto& t : s.taps) std::cout << ' ' << t.name << ' ' << format_shape(t.shape);
  std::cout << '\n';
  if (layers) {
    for (const auto& l : c.layers)
      std::cout << "    " << std::left << std::setw(48) << l.name << std::setw(16) << l.kind
                << std::setw(22) << format_shape(l.output_shape) << std::right << std::setw(12)
                << l.params << std::setw(16) << l.macs << '\n';
  }
}

}  // namespace

void add_models_command(CLI::App& app, const GlobalOptions& /*global*/) {
  CLI::App* cmd = app.add_subcommand(
      "models", "List the model zoo with parameters, MACs, FLOPs and tap shapes for an input size");
  cmd->footer(
      "Counts are analytic (docs/complexity.md): conv, transposed conv, linear, attention products, "
      "norms and pooling; FLOPs = 2 × MACs; one sample. With --model, any option can be set "
      "(--set feature_size=24 --set depths=[2,2,2,2]); values are YAML.");
  struct Options {
    std::string input = "2,144,144,144", model;
    int64_t classes = 2;
    std::vector<std::string> sets;
    bool json = false, layers = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--input", o->input, "Input C,X,Y,Z (3-D) or C,X,Y (2-D)")->capture_default_str();
  cmd->add_option("--classes", o->classes, "Output classes, background included")
      ->capture_default_str();
  cmd->add_option("--model", o->model, "Only this network or preset");
  cmd->add_option("--set", o->sets, "key=value option of --model (repeatable)");
  cmd->add_flag("--json", o->json, "Machine-readable output");
  cmd->add_flag("--layers", o->layers, "Also list every layer's output shape, params and MACs");
  cmd->callback([o] {
    const auto [channels, spatial] = parse_input(o->input);
    MEDKD_CHECK(o->classes >= 1, "--classes must be >= 1, got ", o->classes);
    MEDKD_CHECK(o->sets.empty() || !o->model.empty(), "--set needs --model");
    const auto& zoo = models::default_model_registry();
    const int dims = int(spatial.size());

    auto config_for = [&](const std::string& name) {
      models::ModelConfig config;
      config.name = name;
      config.spatial_dims = dims;
      config.in_channels = channels;
      config.num_classes = o->classes;
      return config;
    };

    std::vector<std::string> names;
    std::vector<models::ModelConfig> configs;
    if (!o->model.empty()) {
      models::ModelConfig config = config_for(o->model);
      zoo.entry(o->model);  // unknown name: an error listing the zoo
      for (const auto& set : o->sets) {
        const auto eq = set.find('=');
        MEDKD_CHECK(eq != std::string::npos && eq > 0, "--set '", set, "' is not key=value");
        YAML::Node value;
        try {
          value = YAML::Load(set.substr(eq + 1));
        } catch (const YAML::Exception& e) {
          throw Error(str("--set '", set, "': the value is not YAML (", e.msg, ")"));
        }
        config.options[set.substr(0, eq)] = value;
      }
      configs.push_back(config);
    } else {
      for (const auto& name : zoo.names()) {
        const auto& dims_ok = zoo.entry(name).spatial_dims;
        if (std::find(dims_ok.begin(), dims_ok.end(), dims) != dims_ok.end())
          configs.push_back(config_for(name));
      }
    }

    nlohmann::json out;
    out["input"] = {{"channels", channels}, {"spatial_size", spatial}, {"classes", o->classes}};
    out["models"] = nlohmann::json::array();
    if (!o->json) {
      std::cout << "input " << o->input << " (C,X,Y" << (dims == 3 ? ",Z" : "") << "), "
                << o->classes << " classes, one sample\n"
                << std::left << std::setw(22) << "model" << std::right << std::setw(11)
                << "params (M)" << std::setw(11) << "GMACs" << std::setw(11) << "GFLOPs"
                << "   preset\n";
    }
    for (const auto& config : configs) {
      try {
        const auto summary = models::summarize_model(zoo, config, spatial);
        if (o->json)
          out["models"].push_back(models::model_summary_to_json(summary, o->layers));
        else
          print_summary(summary, o->layers);
      } catch (const Error& e) {
        if (!o->model.empty()) throw;
        // One network that cannot take this input size does not hide the rest of the zoo.
        if (o->json)
          out["models"].push_back({{"name", config.name}, {"error", e.what()}});
        else
          std::cout << std::left << std::setw(22) << config.name << "   (" << e.what() << ")\n";
      }
    }
    if (o->json) std::cout << out.dump(2) << '\n';
  });
}

}  // namespace medkd::cli
