// `medkd image info FILE...`: size, spacing, origin, direction and voxel type of image files, read
// from their headers, plus value range when asked.
#include <iomanip>
#include <iostream>

#include "commands.h"
#include "medkd/core/error.h"
#include "medkd/io/image_io.h"

namespace medkd::cli {

void add_image_command(CLI::App& app, const GlobalOptions& /*global*/) {
  CLI::App* image = app.add_subcommand("image", "Inspect image files");
  image->require_subcommand(1);
  CLI::App* info = image->add_subcommand(
      "info",
      "Print size, spacing (mm), origin (mm), direction and voxel type of image files "
      "(NIfTI, MetaImage, NRRD) or DICOM series folders");
  struct Options {
    std::vector<std::string> files;
    bool values = false;
  };
  auto o = std::make_shared<Options>();
  info->add_option("FILE", o->files, "Image files or DICOM folders")->required();
  info->add_flag("--values", o->values, "Also read the voxels and print min, max and mean");
  info->callback([o] {
    for (const std::string& file : o->files) {
      io::Image image;
      io::ImageHeader header;
      const bool dicom = std::filesystem::is_directory(file);
      if (dicom) {
        image = io::read_dicom_series(file);
        header.size_xyz = image.size_xyz();
        header.geometry = image.geometry;
        header.component_type = "float (DICOM series, rescaled)";
      } else {
        header = io::read_image_header(file);
        if (o->values) image = io::read_image(file);
      }
      const auto& g = header.geometry;
      std::cout << file << '\n'
                << "  size      " << io::format_size(header.size_xyz) << '\n'
                << "  spacing   " << io::format_triple(g.spacing) << '\n'
                << "  origin    " << io::format_triple(g.origin) << '\n'
                << "  direction";
      for (double d : g.direction) std::cout << ' ' << d;
      std::cout << '\n' << "  type      " << header.component_type << '\n';
      if (o->values || dicom) {
        const torch::Tensor v = image.data.to(torch::kFloat64);
        std::cout << "  values    min " << v.min().item<double>() << " max "
                  << v.max().item<double>() << " mean " << v.mean().item<double>() << '\n';
      }
    }
  });
}

}  // namespace medkd::cli
