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
    // exec(2) would end the argument at the NUL, silently (Go refuses too).
    if (a.find('\0') != std::string::npos) return d.error(n, "an argument holds a NUL byte (\\u0000)");
  }
  if (n->is_string()) {
    // A quote opened in one word and closed in a later one: the string is
    // split on spaces, not by a shell, so the quotes would reach the program.
    for (const auto& a : argv) {
      char q = a.front();
      if ((q == '\'' || q == '"') && (a.size() == 1 || a.back() != q))
        return d.error(n, "quotes are not interpreted in a command string (it is split on spaces): " + a +
                              " starts a quoted argument; give the command as a list, e.g. [\"sh\", \"-c\", \"echo hi\"]");
    }
  }
  return argv;
}

}  // namespace autopilot::decode
