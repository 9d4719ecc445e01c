// Real etcd servers for tests: see etcd_server.h. Members are forked and
// exec'd directly (no shell), die with the test process (PR_SET_PDEATHSIG),
// and are stopped by PID. Waits poll the member over HTTP with short bounded
// requests: an external process gives no event to wait on.
#include "discovery/etcd/etcd_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string_view>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "discovery/etcd/blocking_http.h"

extern char** environ;

namespace autopilot::discovery::etcd::testing {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kStartTimeout = std::chrono::seconds(20);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr auto kPollInterval = milliseconds(50);
constexpr auto kProbeTimeout = milliseconds(1000);

std::string find_etcd() {
  if (::access("/usr/bin/etcd", X_OK) == 0) return "/usr/bin/etcd";
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/etcd";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string errno_text(int err) { return std::strerror(err); }

std::string url_host(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]" : address;
}

// The string value of `"key":"..."` in a compact JSON text (etcd's replies),
// or "" when absent. Enough for the few fields the harness reads.
std::string json_string_field(const std::string& body, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  auto at = body.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  auto end = body.find('"', at);
  if (end == std::string::npos) return "";
  return body.substr(at, end - at);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("wait status {}", status);
}

}  // namespace

struct EtcdCluster::Member {
  std::string name;
  std::string address;
  int client_port = 0;
  int peer_port = 0;
  std::string data_dir;
  std::string log_path;
  pid_t pid = 0;
  int last_status = 0;  // wait status of the last exit

  std::string client_url() const { return fmt::format("http://{}:{}", url_host(address), client_port); }
  std::string peer_url() const { return fmt::format("http://{}:{}", url_host(address), peer_port); }
};

bool etcd_available() { return !find_etcd().empty(); }

bool etcd_required() {
  const char* required = std::getenv("AUTOPILOT_REQUIRE_ETCD");
  return required && *required && std::string_view(required) != "0";
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::start(int members, const std::string& address) {
  if (members < 1) return make_error("etcd cluster: need at least one member");
  return start(std::vector<std::string>(static_cast<size_t>(members), address));
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::start(const std::vector<std::string>& addresses) {
  if (addresses.empty()) return make_error("etcd cluster: need at least one member");
  std::string etcd = find_etcd();
  if (etcd.empty()) return make_error("etcd cluster: no etcd binary (/usr/bin/etcd or on PATH)");

  // Free ports can be taken between picking and binding: when a member fails
  // that way, start again with new ports (a few times).
  std::string last_error;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
    cluster->etcd_ = etcd;
    char dir[] = "/tmp/autopilot-etcd-XXXXXX";
    if (::mkdtemp(dir) == nullptr) return make_error(std::string("etcd cluster: mkdtemp /tmp: ") + errno_text(errno));
    cluster->dir_ = dir;
    cluster->token_ = std::filesystem::path(cluster->dir_).filename().string();

    std::set<std::pair<std::string, int>> taken;
    auto pick = [&](const std::string& address) {
      for (int tries = 0; tries < 20; ++tries) {
        int port = free_port(address);
        if (port > 0 && taken.insert({address, port}).second) return port;
      }
      return 0;
    };
    for (size_t i = 0; i < addresses.size(); ++i) {
      auto m = std::make_unique<Member>();
      m->name = fmt::format("m{}", i + 1);
      m->address = addresses[i];
      m->client_port = pick(m->address);
      m->peer_port = pick(m->address);
      if (m->client_port == 0 || m->peer_port == 0)
        return make_error(fmt::format("etcd cluster: no free port on {} (is it a local address?)", m->address));
      m->data_dir = cluster->dir_ + "/" + m->name;
      m->log_path = cluster->dir_ + "/" + m->name + ".log";
      if (!cluster->initial_cluster_.empty()) cluster->initial_cluster_ += ",";
      cluster->initial_cluster_ += m->name + "=" + m->peer_url();
      cluster->members_.push_back(std::move(m));
    }

    std::vector<int> all;
    for (int i = 0; i < cluster->size(); ++i) {
      if (auto r = cluster->spawn(i, false); !r) return r.error();
      all.push_back(i);
    }
    auto ready = cluster->wait_healthy(all, Clock::now() + kStartTimeout);
    if (ready) return cluster;
    last_error = ready.error().message;
    bool port_clash = false;
    for (int i = 0; i < cluster->size(); ++i)
      if (!cluster->running(i) && cluster->log_tail(i, 200).find("address already in use") != std::string::npos)
        port_clash = true;
    if (!port_clash) break;
  }
  return make_error(last_error);
}

EtcdCluster::~EtcdCluster() {
  // One member after the other: a leader stopping hands leadership over, which
  // stalls when every member stops at once (SIGTERM to all took the full 5 s;
  // one by one takes about 100 ms each). All bounded by one deadline.
  const auto deadline = Clock::now() + kStopTimeout;
  for (int i = 0; i < size(); ++i) {
    if (reap(i)) continue;
    ::kill(members_[static_cast<size_t>(i)]->pid, SIGTERM);
    while (!reap(i) && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
    kill(i);  // SIGKILL once the deadline has passed; no-op when it exited
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<void> EtcdCluster::spawn(int i, bool existing) {
  Member& m = *members_[static_cast<size_t>(i)];
  if (m.pid > 0) return make_error(fmt::format("etcd member {} is already running (pid {})", m.name, m.pid));

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> args = {
      etcd_,
      "--name=" + m.name,
      "--data-dir=" + m.data_dir,
      "--listen-client-urls=" + m.client_url(),
      "--advertise-client-urls=" + m.client_url(),
      "--listen-peer-urls=" + m.peer_url(),
      "--initial-advertise-peer-urls=" + m.peer_url(),
      "--initial-cluster=" + initial_cluster_,
      std::string("--initial-cluster-state=") + (existing ? "existing" : "new"),
      "--initial-cluster-token=" + token_,
      "--logger=zap",
      "--log-outputs=" + m.log_path,
  };
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // ETCD_* variables are flags to etcd: keep the test's environment out.
  std::vector<char*> envp;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    if (std::strncmp(*e, "ETCD_", 5) != 0) envp.push_back(*e);
  envp.push_back(nullptr);

  Fd log_fd(::open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0)
    return make_error(fmt::format("etcd member {}: open {}: {}", m.name, m.log_path, errno_text(errno)));
  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_fd.get() < 0) return make_error("etcd member: open /dev/null: " + errno_text(errno));

  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return make_error(fmt::format("etcd member {}: fork: {}", m.name, errno_text(errno)));
  if (pid == 0) {
    // Die with the test process, even when it is SIGKILLed.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    // Signals as a fresh process has them (the test may block or ignore some).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    ::dup2(null_fd.get(), 0);
    ::dup2(log_fd.get(), 1);
    ::dup2(log_fd.get(), 2);
    // Inherited sockets (other tests' listeners) must not live on in etcd.
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
      for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  m.pid = pid;
  return {};
}

Result<void> EtcdCluster::wait_healthy(const std::vector<int>& which, Clock::time_point deadline) {
  std::set<int> waiting(which.begin(), which.end());
  for (;;) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      const Member& m = *members_[static_cast<size_t>(*it)];
      if (reap(*it))
        return make_error(fmt::format("etcd member {} exited while starting ({}); log {}:\n{}", m.name,
                                      describe_status(m.last_status), m.log_path, log_tail(*it)));
      auto reply = http_request(m.client_url(), "GET", "/health", "", std::min(kProbeTimeout, remaining(deadline)));
      if (reply && reply->status == 200 && reply->body.find("\"health\":\"true\"") != std::string::npos)
        it = waiting.erase(it);
      else
        ++it;
    }
    if (waiting.empty()) return {};
    if (Clock::now() >= deadline) {
      int i = *waiting.begin();
      const Member& m = *members_[static_cast<size_t>(i)];
      return make_error(
          fmt::format("etcd member {} ({}) did not answer /health with {{\"health\":\"true\"}} in time; log {}:\n{}",
                      m.name, m.client_url(), m.log_path, log_tail(i)));
    }
    std::this_thread::sleep_for(std::min(kPollInterval, remaining(deadline)));
  }
}

bool EtcdCluster::reap(int i) const {
  Member& m = *members_[static_cast<size_t>(i)];
  if (m.pid <= 0) return true;
  int status = 0;
  pid_t r = ::waitpid(m.pid, &status, WNOHANG);
  if (r == m.pid || (r < 0 && errno == ECHILD)) {
    m.pid = 0;
    m.last_status = status;
    return true;
  }
  return false;
}

int EtcdCluster::size() const { return static_cast<int>(members_.size()); }

std::string EtcdCluster::client_url(int i) const { return members_.at(static_cast<size_t>(i))->client_url(); }

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (auto& m : members_) urls.push_back(m->client_url());
  return urls;
}

pid_t EtcdCluster::pid(int i) const {
  reap(i);
  return members_.at(static_cast<size_t>(i))->pid;
}

bool EtcdCluster::running(int i) const { return !reap(i); }

void EtcdCluster::kill(int i) {
  Member& m = *members_.at(static_cast<size_t>(i));
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGKILL);
  int status = 0;
  while (::waitpid(m.pid, &status, 0) < 0 && errno == EINTR) {
  }
  m.pid = 0;
  m.last_status = status;
}

void EtcdCluster::stop(int i) {
  Member& m = *members_.at(static_cast<size_t>(i));
  if (m.pid <= 0) return;
  ::kill(m.pid, SIGTERM);
  const auto deadline = Clock::now() + kStopTimeout;
  while (!reap(i) && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
  kill(i);  // no-op when it exited
}

Result<void> EtcdCluster::restart(int i) {
  if (i < 0 || i >= size()) return make_error(fmt::format("etcd cluster: no member {}", i));
  if (running(i))
    return make_error(
        fmt::format("etcd member {} is running; stop or kill it first", members_[static_cast<size_t>(i)]->name));
  if (auto r = spawn(i, true); !r) return r;
  return wait_healthy({i}, Clock::now() + kStartTimeout);
}

Result<void> EtcdCluster::restart(const std::vector<int>& which) {
  for (int i : which) {
    if (i < 0 || i >= size()) return make_error(fmt::format("etcd cluster: no member {}", i));
    if (running(i)) return make_error(fmt::format("etcd member {} is running", members_[static_cast<size_t>(i)]->name));
    if (auto r = spawn(i, true); !r) return r;
  }
  return wait_healthy(which, Clock::now() + kStartTimeout);
}

int EtcdCluster::leader(std::chrono::milliseconds wait) const {
  const auto deadline = Clock::now() + wait;
  for (;;) {
    // The leader is the running member that says it leads; after a partition
    // or kill, an old leader's claim has a lower term than the new one's.
    int found = -1;
    unsigned long long best_term = 0;
    for (int i = 0; i < size(); ++i) {
      if (!running(i)) continue;
      auto reply = http_request(client_url(i), "POST", "/v3/maintenance/status", "{}",
                                std::max(milliseconds(200), std::min(kProbeTimeout, remaining(deadline))));
      if (!reply || reply->status != 200) continue;
      std::string self = json_string_field(reply->body, "member_id");
      std::string leads = json_string_field(reply->body, "leader");
      if (self.empty() || leads.empty() || self != leads) continue;
      unsigned long long term = std::strtoull(json_string_field(reply->body, "raftTerm").c_str(), nullptr, 10);
      if (found < 0 || term > best_term) {
        found = i;
        best_term = term;
      }
    }
    if (found >= 0 || Clock::now() >= deadline) return found;
    std::this_thread::sleep_for(std::min(kPollInterval, remaining(deadline)));
  }
}

std::string EtcdCluster::log_tail(int i, int lines) const {
  const Member& m = *members_.at(static_cast<size_t>(i));
  std::ifstream in(m.log_path, std::ios::binary);
  if (!in) return "(no log at " + m.log_path + ")";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines && pos > 0; ++n) {
    auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
  }
  if (pos > 0) ++pos;
  return text.substr(pos);
}

}  // namespace autopilot::discovery::etcd::testing
