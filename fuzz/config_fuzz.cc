// libFuzzer target for the config decoders: the first byte picks one, the
// rest is its input.
//   0, 1  autopilot's config through the whole load path after rendering
//         (config::parse: JSON5, v3 or v2 by its keys, every block decoded
//         and cross-checked; 1 gives a v2 config an app on the command line).
//         Nothing is started: parse only builds the Config value.
//   2     `autopilot render -template` flags: "DEST[:COMMAND]" then, after a
//         NUL byte, the template; the harness puts the template in a memfd
//         and makes the flag "/proc/self/fd/N:DEST[:COMMAND]".
//   3     StashBox's config: the file, then after a NUL byte one
//         NAME=VALUE per line (the environment, STASHBOX__ variables
//         included), through load_stash_config.
// Every input must load or fail with an Error; nothing may throw, crash or
// hang.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "render/template_config.h"
#include "stash/stash_config.h"

using namespace autopilot;

namespace {

// A file holding `text` for the readers that take a path (closed on scope exit).
class MemFile {
 public:
  explicit MemFile(std::string_view text) : fd_(::memfd_create("fuzz", 0)) {
    if (fd_ < 0) __builtin_trap();
    for (size_t done = 0; done < text.size();) {
      ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n <= 0) __builtin_trap();
      done += static_cast<size_t>(n);
    }
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

std::pair<std::string_view, std::string_view> split_at_nul(std::string_view text) {
  auto nul = text.find('\0');
  if (nul == std::string_view::npos) return {text, {}};
  return {text.substr(0, nul), text.substr(nul + 1)};
}

void load_config(std::string_view text, bool with_app) {
  std::vector<std::string> app;
  if (with_app) app = {"/bin/app", "-x", "arg"};
  auto config = config::parse("fuzz.json5", std::string(text), true, app);
  if (!config) (void)config.error().format();
}

void template_flag(std::string_view input) {
  auto [flag, text] = split_at_nul(input);
  MemFile file(text);
  auto t = render::template_from_flag(file.path() + ":" + std::string(flag));
  if (!t) (void)t.error().format();
}

void stash_config(std::string_view input) {
  auto [text, env_lines] = split_at_nul(input);
  MemFile file(text);
  stash::Env env;
  while (!env_lines.empty()) {
    auto end = env_lines.find('\n');
    auto line = env_lines.substr(0, end);
    env_lines = end == std::string_view::npos ? std::string_view() : env_lines.substr(end + 1);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  env.erase("STASHBOX__CONFIG");  // the file is the fuzzer's
  env.erase("STASHBOX_CONFIG");
  auto config = stash::load_stash_config(stash::StashFlags{.config_file = file.path(), .port = {}}, env);
  if (!config) (void)config.error().format();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 4) {
    case 0: load_config(text, false); break;
    case 1: load_config(text, true); break;
    case 2: template_flag(text); break;
    default: stash_config(text); break;
  }
  return 0;
}
