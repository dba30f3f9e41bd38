#include "medkd/experiment/png_image.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "experiment/png_decoder.h"
#include "test_support.h"

namespace medkd::experiment {
namespace {

using medkd::testing::decode_png;
using medkd::testing::error_of;
using medkd::testing::read_png_chunks;

RgbImage gradient_image(int64_t width, int64_t height, int channels) {
  RgbImage image{width, height, channels, {}};
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        image.pixels.push_back(static_cast<uint8_t>(x * 40 + y * 7 + c * 90));
  return image;
}

TEST(Base64, EncodesTheRfc4648Examples) {
  // RFC 4648 §10 test vectors, and the classic "Man" -> "TWFu".
  EXPECT_EQ(base64_encode(std::string_view("")), "");
  EXPECT_EQ(base64_encode(std::string_view("f")), "Zg==");
  EXPECT_EQ(base64_encode(std::string_view("fo")), "Zm8=");
  EXPECT_EQ(base64_encode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(base64_encode(std::string_view("foob")), "Zm9vYg==");
  EXPECT_EQ(base64_encode(std::string_view("fooba")), "Zm9vYmE=");
  EXPECT_EQ(base64_encode(std::string_view("foobar")), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("Man")), "TWFu");
}

TEST(Base64, UsesPlusAndSlashForTheLastTwoDigits) {
  EXPECT_EQ(base64_encode(std::vector<uint8_t>{0xfb, 0xff, 0xbf}), "+/+/");
}

TEST(PngImage, StartsWithTheSignatureAndAnIhdrOfTheImageSize) {
  const std::vector<uint8_t> png = encode_png(gradient_image(5, 3, 3));
  const std::vector<uint8_t> signature = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a};
  ASSERT_GE(png.size(), 33u);
  EXPECT_TRUE(std::equal(signature.begin(), signature.end(), png.begin()));
  const auto chunks = read_png_chunks(png);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].type, "IHDR");
  EXPECT_EQ(chunks[1].type, "IDAT");
  EXPECT_EQ(chunks[2].type, "IEND");
  // width 5, height 3, bit depth 8, colour type 2, deflate, adaptive filtering, no interlace
  const std::vector<uint8_t> ihdr = {0, 0, 0, 5, 0, 0, 0, 3, 8, 2, 0, 0, 0};
  EXPECT_EQ(chunks[0].data, ihdr);
}

TEST(PngImage, MarksRgbaAsColourTypeSix) {
  const auto chunks = read_png_chunks(encode_png(gradient_image(2, 2, 4)));
  EXPECT_EQ(chunks[0].data[9], 6);
}

TEST(PngImage, EndsWithTheIendChunkAndItsKnownCrc) {
  // An empty IEND chunk is the same 12 bytes in every PNG file: CRC-32("IEND") = 0xAE426082.
  const std::vector<uint8_t> png = encode_png(gradient_image(1, 1, 3));
  const std::vector<uint8_t> iend = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  ASSERT_GE(png.size(), iend.size());
  EXPECT_TRUE(std::equal(iend.begin(), iend.end(), png.end() - iend.size()));
}

TEST(PngImage, StoresTheCrcOfEveryChunkTypeAndData) {
  for (const auto& chunk : read_png_chunks(encode_png(gradient_image(4, 4, 3)))) {
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(chunk.type.data()), 4);
    if (!chunk.data.empty())  // zlib reads a null buffer as "return the initial value"
      crc = crc32(crc, chunk.data.data(), static_cast<uInt>(chunk.data.size()));
    EXPECT_EQ(chunk.stored_crc, static_cast<uint32_t>(crc)) << chunk.type;
  }
}

TEST(PngImage, IdatInflatesToUnfilteredScanlines) {
  const RgbImage image = gradient_image(3, 2, 3);
  const auto chunks = read_png_chunks(encode_png(image));
  std::vector<uint8_t> scanlines(2 * (1 + 3 * 3));
  uLongf size = scanlines.size();
  ASSERT_EQ(uncompress(scanlines.data(), &size, chunks[1].data.data(), chunks[1].data.size()),
            Z_OK);
  ASSERT_EQ(size, scanlines.size());
  EXPECT_EQ(scanlines[0], 0);   // filter type None
  EXPECT_EQ(scanlines[10], 0);  // second row
  EXPECT_TRUE(std::equal(image.pixels.begin(), image.pixels.begin() + 9, scanlines.begin() + 1));
  EXPECT_TRUE(std::equal(image.pixels.begin() + 9, image.pixels.end(), scanlines.begin() + 11));
}

TEST(PngImage, RoundTripsRgbAndRgbaPixels) {
  for (int channels : {3, 4}) {
    const RgbImage image = gradient_image(7, 5, channels);
    const RgbImage decoded = decode_png(encode_png(image));
    EXPECT_EQ(decoded.width, 7);
    EXPECT_EQ(decoded.height, 5);
    EXPECT_EQ(decoded.channels, channels);
    EXPECT_EQ(decoded.pixels, image.pixels);
  }
}

TEST(PngImage, DataUriIsTheBase64OfThePngBytes) {
  const RgbImage image = gradient_image(2, 2, 3);
  EXPECT_EQ(png_data_uri(image), "data:image/png;base64," + base64_encode(encode_png(image)));
  EXPECT_EQ(png_data_uri(image).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
}

TEST(PngImage, RejectsAWrongPixelCountOrChannelCount) {
  RgbImage short_of_pixels{4, 4, 3, std::vector<uint8_t>(47)};
  EXPECT_NE(error_of([&] { encode_png(short_of_pixels); }).find("needs 48 values, got 47"),
            std::string::npos);
  RgbImage grey{2, 2, 1, std::vector<uint8_t>(4)};
  EXPECT_NE(error_of([&] { encode_png(grey); }).find("channels must be 3 (RGB) or 4 (RGBA), got 1"),
            std::string::npos);
  RgbImage empty{0, 3, 3, {}};
  EXPECT_NE(error_of([&] { encode_png(empty); }).find("size must be positive, got 0 x 3"),
            std::string::npos);
}

}  // namespace
}  // namespace medkd::experiment
