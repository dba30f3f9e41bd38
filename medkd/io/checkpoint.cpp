#include "medkd/io/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstring>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"

namespace medkd::io {
namespace fs = std::filesystem;

namespace {

torch::Tensor bytes_tensor(const std::string& text) {
  torch::Tensor t = torch::empty({int64_t(text.size())}, torch::kUInt8);
  if (!text.empty()) std::memcpy(t.data_ptr<uint8_t>(), text.data(), text.size());
  return t;
}

std::string tensor_bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous().to(torch::kUInt8);
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), size_t(c.numel()));
}

torch::serialize::InputArchive open_archive(const fs::path& path) {
  MEDKD_CHECK(fs::is_regular_file(path), "cannot read checkpoint ", path.string(),
              ": no such file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error& e) {
    throw Error(
        str("cannot read checkpoint ", path.string(), ": not a medkd checkpoint or corrupt"));
  }
  return archive;
}

}  // namespace

std::string capture_torch_rng_state() {
  return tensor_bytes(at::detail::getDefaultCPUGenerator().get_state());
}

void restore_torch_rng_state(const std::string& state) {
  if (state.empty()) return;
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  generator.set_state(bytes_tensor(state));
}

void save_checkpoint(const fs::path& path, const torch::nn::Module& model,
                     const torch::optim::Optimizer* optimizer, const TrainingState& state,
                     const nlohmann::json& metadata) {
  torch::serialize::OutputArchive archive;
  // Flat "name -> tensor" entries (not Module::save's nested archives), so that loading can check
  // every name and shape before touching the model.
  torch::serialize::OutputArchive weights;
  for (const auto& p : model.named_parameters(true)) weights.write(p.key(), p.value(), false);
  for (const auto& b : model.named_buffers(true)) weights.write(b.key(), b.value(), true);
  archive.write("model", weights);
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive moments;
    optimizer->save(moments);
    archive.write("optimizer", moments);
  }
  archive.write("epoch", torch::tensor(state.epoch));
  archive.write("step", torch::tensor(state.step));
  archive.write("best_metric", torch::tensor(state.best_metric, torch::kFloat64));
  archive.write("checks_since_best", torch::tensor(int64_t(state.checks_since_best)));
  archive.write("torch_rng_state", bytes_tensor(state.torch_rng_state));
  archive.write("metadata", bytes_tensor(metadata.dump()));
  core::write_atomically(path, [&](const fs::path& tmp) { archive.save_to(tmp.string()); });
}

TrainingState load_checkpoint(const fs::path& path, torch::nn::Module& model,
                              torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive archive = open_archive(path);
  TrainingState state;
  try {
    torch::serialize::InputArchive weights;
    archive.read("model", weights);
    torch::NoGradGuard no_grad;
    auto restore = [&](const std::string& name, torch::Tensor& target) {
      torch::Tensor stored;
      MEDKD_CHECK(weights.try_read(name, stored), "cannot load checkpoint ", path.string(),
                  ": it has no tensor \"", name, "\" (another architecture or options?)");
      MEDKD_CHECK(stored.sizes() == target.sizes(), "cannot load checkpoint ", path.string(),
                  ": \"", name, "\" is ", stored.sizes(), " in the checkpoint but ", target.sizes(),
                  " in the model (another architecture or options?)");
      target.copy_(stored);
    };
    for (auto& p : model.named_parameters(true)) restore(p.key(), p.value());
    for (auto& b : model.named_buffers(true)) restore(b.key(), b.value());
    if (optimizer != nullptr) {
      torch::serialize::InputArchive moments;
      MEDKD_CHECK(archive.try_read("optimizer", moments), "cannot resume from ", path.string(),
                  ": it holds no optimiser state (an exported model?)");
      optimizer->load(moments);
    }
    // A fresh tensor per key: reading into a defined tensor would re-point its storage.
    auto read = [&](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t;
    };
    state.epoch = read("epoch").item<int64_t>();
    state.step = read("step").item<int64_t>();
    state.best_metric = read("best_metric").item<double>();
    state.checks_since_best = static_cast<int>(read("checks_since_best").item<int64_t>());
    const torch::Tensor t = read("torch_rng_state");
    state.torch_rng_state = tensor_bytes(t);
  } catch (const c10::Error& e) {
    throw Error(str("cannot load checkpoint ", path.string(), ": it does not match the model (",
                    e.what_without_backtrace(), ")"));
  }
  return state;
}

nlohmann::json read_checkpoint_metadata(const fs::path& path) {
  torch::serialize::InputArchive archive = open_archive(path);
  torch::Tensor t;
  try {
    archive.read("metadata", t);
    return nlohmann::json::parse(tensor_bytes(t));
  } catch (const std::exception&) {
    throw Error(str("cannot read checkpoint ", path.string(), ": no medkd metadata"));
  }
}

}  // namespace medkd::io
