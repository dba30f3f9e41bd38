#include "medkd/io/image_io.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "medkd/core/error.h"
#include "test_support.h"

namespace fs = std::filesystem;
using medkd::io::Geometry;
using medkd::io::Image;
using medkd::testing::TempDir;

namespace {

// An oblique, anisotropic geometry: rotation by 30 degrees about z, spacing 0.7 x 0.9 x 2.5 mm.
Geometry oblique_geometry() {
  Geometry g;
  g.spacing = {0.7, 0.9, 2.5};
  g.origin = {-12.5, 30.25, 101.0};
  const double c = std::cos(M_PI / 6), s = std::sin(M_PI / 6);
  g.direction = {c, -s, 0, s, c, 0, 0, 0, 1};
  return g;
}

Image ramp_image(torch::ScalarType dtype) {
  Image image;
  image.data = torch::arange(4 * 3 * 5).reshape({1, 4, 3, 5}).to(dtype);  // z=4, y=3, x=5
  image.geometry = oblique_geometry();
  return image;
}

void expect_same_geometry(const Geometry& a, const Geometry& b) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(a.spacing[i], b.spacing[i], 1e-5);
    EXPECT_NEAR(a.origin[i], b.origin[i], 1e-4);
  }
  for (int i = 0; i < 9; ++i) EXPECT_NEAR(a.direction[i], b.direction[i], 1e-5);
}

}  // namespace

class ImageRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(ImageRoundTrip, KeepsVoxelsGeometryAndIntegerType) {
  TempDir dir;
  const fs::path file = dir / ("img" + GetParam());
  const Image labels = ramp_image(torch::kUInt8);
  medkd::io::write_image(labels, file);
  const Image read = medkd::io::read_image(file);
  EXPECT_EQ(read.data.scalar_type(), torch::kUInt8);
  EXPECT_EQ(read.data.sizes(), labels.data.sizes());
  EXPECT_TRUE(torch::equal(read.data, labels.data));
  expect_same_geometry(read.geometry, labels.geometry);
  const medkd::io::ImageHeader header = medkd::io::read_image_header(file);
  EXPECT_TRUE(header.is_integer);
  EXPECT_EQ(header.size_xyz, (std::array<int64_t, 3>{5, 3, 4}));
}

INSTANTIATE_TEST_SUITE_P(Formats, ImageRoundTrip,
                         ::testing::Values(".nii.gz", ".nii", ".mha", ".mhd", ".nrrd"));

TEST(ImageIO, FloatImagesStayFloatAndInt16StaysInt16) {
  TempDir dir;
  Image ct = ramp_image(torch::kFloat32);
  ct.data = ct.data * 0.25 - 1000;
  medkd::io::write_image(ct, dir / "ct.nii.gz");
  const Image read = medkd::io::read_image(dir / "ct.nii.gz");
  EXPECT_EQ(read.data.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(read.data, ct.data));

  const Image labels = ramp_image(torch::kInt16);
  medkd::io::write_image(labels, dir / "l.nrrd");
  EXPECT_EQ(medkd::io::read_image(dir / "l.nrrd").data.scalar_type(), torch::kInt16);
}

TEST(ImageIO, MultiChannelImagesAreBuiltFromOneFilePerChannel) {
  TempDir dir;
  Image a = ramp_image(torch::kFloat32), b = ramp_image(torch::kFloat32);
  b.data = b.data * 2;
  medkd::io::write_image(a, dir / "c_0000.nii.gz");
  medkd::io::write_image(b, dir / "c_0001.nii.gz");
  const Image both = medkd::io::read_channels({dir / "c_0000.nii.gz", dir / "c_0001.nii.gz"});
  EXPECT_EQ(both.data.sizes(), (std::vector<int64_t>{2, 4, 3, 5}));
  EXPECT_TRUE(torch::equal(both.data[1], b.data[0]));
}

TEST(ImageIO, ChannelsWithDifferentGeometryAreRejectedNamingTheFile) {
  TempDir dir;
  Image a = ramp_image(torch::kFloat32), b = ramp_image(torch::kFloat32);
  b.geometry.spacing[2] = 3.0;
  medkd::io::write_image(a, dir / "c_0000.nii.gz");
  medkd::io::write_image(b, dir / "c_0001.nii.gz");
  try {
    medkd::io::read_channels({dir / "c_0000.nii.gz", dir / "c_0001.nii.gz"});
    FAIL();
  } catch (const medkd::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("c_0001.nii.gz"), std::string::npos) << message;
    EXPECT_NE(message.find("spacing"), std::string::npos) << message;
  }
}

TEST(ImageIO, DicomSeriesRoundTripKeepsHounsfieldUnitsAndGeometry) {
  TempDir dir;
  Image ct;
  ct.data = (torch::arange(6 * 4 * 5).reshape({1, 6, 4, 5}).to(torch::kFloat32) * 10 - 1000);
  ct.geometry.spacing = {0.8, 0.6, 2.5};
  ct.geometry.origin = {-100, -50, 20};
  medkd::io::write_dicom_series(ct, dir / "series");
  const Image read = medkd::io::read_dicom_series(dir / "series");
  EXPECT_EQ(read.data.sizes(), ct.data.sizes());
  EXPECT_TRUE(torch::allclose(read.data, ct.data));
  expect_same_geometry(read.geometry, ct.geometry);
}

TEST(ImageIO, AFolderWithoutDicomFilesIsABadInput) {
  TempDir dir;
  EXPECT_THROW(medkd::io::read_dicom_series(dir.path()), medkd::Error);
}

TEST(ImageIO, MissingFilesAreNamedInTheError) {
  try {
    medkd::io::read_image("/nonexistent/ct_0000.nii.gz");
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ct_0000.nii.gz: no such file"),
              std::string::npos)
        << e.what();
  }
}

TEST(ImageIO, GarbageAndTruncatedFilesAreBadInputNotCrashes) {
  TempDir dir;
  { std::ofstream(dir / "garbage.nii.gz") << "this is not an image"; }
  EXPECT_THROW(medkd::io::read_image(dir / "garbage.nii.gz"), medkd::Error);

  Image big;
  big.data = torch::rand({1, 20, 20, 20});
  for (const std::string ending : {".nii.gz", ".nii", ".mha", ".mhd", ".nrrd"}) {
    const fs::path file = dir / ("big" + ending);
    medkd::io::write_image(big, file);
    fs::resize_file(file, fs::file_size(file) / 2);
    EXPECT_THROW(medkd::io::read_image(file), medkd::Error) << ending;
  }
  // A MetaImage header whose separate data file was cut short.
  medkd::io::write_image(big, dir / "split.mhd");
  for (const auto& entry : fs::directory_iterator(dir.path()))
    if (entry.path().extension() == ".zraw" || entry.path().extension() == ".raw")
      fs::resize_file(entry.path(), fs::file_size(entry.path()) / 2);
  EXPECT_THROW(medkd::io::read_image(dir / "split.mhd"), medkd::Error);
}

TEST(ImageIO, WritingIsAtomicAndRejectsUnknownEndings) {
  TempDir dir;
  EXPECT_THROW(medkd::io::write_image(ramp_image(torch::kUInt8), dir / "x.png"), medkd::Error);
  medkd::io::write_image(ramp_image(torch::kUInt8), dir / "x.mhd");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names.size(), 2u);  // x.mhd and its data file, no temporaries
  EXPECT_EQ(names[0], "x.mhd");
}

TEST(ImageIO, FileEndingsAreRecognisedWithDoubleExtensions) {
  EXPECT_EQ(medkd::io::image_file_ending("a/case_0000.nii.gz"), ".nii.gz");
  EXPECT_EQ(medkd::io::strip_image_ending("a/case_0000.nii.gz"), "case_0000");
  EXPECT_EQ(medkd::io::image_file_ending("b.MHA"), ".MHA");
  EXPECT_FALSE(medkd::io::is_image_file("c.png"));
}

TEST(Geometry, DifferencesAreDescribedAndToleranceIsRespected) {
  Geometry a = oblique_geometry(), b = oblique_geometry();
  EXPECT_TRUE(a.matches(b));
  b.spacing[0] += 1e-7;
  EXPECT_TRUE(a.matches(b));
  b.origin[1] += 0.5;
  EXPECT_NE(a.difference(b).find("origin"), std::string::npos);
  Geometry c = oblique_geometry();
  c.direction[0] = 1;
  EXPECT_NE(a.difference(c).find("direction"), std::string::npos);
}

TEST(ImageIO, ACorruptNiftiHeaderIsOneClearError) {
  TempDir dir;
  medkd::io::write_image(ramp_image(torch::kUInt8), dir / "x.nii");
  {
    std::fstream file(dir / "x.nii", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(70);  // NIfTI-1 datatype field
    file.put(char(0x45)).put(char(0x45));
  }
  try {
    medkd::io::read_image(dir / "x.nii");
    FAIL();
  } catch (const medkd::Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt NIfTI header (unknown data type"),
              std::string::npos)
        << e.what();
  }
}
