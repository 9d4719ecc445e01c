#include "base/file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace autopilot {

Result<std::string> read_file(const std::string& path) {
  // An ifstream opens a directory and reads nothing: say what it is.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return make_error(path + " is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("open " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return make_error("read " + path + ": " + std::strerror(errno));
  return s.str();
}

}  // namespace autopilot
