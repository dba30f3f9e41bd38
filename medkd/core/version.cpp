#include "medkd/core/version.h"

#include <dlfcn.h>
#include <torch/torch.h>

#include <climits>
#include <cstdlib>
#include <sstream>

#include "itkConfigure.h"
#include "medkd/core/allocator.h"
#include "medkd/core/error.h"
#include "medkd/core/threads.h"
#include "medkd/core/version_config.h"

namespace medkd::core {

std::string detect_blas() {
  // LibTorch links libblas.so.3, which Debian's alternatives point at OpenBLAS or the reference
  // implementation; the library that defines sgemm_ is the one doing the work.
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  std::string path = "unknown";
  if (sgemm != nullptr) {
    Dl_info info{};
    if (dladdr(sgemm, &info) != 0 && info.dli_fname != nullptr) {
      char resolved[PATH_MAX];
      path = realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
    }
  }
  using ConfigFn = const char* (*)();
  auto openblas_config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  std::ostringstream out;
  if (openblas_config != nullptr) {
    out << "OpenBLAS (" << openblas_config() << ")";
  } else if (path.find("/blas/") != std::string::npos) {
    out << "reference BLAS (slow: install libopenblas0-pthread)";
  } else {
    out << "BLAS";
  }
  out << " " << path;
  return out.str();
}

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.medkd_version = kMedkdVersion;
  info.torch_version = TORCH_VERSION;
  info.itk_version = ITK_VERSION_STRING;
  info.cuda_available = torch::cuda::is_available();
  info.cuda_devices = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  info.threads = num_threads();
  info.hardware_threads = hardware_threads();
  info.blas = detect_blas();
  info.allocator_tuned = allocator_tuned();
  return info;
}

std::string format_runtime_info(const RuntimeInfo& info) {
  std::ostringstream out;
  out << "medkd " << info.medkd_version << "\n"
      << "LibTorch " << info.torch_version << "\n"
      << "ITK " << info.itk_version << "\n"
      << "CUDA "
      << (info.cuda_available ? str("available, ", info.cuda_devices, " device(s)")
                              : std::string("not available"))
      << "\n"
      << "threads " << info.threads << " (of " << info.hardware_threads << " hardware threads)\n"
      << "BLAS " << info.blas << "\n"
      << "allocator "
      << (info.allocator_tuned ? "glibc heap only, 1 GiB kept free at its top"
                               : "default (MALLOC_TOP_PAD_ or MALLOC_MMAP_MAX_ set, or not glibc)")
      << "\n";
  return out.str();
}

}  // namespace medkd::core
