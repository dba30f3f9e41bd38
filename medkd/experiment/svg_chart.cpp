#include "medkd/experiment/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <locale>
#include <sstream>

#include "medkd/core/error.h"

namespace medkd::experiment {
namespace {

constexpr double kFontSize = 12;
// Average advance of a character of a sans-serif font at 12 px: enough to keep labels apart and
// inside the picture without measuring text, which SVG written as text cannot do.
constexpr double kCharWidth = 6.8;
constexpr const char* kAxisColour = "#555";
constexpr const char* kGridColour = "#e3e3e3";
constexpr size_t kMaxDottedPoints = 40;

double text_width(std::string_view text, double font_size = kFontSize) {
  return static_cast<double>(text.size()) * kCharWidth * font_size / kFontSize;
}

// Coordinates with one decimal: sub-pixel enough, and a third the size of full precision.
std::string px(double value) { return format_number(value, 1); }

// Names longer than `max_chars` end in "..." so a legend keeps its width; the full name stays in
// the element's <title>.
std::string shorten(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // UTF-8
  return text.substr(0, cut) + "...";
}

struct PlotArea {
  double left, top, right, bottom;
};

std::string open_svg(double width, double height, const std::string& title) {
  return "<svg class=\"chart\" viewBox=\"0 0 " + px(width) + " " + px(height) + "\" width=\"" +
         px(width) + "\" height=\"" + px(height) + "\" role=\"img\" aria-label=\"" +
         escape_xml(title) + "\" font-size=\"" + px(kFontSize) + "\"><title>" + escape_xml(title) +
         "</title>\n";
}

std::string text_element(double x, double y, const std::string& text, const char* anchor = "start",
                         const std::string& extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + escape_xml(text) + "</text>\n";
}

std::string line_element(double x1, double y1, double x2, double y2, const std::string& stroke,
                         double width = 1, const std::string& extra = "") {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\" stroke=\"" + escape_xml(stroke) + "\" stroke-width=\"" + px(width) + "\"" + extra +
         "/>\n";
}

// Horizontal grid lines, tick labels on the left and the rotated axis title.
std::string draw_y_axis(const PlotArea& area, const AxisScale& scale, const std::string& title) {
  std::string out;
  const std::vector<double> ticks = scale.ticks(5);
  for (double tick : ticks) {
    const double y = scale.map(tick);
    out += line_element(area.left, y, area.right, y, kGridColour);
    out +=
        text_element(area.left - 6, y + 4, scale.tick_label(tick, ticks), "end", " fill=\"#333\"");
  }
  out += line_element(area.left, area.top, area.left, area.bottom, kAxisColour);
  const double centre = (area.top + area.bottom) / 2;
  out += "<text x=\"14\" y=\"" + px(centre) +
         "\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + px(centre) +
         ")\" fill=\"#222\">" + escape_xml(title) + "</text>\n";
  return out;
}

std::string draw_x_axis(const PlotArea& area, const AxisScale& scale,
                        const std::vector<double>& ticks, const std::string& title) {
  std::string out;
  for (double tick : ticks) {
    const double x = scale.map(tick);
    out += line_element(x, area.top, x, area.bottom, kGridColour);
    out += line_element(x, area.bottom, x, area.bottom + 4, kAxisColour);
    out += text_element(x, area.bottom + 17, scale.tick_label(tick, ticks), "middle",
                        " fill=\"#333\"");
  }
  out += line_element(area.left, area.bottom, area.right, area.bottom, kAxisColour);
  out += text_element((area.left + area.right) / 2, area.bottom + 36, title, "middle",
                      " fill=\"#222\"");
  return out;
}

enum class Swatch { kDisc, kLine, kSquare };

// A column of coloured keys starting at (x, y); returns the y below the last one.
double draw_legend(std::string& out, double x, double y, const std::vector<LegendEntry>& entries,
                   Swatch swatch, size_t max_chars) {
  for (const LegendEntry& entry : entries) {
    const std::string colour = escape_xml(entry.colour);
    out += "<g><title>" + escape_xml(entry.label) + "</title>";
    if (swatch == Swatch::kDisc) {
      out += "<circle cx=\"" + px(x + 6) + "\" cy=\"" + px(y - 4) + "\" r=\"6\" fill=\"" + colour +
             "\" fill-opacity=\"0.65\" stroke=\"" + colour + "\"/>";
    } else if (swatch == Swatch::kLine) {
      out += "<line x1=\"" + px(x) + "\" y1=\"" + px(y - 4) + "\" x2=\"" + px(x + 16) + "\" y2=\"" +
             px(y - 4) + "\" stroke=\"" + colour + "\" stroke-width=\"3\"/>";
    } else {
      out += "<rect x=\"" + px(x) + "\" y=\"" + px(y - 10) +
             "\" width=\"12\" height=\"12\" fill=\"" + colour + "\"/>";
    }
    out += text_element(x + 22, y, shorten(entry.label, max_chars)) + "</g>\n";
    y += 18;
  }
  return y;
}

// A domain that holds every value with a margin for marks drawn around them: the data extent
// [lo, hi] is mapped to [range_start + pad, range_end - pad] and the scale is widened to what
// the plot's edges then show.
AxisScale padded_scale(double lo, double hi, bool log, double range_start, double range_end,
                       double pad) {
  if (lo == hi) {
    if (log) {
      lo /= 2, hi *= 2;
    } else {
      const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
      lo -= half, hi += half;
    }
  }
  const double inward = range_end > range_start ? pad : -pad;  // a y range runs upwards
  const auto make = [log](double d0, double d1, double r0, double r1) {
    return log ? AxisScale::log10(d0, d1, r0, r1) : AxisScale::linear(d0, d1, r0, r1);
  };
  const AxisScale inner = make(lo, hi, range_start + inward, range_end - inward);
  return make(inner.invert(range_start), inner.invert(range_end), range_start, range_end);
}

// Largest 1, 2 or 5 x 10^k not above `value` (> 0).
double nice_floor(double value) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (double factor : {5.0, 2.0, 1.0})
    if (factor * magnitude <= value * (1 + 1e-9)) return factor * magnitude;
  return magnitude;
}

int decimals_for(double value) {
  if (value == 0 || !std::isfinite(value)) return 0;
  return std::max(0, static_cast<int>(-std::floor(std::log10(std::abs(value)) + 1e-9)));
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_number(double value, int decimals) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << std::fixed << std::setprecision(std::max(0, decimals)) << value;
  std::string text = out.str();
  if (text[0] == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

double nice_step(double span, int target_count) {
  MEDKD_CHECK(std::isfinite(span) && span > 0, "nice_step: span must be positive, got ", span);
  MEDKD_CHECK(target_count >= 1, "nice_step: target_count must be >= 1, got ", target_count);
  const double raw = span / target_count;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double residual = raw / magnitude;
  const double factor = residual < 1.5 ? 1 : residual < 3 ? 2 : residual < 7 ? 5 : 10;
  return factor * magnitude;
}

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
  MEDKD_CHECK(std::isfinite(lo) && std::isfinite(hi), "nice_ticks: range must be finite, got [", lo,
              ", ", hi, "]");
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) return {lo};
  const double step = nice_step(hi - lo, target_count);
  std::vector<double> ticks;
  // The small tolerance keeps ends that are multiples of the step despite rounding (0.3 / 0.1).
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; ++k)
    ticks.push_back(k * step == 0 ? 0.0 : k * step);
  return ticks;
}

std::pair<double, double> nice_extent(double lo, double hi, int target_count) {
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double half = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
    lo -= half, hi += half;
  }
  const double step = nice_step(hi - lo, target_count);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step};
}

AxisScale::AxisScale(bool log, double domain_min, double domain_max, double range_start,
                     double range_end)
    : log_(log),
      domain_min_(domain_min),
      domain_max_(domain_max),
      range_start_(range_start),
      range_end_(range_end) {
  MEDKD_CHECK(std::isfinite(domain_min) && std::isfinite(domain_max) && domain_min < domain_max,
              "axis scale: the domain must be finite and non-empty, got [", domain_min, ", ",
              domain_max, "]");
  MEDKD_CHECK(!log || domain_min > 0, "axis scale: a log domain must be positive, got [",
              domain_min, ", ", domain_max, "]");
}

AxisScale AxisScale::linear(double domain_min, double domain_max, double range_start,
                            double range_end) {
  return AxisScale(false, domain_min, domain_max, range_start, range_end);
}

AxisScale AxisScale::log10(double domain_min, double domain_max, double range_start,
                           double range_end) {
  return AxisScale(true, domain_min, domain_max, range_start, range_end);
}

double AxisScale::transform(double value) const { return log_ ? std::log10(value) : value; }

double AxisScale::map(double value) const {
  const double t0 = transform(domain_min_), t1 = transform(domain_max_);
  return range_start_ + (transform(value) - t0) / (t1 - t0) * (range_end_ - range_start_);
}

double AxisScale::invert(double pixel) const {
  const double t0 = transform(domain_min_), t1 = transform(domain_max_);
  const double t = t0 + (pixel - range_start_) / (range_end_ - range_start_) * (t1 - t0);
  return log_ ? std::pow(10.0, t) : t;
}

std::vector<double> AxisScale::ticks(int target_count) const {
  const auto inside = [&](double v) {
    const double tolerance = 1e-9 * (log_ ? v : std::max(1.0, domain_max_ - domain_min_));
    return v >= domain_min_ - tolerance && v <= domain_max_ + tolerance;
  };
  if (!log_) return nice_ticks(domain_min_, domain_max_, target_count);
  std::vector<double> ticks;
  const int first = static_cast<int>(std::floor(std::log10(domain_min_)));
  const int last = static_cast<int>(std::ceil(std::log10(domain_max_)));
  for (int k = first; k <= last; ++k)
    if (inside(std::pow(10.0, k))) ticks.push_back(std::pow(10.0, k));
  if (ticks.size() < 3) {
    ticks.clear();
    for (int k = first; k <= last; ++k)
      for (double factor : {1.0, 2.0, 5.0})
        if (inside(factor * std::pow(10.0, k))) ticks.push_back(factor * std::pow(10.0, k));
  }
  if (ticks.size() < 2) return nice_ticks(domain_min_, domain_max_, target_count);
  return ticks;
}

std::string AxisScale::tick_label(double value, const std::vector<double>& ticks) const {
  if (log_) return format_number(value, decimals_for(value));
  const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : value;
  return format_number(value, decimals_for(step));
}

double bubble_radius(double size, double max_size, double max_radius, double min_radius) {
  if (!(max_size > 0) || !(size > 0)) return min_radius;
  return std::max(min_radius, max_radius * std::sqrt(size / max_size));
}

std::string bubble_chart_svg(const std::vector<Bubble>& bubbles,
                             const BubbleChartOptions& options) {
  std::string out = open_svg(options.width, options.height, options.title);
  constexpr double kLegendWidth = 190;
  const PlotArea area{64, 14, options.width - kLegendWidth - 16, options.height - 50};

  std::vector<const Bubble*> shown;
  for (const Bubble& bubble : bubbles)
    if (std::isfinite(bubble.x) && std::isfinite(bubble.y) && (!options.log_x || bubble.x > 0) &&
        (!options.log_y || bubble.y > 0))
      shown.push_back(&bubble);
  if (shown.empty()) {
    out += text_element((area.left + area.right) / 2, (area.top + area.bottom) / 2,
                        "no data to plot", "middle", " fill=\"#777\"");
    return out + "</svg>\n";
  }
  double x_lo = shown[0]->x, x_hi = x_lo, y_lo = shown[0]->y, y_hi = y_lo, max_size = 0;
  for (const Bubble* bubble : shown) {
    x_lo = std::min(x_lo, bubble->x), x_hi = std::max(x_hi, bubble->x);
    y_lo = std::min(y_lo, bubble->y), y_hi = std::max(y_hi, bubble->y);
    if (std::isfinite(bubble->size)) max_size = std::max(max_size, bubble->size);
  }
  const double pad = options.max_radius + 6;
  const AxisScale x = padded_scale(x_lo, x_hi, options.log_x, area.left, area.right, pad);
  const AxisScale y = padded_scale(y_lo, y_hi, options.log_y, area.bottom, area.top, pad);
  out += draw_y_axis(area, y, options.y_title);
  out += draw_x_axis(area, x, x.ticks(6), options.x_title);

  // Largest first, so that small bubbles stay visible on top of large ones.
  std::vector<const Bubble*> by_size = shown;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [](const Bubble* a, const Bubble* b) { return a->size > b->size; });
  for (const Bubble* bubble : by_size) {
    const double r = bubble_radius(bubble->size, max_size, options.max_radius, options.min_radius);
    const std::string colour = escape_xml(bubble->colour);
    out += "<circle cx=\"" + px(x.map(bubble->x)) + "\" cy=\"" + px(y.map(bubble->y)) + "\" r=\"" +
           px(r) + "\" fill=\"" + colour + "\" fill-opacity=\"0.55\" stroke=\"" + colour +
           "\" stroke-width=\"1.5\"><title>" +
           escape_xml(bubble->tooltip.empty() ? bubble->label : bubble->tooltip) +
           "</title></circle>\n";
  }

  // Labels beside their bubble, pushed down past labels already placed so none overlap.
  struct Box {
    double left, top, right, bottom;
  };
  std::vector<Box> placed;
  std::vector<const Bubble*> by_height = shown;
  std::stable_sort(by_height.begin(), by_height.end(),
                   [&](const Bubble* a, const Bubble* b) { return y.map(a->y) < y.map(b->y); });
  for (const Bubble* bubble : by_height) {
    const double r = bubble_radius(bubble->size, max_size, options.max_radius, options.min_radius);
    const double cx = x.map(bubble->x), width = text_width(bubble->label);
    const bool right_side = cx + r + 4 + width <= area.right || cx - r - 4 - width < area.left;
    Box box{right_side ? cx + r + 4 : cx - r - 4 - width, y.map(bubble->y) - 9, 0, 0};
    box.right = box.left + width, box.bottom = box.top + 13;
    for (int tries = 0; tries < 20; ++tries) {
      const bool overlaps = std::any_of(placed.begin(), placed.end(), [&](const Box& other) {
        return box.left < other.right && other.left < box.right && box.top < other.bottom &&
               other.top < box.bottom;
      });
      if (!overlaps) break;
      box.top += 13, box.bottom += 13;
    }
    placed.push_back(box);
    out += text_element(box.left, box.bottom - 3, bubble->label, "start", " fill=\"#222\"");
  }

  // Legends: colours, then a few reference areas with their size.
  const double legend_left = options.width - kLegendWidth + 4;
  double legend_y = area.top + 12;
  legend_y = draw_legend(out, legend_left, legend_y, options.colour_legend, Swatch::kDisc, 24);
  if (max_size > 0) {
    std::vector<double> sizes = {nice_floor(max_size)};
    for (double fraction : {0.25, 0.0625}) {
      const double size = nice_floor(sizes[0] * fraction);
      if (bubble_radius(size, max_size, options.max_radius) >= 4 && size < sizes.back())
        sizes.push_back(size);
    }
    legend_y += 10;
    out += text_element(
        legend_left, legend_y,
        "area \xe2\x88\x9d " + (options.size_unit.empty() ? "size" : options.size_unit), "start",
        " fill=\"#222\"");
    // Nested circles sharing their bottom point, labelled on the right.
    const double largest = bubble_radius(sizes[0], max_size, options.max_radius);
    const double cx = legend_left + largest + 2, bottom = legend_y + 18 + 2 * largest;
    double previous_label_y = -INFINITY;
    for (double size : sizes) {
      const double r = bubble_radius(size, max_size, options.max_radius);
      const double top = bottom - 2 * r;
      out += "<circle cx=\"" + px(cx) + "\" cy=\"" + px(bottom - r) + "\" r=\"" + px(r) +
             "\" fill=\"none\" stroke=\"#777\"/>\n";
      out += line_element(cx, top, cx + largest + 8, top, "#aaa", 0.8);
      const double label_y = std::max(top + 4, previous_label_y + 13);
      out += text_element(cx + largest + 10, label_y,
                          format_number(size, decimals_for(size)) + " " + options.size_unit,
                          "start", " fill=\"#333\"");
      previous_label_y = label_y;
    }
  }
  return out + "</svg>\n";
}

std::string line_chart_svg(const std::vector<LineSeries>& series, const LineChartOptions& options) {
  for (const LineSeries& line : series)
    MEDKD_CHECK(line.x.size() == line.y.size(), "line chart: series '", line.name, "' has ",
                line.x.size(), " x values and ", line.y.size(), " y values");
  std::string out = open_svg(options.width, options.height, options.title);
  size_t longest = 0;
  for (const LineSeries& line : series) longest = std::max(longest, line.name.size());
  const double legend_width =
      options.legend ? 30 + text_width(std::string(std::min<size_t>(longest, 22), 'x')) : 0;
  const PlotArea area{60, 12, options.width - legend_width - 14, options.height - 48};

  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const LineSeries& line : series)
    for (size_t i = 0; i < line.x.size(); ++i)
      if (std::isfinite(line.x[i]) && std::isfinite(line.y[i])) {
        x_lo = std::min(x_lo, line.x[i]), x_hi = std::max(x_hi, line.x[i]);
        y_lo = std::min(y_lo, line.y[i]), y_hi = std::max(y_hi, line.y[i]);
      }
  if (!std::isfinite(x_lo)) {
    out += text_element((area.left + area.right) / 2, (area.top + area.bottom) / 2,
                        "no data to plot", "middle", " fill=\"#777\"");
    return out + "</svg>\n";
  }
  const auto [x_min, x_max] = nice_extent(x_lo, x_hi, 6);
  const auto [y_min, y_max] = nice_extent(y_lo, y_hi, 5);
  const AxisScale x = AxisScale::linear(x_min, x_max, area.left, area.right);
  const AxisScale y = AxisScale::linear(y_min, y_max, area.bottom, area.top);
  out += draw_y_axis(area, y, options.y_title);
  std::vector<double> x_ticks = x.ticks(6);
  if (options.integer_x && x_ticks.size() >= 2 && x_ticks[1] - x_ticks[0] < 1) {
    x_ticks.clear();
    for (double tick = std::ceil(x_min); tick <= x_max; ++tick) x_ticks.push_back(tick);
  }
  out += draw_x_axis(area, x, x_ticks, options.x_title);

  for (const LineSeries& line : series) {
    const std::string colour = escape_xml(line.colour);
    std::vector<std::pair<double, double>> points;  // in pixels, finite values only
    for (size_t i = 0; i < line.x.size(); ++i)
      if (std::isfinite(line.x[i]) && std::isfinite(line.y[i]))
        points.emplace_back(x.map(line.x[i]), y.map(line.y[i]));
    out += "<g><title>" + escape_xml(line.name) + "</title>\n";
    if (points.size() > 1) {
      out += "<polyline fill=\"none\" stroke=\"" + colour +
             "\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"";
      for (const auto& [point_x, point_y] : points) out += px(point_x) + "," + px(point_y) + " ";
      out.back() = '"';
      out += "/>\n";
    }
    // Dots show where the measurements are, as long as they do not crowd into a thick line.
    if (points.size() <= kMaxDottedPoints)
      for (const auto& [point_x, point_y] : points)
        out += "<circle cx=\"" + px(point_x) + "\" cy=\"" + px(point_y) + "\" r=\"2.5\" fill=\"" +
               colour + "\"/>\n";
    out += "</g>\n";
  }
  if (options.legend) {
    std::vector<LegendEntry> entries;
    for (const LineSeries& line : series) entries.push_back({line.name, line.colour});
    draw_legend(out, area.right + 14, area.top + 12, entries, Swatch::kLine, 22);
  }
  return out + "</svg>\n";
}

BoxStats box_stats(std::vector<double> values) {
  values.erase(
      std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
      values.end());
  BoxStats stats;
  stats.count = static_cast<int>(values.size());
  if (values.empty()) return stats;
  std::sort(values.begin(), values.end());
  const auto quantile = [&](double q) {
    const double position = q * (values.size() - 1);
    const size_t below = static_cast<size_t>(std::floor(position));
    const size_t above = std::min(below + 1, values.size() - 1);
    return values[below] + (position - below) * (values[above] - values[below]);
  };
  stats.min = values.front(), stats.max = values.back();
  stats.q1 = quantile(0.25), stats.median = quantile(0.5), stats.q3 = quantile(0.75);
  double sum = 0;
  for (double v : values) sum += v;
  stats.mean = sum / values.size();
  return stats;
}

double strip_jitter(int index) {
  const double golden = 0.6180339887498949;
  const double fraction = index * golden - std::floor(index * golden);
  return fraction - 0.5;
}

std::string strip_chart_svg(const std::vector<StripGroup>& groups,
                            const StripChartOptions& options) {
  std::string out = open_svg(options.width, options.height, options.title);
  // Category names under the axis: horizontal when they fit their band, else slanted, which
  // needs a deeper bottom margin.
  size_t longest = 0;
  for (const StripGroup& group : groups) longest = std::max(longest, group.name.size());
  const size_t label_chars = std::min<size_t>(longest, 28);
  const double band_guess = (options.width - 74) / std::max<size_t>(1, groups.size());
  const bool slanted = text_width(std::string(label_chars, 'x')) > band_guess - 6;
  const double bottom_margin = slanted ? 24 + 0.6 * text_width(std::string(label_chars, 'x')) : 30;
  const PlotArea area{60, 12, options.width - 14, options.height - bottom_margin};

  std::vector<BoxStats> stats;
  double lo = INFINITY, hi = -INFINITY;
  for (const StripGroup& group : groups) {
    stats.push_back(box_stats(group.values));
    if (stats.back().count > 0)
      lo = std::min(lo, stats.back().min), hi = std::max(hi, stats.back().max);
  }
  if (groups.empty() || !std::isfinite(lo)) {
    out += text_element((area.left + area.right) / 2, (area.top + area.bottom) / 2,
                        "no data to plot", "middle", " fill=\"#777\"");
    return out + "</svg>\n";
  }
  auto [y_min, y_max] = nice_extent(lo, hi, 5);
  if (std::isfinite(options.y_min)) y_min = options.y_min;
  if (std::isfinite(options.y_max)) y_max = options.y_max;
  const AxisScale y = AxisScale::linear(y_min, y_max, area.bottom, area.top);
  out += draw_y_axis(area, y, options.y_title);
  out += line_element(area.left, area.bottom, area.right, area.bottom, kAxisColour);

  const double band = (area.right - area.left) / groups.size();
  const double half_box = std::min(band * 0.3, 40.0);
  for (size_t g = 0; g < groups.size(); ++g) {
    const StripGroup& group = groups[g];
    const BoxStats& s = stats[g];
    const double centre = area.left + band * (g + 0.5);
    const std::string colour = escape_xml(group.colour);
    out += "<g><title>" + escape_xml(group.name) + ": n = " + std::to_string(s.count);
    if (s.count > 0)
      out += ", mean " + format_number(s.mean, 3) + ", median " + format_number(s.median, 3);
    out += "</title>\n";
    if (options.boxes && s.count > 0) {
      out += line_element(centre, y.map(s.min), centre, y.map(s.max), "#999");
      out += "<rect x=\"" + px(centre - half_box) + "\" y=\"" + px(y.map(s.q3)) + "\" width=\"" +
             px(2 * half_box) + "\" height=\"" + px(std::max(0.5, y.map(s.q1) - y.map(s.q3))) +
             "\" fill=\"" + colour + "\" fill-opacity=\"0.15\" stroke=\"" + colour + "\"/>\n";
      out += line_element(centre - half_box, y.map(s.median), centre + half_box, y.map(s.median),
                          colour, 2);
    }
    int index = 0;
    for (double value : group.values) {
      if (!std::isfinite(value)) continue;
      const double cx = centre + strip_jitter(index++) * 1.4 * half_box;
      out += "<circle cx=\"" + px(cx) + "\" cy=\"" + px(y.map(value)) + "\" r=\"3\" fill=\"" +
             colour + "\" fill-opacity=\"0.75\"/>\n";
    }
    if (s.count > 0) {
      // The mean: a black diamond, distinct from the median line and from the points.
      const double my = y.map(s.mean);
      out += "<path class=\"mean\" d=\"M" + px(centre) + " " + px(my - 6) + " L" + px(centre + 6) +
             " " + px(my) + " L" + px(centre) + " " + px(my + 6) + " L" + px(centre - 6) + " " +
             px(my) + " Z\" fill=\"#111\" stroke=\"#fff\"/>\n";
    }
    const std::string name = shorten(group.name, 28);
    if (slanted)
      out += text_element(centre, area.bottom + 14, name, "end",
                          " transform=\"rotate(-35 " + px(centre) + " " + px(area.bottom + 14) +
                              ")\" fill=\"#222\"");
    else
      out += text_element(centre, area.bottom + 17, name, "middle", " fill=\"#222\"");
    out += "</g>\n";
  }
  return out + "</svg>\n";
}

}  // namespace medkd::experiment
