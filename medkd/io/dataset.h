// Datasets in the nnU-Net v2 raw layout:
//
//   DIR/dataset.json                 channel_names, labels, numTraining, file_ending
//   DIR/imagesTr/{case}_{XXXX}{end}  one file per channel, XXXX = channel index (0000, 0001, ...)
//   DIR/labelsTr/{case}{end}         integer label map
//   DIR/imagesTs/, DIR/labelsTs/     optional test images and their labels
//   DIR/imagesUl/                    optional images without labels (medkd's extension, for
//                                    distillation on unlabelled images)
//
// open_dataset() is strict (any inconsistency is a medkd::Error); check_dataset() in
// dataset_check.h is the lenient counterpart that lists every problem.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace medkd::io {

struct DatasetJson {
  std::vector<std::string> channel_names;           // index = channel, e.g. {"CT", "PET"}
  std::vector<std::pair<std::string, int>> labels;  // name -> value, "background" -> 0 first
  int num_training = 0;
  std::string file_ending = ".nii.gz";
  std::string name;         // optional "name"
  std::string description;  // optional "description"

  // Label values, sorted, background (0) included if declared.
  std::vector<int> label_values() const;
  std::string label_name(int value) const;  // "" if not declared
};

// Parses dataset.json; throws medkd::Error naming the file and the key on any problem.
DatasetJson read_dataset_json(const std::filesystem::path& path);
std::string dataset_json_text(const DatasetJson& meta);
void write_dataset_json(const DatasetJson& meta, const std::filesystem::path& path);

struct CaseFiles {
  std::string id;
  std::vector<std::filesystem::path> images;   // one per channel, in channel order
  std::optional<std::filesystem::path> label;  // absent for unlabelled test cases
};

struct Dataset {
  std::filesystem::path root;
  DatasetJson meta;
  std::vector<CaseFiles> training;    // imagesTr + labelsTr, sorted by id
  std::vector<CaseFiles> test;        // imagesTs (+ labelsTs when present), sorted by id
  std::vector<CaseFiles> unlabelled;  // imagesUl (images without labels), sorted by id
};

// Channel file name of a case: "{case}_{XXXX}{file_ending}".
std::string channel_file_name(const std::string& case_id, int channel, const std::string& ending);

// Opens a dataset strictly: every training case has all channel files and a label.
// The cases of a folder of images named {case}_{XXXX}{ending} (no labels), sorted by id; a
// missing channel file is a medkd::Error naming it.
std::vector<CaseFiles> list_image_cases(const std::filesystem::path& folder,
                                        const DatasetJson& meta);

Dataset open_dataset(const std::filesystem::path& root);

}  // namespace medkd::io
