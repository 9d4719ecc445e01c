#include "engine_runner.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "config/template_funcs.h"
#include "tmpl/value.h"

namespace autopilot::tmpl_diff {
namespace {

// A case that runs longer than this is a hang; SIGALRM ends the child.
constexpr unsigned kCaseTimeoutSeconds = 10;

tmpl::MissingKey missing_key_of(const std::string& name) {
  if (name == "zero") return tmpl::MissingKey::kZero;
  if (name == "error") return tmpl::MissingKey::kError;
  return tmpl::MissingKey::kDefault;
}

Outcome run_in_process(const EngineCase& c) {
  tmpl::FuncMap funcs;
  if (c.funcs == "containerpilot") funcs = config::containerpilot_funcs(helper_env());
  else if (!c.funcs.empty()) return {false, false, "", "unknown funcs mode " + c.funcs};
  auto parsed = tmpl::Template::parse(c.name, c.text, std::move(funcs));
  if (!parsed.ok()) return {false, false, "", "parse: " + parsed.error().format()};
  auto out = parsed->execute(tmpl::Value::from_json(c.data), missing_key_of(c.missing_key), c.limits);
  if (!out.ok()) return {false, false, "", "exec: " + out.error().format()};
  return {true, false, std::move(*out), ""};
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_exact(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Frame: one byte 'O' (ok) or 'E' (error), 8 bytes of length, the bytes.
bool send_outcome(int fd, const Outcome& o) {
  const std::string& body = o.ok ? o.out : o.err;
  char head[9];
  head[0] = o.ok ? 'O' : 'E';
  uint64_t len = body.size();
  std::memcpy(head + 1, &len, sizeof len);
  return write_all(fd, head, sizeof head) && write_all(fd, body.data(), body.size());
}

bool receive_outcome(int fd, Outcome& o) {
  char head[9];
  if (!read_exact(fd, head, sizeof head)) return false;
  uint64_t len = 0;
  std::memcpy(&len, head + 1, sizeof len);
  std::string body(len, '\0');
  if (!read_exact(fd, body.data(), len)) return false;
  o = head[0] == 'O' ? Outcome{true, false, std::move(body), ""} : Outcome{false, false, "", std::move(body)};
  return true;
}

std::string death(int status) {
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
    return "HANG: engine still running after " + std::to_string(kCaseTimeoutSeconds) + " s";
  if (WIFSIGNALED(status))
    return "CRASHED: engine killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "CRASHED: engine child exited with status " + std::to_string(WEXITSTATUS(status));
}

// Runs cases[first..] in one child until it finishes or dies; returns the
// index of the first case without an outcome.
size_t run_child(const std::vector<EngineCase>& cases, size_t first, std::vector<Outcome>& outcomes) {
  int fds[2];
  if (pipe(fds) != 0) {
    outcomes[first] = {false, true, "", std::string("pipe: ") + std::strerror(errno)};
    return first + 1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    for (size_t i = first; i < cases.size(); ++i) {
      alarm(kCaseTimeoutSeconds);
      if (!send_outcome(fds[1], run_in_process(cases[i]))) _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  size_t next = first;
  while (pid > 0 && next < cases.size() && receive_outcome(fds[0], outcomes[next])) ++next;
  close(fds[0]);
  int status = 0;
  while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (next < cases.size()) {
    outcomes[next] = {false, true, "", pid < 0 ? std::string("fork: ") + std::strerror(errno) : death(status)};
    ++next;
  }
  return next;
}

}  // namespace

const std::map<std::string, std::string>& helper_env() {
  static const std::map<std::string, std::string> env = {
      {"HOST", "web-1"}, {"EMPTY", ""}, {"N", "3"}, {"PARTS", "a:b:c"}, {"SPACED", "  x y  "}};
  return env;
}

std::vector<Outcome> run_ours(const std::vector<EngineCase>& cases) {
  std::vector<Outcome> outcomes(cases.size());
  for (size_t next = 0; next < cases.size();) next = run_child(cases, next, outcomes);
  return outcomes;
}

}  // namespace autopilot::tmpl_diff
