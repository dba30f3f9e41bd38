// Detects truncated image files before they are read.
//
// ITK's NIfTI and MetaImage readers fill a short read with whatever is in memory (MetaImage only
// prints a warning), so a file cut off by a failed copy would be read as a valid image with a
// corrupt tail. These checks compare the bytes present with what the header promises.
#pragma once

#include <cstdint>
#include <filesystem>

namespace medkd::io {

// Throws medkd::Error naming the file when it holds fewer bytes than its header describes.
// `data_bytes` is the uncompressed voxel data size from the header (voxels × bytes per voxel).
// NIfTI (.nii, .nii.gz) and MetaImage (.mha, .mhd) are checked; other formats are left to ITK.
void check_file_complete(const std::filesystem::path& path, uint64_t data_bytes);

// Validates a NIfTI header (size field, dimensions, data type) before ITK parses it, so that a
// corrupt header is one clear medkd::Error instead of messages printed by the NIfTI library.
// Does nothing for other formats.
void check_nifti_header(const std::filesystem::path& path);

// Number of NaN or infinite voxels stored in a floating-point NIfTI file, counted in the raw
// data: ITK's NIfTI reader silently replaces them with 0, so they cannot be seen after reading.
// Returns -1 for files that are not NIfTI or not floating point (scan the read image instead).
int64_t count_non_finite_in_file(const std::filesystem::path& path);

}  // namespace medkd::io
