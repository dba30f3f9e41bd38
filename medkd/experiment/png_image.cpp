#include "medkd/experiment/png_image.h"

#include <zlib.h>

#include <limits>

#include "medkd/core/error.h"

namespace medkd::experiment {
namespace {

void append_u32_big_endian(std::vector<uint8_t>& out, uint32_t value) {
  out.push_back(static_cast<uint8_t>(value >> 24));
  out.push_back(static_cast<uint8_t>(value >> 16));
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

// length, type, data, CRC-32 of type + data (PNG spec §5.3).
void append_chunk(std::vector<uint8_t>& out, const char type[4], const std::vector<uint8_t>& data) {
  append_u32_big_endian(out, static_cast<uint32_t>(data.size()));
  const size_t type_start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, out.data() + type_start, static_cast<uInt>(4 + data.size()));
  append_u32_big_endian(out, static_cast<uint32_t>(crc));
}

}  // namespace

std::vector<uint8_t> encode_png(const RgbImage& image) {
  MEDKD_CHECK(image.channels == 3 || image.channels == 4,
              "PNG image: channels must be 3 (RGB) or 4 (RGBA), got ", image.channels);
  // The PNG limit on each side is 2^31 - 1; a report picture is far smaller, so a generous
  // bound on the pixel count also keeps the sizes below within zlib's 32-bit lengths.
  constexpr int64_t kMaxSide = std::numeric_limits<int32_t>::max();
  MEDKD_CHECK(
      image.width > 0 && image.height > 0 && image.width <= kMaxSide && image.height <= kMaxSide,
      "PNG image: size must be positive, got ", image.width, " x ", image.height);
  const int64_t row_bytes = image.width * image.channels;
  MEDKD_CHECK(row_bytes * image.height < (int64_t{1} << 30), "PNG image: ", image.width, " x ",
              image.height, " is too large for the report");
  MEDKD_CHECK(static_cast<int64_t>(image.pixels.size()) == row_bytes * image.height,
              "PNG image: ", image.width, " x ", image.height, " x ", image.channels, " needs ",
              row_bytes * image.height, " values, got ", image.pixels.size());

  // Every scanline starts with its filter type; 0 (None) keeps the encoder trivial, and the
  // report's pictures (flat label colours over a grey slice) deflate well without filtering.
  std::vector<uint8_t> scanlines;
  scanlines.reserve(static_cast<size_t>((row_bytes + 1) * image.height));
  for (int64_t y = 0; y < image.height; ++y) {
    scanlines.push_back(0);
    const auto row = image.pixels.begin() + y * row_bytes;
    scanlines.insert(scanlines.end(), row, row + row_bytes);
  }
  uLongf compressed_size = compressBound(static_cast<uLong>(scanlines.size()));
  std::vector<uint8_t> compressed(compressed_size);
  const int status = compress2(compressed.data(), &compressed_size, scanlines.data(),
                               static_cast<uLong>(scanlines.size()), Z_BEST_COMPRESSION);
  MEDKD_CHECK(status == Z_OK, "PNG image: zlib compress2 failed with status ", status);
  compressed.resize(compressed_size);

  std::vector<uint8_t> header;
  append_u32_big_endian(header, static_cast<uint32_t>(image.width));
  append_u32_big_endian(header, static_cast<uint32_t>(image.height));
  header.push_back(8);                            // bit depth
  header.push_back(image.channels == 3 ? 2 : 6);  // colour type: truecolour (+ alpha)
  header.push_back(0);                            // compression: deflate
  header.push_back(0);                            // filter method: adaptive
  header.push_back(0);                            // no interlace

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  append_chunk(png, "IHDR", header);
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});
  return png;
}

std::string base64_encode(const uint8_t* bytes, size_t size) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t group =
        (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += kAlphabet[(group >> 6) & 63];
    out += kAlphabet[group & 63];
  }
  const size_t rest = size - i;
  if (rest > 0) {
    const uint32_t group =
        (uint32_t{bytes[i]} << 16) | (rest == 2 ? uint32_t{bytes[i + 1]} << 8 : 0);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += rest == 2 ? kAlphabet[(group >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_encode(const std::vector<uint8_t>& bytes) {
  return base64_encode(bytes.data(), bytes.size());
}

std::string base64_encode(std::string_view bytes) {
  return base64_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string png_data_uri(const RgbImage& image) {
  return "data:image/png;base64," + base64_encode(encode_png(image));
}

}  // namespace medkd::experiment
