#include "medkd/experiment/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "experiment/png_decoder.h"
#include "test_support.h"

namespace medkd::experiment {
namespace {

using medkd::testing::decode_png;
using medkd::testing::error_of;
using medkd::testing::read_file_bytes;
using medkd::testing::TempDir;

const std::string kTeacher = "UNet <big> & \"wide\"";
const std::string kStudent = "tiny-student";
const std::string kDistilled = "tiny+KD";

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

LabelSlice square_labels(int64_t x0, int64_t y0, int64_t x1, int64_t y1, uint8_t label) {
  LabelSlice slice{8, 6, std::vector<uint8_t>(48, 0)};
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) slice.labels[y * 8 + x] = label;
  return slice;
}

RunSummary run(const std::string& name, const std::string& role, double params, double gflops) {
  RunSummary summary;
  summary.name = name;
  summary.role = role;
  summary.architecture = "unet";
  summary.params_millions = params;
  summary.gflops = gflops;
  return summary;
}

// 3 runs, 2 folds, 3 test cases and 2 validation cases per fold, curves, one 8x6 overlay.
StudyResults small_study() {
  StudyResults results;
  results.name = "Liver <KD> study & friends";
  results.description = "A hand-made study.\nSecond line.";
  results.label_name = "tumour";
  results.folds = 2;
  results.test_sets = {"test"};
  results.label_names = {"background", "liver", "tumour"};
  results.runs = {run(kTeacher, "teacher", 31.0, 12.0), run(kStudent, "student", 1.9, 2.5),
                  run(kDistilled, "distilled", 1.9, 2.5)};
  results.runs[2].teachers = {kTeacher};
  results.runs[2].baseline = kStudent;
  const double base[3] = {0.85, 0.70, 0.76};
  for (int r = 0; r < 3; ++r) {
    for (int fold = 0; fold < 2; ++fold) {
      for (int c = 0; c < 3; ++c) {
        const double dice = base[r] + 0.02 * c - 0.01 * fold;
        results.metrics.push_back({results.runs[r].name, fold, "test", "case_" + std::to_string(c),
                                   0, dice, dice - 0.1, 4.0, 1.0});
        results.metrics.push_back(  // label 2 alone: not what the charts show
            {results.runs[r].name, fold, "test", "case_" + std::to_string(c), 2, 0.1, 0.05, 9.0,
             3.0});
      }
      for (int c = 0; c < 2; ++c)
        results.metrics.push_back({results.runs[r].name, fold, "cv",
                                   "val_" + std::to_string(fold) + std::to_string(c), 0,
                                   base[r] - 0.05 * c, 0.5, 5.0, 2.0});
      TrainingCurve curve{results.runs[r].name, fold, {}};
      for (int64_t epoch = 0; epoch < 6; ++epoch)
        curve.points.push_back({epoch, 1.0 / (epoch + 1) + 0.1 * r,
                                epoch % 2 ? base[r] * (1 - std::exp(-0.5 * epoch)) : std::nan("")});
      results.curves.push_back(curve);
    }
  }
  Overlay overlay;
  overlay.case_id = "case_<0>";
  overlay.set = "test";
  overlay.fold = 1;
  overlay.slice_index = 17;
  overlay.image = {8, 6, {}};
  for (int i = 0; i < 48; ++i) overlay.image.pixels.push_back(static_cast<float>(i * 10 - 200));
  overlay.reference = square_labels(2, 1, 6, 5, 1);
  overlay.reference.labels[3 * 8 + 4] = 2;
  overlay.runs = {kTeacher, kStudent, kDistilled};
  overlay.predictions = {square_labels(2, 1, 6, 5, 1), square_labels(1, 1, 4, 4, 1),
                         square_labels(2, 2, 6, 5, 1)};
  results.overlays.push_back(overlay);
  results.tables.push_back({"Test set: <test>",
                            "Dice of tumour, mean \xc2\xb1 sd over 2 folds.",
                            {"Method", "Role", "Dice"},
                            {{kTeacher, "teacher", "0.865 \xc2\xb1 0.007"},
                             {kStudent, "student", "0.715 \xc2\xb1 0.007"},
                             {kDistilled, "distilled", "0.775 \xc2\xb1 0.007"}}});
  return results;
}

std::vector<uint8_t> base64_decode(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<uint8_t> bytes;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<uint32_t>(alphabet.find(c));
    if ((count += 6) >= 8) bytes.push_back(static_cast<uint8_t>(bits >> (count -= 8)));
  }
  return bytes;
}

TEST(Report, IsOneHtml5PageWithoutAnyUrl) {
  const std::string page = render_report_html(small_study());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("xmlns"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("src=\"//"), std::string::npos);
  EXPECT_EQ(count_of(page, "src=\""), count_of(page, "src=\"data:image/png;base64,"));
  EXPECT_NE(page.rfind("</html>\n"), std::string::npos);
}

TEST(Report, HasTheSectionsInOrder) {
  const std::string page = render_report_html(small_study());
  const std::vector<std::string> ids = {"id=\"tables\"",   "id=\"dice-vs-size\"", "id=\"curves\"",
                                        "id=\"per-case\"", "id=\"overlays\"",     "<footer>"};
  size_t previous = 0;
  for (const std::string& id : ids) {
    const size_t at = page.find(id);
    ASSERT_NE(at, std::string::npos) << id;
    EXPECT_GT(at, previous) << id;
    previous = at;
  }
}

TEST(Report, DrawsOneSvgPerChart) {
  // Dice vs size, validation Dice, training loss, Dice per case on "test" and on "cv".
  const std::string page = render_report_html(small_study());
  EXPECT_EQ(count_of(page, "<svg"), 5u);
  EXPECT_EQ(count_of(page, "</svg>"), 5u);
  EXPECT_NE(page.find("Dice per case on test"), std::string::npos);
  EXPECT_NE(page.find("Dice per case on cv"), std::string::npos);
}

TEST(Report, EscapesEveryName) {
  const std::string page = render_report_html(small_study());
  EXPECT_EQ(page.find("<big>"), std::string::npos);
  EXPECT_EQ(page.find("<KD>"), std::string::npos);
  EXPECT_EQ(page.find("<test>"), std::string::npos);
  EXPECT_EQ(page.find("case_<0>"), std::string::npos);
  EXPECT_NE(page.find("<h1>Liver &lt;KD&gt; study &amp; friends</h1>"), std::string::npos);
  EXPECT_NE(page.find("UNet &lt;big&gt; &amp; &quot;wide&quot;"), std::string::npos);
  EXPECT_NE(page.find("case_&lt;0&gt;"), std::string::npos);
  EXPECT_NE(page.find("tiny+KD"), std::string::npos);
}

TEST(Report, WritesTheTablesWithTitleNoteAndCells) {
  const std::string page = render_report_html(small_study());
  EXPECT_NE(page.find("<caption>Test set: &lt;test&gt;</caption>"), std::string::npos);
  EXPECT_NE(page.find("<p class=\"note\">Dice of tumour, mean \xc2\xb1 sd over 2 folds.</p>"),
            std::string::npos);
  EXPECT_NE(page.find("<thead><tr><th>Method</th><th>Role</th><th>Dice</th></tr></thead>"),
            std::string::npos);
  EXPECT_NE(page.find("<td class=\"num\">0.865 \xc2\xb1 0.007</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>teacher</td>"), std::string::npos);
}

TEST(Report, LabelsEachBubbleWithItsRunAndDice) {
  const std::string page = render_report_html(small_study());
  // Teacher on "test": 0.85 + {0, .02, .04} - {0, .01} over 3 cases x 2 folds = 0.865.
  EXPECT_NE(page.find("UNet &lt;big&gt; &amp; &quot;wide&quot; (teacher, unet): Dice 0.865, "
                      "31.00 M parameters, 12.00 GFLOPs"),
            std::string::npos);
  EXPECT_NE(page.find("area \xe2\x88\x9d GFLOPs"), std::string::npos);
  EXPECT_NE(page.find(">distilled</text>"), std::string::npos);  // the colour legend
}

TEST(Report, EmbedsEachOverlayPanelAsAPngOfTheSliceSize) {
  const std::string page = render_report_html(small_study());
  const std::string prefix = "src=\"data:image/png;base64,";
  EXPECT_EQ(count_of(page, prefix), 5u);  // image, reference, 3 runs
  const size_t start = page.find(prefix) + prefix.size();
  const RgbImage panel =
      decode_png(base64_decode(page.substr(start, page.find('"', start) - start)));
  EXPECT_EQ(panel.width, 8);
  EXPECT_EQ(panel.height, 6);
  // Shown 20 times larger (ceil(160 / 8)), pixelated.
  EXPECT_NE(page.find("width=\"160\" height=\"120\""), std::string::npos);
  // The legend names the labels with their colours.
  EXPECT_NE(page.find("background:rgb(230,25,75)\"></span>liver"), std::string::npos);
  EXPECT_NE(page.find("background:rgb(60,180,75)\"></span>tumour"), std::string::npos);
}

TEST(Report, SaysSoWhenASectionHasNoData) {
  StudyResults empty;
  empty.name = "empty";
  const std::string page = render_report_html(empty);
  EXPECT_NE(page.find("No tables were produced."), std::string::npos);
  EXPECT_NE(page.find("No run has both a parameter count and a Dice on &#39;cv&#39;."),
            std::string::npos);
  EXPECT_NE(page.find("No training curves were recorded."), std::string::npos);
  EXPECT_NE(page.find("No per-case metrics were recorded."), std::string::npos);
  EXPECT_NE(page.find("No overlays were recorded."), std::string::npos);
  EXPECT_EQ(count_of(page, "<svg"), 0u);
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

TEST(Report, RejectsAnOverlayWhosePredictionHasAnotherSize) {
  StudyResults results = small_study();
  results.overlays[0].predictions[1] = LabelSlice{4, 4, std::vector<uint8_t>(16)};
  EXPECT_NE(error_of([&] {
              render_report_html(results);
            }).find("case 'case_<0>': the prediction of run 'tiny-student' is 4 x 4"),
            std::string::npos);
  results = small_study();
  results.overlays[0].runs.pop_back();
  EXPECT_NE(error_of([&] { render_report_html(results); }).find("2 runs but 3 predictions"),
            std::string::npos);
}

TEST(MeanDice, AveragesTheReportLabelOverCasesAndFolds) {
  StudyResults results = small_study();
  EXPECT_NEAR(mean_dice(results, kStudent, "test"), 0.715, 1e-12);
  EXPECT_NEAR(mean_dice(results, kStudent, "cv"), 0.675, 1e-12);
  results.report_label = 2;
  EXPECT_NEAR(mean_dice(results, kStudent, "test"), 0.1, 1e-12);
  EXPECT_TRUE(std::isnan(mean_dice(results, "no such run", "test")));
}

TEST(PercentileWindow, IsTheFirstAndNinetyNinthPercentile) {
  GreySlice slice{101, 1, {}};
  for (int i = 0; i <= 100; ++i) slice.pixels.push_back(static_cast<float>(i));
  slice.pixels[50] = std::nanf("");  // left out: 100 values 0..100 without 50
  const IntensityWindow window = percentile_window(slice);
  // Positions 0.99 and 98.01 of the 100 sorted values (linear interpolation).
  EXPECT_NEAR(window.low, 0.99, 1e-9);
  EXPECT_NEAR(window.high, 99.01, 1e-9);
}

TEST(OverlayPicture, WindowsTheGreyAndBlendsLabelsInsideAndOnTheBoundary) {
  GreySlice image{3, 3, {0, 50, 100, 100, 100, 100, 100, 100, 200}};
  const LabelSlice labels{3, 3, {0, 0, 0, 0, 1, 0, 0, 0, 0}};
  const RgbImage plain = overlay_picture(image, nullptr, {0, 100});
  EXPECT_EQ(plain.pixels[0], 0);        // at the window's low end: black
  EXPECT_EQ(plain.pixels[3], 128);      // 50 of [0, 100]: 127.5, rounded
  EXPECT_EQ(plain.pixels[8 * 3], 255);  // above the window: white
  const RgbImage painted = overlay_picture(image, &labels, {0, 200});
  // The lone labelled pixel is its own boundary: 90% of label 1's red over grey 127.5.
  EXPECT_EQ(painted.pixels[4 * 3 + 0], std::lround(0.1 * 127.5 + 0.9 * 230));
  EXPECT_EQ(painted.pixels[4 * 3 + 1], std::lround(0.1 * 127.5 + 0.9 * 25));
  // An interior pixel is blended at 45%.
  LabelSlice block{3, 3, std::vector<uint8_t>(9, 2)};
  GreySlice flat{3, 3, std::vector<float>(9, 0)};
  const RgbImage filled = overlay_picture(flat, &block, {0, 1});
  EXPECT_EQ(filled.pixels[4 * 3 + 1], std::lround(0.45 * 180));  // label 2 is (60, 180, 75)
  EXPECT_EQ(filled.pixels[0 * 3 + 1], std::lround(0.9 * 180));   // the edge is a boundary
}

TEST(LabelColour, IsFixedAndNeverPaintsTheBackground) {
  EXPECT_EQ(label_colour(1), (std::array<uint8_t, 3>{230, 25, 75}));
  EXPECT_EQ(label_colour(13), label_colour(1));
  EXPECT_EQ(label_colour(0), (std::array<uint8_t, 3>{0, 0, 0}));
}

// Headless Chromium: the page must open from a file, offline, and show something.
std::string chromium_executable() {
  if (const char* configured = std::getenv("MEDKD_CHROMIUM")) return configured;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(candidate)) return candidate;
  return "";
}

std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string tail_of_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

TEST(Report, RendersInHeadlessChromium) {
  const std::string chromium = chromium_executable();
  ASSERT_FALSE(chromium.empty())
      << "headless Chromium is needed to check that the report renders, and none was found at "
         "/usr/bin/chromium (scripts/install-deps.sh installs it; MEDKD_CHROMIUM=path picks "
         "another binary)";
  TempDir dir;
  const StudyResults results = small_study();
  const std::string page = render_report_html(results);
  {
    std::ofstream out(dir / "report.html", std::ios::binary);
    out << page;
  }
  const std::string common =
      "timeout 60 " + shell_quote(chromium) +
      " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
      " --disable-extensions --disable-background-networking --user-data-dir=" +
      shell_quote((dir / "profile").string()) + " ";
  const std::string url = shell_quote("file://" + (dir / "report.html").string());
  const auto log = dir / "chromium.log";

  const std::string screenshot_command =
      common + "--window-size=1200,2400 --screenshot=" + shell_quote((dir / "shot.png").string()) +
      " " + url + " > " + shell_quote(log.string()) + " 2>&1";
  ASSERT_EQ(std::system(screenshot_command.c_str()), 0) << screenshot_command << "\n"
                                                        << tail_of_file(log);
  ASSERT_TRUE(std::filesystem::exists(dir / "shot.png")) << tail_of_file(log);
  if (const char* keep = std::getenv("MEDKD_REPORT_TEST_OUTPUT")) {
    // For a person checking the page by eye: where to leave the page and its screenshot.
    std::filesystem::create_directories(keep);
    std::filesystem::copy_file(dir / "report.html", std::filesystem::path(keep) / "report.html",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(dir / "shot.png", std::filesystem::path(keep) / "report.png",
                               std::filesystem::copy_options::overwrite_existing);
  }

  const RgbImage shot = decode_png(read_file_bytes(dir / "shot.png"));
  EXPECT_EQ(shot.width, 1200);
  EXPECT_EQ(shot.height, 2400);
  int64_t non_white = 0, saturated = 0;
  std::set<int> colours;  // 4 bits per channel
  for (size_t at = 0; at + 2 < shot.pixels.size(); at += shot.channels) {
    const int r = shot.pixels[at], g = shot.pixels[at + 1], b = shot.pixels[at + 2];
    if (std::min({r, g, b}) < 235) ++non_white;
    if (std::max({r, g, b}) - std::min({r, g, b}) > 100) ++saturated;
    colours.insert((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
  }
  const double pixels = static_cast<double>(shot.width * shot.height);
  EXPECT_GT(non_white / pixels, 0.03) << "the screenshot is almost blank";
  EXPECT_GT(saturated, 2000) << "no coloured marks (bubbles, lines, points) in the screenshot";
  EXPECT_GE(colours.size(), 20u) << "the screenshot has too few distinct colours";

  // What Chromium parsed: every chart, the escaped names as text, every panel.
  const std::string dom_command = common + "--dump-dom " + url + " > " +
                                  shell_quote((dir / "dom.html").string()) + " 2> " +
                                  shell_quote(log.string());
  ASSERT_EQ(std::system(dom_command.c_str()), 0) << dom_command << "\n" << tail_of_file(log);
  std::ifstream dom_file(dir / "dom.html");
  const std::string dom{std::istreambuf_iterator<char>(dom_file), std::istreambuf_iterator<char>()};
  EXPECT_EQ(count_of(dom, "<svg"), 5u);
  EXPECT_EQ(count_of(dom, "<img "), 5u);
  EXPECT_NE(dom.find("<h1>Liver &lt;KD&gt; study &amp; friends</h1>"), std::string::npos);
  EXPECT_NE(dom.find("<footer>"), std::string::npos);
}

}  // namespace
}  // namespace medkd::experiment
