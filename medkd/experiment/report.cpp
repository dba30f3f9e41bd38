#include "medkd/experiment/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "medkd/core/error.h"
#include "medkd/experiment/svg_chart.h"

namespace medkd::experiment {
namespace {

// Tableau 10: distinct hues of similar weight, readable on white, for runs (lines and strips).
const std::vector<std::string> kRunPalette = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2",
                                              "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                                              "#9c755f", "#bab0ac"};

// Okabe-Ito colours for the three roles, distinguishable with colour-vision deficiencies.
std::string role_colour(const std::string& role) {
  if (role == "teacher") return "#d55e00";
  if (role == "student") return "#0072b2";
  if (role == "distilled") return "#009e73";
  return "#7f7f7f";
}

// Kelly/Trubetskoy's distinct colours, strong enough to show at 45% over a grey slice.
constexpr std::array<std::array<uint8_t, 3>, 12> kLabelPalette = {{{230, 25, 75},
                                                                   {60, 180, 75},
                                                                   {0, 130, 200},
                                                                   {255, 225, 25},
                                                                   {245, 130, 48},
                                                                   {145, 30, 180},
                                                                   {70, 240, 240},
                                                                   {240, 50, 230},
                                                                   {210, 245, 60},
                                                                   {250, 190, 212},
                                                                   {0, 128, 128},
                                                                   {170, 110, 40}}};

constexpr double kFillOpacity = 0.45, kBoundaryOpacity = 0.9;

std::string css_colour(const std::array<uint8_t, 3>& rgb) {
  return "rgb(" + std::to_string(rgb[0]) + "," + std::to_string(rgb[1]) + "," +
         std::to_string(rgb[2]) + ")";
}

const char* kStyle = R"(
body { margin: 0; background: #fff; color: #222; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 1.7rem; margin: 0 0 .3rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05rem; margin: 1.3rem 0 .4rem; }
.description { white-space: pre-line; margin: .3rem 0; }
.meta, .note, figcaption, .empty, nav { color: #555; font-size: .92rem; }
nav a { color: #1f5fa8; margin-right: .8em; }
.table-wrap { overflow-x: auto; margin: .4rem 0 1.4rem; }
table { border-collapse: collapse; font-size: .9rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { padding: .3rem .65rem; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
tbody tr:nth-child(even) { background: #f7f8fa; }
td.num { text-align: right; white-space: nowrap; }
.table-wrap .note { margin: .2rem 0 0; }
figure { margin: .6rem 0 1.2rem; }
svg.chart { display: block; max-width: 100%; height: auto; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
.panels { display: flex; flex-wrap: wrap; gap: 10px; }
.panels figure { margin: 0; }
.panels img { display: block; image-rendering: pixelated; border: 1px solid #ccc; background: #000; }
.legend { font-size: .92rem; margin: .3rem 0 .8rem; }
.swatch { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em;
  margin: 0 .3em 0 .9em; border: 1px solid rgba(0,0,0,.25); }
.legend .swatch:first-child { margin-left: 0; }
footer { margin-top: 2.5rem; border-top: 1px solid #ddd; color: #444; font-size: .92rem; }
footer h2 { border: none; font-size: 1.1rem; }
)";

std::string html(std::string_view text) { return escape_xml(text); }

std::string empty_line(const std::string& text) {
  return "<p class=\"empty\">" + html(text) + "</p>\n";
}

// Every run named anywhere in the results, the recipe's first, then others as they appear, so
// a run missing from results.runs still gets a colour and a place.
std::vector<std::string> run_order(const StudyResults& results) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  const auto add = [&](const std::string& name) {
    if (seen.insert(name).second) order.push_back(name);
  };
  for (const RunSummary& run : results.runs) add(run.name);
  for (const CaseMetric& metric : results.metrics) add(metric.run);
  for (const TrainingCurve& curve : results.curves) add(curve.run);
  for (const Overlay& overlay : results.overlays)
    for (const std::string& run : overlay.runs) add(run);
  return order;
}

// A cell of a tables.md table as HTML; numbers ("0.810 Â± 0.014", "+0.012", "0.031 *") align right.
std::string table_cell(const std::string& cell) {
  const bool has_digit = cell.find_first_of("0123456789") != std::string::npos;
  const bool has_word = std::any_of(cell.begin(), cell.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) && c != 'e' && c != 'E';
  });
  return (has_digit && !has_word ? "<td class=\"num\">" : "<td>") + html(cell) + "</td>";
}

std::string tables_section(const StudyResults& results) {
  std::string out = "<section id=\"tables\">\n<h2>Tables</h2>\n";
  if (results.tables.empty()) return out + empty_line("No tables were produced.") + "</section>\n";
  for (const Table& table : results.tables) {
    out += "<div class=\"table-wrap\">\n<table>\n<caption>" + html(table.title) + "</caption>\n";
    out += "<thead><tr>";
    for (const std::string& name : table.header) out += "<th>" + html(name) + "</th>";
    out += "</tr></thead>\n<tbody>\n";
    for (const auto& row : table.rows) {
      out += "<tr>";
      for (const std::string& cell : row) out += table_cell(cell);
      out += "</tr>\n";
    }
    out += "</tbody>\n</table>\n";
    if (!table.note.empty()) out += "<p class=\"note\">" + html(table.note) + "</p>\n";
    out += "</div>\n";
  }
  return out + "</section>\n";
}

std::string bubble_section(const StudyResults& results) {
  std::string out = "<section id=\"dice-vs-size\">\n<h2>Dice versus model size</h2>\n";
  const std::string set = results.test_sets.empty() ? "cv" : results.test_sets.front();
  std::vector<Bubble> bubbles;
  std::vector<std::string> left_out;
  std::vector<std::string> roles;
  for (const RunSummary& run : results.runs) {
    const double dice = mean_dice(results, run.name, set);
    if (!std::isfinite(dice) || !(run.params_millions > 0)) {
      left_out.push_back(run.name);
      continue;
    }
    Bubble bubble;
    bubble.x = run.params_millions;
    bubble.y = dice;
    bubble.size = std::max(0.0, run.gflops);
    bubble.label = run.name;
    bubble.colour = role_colour(run.role);
    bubble.tooltip = run.name + " (" + run.role + ", " + run.architecture + "): Dice " +
                     format_number(dice, 3) + ", " + format_number(run.params_millions, 2) +
                     " M parameters, " + format_number(run.gflops, 2) + " GFLOPs";
    bubbles.push_back(bubble);
    if (std::find(roles.begin(), roles.end(), run.role) == roles.end()) roles.push_back(run.role);
  }
  if (bubbles.empty())
    return out + empty_line("No run has both a parameter count and a Dice on '" + set + "'.") +
           "</section>\n";

  BubbleChartOptions options;
  options.title = "Mean Dice on " + set + " versus parameters; bubble area is GFLOPs";
  options.x_title = "parameters (millions, log scale)";
  options.y_title = "mean Dice (" +
                    (results.label_name.empty() ? "foreground" : results.label_name) + ", " + set +
                    ")";
  options.log_x = true;
  options.size_unit = "GFLOPs";
  for (const char* role : {"teacher", "student", "distilled"})
    if (std::find(roles.begin(), roles.end(), role) != roles.end())
      options.colour_legend.push_back({role, role_colour(role)});
  for (const std::string& role : roles)
    if (role != "teacher" && role != "student" && role != "distilled")
      options.colour_legend.push_back({role.empty() ? "(no role)" : role, role_colour(role)});

  out += "<figure>\n" + bubble_chart_svg(bubbles, options);
  out +=
      "<figcaption>Each bubble is a run: across, its parameters in millions (log scale); up, "
      "its mean Dice on <b>" +
      html(set) +
      "</b> over all cases and folds; the bubble's area is proportional to the GFLOPs of one "
      "forward pass of one patch; the colour is its role. Up and to the left is better.";
  if (!left_out.empty()) {
    out += " Not shown (no Dice on this set, or no parameter count): ";
    for (size_t i = 0; i < left_out.size(); ++i) out += (i ? ", " : "") + html(left_out[i]);
    out += ".";
  }
  return out + "</figcaption>\n</figure>\n</section>\n";
}

std::string curves_section(const StudyResults& results,
                           const std::map<std::string, std::string>& colours) {
  std::string out = "<section id=\"curves\">\n<h2>Training curves</h2>\n";
  if (results.curves.empty())
    return out + empty_line("No training curves were recorded.") + "</section>\n";

  // Per run and epoch, the mean over the models (folds, seeds) that logged a value there.
  struct Sums {
    double loss = 0, dice = 0;
    int losses = 0, dices = 0;
  };
  std::map<std::string, std::map<int64_t, Sums>> by_run;
  std::map<std::string, size_t> models;
  for (const TrainingCurve& curve : results.curves) {
    ++models[curve.run];
    for (const CurvePoint& point : curve.points) {
      Sums& sums = by_run[curve.run][point.epoch];
      if (std::isfinite(point.train_loss)) sums.loss += point.train_loss, ++sums.losses;
      if (std::isfinite(point.val_dice)) sums.dice += point.val_dice, ++sums.dices;
    }
  }
  std::vector<LineSeries> dice_lines, loss_lines;
  bool any_dice = false, any_loss = false;
  for (const std::string& run : run_order(results)) {
    const auto found = by_run.find(run);
    if (found == by_run.end()) continue;
    LineSeries dice{run, colours.at(run), {}, {}}, loss{run, colours.at(run), {}, {}};
    for (const auto& [epoch, sums] : found->second) {
      dice.x.push_back(static_cast<double>(epoch));
      loss.x.push_back(static_cast<double>(epoch));
      dice.y.push_back(sums.dices ? sums.dice / sums.dices : std::nan(""));
      loss.y.push_back(sums.losses ? sums.loss / sums.losses : std::nan(""));
      any_dice = any_dice || sums.dices > 0;
      any_loss = any_loss || sums.losses > 0;
    }
    dice_lines.push_back(std::move(dice));
    loss_lines.push_back(std::move(loss));
  }
  out += "<div class=\"charts\">\n";
  LineChartOptions options;
  options.width = 530;
  options.height = 300;
  options.x_title = "epoch";
  options.integer_x = true;
  if (any_dice) {
    options.title = "Validation Dice per epoch";
    options.y_title = "validation Dice";
    out += "<figure>\n" + line_chart_svg(dice_lines, options) +
           "<figcaption>Validation Dice per epoch, mean over each run's "
           "models.</figcaption>\n</figure>\n";
  } else {
    out += empty_line("No validation Dice was recorded.");
  }
  if (any_loss) {
    options.title = "Training loss per epoch";
    options.y_title = "training loss";
    out += "<figure>\n" + line_chart_svg(loss_lines, options) +
           "<figcaption>Training loss per epoch, mean over each run's "
           "models.</figcaption>\n</figure>\n";
  } else {
    out += empty_line("No training loss was recorded.");
  }
  out += "</div>\n";
  size_t most_models = 0;
  for (const auto& [run, count] : models) most_models = std::max(most_models, count);
  out +=
      "<p class=\"note\">Each line is a run, averaged over its models, one per fold and "
      "seed (up to " +
      std::to_string(most_models) +
      "); the validation line joins the epochs that were validated. The loss is the run's own "
      "objective, so the "
      "losses of distilled runs (which add distillation terms) are not comparable with the "
      "others'.</p>\n";
  return out + "</section>\n";
}

std::string per_case_section(const StudyResults& results,
                             const std::map<std::string, std::string>& colours) {
  std::string out = "<section id=\"per-case\">\n<h2>Dice per case</h2>\n";
  std::vector<std::string> sets = results.test_sets;
  if (std::find(sets.begin(), sets.end(), "cv") == sets.end()) sets.push_back("cv");
  // run -> set -> case -> (sum, count), of the report's label only.
  std::map<std::string, std::map<std::string, std::map<std::string, std::pair<double, int>>>> dice;
  for (const CaseMetric& metric : results.metrics) {
    if (metric.label != results.report_label || !std::isfinite(metric.dice)) continue;
    auto& entry = dice[metric.run][metric.set][metric.case_id];
    entry.first += metric.dice, ++entry.second;
  }
  bool any = false;
  for (const std::string& set : sets) {
    std::vector<StripGroup> groups;
    size_t cases = 0;
    for (const std::string& run : run_order(results)) {
      const auto by_set = dice.find(run);
      if (by_set == dice.end()) continue;
      const auto by_case = by_set->second.find(set);
      if (by_case == by_set->second.end()) continue;
      StripGroup group{run, colours.at(run), {}};
      for (const auto& [case_id, sum] : by_case->second)
        group.values.push_back(sum.first / sum.second);
      cases = std::max(cases, group.values.size());
      groups.push_back(std::move(group));
    }
    if (groups.empty()) continue;
    any = true;
    StripChartOptions options;
    options.title = "Dice per case on " + set;
    options.y_title = "Dice";
    options.width = 1060;
    options.height = 320;
    out +=
        "<h3>" + html(set == "cv" ? "cross-validation (cv)" : set) + "</h3>\n<figure>\n" +
        strip_chart_svg(groups, options) + "<figcaption>" + std::to_string(cases) +
        (set == "cv"
             ? " cases, each scored by the fold that held it out (averaged over seeds)."
             : " cases; a point is a case's Dice averaged over the run's models (folds, seeds).") +
        "</figcaption>\n</figure>\n";
  }
  if (!any) out += empty_line("No per-case metrics were recorded.");
  return out + "</section>\n";
}

void check_slice_size(const Overlay& overlay, int64_t width, int64_t height, size_t values,
                      const std::string& what) {
  MEDKD_CHECK(width == overlay.image.width && height == overlay.image.height &&
                  values == static_cast<size_t>(width * height),
              "report overlay of case '", overlay.case_id, "': ", what, " is ", width, " x ",
              height, " with ", values, " values, the image ", overlay.image.width, " x ",
              overlay.image.height);
}

std::string overlay_panel(const GreySlice& image, const LabelSlice* labels,
                          const IntensityWindow& window, const std::string& caption) {
  // Small slices are scaled up by a whole factor (crisp pixels), large ones shown at most 300
  // pixels wide so that a row holds the reference and three runs.
  const double width = static_cast<double>(image.width), height = static_cast<double>(image.height);
  const double scale = width < 160 ? std::ceil(160 / width) : std::min(1.0, 300 / width);
  return "<figure><img src=\"" + png_data_uri(overlay_picture(image, labels, window)) +
         "\" width=\"" + format_number(width * scale, 0) + "\" height=\"" +
         format_number(height * scale, 0) + "\" alt=\"" + html(caption) + "\"><figcaption>" +
         html(caption) + "</figcaption></figure>\n";
}

std::string overlays_section(const StudyResults& results) {
  std::string out = "<section id=\"overlays\">\n<h2>Predictions</h2>\n";
  if (results.overlays.empty())
    return out + empty_line("No overlays were recorded.") + "</section>\n";

  // The legend lists the named labels and any other value a slice holds.
  std::set<int> values;
  for (size_t label = 1; label < results.label_names.size(); ++label)
    values.insert(static_cast<int>(label));
  for (const Overlay& overlay : results.overlays) {
    for (uint8_t value : overlay.reference.labels)
      if (value) values.insert(value);
    for (const LabelSlice& prediction : overlay.predictions)
      for (uint8_t value : prediction.labels)
        if (value) values.insert(value);
  }
  out += "<p class=\"legend\">";
  for (int value : values) {
    const std::string name = static_cast<size_t>(value) < results.label_names.size()
                                 ? results.label_names[value]
                                 : "label " + std::to_string(value);
    out += "<span class=\"swatch\" style=\"background:" + css_colour(label_colour(value)) +
           "\"></span>" + html(name);
  }
  out += "</p>\n";

  for (const Overlay& overlay : results.overlays) {
    MEDKD_CHECK(overlay.image.width > 0 && overlay.image.height > 0 &&
                    overlay.image.pixels.size() ==
                        static_cast<size_t>(overlay.image.width * overlay.image.height),
                "report overlay of case '", overlay.case_id, "': the image is ",
                overlay.image.width, " x ", overlay.image.height, " with ",
                overlay.image.pixels.size(), " values");
    MEDKD_CHECK(overlay.runs.size() == overlay.predictions.size(), "report overlay of case '",
                overlay.case_id, "': ", overlay.runs.size(), " runs but ",
                overlay.predictions.size(), " predictions");
    const bool has_reference = !overlay.reference.labels.empty();
    if (has_reference)
      check_slice_size(overlay, overlay.reference.width, overlay.reference.height,
                       overlay.reference.labels.size(), "the reference");
    for (size_t i = 0; i < overlay.predictions.size(); ++i)
      check_slice_size(overlay, overlay.predictions[i].width, overlay.predictions[i].height,
                       overlay.predictions[i].labels.size(),
                       "the prediction of run '" + overlay.runs[i] + "'");

    out += "<h3>" + html(overlay.case_id) + " <span class=\"note\">(" + html(overlay.set) +
           ", fold " + std::to_string(overlay.fold) + ", slice " +
           std::to_string(overlay.slice_index) + ")</span></h3>\n<div class=\"panels\">\n";
    const IntensityWindow window = percentile_window(overlay.image);
    out += overlay_panel(overlay.image, nullptr, window, "image");
    if (has_reference) out += overlay_panel(overlay.image, &overlay.reference, window, "reference");
    for (size_t i = 0; i < overlay.predictions.size(); ++i)
      out += overlay_panel(overlay.image, &overlay.predictions[i], window, overlay.runs[i]);
    out += "</div>\n";
  }
  return out + "</section>\n";
}

std::string footer(const StudyResults& results) {
  const std::string first_set = results.test_sets.empty() ? "cv" : results.test_sets.front();
  return "<footer>\n<h2>How to read this report</h2>\n"
         "<p><b>Tables</b> are those of tables.md, in the same order; a score written as "
         "mean \xc2\xb1 sd is over a run's models (folds, and seeds where the study has "
         "them).</p>\n"
         "<p><b>Dice versus model size</b> places each run by its parameter count (log scale) "
         "and its mean Dice on " +
         html(first_set) +
         "; the area of a bubble, not its radius, is proportional to GFLOPs, so a bubble twice "
         "as wide costs four times as much. Up and to the left is better: a distilled student "
         "above the student of the same network scored better at the same size.</p>\n"
         "<p><b>Training curves</b> average each run's models per epoch.</p>\n"
         "<p><b>Dice per case</b>: each point is one case; the box spans the middle half of the "
         "cases (first to third quartile) with the median as a line, whiskers reach the lowest "
         "and highest case, and the black diamond is the mean. Points are spread sideways only "
         "to keep them apart.</p>\n"
         "<p><b>Predictions</b> show one slice of a case, windowed to its 1st-99th intensity "
         "percentiles, with the reference and each run's labels over it (filled at 45% opacity, "
         "outlined at 90%).</p>\n"
         "<p>This page is self-contained: it needs no network and no other file.</p>\n"
         "</footer>\n";
}

}  // namespace

double mean_dice(const StudyResults& results, const std::string& run, const std::string& set) {
  double sum = 0;
  int count = 0;
  for (const CaseMetric& metric : results.metrics)
    if (metric.label == results.report_label && metric.run == run && metric.set == set &&
        std::isfinite(metric.dice))
      sum += metric.dice, ++count;
  return count ? sum / count : std::nan("");
}

IntensityWindow percentile_window(const GreySlice& slice, double low_percent, double high_percent) {
  std::vector<double> values;
  values.reserve(slice.pixels.size());
  for (float value : slice.pixels)
    if (std::isfinite(value)) values.push_back(value);
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const auto percentile = [&](double percent) {
    const double position = percent / 100 * (values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, values.size() - 1);
    return values[below] + (position - below) * (values[above] - values[below]);
  };
  return {percentile(low_percent), percentile(high_percent)};
}

std::array<uint8_t, 3> label_colour(int label) {
  if (label <= 0) return {0, 0, 0};
  return kLabelPalette[(label - 1) % kLabelPalette.size()];
}

RgbImage overlay_picture(const GreySlice& image, const LabelSlice* labels,
                         const IntensityWindow& window) {
  const int64_t width = image.width, height = image.height;
  MEDKD_CHECK(width > 0 && height > 0 && image.pixels.size() == static_cast<size_t>(width * height),
              "overlay picture: the image is ", width, " x ", height, " with ", image.pixels.size(),
              " values");
  MEDKD_CHECK(!labels || (labels->width == width && labels->height == height &&
                          labels->labels.size() == image.pixels.size()),
              "overlay picture: labels of ", labels ? labels->width : 0, " x ",
              labels ? labels->height : 0, " do not match the image's ", width, " x ", height);
  RgbImage picture{width, height, 3, std::vector<uint8_t>(image.pixels.size() * 3)};
  const double span = window.high > window.low ? window.high - window.low : 1.0;
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      const size_t at = static_cast<size_t>(y * width + x);
      const float value = image.pixels[at];
      const double grey =
          std::isfinite(value) ? std::clamp((value - window.low) / span, 0.0, 1.0) * 255 : 0;
      double rgb[3] = {grey, grey, grey};
      const int label = labels ? labels->labels[at] : 0;
      if (label != 0) {
        // A boundary pixel has a 4-neighbour (or the picture's edge) with another label.
        const auto differs = [&](int64_t nx, int64_t ny) {
          return nx < 0 || ny < 0 || nx >= width || ny >= height ||
                 labels->labels[static_cast<size_t>(ny * width + nx)] != label;
        };
        const bool boundary =
            differs(x - 1, y) || differs(x + 1, y) || differs(x, y - 1) || differs(x, y + 1);
        const double alpha = boundary ? kBoundaryOpacity : kFillOpacity;
        const auto colour = label_colour(label);
        for (int c = 0; c < 3; ++c) rgb[c] = (1 - alpha) * rgb[c] + alpha * colour[c];
      }
      for (int c = 0; c < 3; ++c)
        picture.pixels[at * 3 + c] =
            static_cast<uint8_t>(std::lround(std::clamp(rgb[c], 0.0, 255.0)));
    }
  }
  return picture;
}

std::string render_report_html(const StudyResults& results) {
  std::map<std::string, std::string> colours;
  const std::vector<std::string> runs = run_order(results);
  for (size_t i = 0; i < runs.size(); ++i) colours[runs[i]] = kRunPalette[i % kRunPalette.size()];

  const std::string title = results.name.empty() ? "medkd study" : results.name;
  std::string page =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
      html(title) + " \xe2\x80\x94 medkd study report</title>\n<style>" + kStyle +
      "</style>\n</head>\n<body>\n<main>\n<header>\n<h1>" + html(title) + "</h1>\n";
  if (!results.description.empty())
    page += "<p class=\"description\">" + html(results.description) + "</p>\n";
  page += "<p class=\"meta\">" + std::to_string(results.runs.size()) + " runs, " +
          std::to_string(results.folds) + " folds; test sets: ";
  if (results.test_sets.empty()) page += "none";
  for (size_t i = 0; i < results.test_sets.size(); ++i)
    page += (i ? ", " : "") + html(results.test_sets[i]);
  if (!results.label_name.empty()) page += "; Dice of " + html(results.label_name);
  page +=
      ".</p>\n<nav><a href=\"#tables\">Tables</a><a href=\"#dice-vs-size\">Dice vs size</a>"
      "<a href=\"#curves\">Training curves</a><a href=\"#per-case\">Dice per case</a>"
      "<a href=\"#overlays\">Predictions</a></nav>\n</header>\n";
  page += tables_section(results);
  page += bubble_section(results);
  page += curves_section(results, colours);
  page += per_case_section(results, colours);
  page += overlays_section(results);
  page += footer(results);
  return page + "</main>\n</body>\n</html>\n";
}

}  // namespace medkd::experiment
