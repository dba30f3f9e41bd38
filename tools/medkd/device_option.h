// Parsing of --device for the commands that run networks.
#pragma once

#include <torch/torch.h>

#include <string>

#include "medkd/core/error.h"

namespace medkd::cli {

// "cpu", "cuda" or "cuda:N"; CUDA must be available.
inline torch::Device parse_device(const std::string& text) {
  MEDKD_CHECK(text == "cpu" || text.rfind("cuda", 0) == 0,
              "--device must be cpu, cuda or cuda:N, got ", text);
  if (text == "cpu") return torch::kCPU;
  MEDKD_CHECK(torch::cuda::is_available(), "--device ", text,
              ": CUDA is not available in this build or on this machine (see medkd --version)");
  try {
    return torch::Device(text);
  } catch (const c10::Error&) {
    throw Error(str("--device ", text, ": not a valid device"));
  }
}

}  // namespace medkd::cli
