// Small SVG charts for the HTML report (report.h), written as text with no dependency: axis
// scales with "nice" ticks, a bubble chart, a line chart and a box-and-strip plot.
//
// Each chart function returns one <svg> element meant to sit inline in an HTML5 page, so it has
// no xmlns attribute and no external reference; fonts come from the page's CSS. Every string
// that goes into the SVG (names, titles) is escaped here, callers pass plain text.
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medkd::experiment {

// Escapes & < > " ' so that `text` is safe as element text or a quoted attribute value, in SVG
// and in HTML.
std::string escape_xml(std::string_view text);

// `value` with `decimals` digits after the point, independent of the C++ locale; never "-0".
std::string format_number(double value, int decimals);

// The tick spacing 1, 2 or 5 x 10^k that splits `span` into about `target_count` intervals
// (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
double nice_step(double span, int target_count);

// The multiples of nice_step(hi - lo, target_count) inside [lo, hi]: nice_ticks(0, 1, 5) is
// 0, 0.2, ..., 1. One tick {lo} when lo == hi.
std::vector<double> nice_ticks(double lo, double hi, int target_count = 5);

// [lo, hi] widened outwards to the nearest multiples of its nice step, e.g. [0.81, 0.868] with
// 5 ticks -> [0.81, 0.87]. A zero-width range is widened first so the result is never empty.
std::pair<double, double> nice_extent(double lo, double hi, int target_count = 5);

// Maps data values (the domain) to pixels (the range), linearly or logarithmically (base 10).
class AxisScale {
 public:
  // medkd::Error for an empty domain, or a log domain that is not positive.
  static AxisScale linear(double domain_min, double domain_max, double range_start,
                          double range_end);
  static AxisScale log10(double domain_min, double domain_max, double range_start,
                         double range_end);

  double map(double value) const;
  double invert(double pixel) const;
  bool is_log() const { return log_; }
  double domain_min() const { return domain_min_; }
  double domain_max() const { return domain_max_; }

  // Linear: nice_ticks over the domain. Log: the powers of ten inside the domain; with fewer
  // than three of them, also 2 x and 5 x 10^k; with fewer than two ticks still, linear ticks.
  std::vector<double> ticks(int target_count = 5) const;
  // A tick's text with as many decimals as the tick spacing needs ("0.85", "20", "0.5").
  std::string tick_label(double value, const std::vector<double>& ticks) const;

 private:
  AxisScale(bool log, double domain_min, double domain_max, double range_start, double range_end);
  double transform(double value) const;

  bool log_ = false;
  double domain_min_ = 0, domain_max_ = 1, range_start_ = 0, range_end_ = 1;
};

// A coloured key for a legend.
struct LegendEntry {
  std::string label;
  std::string colour;  // any CSS colour
};

// One bubble: position in data units and a size shown as the bubble's area.
struct Bubble {
  double x = 0, y = 0;
  double size = 0;      // >= 0; the area is proportional to it
  std::string label;    // written beside the bubble
  std::string colour;   // CSS colour
  std::string tooltip;  // the <title> shown on hover; "" = label
};

struct BubbleChartOptions {
  std::string title;  // read by screen readers (<title> of the <svg>)
  std::string x_title, y_title;
  bool log_x = false, log_y = false;
  double width = 760, height = 460;  // the whole <svg>, legends included, in pixels
  double max_radius = 30;            // of the largest size
  double min_radius = 3;             // floor that keeps a zero-size bubble visible
  std::string size_unit;             // in the size legend: "12 GFLOPs"
  std::vector<LegendEntry> colour_legend;
};

// The radius whose disc area is proportional to `size`: max_radius * sqrt(size / max_size),
// never below min_radius. A radius proportional to the size would exaggerate large bubbles
// quadratically (the eye reads area).
double bubble_radius(double size, double max_size, double max_radius, double min_radius = 0);

std::string bubble_chart_svg(const std::vector<Bubble>& bubbles, const BubbleChartOptions& options);

// One line through the points (x[i], y[i]) whose values are finite: a NaN (an epoch without
// validation) is skipped, and the line joins the measurements on either side of it. Each point
// also gets a dot while a series has at most 40 of them.
struct LineSeries {
  std::string name;
  std::string colour;
  std::vector<double> x, y;
};

struct LineChartOptions {
  std::string title, x_title, y_title;
  double width = 520, height = 300;
  bool legend = true;      // the series' names on the right
  bool integer_x = false;  // x ticks on whole numbers only (epochs)
};

std::string line_chart_svg(const std::vector<LineSeries>& series, const LineChartOptions& options);

// The five-number summary and the mean of the finite values (NaN are left out). Quartiles
// interpolate linearly between order statistics (Hyndman & Fan type 7, as numpy's default).
struct BoxStats {
  int count = 0;
  double min = std::numeric_limits<double>::quiet_NaN(), q1 = min, median = min, q3 = min,
         max = min, mean = min;
};
BoxStats box_stats(std::vector<double> values);

// One category of a strip plot: its values, drawn as jittered points over a box.
struct StripGroup {
  std::string name;
  std::string colour;
  std::vector<double> values;  // NaN are left out
};

struct StripChartOptions {
  std::string title, y_title;
  double width = 620, height = 300;
  bool boxes = true;  // quartile box, median and min-max whiskers behind the points
  // The y domain; NaN = from the data, widened to nice ticks.
  double y_min = std::numeric_limits<double>::quiet_NaN();
  double y_max = std::numeric_limits<double>::quiet_NaN();
};

// The horizontal offset of the i-th point of a group, in [-0.5, 0.5): a golden-ratio sequence,
// so points spread evenly and the same data always give the same picture.
double strip_jitter(int index);

std::string strip_chart_svg(const std::vector<StripGroup>& groups,
                            const StripChartOptions& options);

}  // namespace medkd::experiment
