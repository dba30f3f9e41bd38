// `medkd data colin27`: builds a real brain MRI dataset (Colin27 T1 + AAL atlas, plus a second
// subject for a cross-subject test) from files that Debian packages install. The options are
// collected as text here and checked once by the library (data/colin27.h).
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "medkd/data/colin27.h"
#include "medkd/io/image.h"

namespace medkd::cli {

namespace {

std::string label_counts(const std::map<int, int64_t>& counts,
                         const std::vector<std::pair<std::string, int>>& names) {
  std::string text;
  for (const auto& [value, voxels] : counts) {
    std::string name;
    for (const auto& [n, v] : names) {
      if (v == value) name = n;
    }
    text += "    " + std::to_string(value) + " " + name + ": " + std::to_string(voxels) + "\n";
  }
  return text;
}

void add_colin27_command(CLI::App& data) {
  CLI::App* colin = data.add_subcommand(
      "colin27",
      "Colin27 T1 (1 mm) with AAL atlas labels, cut into train/test blocks, plus a second "
      "subject for a cross-subject test");
  colin->footer(
      "Needs the Debian packages mricron-data (Colin27 ch2bet.nii.gz, aal.nii.gz, aal.nii.txt)\n"
      "and insighttoolkit5-examples (KmeansTest_T1*.nii.gz); scripts/install-deps.sh installs\n"
      "both. The image is the brain-extracted T1 (ch2bet), zero outside the brain.\n"
      "Layout of --out:\n"
      "  dataset.json                       channel 0 T1; labels; numTraining\n"
      "  imagesTr/colin27_bNN_0000.nii.gz   training blocks (labelsTr/colin27_bNN.nii.gz)\n"
      "  imagesTs/, labelsTs/               test blocks\n"
      "  crosssubject/imagesTs/kmeanstest_t1_0000.nii.gz, crosssubject/labelsTs/\n"
      "                                     second subject: 1 grey_matter, 2 rest_of_brain\n"
      "  crosssubject/mapping.json          dataset label -> cross-subject label\n"
      "Blocks: --block-slices axial slices from the lowest brain slice up, --gap slices apart so\n"
      "no test slice touches a training one; blocks with under 10% brain are skipped; each is\n"
      "cropped to its brain + 4 voxels in-plane. --split blocks: the 2nd, 5th, 8th... block is\n"
      "a test block. --split hemisphere: left hemisphere (world x > 0 in LPS, the AAL *_L side)\n"
      "trains, the right tests, --gap columns left out at the midline. Each block keeps its\n"
      "origin, so it maps back into the atlas space.\n"
      "Merged labels (--labels merged); --labels aal keeps the AAL index 1-116, rest = 117:\n" +
      data::merged_classes_text() + "See docs/data.md.");

  struct Options {
    data::Colin27Options request;
    std::string templates = data::kColin27TemplatesFolder;
    std::string second_subject = data::kSecondSubjectFolder;
    std::string out;
  };
  auto options = std::make_shared<Options>();
  data::Colin27Options& request = options->request;
  colin->add_option("--out", options->out, "Dataset folder to create")->required();
  colin->add_option("--labels", request.labels, "merged (8 classes) or aal (116 regions + rest)")
      ->capture_default_str();
  colin
      ->add_option("--split", request.split,
                   "blocks (every third block to test) or hemisphere (left train, right test)")
      ->capture_default_str();
  colin->add_option("--block-slices", request.block_slices, "Axial slices (1 mm) per block")
      ->capture_default_str();
  colin
      ->add_option("--gap", request.gap,
                   "Slices left out between blocks (and columns at the midline)")
      ->capture_default_str();
  colin
      ->add_option("--templates", options->templates,
                   "Folder with ch2bet.nii.gz, aal.nii.gz, aal.nii.txt (mricron-data)")
      ->capture_default_str();
  colin
      ->add_option("--second-subject", options->second_subject,
                   "Folder with KmeansTest_T1*.nii.gz (insighttoolkit5-examples)")
      ->capture_default_str();
  colin->add_flag("--overwrite", request.overwrite, "Replace --out if it exists and is not empty");

  colin->callback([options] {
    data::Colin27Options request = options->request;
    request.templates = options->templates;
    request.second_subject = options->second_subject;
    request.out = options->out;
    const data::Colin27Summary summary = data::write_colin27_dataset(request);

    int64_t training = 0;
    for (const auto& block : summary.blocks) training += block.test ? 0 : 1;
    const int64_t test = static_cast<int64_t>(summary.blocks.size()) - training;
    std::cout << "data colin27: wrote " << summary.plan.out.string() << '\n'
              << "  " << training << " training + " << test << " test blocks of "
              << summary.plan.block_slices << " slices, gap " << summary.plan.gap << '\n';
    for (const auto& block : summary.blocks) {
      std::cout << "    " << block.id << (block.test ? "  test " : "  train") << "  slices "
                << block.slice_first << "-" << block.slice_last << "  "
                << io::format_size(block.box.size) << "  brain " << block.brain_voxels << '\n';
    }
    if (summary.plan.labels == data::Colin27Labels::kMerged) {
      std::cout << "  label voxels (whole atlas volume):\n"
                << label_counts(summary.label_voxels,
                                data::colin27_dataset_labels(data::Colin27Labels::kMerged, {}));
    } else {
      std::cout << "  " << summary.label_voxels.size() - 1 << " labels present (AAL 1-116, "
                << data::kAalRestOfBrain << " rest_of_brain)\n";
    }
    std::cout << "  cross-subject case " << io::format_size(summary.cross_subject_size)
              << " voxels:\n"
              << label_counts(summary.cross_subject_label_voxels,
                              {{"background", 0},
                               {"grey_matter", data::kCrossGreyMatter},
                               {"rest_of_brain", data::kCrossRestOfBrain}});
  });
}

}  // namespace

void add_data_command(CLI::App& app, const GlobalOptions& /*global*/) {
  CLI::App* data =
      app.add_subcommand("data", "Build datasets from real images that Debian packages install");
  data->require_subcommand(1);
  add_colin27_command(*data);
}

}  // namespace medkd::cli
