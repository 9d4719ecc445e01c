// The data half of the random cases: small JSON trees whose keys come from
// the same vocabulary the template half uses for field names.
#include "random_gen.h"

namespace autopilot::tmpl_diff {
namespace {

const std::vector<int64_t> kInts = {0, 1, 2, 3, -1, -7, 42, 100, 255, 1000000, 9223372036854775807LL,
                                    -9223372036854775807LL - 1, 9007199254740993LL};
const std::vector<double> kFloats = {0.0, 0.5, 1.0, -2.5, 1e21, 1e20, 1e-5, 0.1, 100000.0, 3.14159, 1e300,
                                     -0.0, 123456789.0, 2.5e-8, 0.30000000000000004, 7.0};
const std::vector<std::string> kStrings = {"",     "x",      "hello", "a b",  "<a&b>", "é",   "it's", "\"q\"",
                                           "l1\nl2", "0",    "true",  "%d",   "{{",    "ü☃", "\t",   "b",
                                           "a",    "zz top", "é\u2028", "=?&/", "\r\n", std::string("nul\0byte", 8), "\x7f"};

}  // namespace

const std::vector<std::string>& data_keys() {
  static const std::vector<std::string> keys = {"a", "b", "c", "n", "s", "l", "m", "x", "name", "items", "Flag", "empty", "zero"};
  return keys;
}

nlohmann::json Rng::value(int depth) {
  int roll = below(100);
  if (depth >= 3 && roll >= 65) roll = below(65);
  if (roll < 20) {
    int64_t v = kInts[below(kInts.size())];
    if (v > -1000 && v < 1000 && chance(30)) v += below(10);
    return v;
  }
  if (roll < 32) return kFloats[below(kFloats.size())];
  if (roll < 52) return kStrings[below(kStrings.size())];
  if (roll < 60) return chance(50);
  if (roll < 65) return nullptr;
  if (roll < 82) {
    nlohmann::json list = nlohmann::json::array();
    for (int i = below(5); i > 0; --i) list.push_back(value(depth + 1));
    return list;
  }
  return map(depth, 0, 4);
}

nlohmann::json Rng::map(int depth, int min_keys, int max_keys) {
  nlohmann::json m = nlohmann::json::object();
  int n = min_keys + below(max_keys - min_keys + 1);
  for (int i = 0; i < n; ++i) m[pick(data_keys())] = value(depth + 1);
  return m;
}

nlohmann::json random_data(Rng& rng) {
  int roll = rng.below(100);
  if (roll < 4) return nullptr;
  if (roll < 8) return rng.value(2);
  nlohmann::json root = rng.map(0, 3, 9);
  // Give ranges and index something to bite on most of the time.
  if (rng.chance(70)) root["l"] = nlohmann::json::array({rng.value(2), rng.value(2), rng.value(3)});
  if (rng.chance(60)) root["m"] = rng.map(1, 1, 3);
  return root;
}

}  // namespace autopilot::tmpl_diff
