#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <stdexcept>

namespace autopilot::testing {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "autopilot-it-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  std::string p = path_ + "/" + name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string autopilot_bin() {
  const char* bin = std::getenv("AUTOPILOT_BIN");
  return bin ? bin : "autopilot";
}

std::string source_dir() {
  const char* dir = std::getenv("AUTOPILOT_SOURCE_DIR");
  return dir ? dir : AUTOPILOT_SOURCE_DIR_DEFAULT;
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::setpgid(0, 0);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  fd_ = fds[0];
}

Process::~Process() {
  if (!exit_ && pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

bool Process::read_some(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int n = ::poll(&p, 1, static_cast<int>(left.count()));
  if (n <= 0) return false;
  char buf[8192];
  ssize_t got = ::read(fd_, buf, sizeof buf);
  if (got <= 0) {
    if (!partial_.empty()) {
      lines_.push_back(partial_);
      unterminated_ = true;
    }
    partial_.clear();
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  partial_.append(buf, static_cast<size_t>(got));
  size_t nl;
  while ((nl = partial_.find('\n')) != std::string::npos) {
    lines_.push_back(partial_.substr(0, nl));
    partial_.erase(0, nl + 1);
  }
  return true;
}

std::optional<std::string> Process::wait_for(const std::string& pattern, std::chrono::milliseconds timeout) {
  std::regex re(pattern);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; scanned_ < lines_.size(); ++scanned_) {
      if (std::regex_search(lines_[scanned_], re)) return lines_[scanned_++];
    }
    if (!read_some(deadline) && (fd_ < 0 || std::chrono::steady_clock::now() >= deadline)) return std::nullopt;
  }
}

bool Process::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    auto step = std::min(deadline, now + std::chrono::milliseconds(100));
    if (!read_some(step) && fd_ < 0) std::this_thread::sleep_until(step);  // output ended: just wait
  }
}

bool Process::wait_seen(const std::string& pattern, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (find(pattern) >= 0) return true;
    if (!read_some(deadline) && (fd_ < 0 || std::chrono::steady_clock::now() >= deadline)) return false;
  }
}

std::optional<Exit> Process::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_) return exit_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0 && read_some(deadline)) {
  }
  // The pipe may stay open in a leftover grandchild; poll waitpid until the deadline.
  for (;;) {
    int st = 0;
    int r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      Exit e;
      if (WIFEXITED(st)) e.code = WEXITSTATUS(st);
      if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
      exit_ = e;
      while (fd_ >= 0 && read_some(std::chrono::steady_clock::now() + 200ms)) {
      }
      return exit_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    if (!read_some(std::min(deadline, std::chrono::steady_clock::now() + 20ms))) ::usleep(2000);
  }
}

void Process::signal(int sig) const { ::kill(pid_, sig); }

std::string Process::output() const {
  std::string out;
  for (const auto& l : lines_) out += l + "\n";
  if (unterminated_) out.pop_back();
  return out + partial_;
}

int Process::find(const std::string& pattern) const {
  std::regex re(pattern);
  for (size_t i = 0; i < lines_.size(); ++i)
    if (std::regex_search(lines_[i], re)) return static_cast<int>(i);
  return -1;
}

int Process::count(const std::string& pattern) const {
  std::regex re(pattern);
  int n = 0;
  for (const auto& l : lines_) n += std::regex_search(l, re) ? 1 : 0;
  return n;
}

Process run_autopilot(const TempDir& dir, const std::string& config, std::vector<std::string> env,
                      std::vector<std::string> extra_args) {
  std::string path = dir.write("autopilot.json5", config);
  std::vector<std::string> argv{autopilot_bin(), "-config", path};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  return Process(argv, env);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int demo_app_pid(Process& p) {
  auto line = p.wait_for("demo_app listening on .* pid \\d+");
  if (!line) return -1;
  std::smatch m;
  std::regex_search(*line, m, std::regex("pid (\\d+)"));
  return std::stoi(m[1]);
}

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "children");
    int child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

char process_state(int pid) {
  // read_text does not throw when the process is gone between open and read.
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '\0';
}

int zombies_of(int pid) {
  int n = 0;
  for (int child : children_of(pid)) n += process_state(child) == 'Z';
  return n;
}

}  // namespace autopilot::testing
