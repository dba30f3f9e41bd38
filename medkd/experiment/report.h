// The HTML report of a study (`medkd experiment` writes it as report.html): one self-contained
// HTML5 page that opens offline. Styles are inline, charts are inline SVG (svg_chart.h),
// pictures are PNG data: URIs (png_image.h), and the page references no URL at all.
//
// Sections, in order: title and description; the study's tables; Dice versus parameters as a
// bubble chart whose area is GFLOPs (Teach-Former, Fig. 1); training curves; Dice per case as
// box-and-strip plots per test set and for cross-validation; overlays of the reference and each
// run's prediction on one slice (Teach-Former, Figs. 3-4); how to read it. A section without
// data says so in one line.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "medkd/experiment/png_image.h"
#include "medkd/experiment/study_results.h"

namespace medkd::experiment {

// The whole page. medkd::Error when an overlay's slices disagree in size or its runs and
// predictions differ in number; names and texts may hold any characters (they are escaped).
std::string render_report_html(const StudyResults& results);

// The parts below are what the page is computed from, public so they can be tested.

// Mean Dice of results.report_label of `run` on `set` over every case and fold, NaN values left
// out; NaN when there is none.
double mean_dice(const StudyResults& results, const std::string& run, const std::string& set);

// The intensities shown from black to white: the 1st and 99th percentiles of the slice's finite
// values, so a few extreme voxels (metal, air) do not wash out the picture.
struct IntensityWindow {
  double low = 0, high = 1;
};
IntensityWindow percentile_window(const GreySlice& slice, double low_percent = 1,
                                  double high_percent = 99);

// The fixed colour of a label value in the overlays and their legend (1 red, 2 green, 3 blue,
// ...; it repeats after 12 labels). Label 0 is background and is never painted.
std::array<uint8_t, 3> label_colour(int label);

// The slice windowed to grey, with `labels` (nullptr = none) blended on top in label_colour:
// inside a region at 45% opacity, on its boundary at 90% so the outline stays visible.
RgbImage overlay_picture(const GreySlice& image, const LabelSlice* labels,
                         const IntensityWindow& window);

}  // namespace medkd::experiment
