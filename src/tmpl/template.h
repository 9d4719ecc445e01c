// autopilot::tmpl: a Go text/template engine. Templates written for Go's
// text/template (ContainerPilot configs, consul-template nginx configs) must
// render byte-identically to Go 1.19: same syntax (actions, trim markers,
// comments, variables, pipelines, if/range/with/define/template/block,
// break/continue), same built-in functions (and, or, not, len, index, slice,
// print, printf, println, eq, ne, lt, le, gt, ge, html, js, urlquery) and
// the same fmt-style printing.
//
// Deliberate differences from Go 1.19:
//  - `{{else with ...}}` (Go 1.23) is accepted; Go 1.19 rejects it with
//    "unexpected <with> in else" (the differential test skips such cases).
//  - `call` always fails (there are no function values). Complex constants
//    (1i, 1+2i) work but reach caller functions as their real part.
//  - Parenthesis/block nesting deeper than 1000 is a parse error, and
//    {{template}} recursion stops at Limits::max_depth or before the thread's
//    stack runs out, whichever comes first (Go: 100000 calls).
//  - Error messages hold Go's words for the failure itself but not Go's
//    `template: NAME:LINE:COL: executing "NAME" at <...>:` prefix; the
//    position goes into Error::pos instead (col is 1-based; Go's is 0-based).
//    Type names in "can't evaluate field" messages name the value's dynamic
//    type where Go sometimes says "interface {}".
// Data modelled on Go's JSON decoding: Value::from_json objects are
// map[string]interface {}, arrays []interface {} with the capacity Go's
// decoder gives them (visible through slice), ints int64, other numbers
// float64; template number literals are int or float64.
//
// This area knows nothing of jobs, catalogs, files or the environment: data
// arrives as a Value and output leaves as a string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "tmpl/value.h"

namespace autopilot::tmpl {

// A caller function. For a pipeline `x | f a b` the piped value is the last
// argument, as in Go. Missing values arrive as null. An Error becomes the exec
// error `error calling NAME: MESSAGE`.
using Function = std::function<Result<Value>(std::span<const Value> args)>;

// The Go parameter types a caller function may declare, as a Go func's
// signature does for text/template.
enum class ParamType : uint8_t {
  kAny,         // interface{}: any value; nil and missing values arrive as null
  kString,      // string
  kStringList,  // []string: only a []string (e.g. from split); nil gives an empty one
};

// A declared signature: the evaluator checks the number of arguments and
// each argument's type before the call, with text/template's words
// (`wrong number of args for F: want 2 got 1`, `expected string; found 3`
// for a literal, `wrong type for value; expected string; got int` for a
// computed value, `invalid value; expected string` for a missing one,
// `cannot assign nil to string`). When `variadic`, the last entry is the
// element type of a trailing ...param.
struct Signature {
  std::vector<ParamType> params;
  bool variadic = false;
};

struct UserFunc {
  Function call;
  std::optional<Signature> signature;  // none: any number of arguments of any type
};

// Caller functions. As in Go, a caller function shadows a built-in of the
// same name (and is not short-circuited if named and/or).
class FuncMap {
 public:
  void add(std::string name, Function f) { funcs_.insert_or_assign(std::move(name), UserFunc{std::move(f), {}}); }
  void add(std::string name, Signature sig, Function f) {
    funcs_.insert_or_assign(std::move(name), UserFunc{std::move(f), std::move(sig)});
  }
  const UserFunc* find(std::string_view name) const {
    auto it = funcs_.find(name);
    return it == funcs_.end() ? nullptr : &it->second;
  }
  bool empty() const { return funcs_.empty(); }

 private:
  std::map<std::string, UserFunc, std::less<>> funcs_;
};

enum class MissingKey {
  kDefault,  // a missing map key yields "no value" (prints "<no value>")
  kZero,     // the map's zero element: "" for string maps, nil (<no value>) otherwise
  kError,    // exec error `map has no entry for key "X"`
};

// Exceeding a limit is an Error, never a crash or a hang. max_depth bounds
// nested {{template}} calls (Go's own limit is 100000).
struct Limits {
  size_t max_output_bytes = 64u << 20;
  int max_depth = 10000;
  // The work of one execution: every node walked and every range iteration
  // is a step. Nested loops that print nothing would otherwise run for
  // hours; 20 million steps take about a second and are far more than any
  // config or catalog template needs.
  std::uint64_t max_steps = 20'000'000;
};

struct TemplateSet;

class Template {
 public:
  // Parses `text`; `name` names the template in errors (Error::pos.file) and
  // is the template execute() runs. Parse errors carry line, col and the
  // source line, with Go's words (`unexpected EOF`, `function "foo" not
  // defined`, `unexpected {{end}}`, `undefined variable "$x"`, ...).
  static Result<Template> parse(std::string name, std::string_view text, FuncMap funcs = {});

  // Renders over `data`. Exec errors carry the position of the failing
  // action and Go's words (`error calling index: index out of range: 5`,
  // `can't evaluate field X in type int`, ...). Safe to call concurrently.
  Result<std::string> execute(const Value& data, MissingKey missing = MissingKey::kDefault, Limits limits = {}) const;

 private:
  explicit Template(std::shared_ptr<const TemplateSet> set) : set_(std::move(set)) {}
  std::shared_ptr<const TemplateSet> set_;
};

// Where `text` reads the field `name` of the data itself: `.Name` in
// `{{ .Name }}`, `{{ if .Name }}`, `{{ .Name | f }}`, but not `.X.Name`,
// `$v.Name`, or text in a string literal such as `{{ "{{.Name}}" }}`. For
// callers that give such a field a meaning the data will not have (a config
// file's bare `{{.TempFile}}`). Positions are 1-based (line, col) as in parse
// errors, with `file` as given. Text that does not lex gives the uses before
// the lexical error.
std::vector<SourcePos> field_uses(const std::string& file, std::string_view text, std::string_view name);

}  // namespace autopilot::tmpl
