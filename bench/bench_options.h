// What the step-timing benchmarks share: their options, --rounds N (alternations of the settings
// compared) and --steps N (timed steps per measurement), both at least 1, 3 by default; and the
// median of a round's measurements.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

struct RoundsAndSteps {
  int rounds = 3;
  int steps = 3;
};

inline RoundsAndSteps parse_rounds_and_steps(int argc, char** argv) {
  RoundsAndSteps parsed;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0)
      parsed.rounds = std::max(1, std::stoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--steps") == 0)
      parsed.steps = std::max(1, std::stoi(argv[i + 1]));
  }
  return parsed;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}
