// One seeded random generator per run: every random choice of medkd flows from it, so a run is
// reproducible from its seed. Child generators (per case, per worker) are derived from the parent
// seed and an index, so their streams do not depend on scheduling order.
#pragma once

#include <cstdint>
#include <random>

namespace medkd::core {

class Rng {
 public:
  explicit Rng(uint64_t seed) : seed_(seed), engine_(mix(seed)) {}

  // An independent generator for item `index` (a case, a worker), stable across runs.
  Rng child(uint64_t index) const { return Rng(mix(seed_ ^ mix(index + 0x9e3779b97f4a7c15ULL))); }

  double uniform(double lo = 0.0, double hi = 1.0) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  double normal(double mean = 0.0, double stddev = 1.0) {
    return std::normal_distribution<double>(mean, stddev)(engine_);
  }
  // Integer in [lo, hi] inclusive.
  int64_t integer(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  bool bernoulli(double p) { return uniform() < p; }
  double poisson(double mean) {
    return mean <= 0 ? 0.0 : static_cast<double>(std::poisson_distribution<int64_t>(mean)(engine_));
  }

  uint64_t seed() const { return seed_; }
  std::mt19937_64& engine() { return engine_; }

 private:
  // SplitMix64 finaliser: spreads nearby seeds (0, 1, 2...) into unrelated streams.
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  uint64_t seed_;
  std::mt19937_64 engine_;
};

}  // namespace medkd::core
