// A minimal PNG reader for the experiment tests: it reads back what png_image.h writes and the
// screenshots headless Chromium takes (8-bit RGB or RGBA, not interlaced), undoing the five
// scanline filters of the PNG specification §9. Anything else is an error that says so.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "medkd/core/error.h"
#include "medkd/experiment/png_image.h"

namespace medkd::testing {

inline uint32_t read_u32_big_endian(const std::vector<uint8_t>& bytes, size_t at) {
  MEDKD_CHECK(at + 4 <= bytes.size(), "PNG: truncated at byte ", at);
  return (uint32_t{bytes[at]} << 24) | (uint32_t{bytes[at + 1]} << 16) |
         (uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
}

struct PngChunk {
  std::string type;
  std::vector<uint8_t> data;
  uint32_t stored_crc = 0;
};

// The chunks after the signature, in file order.
inline std::vector<PngChunk> read_png_chunks(const std::vector<uint8_t>& png) {
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  MEDKD_CHECK(png.size() >= 8 && std::equal(signature.begin(), signature.end(), png.begin()),
              "PNG: bad signature");
  std::vector<PngChunk> chunks;
  size_t at = 8;
  while (at < png.size()) {
    const uint32_t length = read_u32_big_endian(png, at);
    MEDKD_CHECK(at + 12 + length <= png.size(), "PNG: chunk at byte ", at, " runs past the end");
    PngChunk chunk;
    chunk.type.assign(png.begin() + at + 4, png.begin() + at + 8);
    chunk.data.assign(png.begin() + at + 8, png.begin() + at + 8 + length);
    chunk.stored_crc = read_u32_big_endian(png, at + 8 + length);
    chunks.push_back(std::move(chunk));
    at += 12 + length;
  }
  return chunks;
}

inline experiment::RgbImage decode_png(const std::vector<uint8_t>& png) {
  experiment::RgbImage image;
  std::vector<uint8_t> deflated;
  for (const PngChunk& chunk : read_png_chunks(png)) {
    if (chunk.type == "IHDR") {
      image.width = read_u32_big_endian(chunk.data, 0);
      image.height = read_u32_big_endian(chunk.data, 4);
      const int bit_depth = chunk.data.at(8), colour_type = chunk.data.at(9);
      const int interlace = chunk.data.at(12);
      MEDKD_CHECK(bit_depth == 8 && (colour_type == 2 || colour_type == 6) && interlace == 0,
                  "PNG: only 8-bit RGB/RGBA without interlace is read here, got bit depth ",
                  bit_depth, ", colour type ", colour_type, ", interlace ", interlace);
      image.channels = colour_type == 2 ? 3 : 4;
    } else if (chunk.type == "IDAT") {
      deflated.insert(deflated.end(), chunk.data.begin(), chunk.data.end());
    }
  }
  MEDKD_CHECK(image.width > 0 && image.height > 0, "PNG: no IHDR");
  const size_t row_bytes = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> filtered((row_bytes + 1) * image.height);
  uLongf filtered_size = filtered.size();
  const int status = uncompress(filtered.data(), &filtered_size, deflated.data(), deflated.size());
  MEDKD_CHECK(status == Z_OK && filtered_size == filtered.size(), "PNG: IDAT does not inflate to ",
              filtered.size(), " bytes (zlib status ", status, ", got ", filtered_size, ")");

  image.pixels.resize(row_bytes * image.height);
  const size_t bpp = image.channels;
  for (int64_t y = 0; y < image.height; ++y) {
    const uint8_t filter = filtered[y * (row_bytes + 1)];
    const uint8_t* in = &filtered[y * (row_bytes + 1) + 1];
    uint8_t* row = &image.pixels[y * row_bytes];
    const uint8_t* above = y > 0 ? row - row_bytes : nullptr;
    for (size_t i = 0; i < row_bytes; ++i) {
      const int a = i >= bpp ? row[i - bpp] : 0;
      const int b = above ? above[i] : 0;
      const int c = (above && i >= bpp) ? above[i - bpp] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          throw Error(str("PNG: unknown filter type ", int{filter}, " on row ", y));
      }
      row[i] = static_cast<uint8_t>(in[i] + predictor);
    }
  }
  return image;
}

inline std::vector<uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  MEDKD_CHECK(in, "cannot open ", path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace medkd::testing
