#include "medkd/nn/complexity.h"

#include <ATen/record_function.h>

#include <cstring>
#include <map>
#include <set>

#include "medkd/core/error.h"

namespace medkd::nn {
namespace {

struct CountState {
  std::map<const torch::nn::Module*, std::string> names;
  std::vector<LayerCost> layers;
  std::set<std::string> stray_ops;  // heavy ATen ops that ran while counting
};

thread_local CountState* active = nullptr;

// ATen ops that do real arithmetic; while counting, only nn/layers.h may stand in for them.
bool is_heavy(const char* name) {
  static const char* const heavy[] = {
      "aten::convolution", "aten::_convolution", "aten::conv1d", "aten::conv2d", "aten::conv3d",
      "aten::conv_transpose2d", "aten::conv_transpose3d", "aten::linear", "aten::matmul",
      "aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm", "aten::einsum",
      "aten::batch_norm", "aten::instance_norm", "aten::layer_norm", "aten::group_norm",
      "aten::max_pool2d", "aten::max_pool3d", "aten::avg_pool2d", "aten::avg_pool3d",
      "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d"};
  for (const char* h : heavy)
    if (std::strcmp(name, h) == 0) return true;
  return false;
}

std::unique_ptr<at::ObserverContext> on_op(const at::RecordFunction& fn) {
  if (active && is_heavy(fn.name())) active->stray_ops.insert(fn.name());
  return nullptr;
}

}  // namespace

namespace detail {

bool counting() { return active != nullptr; }

void record(const torch::nn::Module* module, const std::string& kind,
            std::vector<int64_t> output_shape, int64_t macs) {
  if (!active) return;
  LayerCost cost;
  cost.kind = kind;
  cost.output_shape = std::move(output_shape);
  cost.macs = macs;
  if (module) {
    const auto it = active->names.find(module);
    cost.name = it == active->names.end() ? module->name() : it->second.empty() ? "(model)" : it->second;
    for (const auto& p : module->parameters(/*recurse=*/false)) cost.params += p.numel();
  } else {
    cost.name = "(" + kind + ")";
  }
  active->layers.push_back(std::move(cost));
}

}  // namespace detail

ComplexityReport count_complexity(torch::nn::Module& model, const std::vector<int64_t>& input_shape,
                                  const std::function<torch::Tensor(const torch::Tensor&)>& forward) {
  MEDKD_CHECK(input_shape.size() >= 3, "the input shape must be [N, C, *spatial], got ",
              input_shape.size(), " values");
  for (int64_t s : input_shape) MEDKD_CHECK(s >= 1, "input sizes must be >= 1");
  MEDKD_CHECK(active == nullptr, "count_complexity cannot be nested");
  CountState state;
  state.names[&model] = "";
  for (const auto& item : model.named_modules("", /*include_self=*/false))
    state.names[item.value().get()] = item.key();

  ComplexityReport report;
  for (const auto& p : model.parameters()) report.params += p.numel();

  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const at::CallbackHandle handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback(&on_op).scopes({at::RecordScope::FUNCTION}));
  active = &state;
  torch::Tensor out;
  try {
    out = forward(torch::zeros(input_shape));
  } catch (...) {
    active = nullptr;
    at::removeCallback(handle);
    model.train(was_training);
    throw;
  }
  active = nullptr;
  at::removeCallback(handle);
  model.train(was_training);

  MEDKD_CHECK(state.stray_ops.empty(), "cannot count ", model.name(), ": it runs ",
              join_names(std::vector<std::string>(state.stray_ops.begin(), state.stray_ops.end())),
              " outside medkd/nn/layers.h, so its cost would be missed");
  report.layers = std::move(state.layers);
  for (const auto& l : report.layers) report.macs += l.macs;
  report.output_shape = out.sizes().vec();
  return report;
}

}  // namespace medkd::nn
