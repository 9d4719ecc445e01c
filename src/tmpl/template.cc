#include "tmpl/template.h"

#include "tmpl/exec.h"
#include "tmpl/lexer.h"
#include "tmpl/parser.h"

namespace autopilot::tmpl {

Result<Template> Template::parse(std::string name, std::string_view text, FuncMap funcs) {
  auto set = parse_set(std::move(name), text, std::move(funcs));
  if (!set) return set.error();
  return Template(std::move(*set));
}

Result<std::string> Template::execute(const Value& data, MissingKey missing, Limits limits) const {
  auto it = set_->trees.find(set_->name);
  if (it == set_->trees.end()) return make_error("template \"" + set_->name + "\" is incomplete or empty");
  return execute_tree(*set_, *it->second, data, missing, limits);
}

std::vector<SourcePos> field_uses(const std::string& file, std::string_view text, std::string_view name) {
  std::string error_storage;
  std::vector<Token> tokens = lex(text, true, true, error_storage);
  std::vector<SourcePos> out;
  int line = 1;
  size_t line_start = 0, scanned = 0;
  for (size_t k = 0; k < tokens.size(); ++k) {
    const Token& t = tokens[k];
    if (t.type != Tok::kField || t.val.size() != name.size() + 1 || t.val.substr(1) != name) continue;
    // `.X.Name`, `$v.Name`, `(f).Name`: a field of something else.
    Tok before = k > 0 ? tokens[k - 1].type : Tok::kEOF;
    if (before == Tok::kField || before == Tok::kVariable || before == Tok::kIdentifier ||
        before == Tok::kRightParen || before == Tok::kDot)
      continue;
    for (; scanned < t.pos; ++scanned)
      if (text[scanned] == '\n') ++line, line_start = scanned + 1;
    out.push_back(SourcePos{file, line, static_cast<int>(t.pos - line_start) + 1});
  }
  return out;
}

}  // namespace autopilot::tmpl
