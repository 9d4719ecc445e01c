// Executing a parsed template tree (Go 1.19 text/template/exec.go).
// Internal header.
#pragma once

#include <string>

#include "base/result.h"
#include "tmpl/parser.h"

namespace autopilot::tmpl {

// Runs `tree` of `set` over `data` and returns the output.
Result<std::string> execute_tree(const TemplateSet& set, const Tree& tree, const Value& data, MissingKey missing,
                                 Limits limits);

}  // namespace autopilot::tmpl
