#include "os/files.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace autopilot::os {
namespace {

constexpr std::string_view kTempMark = ".autopilot-";
constexpr size_t kTempSuffix = 6;  // mkstemp's XXXXXX

}  // namespace

std::string temp_name(std::string_view name) {
  return "." + std::string(name) + std::string(kTempMark) + std::string(kTempSuffix, 'X');
}

bool is_temp_name(std::string_view name) {
  if (!name.starts_with('.') || name.size() < 1 + kTempMark.size() + kTempSuffix) return false;
  return name.substr(name.size() - kTempSuffix - kTempMark.size(), kTempMark.size()) == kTempMark;
}

Error sys_error(std::string_view call, std::string_view path, int err) {
  Error error = make_error(fmt::format("{} {}: {}", call, path, std::strerror(err)));
  if (err == ENOENT) error.code = kNotFound;
  return error;
}

Result<void> Files::write_atomic(const std::string& path, const std::string& content, const WriteOptions& options) {
  auto staged = stage(path, content, options);
  if (!staged) return staged.error();
  return (*staged)->commit();
}

}  // namespace autopilot::os
