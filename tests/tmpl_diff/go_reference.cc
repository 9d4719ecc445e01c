#include "go_reference.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace autopilot::tmpl_diff {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

nlohmann::json case_to_json(const GoCase& c) {
  nlohmann::json j;
  j["name"] = c.name;
  // nlohmann refuses to dump invalid UTF-8; such texts travel as base64.
  try {
    (void)nlohmann::json(c.text).dump();
    j["template"] = c.text;
  } catch (const nlohmann::json::exception&) {
    j["template_b64"] = base64_encode(c.text);
  }
  j["data"] = c.data;
  j["missingkey"] = c.missing_key;
  j["max_output"] = c.max_output;
  if (!c.funcs.empty()) j["funcs"] = c.funcs;
  return j;
}

namespace {

Result<GoResult> parse_result(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error("goref: bad result line: " + line);
  GoResult r;
  r.ok = j.value("ok", false);
  if (j.contains("out_b64")) {
    r.out = base64_decode(j["out_b64"].get<std::string>());
  } else {
    r.out = j.value("out", "");
  }
  r.err = j.value("err", "");
  if (j.value("panic", false)) r.err = "GO PANIC: " + r.err;
  return r;
}

// Runs `program` with stdin from `in_path` and stdout to `out_path`.
Result<void> run_with_files(const std::string& program, const std::string& in_path, const std::string& out_path) {
  pid_t pid = fork();
  if (pid < 0) return make_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (!std::freopen(in_path.c_str(), "rb", stdin) || !std::freopen(out_path.c_str(), "wb", stdout)) _exit(126);
    execl(program.c_str(), program.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return make_error(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return make_error("goref " + program + " failed with status " + std::to_string(status) +
                    (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " (cannot exec)" : ""));
}

}  // namespace

Result<std::string> goref_path() {
  if (const char* env = std::getenv("AUTOPILOT_GOREF"); env && *env) return std::string(env);
  std::string built = AUTOPILOT_GOREF_BIN;
  if (built.empty()) {
    return make_error(
        "the Go toolchain was not found when CMake configured this build, so the reference program "
        "tests/tmpl_diff/goref could not be built; install golang-go (Go 1.19) and re-run cmake, "
        "or set AUTOPILOT_GOREF to a built goref binary");
  }
  if (access(built.c_str(), X_OK) != 0) return make_error("goref binary missing: " + built + " (build target tmpl_goref)");
  return built;
}

Result<std::vector<GoResult>> run_go(const std::string& goref, const std::vector<GoCase>& cases) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / ("tmpl_diff." + std::to_string(getpid()))).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("creating " + dir + ": " + ec.message());
  std::string in_path = dir + "/cases.jsonl", out_path = dir + "/results.jsonl";
  {
    std::ofstream in(in_path, std::ios::binary);
    for (const GoCase& c : cases) in << case_to_json(c).dump() << '\n';
    if (!in) return make_error("writing " + in_path);
  }
  auto ran = run_with_files(goref, in_path, out_path);
  std::ifstream out(out_path, std::ios::binary);
  std::vector<GoResult> results;
  for (std::string line; ran && std::getline(out, line);) {
    auto r = parse_result(line);
    if (!r) return r.error();
    results.push_back(std::move(*r));
  }
  fs::remove_all(dir, ec);
  if (!ran) return ran.error();
  if (results.size() != cases.size()) {
    return make_error("goref returned " + std::to_string(results.size()) + " results for " +
                      std::to_string(cases.size()) + " cases");
  }
  return results;
}

std::string base64_encode(const std::string& bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    const char* p = std::strchr(kAlphabet, ch);
    if (ch == '=' || ch == '\0' || p == nullptr) continue;
    acc = (acc << 6) | uint32_t(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace autopilot::tmpl_diff
