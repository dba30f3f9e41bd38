// Uses the installed library: writes and reads an image and scores it against itself.
#include <iostream>

#include "medkd/core/version.h"
#include "medkd/io/image_io.h"
#include "medkd/metrics/evaluation.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  medkd::io::Image labels{torch::zeros({1, 4, 4, 4}, torch::kUInt8), {}};
  labels.data[0][1][1][1] = 1;
  medkd::io::write_image(labels, argv[1]);
  const medkd::io::Image read = medkd::io::read_image(argv[1]);
  const auto m = medkd::metrics::evaluate_label(read.data, labels.data, 1, read.geometry.spacing);
  std::cout << medkd::core::runtime_info().medkd_version << " Dice " << m.dice << std::endl;
  return m.dice == 1.0 ? 0 : 1;
}
