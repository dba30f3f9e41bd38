#include "medkd/experiment/collect.h"

#include <cmath>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/io/image_io.h"

namespace medkd::experiment {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  // getline drops an empty last cell ("…,0.5," has a last column without a value).
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

double number_or_nan(const std::string& text) {
  if (text.empty() || text == "nan") return NAN;
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    return NAN;
  }
}

// Row `y` of a slice is image row `flip ? height - 1 - y : y`.
torch::Tensor axial_slice(const io::Image& image, int64_t z, bool flip) {
  torch::Tensor slice = image.data[0][z];  // [Y, X]
  return flip ? slice.flip({0}).contiguous() : slice.contiguous();
}

LabelSlice label_slice(const torch::Tensor& slice) {
  const torch::Tensor bytes = slice.clamp(0, 255).to(torch::kUInt8).contiguous();
  LabelSlice out;
  out.height = bytes.size(0);
  out.width = bytes.size(1);
  out.labels.assign(bytes.data_ptr<uint8_t>(), bytes.data_ptr<uint8_t>() + bytes.numel());
  return out;
}

}  // namespace

std::vector<CurvePoint> read_training_curve(const fs::path& log, double* seconds) {
  std::stringstream in(core::read_text_file(log));
  std::string line;
  MEDKD_CHECK(std::getline(in, line), log.string(), ": empty training log");
  const auto header = split_csv_line(line);
  const auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return int(i);
    throw Error(str(log.string(), ": no column ", name));
  };
  const int epoch = column("epoch"), loss = column("train_loss"), dice = column("val_dice"),
            time = column("seconds");
  std::vector<CurvePoint> points;
  double total = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split_csv_line(line);
    MEDKD_CHECK(cells.size() == header.size(), log.string(), ": a row with ", cells.size(),
                " cells under a header of ", header.size());
    CurvePoint p;
    p.epoch = int64_t(number_or_nan(cells[epoch]));
    p.train_loss = number_or_nan(cells[loss]);
    p.val_dice = number_or_nan(cells[dice]);
    const double s = number_or_nan(cells[time]);
    if (std::isfinite(s)) total += s;
    points.push_back(p);
  }
  if (seconds) *seconds = total;
  return points;
}

Overlay make_overlay(const std::string& case_id, const std::string& set, int fold,
                     const fs::path& image, const fs::path& reference,
                     const std::vector<std::string>& runs, const std::vector<fs::path>& predictions,
                     int label) {
  const io::Image grey = io::read_image(image);
  const io::Image ref = io::read_image(reference);
  // Voxels of the label per axial slice: [Z].
  const torch::Tensor mask = label == 0 ? ref.data[0] > 0 : ref.data[0] == label;
  const int64_t z = mask.sum({1, 2}).argmax().item<int64_t>();
  // ITK's world is LPS (+y = posterior): when the row index runs against +y, rows run towards
  // anterior, which radiology shows at the top, so the slice is flipped.
  const bool flip = grey.geometry.direction[4] < 0;

  Overlay overlay;
  overlay.case_id = case_id;
  overlay.set = set;
  overlay.fold = fold;
  overlay.slice_index = z;
  const torch::Tensor pixels = axial_slice(grey, z, flip).to(torch::kFloat32).contiguous();
  overlay.image.height = pixels.size(0);
  overlay.image.width = pixels.size(1);
  overlay.image.pixels.assign(pixels.data_ptr<float>(), pixels.data_ptr<float>() + pixels.numel());
  overlay.reference = label_slice(axial_slice(ref, z, flip));
  overlay.runs = runs;
  for (const auto& p : predictions)
    overlay.predictions.push_back(label_slice(axial_slice(io::read_image(p), z, flip)));
  return overlay;
}

}  // namespace medkd::experiment
