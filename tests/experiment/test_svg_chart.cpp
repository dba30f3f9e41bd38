#include "medkd/experiment/svg_chart.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "test_support.h"

namespace medkd::experiment {
namespace {

using medkd::testing::error_of;

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// The numeric values of `attribute` on every element named `element`, in document order.
std::vector<double> attribute_values(const std::string& svg, const std::string& element,
                                     const std::string& attribute) {
  std::vector<double> values;
  const std::regex tag("<" + element + "\\b[^>]*\\s" + attribute + "=\"([-0-9.]+)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator();
       ++it)
    values.push_back(std::stod((*it)[1]));
  return values;
}

void expect_ticks(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-12) << i;
}

TEST(EscapeXml, EscapesTheFiveMarkupCharacters) {
  EXPECT_EQ(escape_xml("a<b & \"c\" > 'd'"), "a&lt;b &amp; &quot;c&quot; &gt; &#39;d&#39;");
  EXPECT_EQ(escape_xml("plain UNet-3 (0.5 M) \xc3\xa9"), "plain UNet-3 (0.5 M) \xc3\xa9");
  EXPECT_EQ(escape_xml("&amp;"), "&amp;amp;");
}

TEST(FormatNumber, RoundsToTheDecimalsAndNeverWritesMinusZero) {
  EXPECT_EQ(format_number(0.8456, 3), "0.846");
  EXPECT_EQ(format_number(12.0, 0), "12");
  EXPECT_EQ(format_number(-0.0001, 2), "0.00");
  EXPECT_EQ(format_number(-1.25, 1), "-1.2");  // round half to even, as printf
}

TEST(NiceTicks, CoverTheUnitIntervalInFifths) {
  expect_ticks(nice_ticks(0, 1, 5), {0, 0.2, 0.4, 0.6, 0.8, 1.0});
}

TEST(NiceTicks, UseStepsOfOneTwoOrFiveTimesAPowerOfTen) {
  expect_ticks(nice_ticks(0, 100, 5), {0, 20, 40, 60, 80, 100});
  expect_ticks(nice_ticks(-3, 7, 5), {-2, 0, 2, 4, 6});
  expect_ticks(nice_ticks(0.81, 0.87, 5), {0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87});
  expect_ticks(nice_ticks(1, 60, 6), {10, 20, 30, 40, 50, 60});
  EXPECT_DOUBLE_EQ(nice_step(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(35, 5), 10);  // raw step 7 rounds up to 10
  EXPECT_DOUBLE_EQ(nice_step(34, 5), 5);   // raw step 6.8 rounds down to 5
  EXPECT_DOUBLE_EQ(nice_step(0.013, 1), 0.01);
}

TEST(NiceTicks, GiveOneTickForAnEmptyRange) { expect_ticks(nice_ticks(0.5, 0.5), {0.5}); }

TEST(NiceExtent, WidensToTheEnclosingMultiplesOfTheStep) {
  const auto [lo, hi] = nice_extent(0.812, 0.868, 5);
  EXPECT_NEAR(lo, 0.81, 1e-12);
  EXPECT_NEAR(hi, 0.87, 1e-12);
  const auto [zero_lo, zero_hi] = nice_extent(0, 0, 5);
  EXPECT_LT(zero_lo, 0);
  EXPECT_GT(zero_hi, 0);
}

TEST(AxisScale, LinearMapsEndsAndMiddle) {
  const AxisScale scale = AxisScale::linear(0, 1, 300, 100);  // pixels grow downwards
  EXPECT_DOUBLE_EQ(scale.map(0), 300);
  EXPECT_DOUBLE_EQ(scale.map(1), 100);
  EXPECT_DOUBLE_EQ(scale.map(0.25), 250);
  EXPECT_DOUBLE_EQ(scale.invert(250), 0.25);
}

TEST(AxisScale, LogPutsEachDecadeAtTheSameDistance) {
  const AxisScale scale = AxisScale::log10(1, 100, 0, 200);
  EXPECT_DOUBLE_EQ(scale.map(1), 0);
  EXPECT_DOUBLE_EQ(scale.map(10), 100);
  EXPECT_DOUBLE_EQ(scale.map(100), 200);
  EXPECT_NEAR(scale.map(std::sqrt(10.0)), 50, 1e-9);
  EXPECT_NEAR(scale.invert(150), std::pow(10.0, 1.5), 1e-9);
}

TEST(AxisScale, LogTicksArePowersOfTenOverManyDecades) {
  expect_ticks(AxisScale::log10(0.8, 1200, 0, 1).ticks(), {1, 10, 100, 1000});
}

TEST(AxisScale, LogTicksAddTwoAndFiveOverFewDecades) {
  const AxisScale scale = AxisScale::log10(0.4, 70, 0, 1);
  const std::vector<double> ticks = scale.ticks();
  expect_ticks(ticks, {0.5, 1, 2, 5, 10, 20, 50});
  EXPECT_EQ(scale.tick_label(0.5, ticks), "0.5");
  EXPECT_EQ(scale.tick_label(20, ticks), "20");
}

TEST(AxisScale, LogTicksFallBackToLinearWithinOneFactorOfTwo) {
  expect_ticks(AxisScale::log10(3, 4.6, 0, 1).ticks(), {3.0, 3.5, 4.0, 4.5});
}

TEST(AxisScale, LinearTickLabelsUseTheDecimalsOfTheStep) {
  const AxisScale scale = AxisScale::linear(0.8, 0.9, 0, 1);
  const std::vector<double> ticks = scale.ticks(5);
  ASSERT_GE(ticks.size(), 2u);
  EXPECT_EQ(scale.tick_label(ticks[1], ticks), "0.82");
}

TEST(AxisScale, RejectsAnEmptyOrNonPositiveLogDomain) {
  EXPECT_NE(error_of([] { AxisScale::linear(1, 1, 0, 1); }).find("non-empty, got [1, 1]"),
            std::string::npos);
  EXPECT_NE(error_of([] { AxisScale::log10(0, 10, 0, 1); }).find("log domain must be positive"),
            std::string::npos);
}

TEST(BubbleRadius, GrowsWithTheSquareRootSoAreaIsProportional) {
  EXPECT_DOUBLE_EQ(bubble_radius(100, 100, 30), 30);
  EXPECT_DOUBLE_EQ(bubble_radius(25, 100, 30), 15);  // a quarter of the area: half the radius
  EXPECT_DOUBLE_EQ(bubble_radius(0, 100, 30, 3), 3);
  EXPECT_DOUBLE_EQ(bubble_radius(1, 100, 30, 4), 4);
}

TEST(BubbleChart, DrawsBubbleAreasProportionalToTheirSize) {
  BubbleChartOptions options;
  options.title = "Dice vs parameters";
  options.log_x = true;
  options.min_radius = 0;
  options.max_radius = 32;
  options.size_unit = "GFLOPs";
  const std::vector<Bubble> bubbles = {{1, 0.8, 1, "small", "#123456", ""},
                                       {10, 0.85, 4, "large", "#654321", ""},
                                       {100, 0.9, 9, "huge", "#abcdef", ""}};
  const std::string svg = bubble_chart_svg(bubbles, options);
  // Bubbles carry their colour as fill; drawn largest first.
  std::vector<double> radii;
  const std::regex filled("<circle [^>]*r=\"([0-9.]+)\" fill=\"#[0-9a-f]{6}\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), filled); it != std::sregex_iterator();
       ++it)
    radii.push_back(std::stod((*it)[1]));
  ASSERT_GE(radii.size(), 3u);
  EXPECT_NEAR(radii[0], 32, 0.05);
  EXPECT_NEAR(radii[1], 32 * 2.0 / 3.0, 0.05);  // sqrt(4 / 9)
  EXPECT_NEAR(radii[2], 32 / 3.0, 0.05);        // sqrt(1 / 9)
  // Coordinates are written with one decimal, hence the tolerance.
  EXPECT_NEAR(radii[0] * radii[0] / (radii[2] * radii[2]), 9.0, 0.1);
  EXPECT_NE(svg.find(">small</text>"), std::string::npos);
  EXPECT_NE(svg.find("GFLOPs"), std::string::npos);
}

TEST(BubbleChart, PlacesLogAxisDecadesAtEqualDistances) {
  BubbleChartOptions options;
  options.log_x = true;
  const std::string svg =
      bubble_chart_svg({{1, 0.5, 1, "a", "red", ""}, {100, 0.6, 1, "b", "blue", ""}}, options);
  // cx of the two bubbles and of the decade ticks: 1 -> 10 -> 100 evenly spaced.
  const std::vector<double> cx = attribute_values(svg, "circle", "cx");
  ASSERT_GE(cx.size(), 2u);
  const double ten = (cx[0] + cx[1]) / 2;
  const std::regex tick_label("<text x=\"([0-9.]+)\"[^>]*>10</text>");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, tick_label)) << svg;
  EXPECT_NEAR(std::stod(match[1]), ten, 0.11);
}

TEST(BubbleChart, EscapesLabelsAndTitles) {
  BubbleChartOptions options;
  options.title = "a < b";
  options.x_title = "x & y";
  const std::string svg = bubble_chart_svg({{1, 1, 1, "<run \"1\">", "red", ""}}, options);
  EXPECT_EQ(svg.find("<run"), std::string::npos);
  EXPECT_NE(svg.find("&lt;run &quot;1&quot;&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a &lt; b"), std::string::npos);
  EXPECT_NE(svg.find("x &amp; y"), std::string::npos);
}

TEST(Charts, AreOneInlineSvgElementWithoutNamespaceOrUrl) {
  const std::string bubbles = bubble_chart_svg({{1, 1, 1, "a", "red", ""}}, {});
  const std::string lines = line_chart_svg({{"a", "red", {1, 2}, {0.1, 0.2}}}, {});
  const std::string strips = strip_chart_svg({{"a", "red", {0.1, 0.2}}}, {});
  for (const std::string& svg : {bubbles, lines, strips}) {
    EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
    EXPECT_EQ(count_of(svg, "<svg"), 1u);
    EXPECT_EQ(count_of(svg, "</svg>"), 1u);
    EXPECT_EQ(svg.find("xmlns"), std::string::npos);
    EXPECT_EQ(svg.find("http"), std::string::npos);
  }
}

TEST(LineChart, JoinsTheFinitePointsAcrossNanValues) {
  const double nan = std::nan("");
  LineChartOptions options;
  options.height = 348;  // plot from y = 12 to y = 300
  const std::string svg =
      line_chart_svg({{"run", "#ff0000", {1, 2, 3, 4}, {0.0, nan, 1.0, nan}}}, options);
  EXPECT_EQ(count_of(svg, "<polyline"), 1u);
  EXPECT_EQ(count_of(svg, "r=\"2.5\""), 2u);  // one dot per measurement
  const std::regex points("points=\"[0-9.]+,([0-9.]+) [0-9.]+,([0-9.]+)\"");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, points)) << svg;
  EXPECT_DOUBLE_EQ(std::stod(match[1]), 300);  // y = 0 at the bottom
  EXPECT_DOUBLE_EQ(std::stod(match[2]), 12);   // y = 1 at the top
}

TEST(LineChart, PutsEpochTicksOnWholeNumbers) {
  LineChartOptions options;
  options.integer_x = true;
  options.legend = false;
  const std::string svg = line_chart_svg({{"run", "red", {0, 1, 2, 3}, {1, 2, 3, 4}}}, options);
  EXPECT_NE(svg.find(">3</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">0.5</text>"), std::string::npos);
}

TEST(LineChart, SaysSoWhenThereIsNothingToPlot) {
  EXPECT_NE(line_chart_svg({}, {}).find("no data to plot"), std::string::npos);
}

TEST(LineChart, RejectsSeriesOfUnequalLengths) {
  EXPECT_NE(error_of([] {
              line_chart_svg({{"r", "red", {1, 2}, {0.5}}}, {});
            }).find("series 'r' has 2 x values and 1 y values"),
            std::string::npos);
}

TEST(BoxStats, MatchesNumpyPercentilesAndTheMean) {
  // numpy.percentile([1, 2, 3, 4, 10], [25, 50, 75]) = [2, 3, 4]; mean = 4.
  const BoxStats s = box_stats({4, 1, 10, std::nan(""), 3, 2});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.q1, 2);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.q3, 4);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 4);
  // numpy.percentile([1, 2, 3, 4], 25) = 1.75
  EXPECT_DOUBLE_EQ(box_stats({1, 2, 3, 4}).q1, 1.75);
  EXPECT_EQ(box_stats({}).count, 0);
}

TEST(StripJitter, IsDeterministicAndStaysInsideTheBand) {
  EXPECT_DOUBLE_EQ(strip_jitter(0), -0.5);
  for (int i = 0; i < 100; ++i) {
    EXPECT_GE(strip_jitter(i), -0.5);
    EXPECT_LT(strip_jitter(i), 0.5);
    EXPECT_EQ(strip_jitter(i), strip_jitter(i));
  }
  EXPECT_NE(strip_jitter(1), strip_jitter(2));
}

TEST(StripChart, DrawsOnePointPerFiniteValueAndTheMeanOfEachGroup) {
  StripChartOptions options;
  options.y_min = 0;
  options.y_max = 1;
  const std::string svg = strip_chart_svg(
      {{"teacher", "#111111", {0.5, 0.7, 0.9}}, {"student", "#222222", {0.2, std::nan(""), 0.4}}},
      options);
  EXPECT_EQ(count_of(svg, "r=\"3\""), 5u);
  EXPECT_EQ(count_of(svg, "class=\"mean\""), 2u);
  EXPECT_NE(svg.find("teacher: n = 3, mean 0.700"), std::string::npos);
  EXPECT_NE(svg.find("student: n = 2, mean 0.300"), std::string::npos);
  // The same input gives the same picture.
  EXPECT_EQ(svg, strip_chart_svg({{"teacher", "#111111", {0.5, 0.7, 0.9}},
                                  {"student", "#222222", {0.2, std::nan(""), 0.4}}},
                                 options));
}

TEST(StripChart, PutsTheMeanMarkerAtTheMeanValue) {
  StripChartOptions options;
  options.y_min = 0;
  options.y_max = 1;
  options.height = 312;  // plot from y = 12 to y = 282: 0 -> 282, 1 -> 12
  const std::string svg = strip_chart_svg({{"a", "red", {0.25, 0.75}}}, options);
  const std::regex mean("class=\"mean\" d=\"M[0-9.]+ ([0-9.]+) ");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, mean));
  EXPECT_NEAR(std::stod(match[1]) + 6, 282 - 0.5 * 270, 0.05);
}

}  // namespace
}  // namespace medkd::experiment
