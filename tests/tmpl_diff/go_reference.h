// Runs templates through Go's text/template via the goref helper program
// (tests/tmpl_diff/goref), the reference our engine must match byte for byte.
// All cases go to ONE goref process: they are written to a temp file, goref
// reads it on stdin and writes one JSON result line per case.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/result.h"

namespace autopilot::tmpl_diff {

struct GoCase {
  std::string name = "t";
  std::string text;
  nlohmann::json data;                 // null means nil data
  std::string missing_key = "default";  // default | zero | error
  size_t max_output = 0;               // 0: unlimited
  std::string funcs;                   // "" or "containerpilot" (goref/containerpilot.go)
};

struct GoResult {
  bool ok = false;
  std::string out;  // output when ok
  std::string err;  // Go's error message when !ok
};

// The goref binary to use: $AUTOPILOT_GOREF if set, else the one CMake built.
// Fails with an explanation when Go was not found at configure time.
Result<std::string> goref_path();

// Runs every case in one goref process; result i belongs to case i.
Result<std::vector<GoResult>> run_go(const std::string& goref, const std::vector<GoCase>& cases);

// The JSON line goref reads for `c` (also handy for dumping cases).
nlohmann::json case_to_json(const GoCase& c);

// Base64 helpers shared with the test (goref sends non-UTF-8 text this way).
std::string base64_encode(const std::string& bytes);
std::string base64_decode(const std::string& text);

}  // namespace autopilot::tmpl_diff
