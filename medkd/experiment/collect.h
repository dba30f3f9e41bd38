// Reading what the runs of a study left in their folders back into StudyResults: training
// curves from training_log.csv, and overlay slices from the images, references and predictions.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "medkd/experiment/study_results.h"

namespace medkd::experiment {

// The epochs of a training_log.csv (columns found by name: epoch, train_loss, val_dice,
// seconds) and, in `seconds`, the training time they add up to. Errors name the file.
std::vector<CurvePoint> read_training_curve(const std::filesystem::path& log, double* seconds);

// One overlay: the axial slice with the most reference voxels of `label` (0 = any foreground)
// through `image` (one channel file), the reference and each prediction (label files on the
// image's grid), shown with anterior at the top when the direction says which way that is.
Overlay make_overlay(const std::string& case_id, const std::string& set, int fold,
                     const std::filesystem::path& image, const std::filesystem::path& reference,
                     const std::vector<std::string>& runs,
                     const std::vector<std::filesystem::path>& predictions, int label);

}  // namespace medkd::experiment
