// Internals of the random case generator (random_template.h), split so that
// the data half and the template half each stay small.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace autopilot::tmpl_diff {

// splitmix64: tiny, fast, and identical on every platform, unlike the
// std:: distributions whose output is implementation-defined.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int below(size_t n) { return n == 0 ? 0 : static_cast<int>(next() % n); }
  bool chance(int percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

  nlohmann::json value(int depth);
  nlohmann::json map(int depth, int min_keys, int max_keys);

 private:
  uint64_t state_;
};

const std::vector<std::string>& data_keys();
nlohmann::json random_data(Rng& rng);

}  // namespace autopilot::tmpl_diff
