#include "medkd/data/synth/synth_dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <iomanip>
#include <sstream>

#include "medkd/core/atomic_file.h"
#include "medkd/core/error.h"
#include "medkd/core/progress.h"
#include "medkd/core/rng.h"
#include "medkd/core/threads.h"
#include "medkd/data/synth/mri.h"
#include "medkd/data/synth/petct.h"
#include "medkd/io/image_io.h"

namespace medkd::data::synth {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxCases = 100000;
// A PET/CT case holds about ten float volumes while it is generated, per worker thread: 2^26
// voxels (512 x 512 x 256) is 2.7 GB each.
constexpr int64_t kMaxVoxels = int64_t{1} << 26;

// Everything that differs between the kinds.
struct Kind {
  std::string name;
  std::string title;        // dataset.json "name"
  std::string description;  // what the cases resemble
  std::vector<std::string> channels;
  std::vector<std::pair<std::string, int>> labels;
  std::vector<SynthPreset> presets;
  std::function<SynthCase(const Grid&, bool, core::Rng&)> generate;
};

std::vector<Kind> all_kinds() {
  // Field of view and resolution of the presets:
  //   petct standard: 192 mm cube at 2 x 2 x 3 mm (HECKTOR crops are 144-200 mm around the
  //                   oropharynx; PET is reconstructed at 2-4 mm, CT resampled to match);
  //   mri standard:   96 x 96 x 72 mm at 0.5 x 0.5 x 3 mm, the in-plane and slice spacing of
  //                   PI-CAI's T2W images, cropped around the prostate;
  //   tiny:           the same fields of view on a coarse grid, a few milliseconds per case, for
  //                   tests and smoke runs.
  return {
      {"petct",
       "Synthetic head-and-neck PET/CT",
       "head-and-neck FDG PET/CT like HECKTOR: CT in HU, PET in SUV; labels primary tumour and "
       "metastatic lymph nodes",
       petct_channel_names(),
       petct_labels(),
       {{"standard", {96, 96, 64}, {2.0, 2.0, 3.0}, 20},
        {"tiny", {32, 32, 24}, {6.0, 6.0, 8.0}, 4}},
       generate_petct_case},
      {"mri",
       "Synthetic prostate MRI",
       "biparametric prostate MRI like PI-CAI: T2W, ADC (1e-6 mm^2/s) and b=1400 DWI; label "
       "clinically significant cancer",
       mri_channel_names(),
       mri_labels(),
       {{"standard", {192, 192, 24}, {0.5, 0.5, 3.0}, 20},
        {"tiny", {32, 32, 12}, {3.0, 3.0, 6.0}, 4}},
       generate_mri_case},
  };
}

Kind find_kind(const std::string& name) {
  std::vector<Kind> kinds = all_kinds();
  for (auto& kind : kinds) {
    if (kind.name == name) return kind;
  }
  std::ostringstream names;
  for (size_t i = 0; i < kinds.size(); ++i) names << (i ? " or " : "") << kinds[i].name;
  throw Error(str("--kind must be ", names.str(), ", got '", name, "'"));
}

template <typename T>
std::string format_triple_of(const std::array<T, 3>& v) {
  return str(v[0], ',', v[1], ',', v[2]);
}

// Splits "X,Y,Z" into three trimmed parts; none if the text has another shape.
std::optional<std::array<std::string, 3>> split_triple(const std::string& text) {
  std::array<std::string, 3> parts;
  std::istringstream in(text);
  std::string part;
  size_t count = 0;
  while (std::getline(in, part, ',')) {
    if (count == 3) return std::nullopt;
    const auto first = part.find_first_not_of(" \t");
    const auto last = part.find_last_not_of(" \t");
    if (first == std::string::npos) return std::nullopt;
    parts[count++] = part.substr(first, last - first + 1);
  }
  if (count != 3 || text.empty() || text.back() == ',') return std::nullopt;
  return parts;
}

io::Geometry centred_geometry(const Grid& grid) {
  io::Geometry geometry;
  geometry.spacing = grid.spacing;
  geometry.origin = grid.origin();
  return geometry;
}

void create_folder(const fs::path& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  MEDKD_CHECK(!ec, "cannot create folder ", folder.string(), ": ", ec.message());
}

}  // namespace

std::vector<std::string> synth_kinds() {
  std::vector<std::string> names;
  for (const auto& kind : all_kinds()) names.push_back(kind.name);
  return names;
}

std::vector<SynthPreset> synth_presets(const std::string& kind) { return find_kind(kind).presets; }

std::array<int64_t, 3> parse_size(const std::string& text, const std::string& option) {
  const auto parts = split_triple(text);
  std::array<int64_t, 3> size{};
  bool ok = parts.has_value();
  for (int i = 0; ok && i < 3; ++i) {
    const std::string& part = (*parts)[i];
    size_t used = 0;
    try {
      size[i] = std::stoll(part, &used);
    } catch (const std::exception&) {
      ok = false;
    }
    ok = ok && used == part.size();
  }
  MEDKD_CHECK(ok, option, " must be three integers X,Y,Z (for example 96,96,64), got '", text, "'");
  return size;
}

std::array<double, 3> parse_spacing(const std::string& text, const std::string& option) {
  const auto parts = split_triple(text);
  std::array<double, 3> spacing{};
  bool ok = parts.has_value();
  for (int i = 0; ok && i < 3; ++i) {
    const std::string& part = (*parts)[i];
    size_t used = 0;
    try {
      spacing[i] = std::stod(part, &used);
    } catch (const std::exception&) {
      ok = false;
    }
    ok = ok && used == part.size();
  }
  MEDKD_CHECK(ok, option, " must be three numbers X,Y,Z in mm (for example 2,2,3), got '", text,
              "'");
  return spacing;
}

SynthPlan plan_synth_dataset(const SynthOptions& options) {
  const Kind kind = find_kind(options.kind);
  const auto preset = std::find_if(kind.presets.begin(), kind.presets.end(),
                                   [&](const SynthPreset& p) { return p.name == options.preset; });
  if (preset == kind.presets.end()) {
    std::ostringstream names;
    for (size_t i = 0; i < kind.presets.size(); ++i) {
      names << (i ? " or " : "") << kind.presets[i].name;
    }
    throw Error(str("--preset must be ", names.str(), ", got '", options.preset, "'"));
  }

  SynthPlan plan;
  plan.kind = kind.name;
  plan.preset = preset->name;
  plan.cases = options.cases.value_or(preset->cases);
  MEDKD_CHECK(plan.cases >= 1 && plan.cases <= kMaxCases, "--cases must be between 1 and ",
              kMaxCases, ", got ", plan.cases);
  plan.test_cases = options.test_cases;
  MEDKD_CHECK(plan.test_cases >= 0 && plan.test_cases <= kMaxCases,
              "--test-cases must be between 0 and ", kMaxCases, ", got ", plan.test_cases);
  plan.unlabelled_cases = options.unlabelled_cases;
  MEDKD_CHECK(plan.unlabelled_cases >= 0 && plan.unlabelled_cases <= kMaxCases,
              "--unlabelled-cases must be between 0 and ", kMaxCases, ", got ",
              plan.unlabelled_cases);

  const std::array<int64_t, 3> size = options.size.value_or(preset->size);
  MEDKD_CHECK(size[0] > 0 && size[1] > 0 && size[2] > 0,
              "--size must be three positive integers, got ", format_triple_of(size));
  // Checked in floating point: the product of three large integers can overflow.
  const double voxels =
      static_cast<double>(size[0]) * static_cast<double>(size[1]) * static_cast<double>(size[2]);
  MEDKD_CHECK(voxels <= static_cast<double>(kMaxVoxels), "--size ", format_triple_of(size), " has ",
              static_cast<int64_t>(voxels), " voxels; at most ", kMaxVoxels,
              " (for example 512,512,256) are supported");
  const std::array<double, 3> spacing = options.spacing.value_or(preset->spacing);
  for (double s : spacing) {
    MEDKD_CHECK(std::isfinite(s) && s > 0, "--spacing must be three positive numbers (mm), got ",
                format_triple_of(spacing));
  }
  MEDKD_CHECK(!options.out.empty(), "--out must name the folder to write the dataset to");

  plan.grid.size = size;
  plan.grid.spacing = spacing;
  plan.seed = options.seed;
  plan.out = options.out;
  plan.overwrite = options.overwrite;
  plan.quiet = options.quiet;
  return plan;
}

std::string synth_case_id(const SynthPlan& plan, int64_t index) {
  const int64_t last =
      std::max<int64_t>(plan.cases + plan.test_cases + plan.unlabelled_cases - 1, 0);
  const int width = std::max<int>(3, static_cast<int>(std::to_string(last).size()));
  std::ostringstream id;
  id << plan.kind << '_' << std::setw(width) << std::setfill('0') << index;
  return id.str();
}

bool synth_case_has_lesions(int64_t index) { return index % 5 != 4; }

SynthImages generate_synth_case(const SynthPlan& plan, int64_t index) {
  const Kind kind = find_kind(plan.kind);
  core::Rng rng = core::Rng(plan.seed).child(static_cast<uint64_t>(index));
  const SynthCase generated = kind.generate(plan.grid, synth_case_has_lesions(index), rng);

  const Grid& grid = generated.grid;
  const auto channels = static_cast<int64_t>(generated.channels.size());
  const int64_t voxels = grid.voxels();
  torch::Tensor image =
      torch::empty({channels, grid.size[2], grid.size[1], grid.size[0]}, torch::kFloat32);
  for (int64_t c = 0; c < channels; ++c) {
    std::memcpy(image[c].data_ptr<float>(), generated.channels[c].values.data(),
                static_cast<size_t>(voxels) * sizeof(float));
  }  // [C, Z, Y, X]
  torch::Tensor label = torch::empty({1, grid.size[2], grid.size[1], grid.size[0]}, torch::kUInt8);
  std::memcpy(label.data_ptr<uint8_t>(), generated.labels.data(), static_cast<size_t>(voxels));
  const io::Geometry geometry = centred_geometry(grid);
  return {{image, geometry}, {label, geometry}};
}

io::DatasetJson synth_dataset_json(const SynthPlan& plan) {
  const Kind kind = find_kind(plan.kind);
  io::DatasetJson meta;
  meta.channel_names = kind.channels;
  meta.labels = kind.labels;
  meta.num_training = static_cast<int>(plan.cases);
  meta.file_ending = ".nii.gz";
  meta.name = kind.title;
  meta.description =
      str("Synthetic ", kind.description, ". Generated by medkd synth --kind ", plan.kind,
          " --seed ", plan.seed, ": ", plan.cases, " training and ", plan.test_cases, " test ",
          plan.unlabelled_cases > 0 ? str("and ", plan.unlabelled_cases, " unlabelled (imagesUl) ")
                                    : std::string(),
          "cases of ", io::format_size(plan.grid.size), " voxels at ",
          io::format_triple(plan.grid.spacing), " mm.");
  return meta;
}

SynthPlan write_synth_dataset(const SynthOptions& options) {
  const SynthPlan plan = plan_synth_dataset(options);
  const io::DatasetJson meta = synth_dataset_json(plan);
  const int64_t total = plan.cases + plan.test_cases + plan.unlabelled_cases;
  core::ProgressOptions progress;
  progress.quiet = plan.quiet;

  core::build_folder_atomically(plan.out, plan.overwrite, [&](const fs::path& folder) {
    create_folder(folder / "imagesTr");
    create_folder(folder / "labelsTr");
    if (plan.test_cases > 0) {
      create_folder(folder / "imagesTs");
      create_folder(folder / "labelsTs");
    }
    if (plan.unlabelled_cases > 0) create_folder(folder / "imagesUl");
    io::write_dataset_json(meta, folder / "dataset.json");
    core::ProgressBar bar("synth", total, progress);
    core::parallel_for(total, 0, [&](int64_t index) {
      const bool unlabelled = index >= plan.cases + plan.test_cases;
      const bool test = !unlabelled && index >= plan.cases;
      const std::string id = synth_case_id(plan, index);
      const SynthImages images = generate_synth_case(plan, index);
      const fs::path images_folder = folder / (unlabelled ? "imagesUl"
                                               : test     ? "imagesTs"
                                                          : "imagesTr");
      for (int64_t c = 0; c < images.image.channels(); ++c) {
        const io::Image channel{images.image.data.slice(0, c, c + 1), images.image.geometry};
        io::write_image(channel, images_folder / io::channel_file_name(id, static_cast<int>(c),
                                                                       meta.file_ending));
      }
      if (!unlabelled)
        io::write_image(images.label,
                        folder / (test ? "labelsTs" : "labelsTr") / (id + meta.file_ending));
      bar.advance(1, id);
    });
    bar.finish();
  });
  return plan;
}

}  // namespace medkd::data::synth
