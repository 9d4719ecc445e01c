#include "tmpl/template.h"

#include "tmpl/exec.h"
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

}  // namespace autopilot::tmpl
