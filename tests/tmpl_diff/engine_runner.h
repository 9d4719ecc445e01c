// Runs cases through our engine (src/tmpl) in forked children, so that a
// crash or a hang (10 s per case) in the engine becomes a reported mismatch
// instead of ending the whole differential test run.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tmpl/template.h"

namespace autopilot::tmpl_diff {

struct EngineCase {
  std::string name;
  std::string text;
  nlohmann::json data;  // null means nil data
  std::string missing_key = "default";  // default | zero | error
  tmpl::Limits limits;
  // "" for none, or "containerpilot": config::containerpilot_funcs over
  // helper_env(), the functions goref registers in that mode.
  std::string funcs;
};

// The environment `env` reads in "containerpilot" mode; goref's helperEnv
// (goref/containerpilot.go) holds the same entries.
const std::map<std::string, std::string>& helper_env();

struct Outcome {
  bool ok = false;
  bool crashed = false;  // the engine crashed or hung on this case
  std::string out;       // output when ok
  std::string err;       // formatted Error, or how the engine died
};

// Parses each case's text as template `name` and executes it over its data.
// One child process runs the cases in order; when it dies, that case is
// marked crashed and a new child carries on with the next one.
std::vector<Outcome> run_ours(const std::vector<EngineCase>& cases);

}  // namespace autopilot::tmpl_diff
