// Parsing a template text into a TemplateSet (Go 1.19 text/template/parse
// semantics and error words). Internal header.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "tmpl/ast.h"
#include "tmpl/template.h"

namespace autopilot::tmpl {

// Everything one parse produced: the text (positions point into it), the
// caller functions (Arg::func points into them) and the named trees.
struct TemplateSet {
  std::string name;
  std::string text;
  FuncMap funcs;
  std::map<std::string, std::unique_ptr<Tree>, std::less<>> trees;
};

Result<std::shared_ptr<TemplateSet>> parse_set(std::string name, std::string_view text, FuncMap funcs);

// Literal helpers shared with the tests: strconv.Unquote for "..." and `...`
// (nullopt: invalid syntax), and a number token's value the way text/template
// evaluates a constant (error: message such as `illegal number syntax: "x"`;
// ErrorKind::kOutOfRange for an integer past int64 that Go parses and only
// fails when it is evaluated, "X overflows int").
std::optional<std::string> unquote(std::string_view quoted);
Result<Value> number_constant(std::string_view text, bool is_char);
std::optional<Builtin> find_builtin(std::string_view name);
// An Error at byte offset `pos` of the set's text.
Error positioned_error(const TemplateSet& set, size_t pos, std::string message);

}  // namespace autopilot::tmpl
