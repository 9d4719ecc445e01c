#include "decode/command.h"

#include "base/strings.h"

namespace autopilot::decode {

std::vector<std::string> split_command(const std::string& text) {
  if (text.empty()) return {};
  return split(text, ' ');
}

Result<std::vector<std::string>> command(const Decoder& d, const Node& n) {
  std::vector<std::string> argv;
  if (n->is_string()) {
    argv = split_command(n->get<std::string>());
  } else if (n->is_array()) {
    auto list = d.string_list(n);
    if (!list) return list.error();
    argv = std::move(*list);
  } else {
    return d.error(n, "must be a command string or a list of strings");
  }
  if (argv.empty()) return d.error(n, "must not be empty");
  for (const auto& a : argv) {
    if (a.empty()) return d.error(n, "received zero-length argument (two spaces in a row?)");
  }
  return argv;
}

}  // namespace autopilot::decode
