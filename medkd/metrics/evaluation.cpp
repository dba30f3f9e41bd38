#include "medkd/metrics/evaluation.h"

#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <mutex>
#include <set>
#include <sstream>

#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/threads.h"
#include "medkd/io/dataset.h"
#include "medkd/io/image_io.h"
#include "medkd/metrics/surface.h"

namespace medkd::metrics {
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> mask_of(const torch::Tensor& labels, int label) {
  const torch::Tensor m = (labels == label).to(torch::kUInt8).contiguous();
  return std::vector<uint8_t>(m.data_ptr<uint8_t>(), m.data_ptr<uint8_t>() + m.numel());
}

Grid3 grid_of(const torch::Tensor& labels, const std::array<double, 3>& spacing) {
  MEDKD_CHECK(labels.dim() == 3 || (labels.dim() == 4 && labels.size(0) == 1),
              "label maps must be [Z, Y, X] or [1, Z, Y, X], got ", labels.sizes());
  const int64_t d = labels.dim();
  Grid3 grid;
  grid.size = {labels.size(d - 1), labels.size(d - 2), labels.size(d - 3)};
  grid.spacing = spacing;
  return grid;
}

// The worst finite distance on the image: its diagonal in mm (size × spacing per axis).
double diagonal_mm(const Grid3& grid) {
  double sum = 0;
  for (int a = 0; a < 3; ++a) sum += std::pow(double(grid.size[a]) * grid.spacing[a], 2);
  return std::sqrt(sum);
}

// Label maps must hold integers; integer-valued floating-point files are accepted.
torch::Tensor integer_labels(const io::Image& image, const std::string& file) {
  if (image.is_integer()) return image.data.to(torch::kInt64);
  const torch::Tensor v = image.data;
  MEDKD_CHECK(torch::isfinite(v).all().item<bool>() && (v == v.round()).all().item<bool>(), file,
              ": not an integer label map (floating-point voxels with fractional values)");
  return v.to(torch::kInt64);
}

std::set<int> values_in(const torch::Tensor& labels) {
  const torch::Tensor unique = std::get<0>(torch::_unique(labels.flatten(), true));
  std::set<int> values;
  for (int64_t i = 0; i < unique.numel(); ++i)
    values.insert(static_cast<int>(unique[i].item<int64_t>()));
  return values;
}

LabelMetrics both_empty(int64_t voxels) {
  LabelMetrics m;
  m.dice = m.iou = m.rvd = m.hd95 = m.assd = NAN;
  m.counts.tn = voxels;
  return m;
}

}  // namespace

LabelMetrics evaluate_label(const torch::Tensor& pred, const torch::Tensor& ref, int label,
                            const std::array<double, 3>& spacing, int threads) {
  MEDKD_CHECK(pred.sizes() == ref.sizes(), "prediction ", pred.sizes(), " and reference ",
              ref.sizes(), " differ in size");
  const Grid3 grid = grid_of(ref, spacing);
  const std::vector<uint8_t> p = mask_of(pred, label), g = mask_of(ref, label);
  LabelMetrics m;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] && g[i])
      ++m.counts.tp;
    else if (p[i])
      ++m.counts.fp;
    else if (g[i])
      ++m.counts.fn;
    else
      ++m.counts.tn;
  }
  const bool pred_empty = m.counts.n_pred() == 0, ref_empty = m.counts.n_ref() == 0;
  if (pred_empty && ref_empty) return both_empty(grid.voxels());
  m.dice = dice(m.counts);
  m.iou = iou(m.counts);
  m.rvd = relative_volume_difference(m.counts);
  if (pred_empty || ref_empty) {
    // A missed or hallucinated structure gets the worst finite distance, so it still counts in
    // averages instead of silently dropping out as NaN or infinity would.
    m.hd95 = m.assd = diagonal_mm(grid);
    return m;
  }
  const SurfaceMetrics s = surface_metrics(surface_distances(p, g, grid, threads));
  m.hd95 = s.hd95;
  m.assd = s.assd;
  return m;
}

SegmentationEvaluator::SegmentationEvaluator(std::vector<int> labels, int threads)
    : labels_(std::move(labels)), threads_(threads) {
  for (int l : labels_) MEDKD_CHECK(l > 0, "evaluated labels must be positive, got ", l);
}

void SegmentationEvaluator::update(const io::Image& pred, const io::Image& ref,
                                   const std::string& prediction_file,
                                   const std::string& reference_file, double tolerance) {
  MEDKD_CHECK(pred.channels() == 1, prediction_file, ": label map has ", pred.channels(),
              " channels");
  MEDKD_CHECK(ref.channels() == 1, reference_file, ": label map has ", ref.channels(), " channels");
  MEDKD_CHECK(pred.size_xyz() == ref.size_xyz(), prediction_file, ": size ",
              io::format_size(pred.size_xyz()), " differs from the reference ", reference_file,
              " (", io::format_size(ref.size_xyz()), ")");
  const std::string diff = pred.geometry.difference(ref.geometry, tolerance);
  MEDKD_CHECK(diff.empty(), prediction_file, ": geometry differs from the reference ",
              reference_file, ": ", diff);
  const torch::Tensor p = integer_labels(pred, prediction_file);
  const torch::Tensor g = integer_labels(ref, reference_file);
  CaseResult result;
  result.prediction_file = prediction_file;
  result.reference_file = reference_file;
  for (int label : labels_)
    result.labels[label] = evaluate_label(p, g, label, ref.geometry.spacing, threads_);
  add(std::move(result));
}

void SegmentationEvaluator::add(CaseResult result) { cases_.push_back(std::move(result)); }

EvaluationSummary SegmentationEvaluator::compute() const {
  EvaluationSummary summary;
  summary.cases = cases_;
  std::sort(
      summary.cases.begin(), summary.cases.end(),
      [](const CaseResult& a, const CaseResult& b) { return a.reference_file < b.reference_file; });
  // nanmean: each metric is averaged over the cases where it is defined.
  auto nanmean = [](const std::vector<double>& v) {
    double sum = 0;
    int n = 0;
    for (double x : v)
      if (!std::isnan(x)) sum += x, ++n;
    return n == 0 ? NAN : sum / n;
  };
  std::vector<MeanMetrics> per_label;
  for (int label : labels_) {
    std::vector<double> dice, iou, rvd, hd95, assd, tp, fp, fn, tn, np, nr;
    int empty = 0;
    for (const CaseResult& c : summary.cases) {
      const auto it = c.labels.find(label);
      if (it == c.labels.end()) continue;
      const LabelMetrics& m = it->second;
      dice.push_back(m.dice), iou.push_back(m.iou), rvd.push_back(m.rvd);
      hd95.push_back(m.hd95), assd.push_back(m.assd);
      tp.push_back(m.counts.tp), fp.push_back(m.counts.fp), fn.push_back(m.counts.fn);
      tn.push_back(m.counts.tn), np.push_back(m.counts.n_pred()), nr.push_back(m.counts.n_ref());
      if (m.counts.n_pred() == 0 && m.counts.n_ref() == 0) ++empty;
    }
    MeanMetrics mean{nanmean(dice), nanmean(iou), nanmean(rvd), nanmean(hd95),
                     nanmean(assd), nanmean(tp),  nanmean(fp),  nanmean(fn),
                     nanmean(tn),   nanmean(np),  nanmean(nr)};
    summary.mean[label] = mean;
    summary.both_empty_cases[label] = empty;
    per_label.push_back(mean);
  }
  auto over_labels = [&](double MeanMetrics::*field) {
    std::vector<double> v;
    for (const MeanMetrics& m : per_label) v.push_back(m.*field);
    return nanmean(v);
  };
  MeanMetrics& f = summary.foreground_mean;
  for (auto field : {&MeanMetrics::dice, &MeanMetrics::iou, &MeanMetrics::rvd, &MeanMetrics::hd95,
                     &MeanMetrics::assd, &MeanMetrics::tp, &MeanMetrics::fp, &MeanMetrics::fn,
                     &MeanMetrics::tn, &MeanMetrics::n_pred, &MeanMetrics::n_ref})
    f.*field = over_labels(field);
  return summary;
}

namespace {

nlohmann::ordered_json metrics_json(double dice, double iou, double rvd, double hd95, double assd,
                                    double tp, double fp, double fn, double tn, double np,
                                    double nr, bool integer_counts) {
  nlohmann::ordered_json j;
  // JSON has no NaN: undefined values (both masks empty) are written as null.
  auto value = [&](const char* key, double v) {
    if (std::isnan(v))
      j[key] = nullptr;
    else
      j[key] = v;
  };
  value("Dice", dice), value("IoU", iou), value("RVD", rvd), value("HD95", hd95),
      value("ASSD", assd);
  auto count = [&](const char* key, double v) {
    if (integer_counts)
      j[key] = static_cast<int64_t>(v);
    else
      value(key, v);
  };
  count("TP", tp), count("FP", fp), count("FN", fn), count("TN", tn);
  count("n_pred", np), count("n_ref", nr);
  return j;
}

nlohmann::ordered_json mean_json(const MeanMetrics& m) {
  return metrics_json(m.dice, m.iou, m.rvd, m.hd95, m.assd, m.tp, m.fp, m.fn, m.tn, m.n_pred,
                      m.n_ref, false);
}

std::string case_name(const std::string& file) { return io::strip_image_ending(fs::path(file)); }

std::string number(double v, int precision = 6) {
  if (std::isnan(v)) return "NaN";
  std::ostringstream out;
  out << std::setprecision(precision) << v;
  return out.str();
}

}  // namespace

nlohmann::ordered_json summary_to_json(const EvaluationSummary& summary) {
  nlohmann::ordered_json j;
  j["foreground_mean"] = mean_json(summary.foreground_mean);
  nlohmann::ordered_json mean = nlohmann::ordered_json::object();
  for (const auto& [label, m] : summary.mean) mean[std::to_string(label)] = mean_json(m);
  j["mean"] = mean;
  nlohmann::ordered_json cases = nlohmann::ordered_json::array();
  for (const CaseResult& c : summary.cases) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
    for (const auto& [label, m] : c.labels) {
      const ConfusionCounts& k = m.counts;
      metrics[std::to_string(label)] = metrics_json(m.dice, m.iou, m.rvd, m.hd95, m.assd, k.tp,
                                                    k.fp, k.fn, k.tn, k.n_pred(), k.n_ref(), true);
    }
    nlohmann::ordered_json entry;
    entry["metrics"] = metrics;
    entry["prediction_file"] = c.prediction_file;
    entry["reference_file"] = c.reference_file;
    cases.push_back(entry);
  }
  j["metric_per_case"] = cases;
  nlohmann::ordered_json empty = nlohmann::ordered_json::object();
  for (const auto& [label, n] : summary.both_empty_cases) empty[std::to_string(label)] = n;
  j["both_empty_cases"] = empty;
  return j;
}

std::string summary_to_csv(const EvaluationSummary& summary) {
  std::ostringstream out;
  out << "case,label,Dice,IoU,RVD,HD95,ASSD,TP,FP,FN,TN,n_pred,n_ref\n";
  for (const CaseResult& c : summary.cases) {
    for (const auto& [label, m] : c.labels) {
      const ConfusionCounts& k = m.counts;
      out << case_name(c.reference_file) << ',' << label << ',' << number(m.dice, 10) << ','
          << number(m.iou, 10) << ',' << number(m.rvd, 10) << ',' << number(m.hd95, 10) << ','
          << number(m.assd, 10) << ',' << k.tp << ',' << k.fp << ',' << k.fn << ',' << k.tn << ','
          << k.n_pred() << ',' << k.n_ref() << '\n';
    }
  }
  return out.str();
}

std::string summary_table(const EvaluationSummary& summary,
                          const std::map<int, std::string>& names) {
  std::ostringstream out;
  out << std::left << std::setw(20) << "label" << std::right << std::setw(9) << "Dice"
      << std::setw(9) << "IoU" << std::setw(11) << "HD95 mm" << std::setw(11) << "ASSD mm"
      << std::setw(9) << "RVD" << std::setw(8) << "cases" << '\n';
  auto row = [&](const std::string& name, const MeanMetrics& m, const std::string& cases) {
    out << std::left << std::setw(20) << name << std::right << std::fixed << std::setprecision(4)
        << std::setw(9) << m.dice << std::setw(9) << m.iou << std::setprecision(2) << std::setw(11)
        << m.hd95 << std::setw(11) << m.assd << std::setprecision(3) << std::setw(9) << m.rvd
        << std::setw(8) << cases << '\n';
  };
  for (const auto& [label, m] : summary.mean) {
    const auto it = names.find(label);
    const std::string name = std::to_string(label) + (it != names.end() ? " " + it->second : "");
    const int empty =
        summary.both_empty_cases.count(label) ? summary.both_empty_cases.at(label) : 0;
    row(name, m, std::to_string(int(summary.cases.size()) - empty));
  }
  row("foreground mean", summary.foreground_mean, "");
  out << "(cases: cases in which the label is in the prediction or the reference; "
         "HD95/ASSD of a missed or spurious structure = image diagonal)\n";
  return out.str();
}

namespace {

// The prediction for a reference file: the same file name, else the same case name with any
// image ending (a .nii reference may be compared with a .nii.gz prediction).
fs::path find_prediction(const fs::path& pred_dir, const fs::path& ref) {
  const fs::path same = pred_dir / ref.filename();
  if (fs::exists(same)) return same;
  const std::string case_id = io::strip_image_ending(ref);
  for (const char* ending : {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr"}) {
    const fs::path candidate = pred_dir / (case_id + ending);
    if (fs::exists(candidate)) return candidate;
  }
  return {};
}

}  // namespace

FolderEvaluation evaluate_folders(const EvaluateFoldersOptions& options) {
  MEDKD_CHECK(fs::is_directory(options.ref_dir), "--ref ", options.ref_dir.string(),
              " is not a folder");
  MEDKD_CHECK(fs::is_directory(options.pred_dir), "--pred ", options.pred_dir.string(),
              " is not a folder");
  FolderEvaluation result;
  std::string ending;
  std::vector<int> labels = options.labels;
  if (!options.dataset_json.empty()) {
    const io::DatasetJson meta = io::read_dataset_json(options.dataset_json);
    ending = meta.file_ending;
    for (const auto& [name, value] : meta.labels) {
      result.label_names[value] = name;
      if (options.labels.empty() && value != 0) labels.push_back(value);
    }
  }
  std::vector<fs::path> refs;
  for (const auto& entry : fs::directory_iterator(options.ref_dir)) {
    const fs::path& p = entry.path();
    if (p.filename().string().rfind('.', 0) == 0 || !io::is_image_file(p)) continue;
    if (!ending.empty() && io::image_file_ending(p) != ending) continue;
    refs.push_back(p);
  }
  std::sort(refs.begin(), refs.end());
  MEDKD_CHECK(!refs.empty(), "--ref ", options.ref_dir.string(), ": no label files",
              ending.empty() ? std::string(" (.nii.gz, .nii, .mha, .mhd, .nrrd, .nhdr)")
                             : " ending in " + ending);
  std::vector<fs::path> preds;
  std::vector<std::string> missing;
  std::set<fs::path> used;
  for (const fs::path& ref : refs) {
    preds.push_back(find_prediction(options.pred_dir, ref));
    if (preds.back().empty())
      missing.push_back(ref.filename().string());
    else
      used.insert(preds.back());
  }
  if (!missing.empty()) {
    std::ostringstream list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list << (i ? ", " : "") << missing[i];
    if (missing.size() > 5) list << ", ...";
    throw Error(str("--pred ", options.pred_dir.string(), ": no prediction for ", missing.size(),
                    " reference case(s) of ", options.ref_dir.string(), ": ", list.str()));
  }
  for (const auto& entry : fs::directory_iterator(options.pred_dir)) {
    const fs::path& p = entry.path();
    if (io::is_image_file(p) && p.filename().string().rfind('.', 0) != 0 && !used.count(p))
      result.ignored_predictions.push_back(p.filename().string());
  }

  // Without a label list every value present in any reference or prediction is evaluated, so
  // each case is evaluated for the labels it contains and the rest are filled in afterwards.
  const bool discover = labels.empty();
  std::vector<CaseResult> results(refs.size());
  std::vector<int64_t> voxels(refs.size());
  std::set<int> discovered;
  std::mutex mutex;
  const int workers = options.threads > 0 ? options.threads : core::num_threads();
  core::ProgressBar progress("evaluate", static_cast<int64_t>(refs.size()),
                             core::ProgressOptions{options.quiet});
  core::parallel_for(static_cast<int64_t>(refs.size()), workers, [&](int64_t i) {
    const io::Image ref = io::read_image(refs[i]);
    const io::Image pred = io::read_image(preds[i]);
    std::vector<int> case_labels = labels;
    if (discover) {
      std::set<int> present;
      for (const auto& [image, file] : {std::pair{&ref, &refs[i]}, std::pair{&pred, &preds[i]}}) {
        const std::set<int> values = values_in(integer_labels(*image, file->string()));
        MEDKD_CHECK(values.empty() || *values.begin() >= 0, file->string(),
                    ": negative label value ", *values.begin());
        present.insert(values.begin(), values.end());
      }
      present.erase(0);
      case_labels.assign(present.begin(), present.end());
      std::lock_guard<std::mutex> lock(mutex);
      discovered.insert(present.begin(), present.end());
    }
    SegmentationEvaluator one(case_labels, 1);
    one.update(pred, ref, preds[i].string(), refs[i].string(), options.tolerance);
    results[i] = one.compute().cases.front();
    voxels[i] = ref.data.numel();
    progress.advance(1, refs[i].filename().string());
  });
  progress.finish();
  if (discover) labels.assign(discovered.begin(), discovered.end());
  MEDKD_CHECK(!labels.empty(), "no foreground label in any reference or prediction of ",
              options.ref_dir.string(), " (pass --labels or --dataset-json)");
  SegmentationEvaluator evaluator(labels);
  for (size_t i = 0; i < results.size(); ++i) {
    for (int label : labels)
      if (!results[i].labels.count(label)) results[i].labels[label] = both_empty(voxels[i]);
    evaluator.add(std::move(results[i]));
  }
  result.summary = evaluator.compute();
  return result;
}

}  // namespace medkd::metrics
