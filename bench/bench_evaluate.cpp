// Speed of `medkd evaluate`'s surface distances on a CT-sized pair (512 x 512 x 300 voxels).
//
// Compares, in one run on the same masks:
//   medkd     exact distance transform on the bounding box of both surfaces (what medkd uses);
//   itk_full  ITK's exact Maurer distance map over the whole image, the usual way to compute HD95
//             with ITK (e.g. plastimatch, many challenge evaluation scripts);
// and checks that both give the same HD95 and ASSD. Also times the whole per-case evaluation
// (both labels, overlap and surface metrics) and writing + reading the pair as .nii.gz.
//
// Usage: bench_evaluate [--size X,Y,Z] [--repeat N]   (prints JSON)
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "itkImage.h"
#include "itkSignedMaurerDistanceMapImageFilter.h"
#include "medkd/core/threads.h"
#include "medkd/io/image_io.h"
#include "medkd/metrics/evaluation.h"
#include "medkd/metrics/surface.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A liver-sized ellipsoid (label 1) and a 3 cm lesion (label 2); the prediction is shifted and
// scaled slightly so that distances are non-trivial.
torch::Tensor make_labels(int64_t nx, int64_t ny, int64_t nz, double shift, double scale) {
  auto z = torch::arange(nz, torch::kFloat32).view({nz, 1, 1});
  auto y = torch::arange(ny, torch::kFloat32).view({1, ny, 1});
  auto x = torch::arange(nx, torch::kFloat32).view({1, 1, nx});
  const double cx = nx * 0.45 + shift, cy = ny * 0.5, cz = nz * 0.5;
  auto organ = ((x - cx) / (nx * 0.22 * scale)).pow(2) + ((y - cy) / (ny * 0.18 * scale)).pow(2) +
               ((z - cz) / (nz * 0.3 * scale)).pow(2);
  auto lesion = ((x - nx * 0.62 - shift) / (nx * 0.04)).pow(2) +
                ((y - ny * 0.45) / (ny * 0.04)).pow(2) +
                ((z - nz * 0.55) / (nz * 0.05 * scale)).pow(2);
  auto labels = torch::zeros({1, nz, ny, nx}, torch::kUInt8);
  labels.masked_fill_((organ < 1).unsqueeze(0), 1);
  labels.masked_fill_((lesion < 1).unsqueeze(0), 2);
  return labels;
}

// HD95 and ASSD from ITK's full-image Maurer distance maps of each surface.
medkd::metrics::SurfaceMetrics itk_full_image(const std::vector<uint8_t>& pred,
                                              const std::vector<uint8_t>& ref,
                                              const medkd::metrics::Grid3& grid) {
  using Mask = itk::Image<uint8_t, 3>;
  using Distance = itk::Image<float, 3>;
  auto distances_to = [&](const std::vector<uint8_t>& surface) {
    auto image = Mask::New();
    Mask::RegionType region;
    Mask::SizeType size;
    Mask::SpacingType spacing;
    for (int a = 0; a < 3; ++a) size[a] = grid.size[a], spacing[a] = grid.spacing[a];
    region.SetSize(size);
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->Allocate();
    std::copy(surface.begin(), surface.end(), image->GetBufferPointer());
    auto filter = itk::SignedMaurerDistanceMapImageFilter<Mask, Distance>::New();
    filter->SetInput(image);
    filter->SetUseImageSpacing(true);
    filter->SetSquaredDistance(false);
    filter->SetInsideIsPositive(false);
    filter->Update();
    Distance::Pointer out = filter->GetOutput();
    return out;
  };
  const auto sp = medkd::metrics::surface_voxels(pred, grid);
  const auto sr = medkd::metrics::surface_voxels(ref, grid);
  auto to_ref = distances_to(sr), to_pred = distances_to(sp);
  medkd::metrics::SurfaceDistances d;
  // Inside the one-voxel-thick surface the signed map is <= 0; the distance to it is |value|
  // outside and 0 on it.
  for (size_t i = 0; i < sp.size(); ++i) {
    if (sp[i]) d.pred_to_ref.push_back(std::max(0.0f, to_ref->GetBufferPointer()[i]));
    if (sr[i]) d.ref_to_pred.push_back(std::max(0.0f, to_pred->GetBufferPointer()[i]));
  }
  return medkd::metrics::surface_metrics(d);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t nx = 512, ny = 512, nz = 300;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--size") {
      if (std::sscanf(argv[i + 1], "%ld,%ld,%ld", &nx, &ny, &nz) != 3) return 2;
    } else if (flag == "--repeat") {
      repeat = std::atoi(argv[i + 1]);
    } else {
      std::cerr << "usage: bench_evaluate [--size X,Y,Z] [--repeat N]\n";
      return 2;
    }
  }
  medkd::core::set_num_threads(0);
  const std::array<double, 3> spacing{0.8, 0.8, 2.5};
  const torch::Tensor ref = make_labels(nx, ny, nz, 0, 1.0);
  const torch::Tensor pred = make_labels(nx, ny, nz, 3, 1.03);
  medkd::metrics::Grid3 grid;
  grid.size = {nx, ny, nz};
  grid.spacing = spacing;

  nlohmann::ordered_json result;
  result["size"] = {nx, ny, nz};
  result["spacing_mm"] = spacing;
  result["threads"] = medkd::core::num_threads();
  for (int label : {1, 2}) {
    const torch::Tensor p = (pred == label).to(torch::kUInt8).contiguous(),
                        r = (ref == label).to(torch::kUInt8).contiguous();
    const std::vector<uint8_t> pv(p.data_ptr<uint8_t>(), p.data_ptr<uint8_t>() + p.numel()),
        rv(r.data_ptr<uint8_t>(), r.data_ptr<uint8_t>() + r.numel());
    double ours = 1e30, theirs = 1e30;
    medkd::metrics::SurfaceMetrics a, b;
    for (int k = 0; k < repeat; ++k) {
      auto start = Clock::now();
      a = medkd::metrics::surface_metrics(medkd::metrics::surface_distances(pv, rv, grid, 0));
      ours = std::min(ours, seconds_since(start));
      start = Clock::now();
      b = itk_full_image(pv, rv, grid);
      theirs = std::min(theirs, seconds_since(start));
    }
    nlohmann::ordered_json entry;
    entry["medkd_seconds"] = ours;
    entry["itk_full_image_seconds"] = theirs;
    entry["speedup"] = theirs / ours;
    entry["hd95_mm"] = {a.hd95, b.hd95};
    entry["assd_mm"] = {a.assd, b.assd};
    entry["agree"] = std::abs(a.hd95 - b.hd95) < 1e-3 && std::abs(a.assd - b.assd) < 1e-3;
    result["label_" + std::to_string(label)] = entry;
  }
  // The whole per-case evaluation as `medkd evaluate` runs it, and the file round trip.
  double evaluate_seconds = 1e30;
  for (int k = 0; k < repeat; ++k) {
    const auto start = Clock::now();
    for (int label : {1, 2}) medkd::metrics::evaluate_label(pred, ref, label, spacing, 0);
    evaluate_seconds = std::min(evaluate_seconds, seconds_since(start));
  }
  result["evaluate_case_seconds"] = evaluate_seconds;
  const auto folder = std::filesystem::temp_directory_path() / "medkd-bench-evaluate";
  medkd::io::Image image{ref, {}};
  image.geometry.spacing = spacing;
  auto start = Clock::now();
  medkd::io::write_image(image, folder / "ref.nii.gz");
  result["write_nii_gz_seconds"] = seconds_since(start);
  start = Clock::now();
  medkd::io::read_image(folder / "ref.nii.gz");
  result["read_nii_gz_seconds"] = seconds_since(start);
  std::filesystem::remove_all(folder);
  std::cout << result.dump(2) << std::endl;
  return 0;
}
