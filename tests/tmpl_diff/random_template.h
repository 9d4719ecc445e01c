// A seeded, reproducible generator of random text/template cases for the
// differential test: a grammar-based template over a random JSON data tree.
// Templates are mostly valid (variables are referenced only where Go's parser
// has them in scope, break/continue mostly inside range) so that most cases
// exercise execution rather than parse errors; a few invalid ones are mixed in.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace autopilot::tmpl_diff {

struct RandomCase {
  std::string text;
  nlohmann::json data;
  std::string missing_key;  // default | zero | error
};

// Case `index` of run `seed`. It depends on (seed, index) only, so a failing
// case can be regenerated alone.
RandomCase generate_case(uint64_t seed, uint64_t index);

}  // namespace autopilot::tmpl_diff
