// What medkd runs on: its own version, LibTorch's and ITK's, CUDA, threads and the BLAS library
// that LibTorch's matrix products go through (OpenBLAS is ~30x faster than the reference BLAS).
#pragma once

#include <string>

namespace medkd::core {

struct RuntimeInfo {
  std::string medkd_version;
  std::string torch_version;
  std::string itk_version;
  bool cuda_available = false;
  int cuda_devices = 0;
  int threads = 1;
  int hardware_threads = 1;
  std::string blas;              // e.g. "OpenBLAS 0.3.21 (pthread) /usr/lib/.../libblas.so.3"
  bool allocator_tuned = false;  // medkd::core::tune_allocator() took effect
};

RuntimeInfo runtime_info();
std::string format_runtime_info(const RuntimeInfo& info);

// Which BLAS library provides sgemm_ in this process, with its version when it says so.
std::string detect_blas();

}  // namespace medkd::core
