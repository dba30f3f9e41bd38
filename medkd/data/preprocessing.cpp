#include "medkd/data/preprocessing.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <numeric>
#include <optional>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/threads.h"
#include "medkd/data/normalization.h"
#include "medkd/data/resampling.h"
#include "medkd/io/image_io.h"

namespace medkd::data {

namespace fs = std::filesystem;

namespace {

// Class indices 0..K-1 from dataset label values; undeclared values are an error naming the case.
torch::Tensor label_values_to_classes(const torch::Tensor& label, const Plan& plan,
                                      const std::string& id) {  // [1, Z, Y, X] -> int64
  torch::Tensor values = label;
  if (values.is_floating_point()) {
    MEDKD_CHECK(torch::equal(values, values.round()), "case ", id,
                ": label map has values that are not integers");
  }
  values = values.to(torch::kLong);
  const torch::Tensor present = std::get<0>(torch::_unique(values));
  std::vector<int64_t> undeclared;
  for (int64_t i = 0; i < present.numel(); ++i) {
    const int64_t value = present[i].item<int64_t>();
    if (std::find(plan.label_values.begin(), plan.label_values.end(), value) ==
        plan.label_values.end())
      undeclared.push_back(value);
  }
  if (!undeclared.empty()) {
    std::ostringstream message;
    message << "case " << id << ": label value(s) ";
    for (size_t i = 0; i < undeclared.size(); ++i) message << (i ? "," : "") << undeclared[i];
    message << " not declared in the plan (declared:";
    for (const int v : plan.label_values) message << ' ' << v;
    message << ")";
    throw Error(message.str());
  }
  torch::Tensor classes = torch::zeros_like(values);
  for (size_t k = 1; k < plan.label_values.size(); ++k)
    classes.masked_fill_(values == plan.label_values[k], static_cast<int64_t>(k));
  return classes;
}

// Voxel coordinates (z, y, x) of each foreground class, subsampled as nnU-Net does: at most
// max(10,000, 1 % of the class) per class, so big structures keep a representative spread.
std::vector<std::vector<std::array<int64_t, 3>>> sample_class_locations(
    const torch::Tensor& classes, int64_t num_classes, core::Rng& rng) {  // [1, Z, Y, X]
  std::vector<std::vector<std::array<int64_t, 3>>> locations(static_cast<size_t>(num_classes));
  for (int64_t k = 1; k < num_classes; ++k) {
    const torch::Tensor coords = torch::nonzero(classes[0] == k).contiguous();  // [N, 3] (z, y, x)
    const int64_t count = coords.size(0);
    if (count == 0) continue;
    const int64_t wanted = std::min<int64_t>(
        count,
        std::max<int64_t>(kClassLocationsPerClass,
                          static_cast<int64_t>(std::ceil(0.01 * static_cast<double>(count)))));
    std::vector<int64_t> rows(static_cast<size_t>(count));
    std::iota(rows.begin(), rows.end(), 0);
    std::vector<int64_t> chosen;
    chosen.reserve(static_cast<size_t>(wanted));
    std::sample(rows.begin(), rows.end(), std::back_inserter(chosen), wanted, rng.engine());
    const auto accessor = coords.accessor<int64_t, 2>();
    auto& out = locations[static_cast<size_t>(k)];
    out.reserve(chosen.size());
    for (const int64_t row : chosen)
      out.push_back({accessor[row][0], accessor[row][1], accessor[row][2]});
  }
  return locations;
}

// [C, Z, Y, X] -> the part inside `box` (x, y, z).
torch::Tensor crop(const torch::Tensor& volume, const BoundingBox& box) {
  return volume.slice(1, box.begin[2], box.end[2])
      .slice(2, box.begin[1], box.end[1])
      .slice(3, box.begin[0], box.end[0])
      .contiguous();
}

// ---- cache entries ----

constexpr int kCacheEntryVersion = 1;

uint64_t fnv1a(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// What a source file looked like when its entry was made.
nlohmann::json source_stamp(const fs::path& path) {
  std::error_code size_error, time_error;
  const auto bytes = fs::file_size(path, size_error);
  const auto time = fs::last_write_time(path, time_error);
  MEDKD_CHECK(!size_error && !time_error, "cannot stat ", path.string(), ": ",
              (size_error ? size_error : time_error).message());
  return {{"path", path.string()},
          {"bytes", static_cast<int64_t>(bytes)},
          {"mtime", static_cast<int64_t>(time.time_since_epoch().count())}};
}

std::vector<fs::path> source_files(const io::CaseFiles& files) {
  std::vector<fs::path> sources = files.images;
  if (files.label) sources.push_back(*files.label);
  return sources;
}

nlohmann::json case_metadata(const PreprocessedCase& c, const std::string& plan_hash,
                             const io::CaseFiles& files) {
  nlohmann::json json;
  json["version"] = kCacheEntryVersion;
  json["id"] = c.id;
  json["plan_hash"] = plan_hash;
  json["has_label"] = c.label.defined();
  json["spacing"] = c.spacing;
  json["original_size"] = c.original_size;
  json["resampled_size"] = c.resampled_size;
  json["crop_begin"] = c.crop_begin;
  json["original_geometry"] = {{"spacing", c.original_geometry.spacing},
                               {"origin", c.original_geometry.origin},
                               {"direction", c.original_geometry.direction}};
  json["sources"] = nlohmann::json::array();
  for (const auto& path : source_files(files)) json["sources"].push_back(source_stamp(path));
  return json;
}

// The entry's metadata if it is complete and current for this plan and these sources. A source
// that no longer exists does not invalidate the entry: training may run from the cache alone.
std::optional<nlohmann::json> current_metadata(const fs::path& metadata_path,
                                               const fs::path& tensors_path,
                                               const std::string& plan_hash,
                                               const io::CaseFiles& files) {
  std::error_code ec;
  if (!fs::exists(metadata_path, ec) || !fs::exists(tensors_path, ec)) return std::nullopt;
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(core::read_text_file(metadata_path));
    if (json.at("version").get<int>() != kCacheEntryVersion) return std::nullopt;
    if (json.at("plan_hash").get<std::string>() != plan_hash) return std::nullopt;
    if (json.at("id").get<std::string>() != files.id) return std::nullopt;
    const auto sources = source_files(files);
    const auto& stamps = json.at("sources");
    if (stamps.size() != sources.size()) return std::nullopt;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (!fs::exists(sources[i], ec)) continue;
      if (source_stamp(sources[i]) != stamps[i]) return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable or from another version: rebuild it
  }
  return json;
}

void write_case_tensors(const PreprocessedCase& c, const fs::path& path) {
  torch::serialize::OutputArchive archive;
  archive.write("image", c.image, /*is_buffer=*/true);
  if (c.label.defined()) archive.write("label", c.label, /*is_buffer=*/true);
  // [N, 4] rows of (class, z, y, x)
  std::vector<int64_t> rows;
  for (size_t k = 0; k < c.class_locations.size(); ++k) {
    for (const auto& zyx : c.class_locations[k]) {
      rows.insert(rows.end(), {static_cast<int64_t>(k), zyx[0], zyx[1], zyx[2]});
    }
  }
  const auto count = static_cast<int64_t>(rows.size() / 4);
  archive.write("class_locations", torch::tensor(rows, torch::kLong).reshape({count, 4}),
                /*is_buffer=*/true);
  archive.write("num_classes", torch::tensor(static_cast<int64_t>(c.class_locations.size())),
                /*is_buffer=*/true);
  core::write_atomically(path, [&](const fs::path& tmp) { archive.save_to(tmp.string()); });
}

std::shared_ptr<PreprocessedCase> read_case(const fs::path& tensors_path,
                                            const nlohmann::json& meta) {
  torch::serialize::InputArchive archive;
  archive.load_from(tensors_path.string());
  auto c = std::make_shared<PreprocessedCase>();
  c->id = meta.at("id").get<std::string>();
  archive.read("image", c->image, /*is_buffer=*/true);
  if (meta.at("has_label").get<bool>()) archive.read("label", c->label, /*is_buffer=*/true);
  torch::Tensor locations, num_classes;
  archive.read("class_locations", locations, /*is_buffer=*/true);
  archive.read("num_classes", num_classes, /*is_buffer=*/true);
  c->class_locations.resize(static_cast<size_t>(num_classes.item<int64_t>()));
  const auto rows = locations.accessor<int64_t, 2>();
  for (int64_t i = 0; i < locations.size(0); ++i)
    c->class_locations.at(static_cast<size_t>(rows[i][0]))
        .push_back({rows[i][1], rows[i][2], rows[i][3]});
  c->spacing = meta.at("spacing").get<std::array<double, 3>>();
  c->original_size = meta.at("original_size").get<std::array<int64_t, 3>>();
  c->resampled_size = meta.at("resampled_size").get<std::array<int64_t, 3>>();
  c->crop_begin = meta.at("crop_begin").get<std::array<int64_t, 3>>();
  const auto& geometry = meta.at("original_geometry");
  c->original_geometry.spacing = geometry.at("spacing").get<std::array<double, 3>>();
  c->original_geometry.origin = geometry.at("origin").get<std::array<double, 3>>();
  c->original_geometry.direction = geometry.at("direction").get<std::array<double, 9>>();
  return c;
}

}  // namespace

BoundingBox nonzero_bounding_box(const torch::Tensor& image) {
  MEDKD_CHECK(image.dim() == 4, "nonzero_bounding_box needs [C, Z, Y, X], got ", image.dim(),
              " dimensions");
  const torch::Tensor mask = (image != 0).any(0);  // [Z, Y, X]
  BoundingBox box;
  // Tensor dims 2, 1, 0 are x, y, z.
  for (int axis = 0; axis < 3; ++axis) {
    const int64_t dim = 2 - axis;
    std::vector<int64_t> others;
    for (int64_t d = 0; d < 3; ++d)
      if (d != dim) others.push_back(d);
    const torch::Tensor profile = mask.any(others[1]).any(others[0]);  // [size along dim]
    const torch::Tensor hits = torch::nonzero(profile).reshape({-1});
    if (hits.numel() == 0)
      return BoundingBox{{0, 0, 0}, {image.size(3), image.size(2), image.size(1)}};
    box.begin[axis] = hits[0].item<int64_t>();
    box.end[axis] = hits[-1].item<int64_t>() + 1;
  }
  return box;
}

PreprocessedCase preprocess_case(const io::Image& image, const io::Image* label, const Plan& plan,
                                 const std::string& id, core::Rng& rng) {
  MEDKD_CHECK(image.data.defined() && image.data.dim() == 4, "case ", id,
              ": image must be [C, Z, Y, X]");
  MEDKD_CHECK(image.channels() == plan.num_channels(), "case ", id, " has ", image.channels(),
              " channel(s) but the plan expects ", plan.num_channels());
  torch::NoGradGuard no_grad;
  PreprocessedCase out;
  out.id = id;
  out.original_geometry = image.geometry;
  out.original_size = image.size_xyz();
  out.spacing = plan.spacing_for(image.geometry.spacing);
  out.resampled_size = resampled_size(out.original_size, image.geometry.spacing, out.spacing);

  torch::Tensor resampled = resample_image(image.data, out.resampled_size,
                                           plan.image_resampling);  // [C, Z', Y', X'] float32
  const BoundingBox box = nonzero_bounding_box(resampled);
  out.crop_begin = box.begin;
  out.image = crop(resampled, box);
  resampled = torch::Tensor();  // release the uncropped volume before normalising
  normalize_channels(out.image, plan.normalization);

  out.class_locations.resize(static_cast<size_t>(plan.num_classes()));
  if (label != nullptr) {
    MEDKD_CHECK(label->data.defined() && label->data.dim() == 4 && label->channels() == 1, "case ",
                id, ": label map must be [1, Z, Y, X]");
    MEDKD_CHECK(label->size_xyz() == image.size_xyz(), "case ", id, ": label size ",
                io::format_size(label->size_xyz()), " differs from the image size ",
                io::format_size(image.size_xyz()));
    const torch::Tensor classes = label_values_to_classes(label->data, plan, id);
    const torch::Tensor resampled_label = resample_label(
        classes, out.resampled_size, plan.label_resampling, plan.num_classes());  // [1, Z', Y', X']
    out.label = crop(resampled_label, box).to(torch::kUInt8);
    out.class_locations = sample_class_locations(out.label, plan.num_classes(), rng);
  }
  return out;
}

io::Image restore_to_original(const torch::Tensor& scores, const PreprocessedCase& preprocessed) {
  MEDKD_CHECK(scores.defined() && scores.dim() == 4, "case ", preprocessed.id,
              ": scores must be [K, Z, Y, X], got ", scores.dim(), " dimensions");
  const std::array<int64_t, 3> crop_size{scores.size(3), scores.size(2), scores.size(1)};
  if (preprocessed.image.defined()) {
    const std::array<int64_t, 3> expected{preprocessed.image.size(3), preprocessed.image.size(2),
                                          preprocessed.image.size(1)};
    MEDKD_CHECK(crop_size == expected, "case ", preprocessed.id, ": scores are ",
                io::format_size(crop_size), " but the preprocessed image is ",
                io::format_size(expected));
  }
  for (int axis = 0; axis < 3; ++axis) {
    MEDKD_CHECK(
        preprocessed.crop_begin[axis] >= 0 &&
            preprocessed.crop_begin[axis] + crop_size[axis] <= preprocessed.resampled_size[axis],
        "case ", preprocessed.id, ": crop does not fit the resampled size ",
        io::format_size(preprocessed.resampled_size));
  }
  torch::NoGradGuard no_grad;
  const auto& full = preprocessed.resampled_size;
  // [K, Z, Y, X] on the uncropped resampled grid: certain background outside the crop.
  torch::Tensor uncropped = torch::zeros({scores.size(0), full[2], full[1], full[0]});
  uncropped[0].fill_(1.0);
  const auto& b = preprocessed.crop_begin;
  uncropped.slice(1, b[2], b[2] + crop_size[2])
      .slice(2, b[1], b[1] + crop_size[1])
      .slice(3, b[0], b[0] + crop_size[0])
      .copy_(scores.to(torch::kFloat32));
  io::Image out;
  out.data = resample_scores(uncropped, preprocessed.original_size);  // [K, Z', Y', X']
  out.geometry = preprocessed.original_geometry;
  return out;
}

PreprocessedCache::PreprocessedCache(fs::path folder, Plan plan, uint64_t seed)
    : folder_(std::move(folder)), plan_(std::move(plan)), seed_(seed) {
  plan_.validate("cache plan");
  plan_hash_ = plan_.preprocessing_hash();
  std::error_code ec;
  fs::create_directories(folder_, ec);
  MEDKD_CHECK(!ec, "cannot create cache folder ", folder_.string(), ": ", ec.message());
  const fs::path stamp = folder_ / "plan_hash";
  std::string existing;
  if (fs::exists(stamp, ec)) existing = core::read_text_file(stamp);
  while (!existing.empty() && std::isspace(static_cast<unsigned char>(existing.back())))
    existing.pop_back();
  if (existing == plan_hash_) return;
  // Another plan (or none) wrote this folder: drop its entries, and only those, so a cache folder
  // pointed at by mistake loses nothing but preprocessed cases.
  for (const auto& entry : fs::directory_iterator(folder_)) {
    const std::string ending = entry.path().extension().string();
    if (entry.is_regular_file() && (ending == ".pt" || ending == ".json")) {
      fs::remove(entry.path(), ec);
      MEDKD_CHECK(!ec, "cannot clear stale cache entry ", entry.path().string(), ": ",
                  ec.message());
    }
  }
  save_plan(plan_, folder_ / "plans.json");
  core::write_text_file(stamp, plan_hash_ + "\n");
}

fs::path PreprocessedCache::tensors_path(const std::string& id) const {
  return folder_ / (id + ".pt");
}

fs::path PreprocessedCache::metadata_path(const std::string& id) const {
  return folder_ / (id + ".json");
}

bool PreprocessedCache::contains(const io::CaseFiles& files) const {
  return current_metadata(metadata_path(files.id), tensors_path(files.id), plan_hash_, files)
      .has_value();
}

std::shared_ptr<const PreprocessedCase> PreprocessedCache::create(
    const io::CaseFiles& files) const {
  const io::Image image = io::read_channels(files.images);
  std::optional<io::Image> label;
  if (files.label) label = io::read_image(*files.label);
  // Seeded by the case id, so an entry is the same whichever order cases are created in.
  core::Rng rng = core::Rng(seed_).child(fnv1a(files.id));
  auto c = std::make_shared<PreprocessedCase>(
      preprocess_case(image, label ? &*label : nullptr, plan_, files.id, rng));
  write_case_tensors(*c, tensors_path(files.id));
  core::write_text_file(metadata_path(files.id),
                        case_metadata(*c, plan_hash_, files).dump(2) + "\n");
  return c;
}

std::shared_ptr<const PreprocessedCase> PreprocessedCache::get_or_create(
    const io::CaseFiles& files) {
  const auto meta =
      current_metadata(metadata_path(files.id), tensors_path(files.id), plan_hash_, files);
  if (meta) {
    try {
      return read_case(tensors_path(files.id), *meta);
    } catch (const std::exception&) {
      // A damaged entry (disk full, foreign file): fall through and rebuild it.
    }
  }
  return create(files);
}

int64_t PreprocessedCache::preprocess_all(const std::vector<io::CaseFiles>& cases, int threads,
                                          const core::ProgressOptions& progress_options) {
  std::atomic<int64_t> created{0};
  const auto count = static_cast<int64_t>(cases.size());
  core::ProgressBar progress("preprocess", count, progress_options);
  core::parallel_for(count, threads, [&](int64_t i) {
    if (!contains(cases[i])) {
      create(cases[i]);
      ++created;
    }
    progress.advance(1, cases[i].id);
  });
  progress.finish();
  return created.load();
}

}  // namespace medkd::data
