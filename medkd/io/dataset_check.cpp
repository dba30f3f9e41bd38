#include "medkd/io/dataset_check.h"

#include <torch/torch.h>

#include <algorithm>
#include <iomanip>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/threads.h"
#include "medkd/io/file_integrity.h"
#include "medkd/io/image_io.h"

namespace medkd::io {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// One case to read: its channel files (some may be missing) and its label, if any.
struct CaseToCheck {
  std::string id;
  std::vector<fs::path> channels;  // present channel files, channel order
  fs::path label;                  // empty if none
  bool training = true;
};

class Checker {
 public:
  Checker(fs::path root, DatasetCheckOptions options) : root_(std::move(root)), options_(options) {}

  DatasetCheckReport run() {
    if (!fs::is_directory(root_)) {
      add(root_, "not a folder");
      return finish();
    }
    try {
      report_.meta = read_dataset_json(root_ / "dataset.json");
    } catch (const Error& e) {
      add(root_ / "dataset.json", strip_file_prefix(e.what(), root_ / "dataset.json"));
      return finish();
    }
    const auto& meta = report_.meta;
    if (!fs::is_directory(root_ / "imagesTr")) add(root_ / "imagesTr", "missing folder");
    if (!fs::is_directory(root_ / "labelsTr")) add(root_ / "labelsTr", "missing folder");
    if (std::find_if(meta.labels.begin(), meta.labels.end(),
                     [](const auto& l) { return l.second == 0; }) == meta.labels.end())
      add(root_ / "dataset.json", "labels do not declare background (value 0)");

    std::vector<CaseToCheck> cases = collect("imagesTr", "labelsTr", true);
    int training = 0;
    for (const auto& c : cases)
      if (!c.label.empty() && c.channels.size() == meta.channel_names.size()) ++training;
    report_.training_cases = training;
    if (training != meta.num_training)
      add(root_ / "dataset.json",
          str("numTraining is ", meta.num_training, " but imagesTr/labelsTr hold ", training,
              " complete training cases"));
    std::vector<CaseToCheck> test = collect("imagesTs", "labelsTs", false);
    report_.test_cases = static_cast<int>(test.size());
    cases.insert(cases.end(), test.begin(), test.end());
    // medkd's extension of the layout: images without labels, for distillation.
    std::vector<CaseToCheck> unlabelled = collect("imagesUl", "", false);
    report_.unlabelled_cases = static_cast<int>(unlabelled.size());
    cases.insert(cases.end(), unlabelled.begin(), unlabelled.end());

    core::ProgressBar progress("dataset check", static_cast<int64_t>(cases.size()),
                               core::ProgressOptions{options_.quiet});
    core::parallel_for(static_cast<int64_t>(cases.size()), options_.threads, [&](int64_t i) {
      check_case(cases[i]);
      progress.advance(1, cases[i].id);
    });
    progress.finish();
    return finish();
  }

 private:
  void add(const fs::path& file, const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    report_.problems.push_back({file, message});
  }

  // Error messages from the library name the file; the report prints it in front already.
  static std::string strip_file_prefix(const std::string& message, const fs::path& file) {
    for (const std::string& prefix : {file.string() + ": ", "cannot read " + file.string() + ": "})
      if (message.rfind(prefix, 0) == 0) return message.substr(prefix.size());
    return message;
  }

  std::vector<CaseToCheck> collect(const std::string& images_name, const std::string& labels_name,
                                   bool training) {
    const auto& meta = report_.meta;
    const fs::path images = root_ / images_name;
    const fs::path labels = labels_name.empty() ? fs::path() : root_ / labels_name;
    const int n_channels = static_cast<int>(meta.channel_names.size());
    std::map<std::string, std::set<int>> channels_of;
    if (fs::is_directory(images)) {
      for (const auto& entry : fs::directory_iterator(images)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind('.', 0) == 0) continue;  // hidden files
        if (!ends_with(name, meta.file_ending)) {
          add(entry.path(), str("unexpected file: ending is not the dataset's file_ending \"",
                                meta.file_ending, "\""));
          continue;
        }
        const std::string stem = name.substr(0, name.size() - meta.file_ending.size());
        if (stem.size() < 6 || stem[stem.size() - 5] != '_' ||
            !all_digits(stem.substr(stem.size() - 4))) {
          add(entry.path(), "unexpected file name: expected {case}_{XXXX}" + meta.file_ending +
                                " with a four-digit channel index");
          continue;
        }
        const int channel = std::stoi(stem.substr(stem.size() - 4));
        if (channel >= n_channels) {
          add(entry.path(), str("channel index ", channel, " but dataset.json declares ",
                                n_channels, " channel(s)"));
          continue;
        }
        channels_of[stem.substr(0, stem.size() - 5)].insert(channel);
      }
    }
    std::set<std::string> label_ids;
    if (!labels.empty() && fs::is_directory(labels)) {
      for (const auto& entry : fs::directory_iterator(labels)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind('.', 0) == 0) continue;
        if (!ends_with(name, meta.file_ending)) {
          add(entry.path(), str("unexpected file: ending is not the dataset's file_ending \"",
                                meta.file_ending, "\""));
          continue;
        }
        const std::string id = name.substr(0, name.size() - meta.file_ending.size());
        label_ids.insert(id);
        if (!channels_of.count(id))
          add(entry.path(), "label without images (no " + images_name + "/" +
                                channel_file_name(id, 0, meta.file_ending) + ")");
      }
    }
    std::vector<CaseToCheck> cases;
    for (const auto& [id, present] : channels_of) {
      CaseToCheck c;
      c.id = id;
      c.training = training;
      for (int ch = 0; ch < n_channels; ++ch) {
        const fs::path file = images / channel_file_name(id, ch, meta.file_ending);
        if (present.count(ch)) {
          c.channels.push_back(file);
        } else {
          add(file, str("missing channel ", ch, " (", meta.channel_names[ch], ") of case ", id));
        }
      }
      if (labels.empty()) {
        // no labels for this folder
      } else if (label_ids.count(id)) {
        c.label = labels / (id + meta.file_ending);
      } else if (training) {
        add(labels / (id + meta.file_ending), "missing label of case " + id);
      }
      cases.push_back(std::move(c));
    }
    return cases;
  }

  // Reads one file; a problem is reported (and nullopt returned) if it cannot be read.
  std::optional<Image> read(const fs::path& file) {
    try {
      return read_image(file);
    } catch (const Error& e) {
      add(file, strip_file_prefix(e.what(), file));
    } catch (const std::exception& e) {
      add(file, str("cannot read: ", e.what()));
    }
    return std::nullopt;
  }

  void compare_geometry(const fs::path& file, const Image& image, const fs::path& reference_file,
                        const Image& reference) {
    if (image.size_xyz() != reference.size_xyz()) {
      add(file,
          str("size ", format_size(image.size_xyz()), " differs from ",
              reference_file.filename().string(), " (", format_size(reference.size_xyz()), ")"));
      return;
    }
    const std::string diff = image.geometry.difference(reference.geometry, options_.tolerance);
    if (!diff.empty())
      add(file, str("geometry differs from ", reference_file.filename().string(), ": ", diff));
  }

  void check_case(const CaseToCheck& c) {
    std::optional<Image> first;
    fs::path first_file;
    for (const fs::path& file : c.channels) {
      std::optional<Image> image = read(file);
      if (!image) continue;
      int64_t non_finite = count_non_finite_in_file(file);
      if (non_finite < 0) {
        const torch::Tensor values = image->data.to(torch::kFloat32);
        non_finite = values.numel() - torch::isfinite(values).sum().item<int64_t>();
      }
      if (non_finite > 0) add(file, str(non_finite, " voxel(s) are NaN or Inf"));
      if (!first) {
        first = std::move(image);
        first_file = file;
      } else {
        compare_geometry(file, *image, first_file, *first);
      }
    }
    if (c.label.empty()) return;
    std::optional<Image> label = read(c.label);
    if (!label) return;
    if (!label->is_integer()) {
      const torch::Tensor v = label->data;
      if (!torch::isfinite(v).all().item<bool>() || !(v == v.round()).all().item<bool>()) {
        add(c.label, "label map is not integer (floating-point voxels with fractional values)");
        return;
      }
    }
    if (first) compare_geometry(c.label, *label, first_file, *first);
    check_label_values(c, *label);
    if (c.training) record_statistics(*label);
  }

  void check_label_values(const CaseToCheck& c, const Image& label) {
    const torch::Tensor values = label.data.to(torch::kInt64).flatten();
    const auto [unique, inverse, counts] = torch::_unique2(values, true, false, true);
    const std::vector<int> declared = report_.meta.label_values();
    std::vector<int64_t> undeclared;
    for (int64_t i = 0; i < unique.numel(); ++i) {
      const int64_t v = unique[i].item<int64_t>();
      if (!std::binary_search(declared.begin(), declared.end(), static_cast<int>(v)))
        undeclared.push_back(v);
    }
    if (!undeclared.empty()) {
      std::ostringstream list;
      for (size_t i = 0; i < undeclared.size() && i < 10; ++i)
        list << (i ? ", " : "") << undeclared[i];
      if (undeclared.size() > 10) list << ", ...";
      add(c.label, "label value(s) " + list.str() + " not declared in dataset.json");
    }
    if (c.training) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int64_t i = 0; i < unique.numel(); ++i)
        report_.label_voxels[static_cast<int>(unique[i].item<int64_t>())] +=
            counts[i].item<int64_t>();
    }
  }

  void record_statistics(const Image& label) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto size = label.size_xyz();
    const auto& spacing = label.geometry.spacing;
    if (!have_statistics_) {
      report_.min_spacing = report_.max_spacing = spacing;
      report_.min_size = report_.max_size = size;
      have_statistics_ = true;
      return;
    }
    for (int i = 0; i < 3; ++i) {
      report_.min_spacing[i] = std::min(report_.min_spacing[i], spacing[i]);
      report_.max_spacing[i] = std::max(report_.max_spacing[i], spacing[i]);
      report_.min_size[i] = std::min(report_.min_size[i], size[i]);
      report_.max_size[i] = std::max(report_.max_size[i], size[i]);
    }
  }

  DatasetCheckReport finish() {
    std::sort(report_.problems.begin(), report_.problems.end(), [](const auto& a, const auto& b) {
      return a.file != b.file ? a.file < b.file : a.message < b.message;
    });
    return std::move(report_);
  }

  fs::path root_;
  DatasetCheckOptions options_;
  DatasetCheckReport report_;
  std::mutex mutex_;
  bool have_statistics_ = false;
};

}  // namespace

DatasetCheckReport check_dataset(const fs::path& root, const DatasetCheckOptions& options) {
  return Checker(root, options).run();
}

std::string format_dataset_summary(const DatasetCheckReport& r) {
  std::ostringstream out;
  out << r.training_cases << " training case(s), " << r.test_cases << " test case(s)";
  if (r.unlabelled_cases > 0) out << ", " << r.unlabelled_cases << " unlabelled case(s)";
  out << '\n';
  out << "channels:";
  for (size_t c = 0; c < r.meta.channel_names.size(); ++c)
    out << ' ' << c << '=' << r.meta.channel_names[c];
  out << "\nlabels:";
  int64_t total = 0;
  for (const auto& [value, count] : r.label_voxels) total += count;
  for (const auto& [name, value] : r.meta.labels) {
    out << ' ' << value << '=' << name;
    const auto it = r.label_voxels.find(value);
    if (total > 0) {
      const double percent =
          it == r.label_voxels.end() ? 0.0 : 100.0 * double(it->second) / double(total);
      out << " (" << std::setprecision(3) << percent << "% of voxels)";
    }
  }
  out << "\nspacing (mm): " << format_triple(r.min_spacing) << " to "
      << format_triple(r.max_spacing) << "\nsize (voxels): " << format_size(r.min_size) << " to "
      << format_size(r.max_size) << "\n";
  return out.str();
}

}  // namespace medkd::io
