// Environment: a child's whole environment ("K=V" entries), built once and
// shared by every spawn that uses it. Copies share one immutable block, which
// also holds the envp array execve takes and the PATH, so a periodic job's
// run copies no strings.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autopilot::os {

class Environment {
 public:
  Environment() = default;  // no variables at all
  // Implicit: a list of "K=V" entries is an environment.
  Environment(std::vector<std::string> entries);  // NOLINT(google-explicit-constructor)
  Environment(std::initializer_list<std::string> entries) : Environment(std::vector<std::string>(entries)) {}

  const std::vector<std::string>& entries() const;
  // Null-terminated pointers into entries(), for execve.
  char* const* envp() const;
  // The value of the last PATH= entry, if any.
  std::optional<std::string_view> path() const;

  bool operator==(const Environment& other) const { return entries() == other.entries(); }

 private:
  struct Block;
  std::shared_ptr<const Block> block_;
};

}  // namespace autopilot::os
