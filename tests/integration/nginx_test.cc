// nginx in front of app instances, end to end: one autopilot (the "nginx
// tier") renders nginx.conf from the embedded catalog with
// nginx_golden/nginx.conf.ctmpl, vets each new file with `nginx -t` on the
// temp file, starts nginx after the first render and reloads it on every
// change; app autopilots (demo_app on 127.0.0.11..14, HTTP health checks)
// register in the same catalog directory. Requests go through the real nginx
// (a socket client below) and must reach exactly the registered instances.
//
// The template runs with BALANCE=round_robin (no ip_hash), so that one client
// reaches every backend.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "harness.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A free TCP port on `ip` (bound, read, released).
int free_port(const char* ip) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip, &addr.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET / from 127.0.0.1:port over HTTP/1.0; nullopt on any socket error or
// after 2 s.
std::optional<HttpAnswer> http_get(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  std::smatch m;
  if (!std::regex_search(response, m, std::regex("^HTTP/1\\.[01] (\\d{3}) "))) return std::nullopt;
  size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return HttpAnswer{std::stoi(m[1]), response.substr(body + 4)};
}

// One round of requests: each answer as "200 hello from 127.0.0.11:PORT" (no
// newline), or "error".
std::vector<std::string> round_of_requests(int port, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto a = http_get(port);
    std::string body = a ? a->body : "";
    if (!body.empty() && body.back() == '\n') body.pop_back();
    out.push_back(a ? std::to_string(a->status) + " " + body : "error");
  }
  return out;
}

std::string describe(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return "{" + out + "}";
}

// The `server` lines of the upstream block, as "ADDRESS:PORT".
std::vector<std::string> upstreams_of(const std::string& conf) {
  std::vector<std::string> out;
  std::regex re("\\n        server (\\S+);");
  for (auto it = std::sregex_iterator(conf.begin(), conf.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1]);
  return out;
}

bool alive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  char state = process_state(pid);
  return state != '\0' && state != 'Z';
}

std::string app_config(const std::string& catalog, const std::string& ip, int port) {
  // A long TTL: records must outlive the catalog outage of the test (a
  // record that expired while the directory was away would rightly leave
  // the upstream list when it comes back).
  return fmt::format(R"({{
  discovery: {{ embedded: {{ dir: "{0}" }} }},
  jobs: [{{
    name: "app", exec: ["{1}", "{2}", "{3}"], port: {3}, interfaces: ["static:{2}"],
    health: {{ http: "http://{2}:{3}/", interval: "500ms", ttl: "60s", timeout: "300ms" }},
  }}],
}})",
                     catalog, DEMO_APP, ip, port);
}

// The nginx tier. `{{.TempFile}}` must survive the config's own rendering
// over the environment, so it is written as a Go string constant:
// {{"{{.TempFile}}"}} renders to {{.TempFile}}, which Output then replaces.
//
// The reload command is skipped while nginx's pid file is empty or missing:
// the first render happens before the nginx job exists (the job waits for
// it), and a bare `nginx -s reload` fails there, which rolls the file back
// and withholds the `changed` event the job waits for: nginx would never
// start. Empty, not just missing: `nginx -t` (the check) creates the pid
// file, empty, when there is none.
std::string tier_config(const std::string& catalog, const std::string& dir) {
  std::string conf = dir + "/nginx.conf", prefix = dir + "/";
  return fmt::format(R"({{
  discovery: {{ embedded: {{ dir: "{catalog}" }} }},
  logging: {{ level: "DEBUG" }},
  jobs: [{{
    name: "nginx",
    exec: ["nginx", "-c", "{conf}", "-p", "{prefix}", "-g", "daemon off;"],
    when: {{ source: "template.nginx", once: "changed" }},
  }}],
  templates: [{{
    name: "nginx",
    source: "nginx.conf.ctmpl",
    destination: "{conf}",
    check: ["nginx", "-t", "-c", "{tempfile}", "-p", "{prefix}"],
    command: ["sh", "-c", "test ! -s {prefix}nginx.pid || exec nginx -s reload -c {conf} -p {prefix}"],
  }}],
}})",
                     fmt::arg("catalog", catalog), fmt::arg("conf", conf), fmt::arg("prefix", prefix),
                     fmt::arg("tempfile", R"({{"{{.TempFile}}"}})"));
}

class Nginx : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system("command -v nginx >/dev/null 2>&1"), 0)
        << "nginx is not installed (scripts/install-deps.sh installs it)";
  }
  Nginx() {
    // As root, nginx's workers run as nobody: let them into the prefix.
    ::chmod(dir_.path().c_str(), 0755);
    template_text_ = slurp(source_dir() + "/tests/integration/nginx_golden/nginx.conf.ctmpl");
    dir_.write("nginx.conf.ctmpl", template_text_);
  }

  // Stops every nginx this test started, even after a failed assertion:
  // SIGTERM to the master (it stops its workers), then SIGKILL to whatever
  // is left. By then the test body's Process objects have SIGKILLed the
  // autopilots' process groups, which an nginx in a group of its own
  // survives; its pid was noted from the pid file.
  ~Nginx() override {
    note_master();
    std::vector<int> pids;
    for (int master : masters_) {
      if (!alive(master)) continue;
      auto workers = children_of(master);
      pids.push_back(master);
      pids.insert(pids.end(), workers.begin(), workers.end());
      ::kill(master, SIGTERM);
    }
    auto deadline = std::chrono::steady_clock::now() + 5s;
    for (int pid : pids) {
      while (alive(pid) && std::chrono::steady_clock::now() < deadline) ::usleep(10000);
      if (alive(pid)) ::kill(pid, SIGKILL);
    }
  }

  std::string conf_path() const { return dir_.path() + "/nginx.conf"; }
  std::string conf() const { return slurp(conf_path()); }

  // The master's pid from nginx's pid file (0 when there is none).
  int pid_from_file() const {
    std::ifstream in(dir_.path() + "/nginx.pid");
    int pid = 0;
    in >> pid;
    return pid;
  }
  void note_master() {
    int pid = pid_from_file();
    if (pid > 0 && std::find(masters_.begin(), masters_.end(), pid) == masters_.end()) masters_.push_back(pid);
  }

  // Waits for the pid file of a running master (the job starts nginx after
  // the first render; nginx writes the file as it starts).
  int wait_master(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int pid = pid_from_file();
      if (alive(pid)) {
        note_master();
        return pid;
      }
      if (std::chrono::steady_clock::now() >= deadline) return 0;
      ::usleep(10000);
    }
  }

  // Waits until the rendered file's upstream list is `want` (sorted as the
  // catalog sorts them: these instances share a node, so by id, which starts
  // with the address). Woken by the tier's "wrote" log lines.
  bool wait_upstreams(Process& tier, const std::vector<std::string>& want, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (upstreams_of(conf()) == want) return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      tier.wait_for("template nginx: wrote", left);
    }
  }

  // Polls rounds of requests until one round gets exactly the answers
  // `want` (see round_of_requests); nginx reloads asynchronously after the
  // `nginx -s reload` command returns, and old workers finish their requests.
  bool wait_answers(const std::set<std::string>& want, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto answers = round_of_requests(nginx_port_, 4 * static_cast<int>(want.size()) + 2);
      last_seen_ = std::set<std::string>(answers.begin(), answers.end());
      if (last_seen_ == want) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      ::usleep(20000);
    }
  }
  // Every answer is a 200 from one of these instances, and each answers.
  bool wait_backends(const std::set<std::string>& addresses, std::chrono::milliseconds timeout = 10s) {
    std::set<std::string> want;
    for (const auto& a : addresses) want.insert(fmt::format("200 hello from {}:{}", a, app_port_));
    return wait_answers(want, timeout);
  }

  std::string upstream(const std::string& ip) const { return fmt::format("{}:{}", ip, app_port_); }

  Process run_app(TempDir& dir, const std::string& ip) {
    return run_autopilot(dir, app_config(catalog_, ip, app_port_));
  }

  TempDir dir_, catalog_dir_;
  std::string catalog_ = catalog_dir_.path() + "/catalog";
  std::string template_text_;
  int nginx_port_ = free_port("127.0.0.1");
  int app_port_ = free_port("127.0.0.11");
  std::vector<int> masters_;
  std::set<std::string> last_seen_;
};

TEST_F(Nginx, FollowsTheCatalogRefusesBadConfigsAndSurvivesAnOutage) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> tier_env{"LISTEN=127.0.0.1:" + std::to_string(nginx_port_), "BALANCE=round_robin"};
  Process tier = run_autopilot(dir_, tier_config(catalog_, dir_.path()), tier_env);

  // No instance yet: nginx starts after the first render, on the 503 config.
  int master = wait_master();
  ASSERT_GT(master, 0) << tier.output();
  EXPECT_TRUE(upstreams_of(conf()).empty()) << conf();
  EXPECT_TRUE(wait_answers({"503 no instance of app"}, 5s)) << describe(last_seen_) << tier.output();
  // The check ran `nginx -t` on the temp file: {{.TempFile}} was substituted.
  EXPECT_TRUE(tier.wait_seen(
      "check\\.template nginx.*configuration file .*/\\.nginx\\.conf\\.autopilot-\\S+ test is successful"))
      << tier.output();

  // Three instances: each reachable through nginx.
  TempDir a_dir, b_dir, c_dir, d_dir;
  Process a = run_app(a_dir, "127.0.0.11");
  Process b = run_app(b_dir, "127.0.0.12");
  Process c = run_app(c_dir, "127.0.0.13");
  ASSERT_TRUE(wait_upstreams(tier, {upstream("127.0.0.11"), upstream("127.0.0.12"), upstream("127.0.0.13")}))
      << conf() << tier.output() << a.output();
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.12", "127.0.0.13"})) << describe(last_seen_) << tier.output();
  EXPECT_EQ(pid_from_file(), master) << "reloaded, not restarted";

  // A fourth: the upstreams are rewritten, nginx reloads, requests reach it.
  Process d = run_app(d_dir, "127.0.0.14");
  ASSERT_TRUE(wait_upstreams(
      tier, {upstream("127.0.0.11"), upstream("127.0.0.12"), upstream("127.0.0.13"), upstream("127.0.0.14")}))
      << conf() << tier.output() << d.output();
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"}))
      << describe(last_seen_) << tier.output();

  // SIGTERM to one app's autopilot: it deregisters, the upstream goes away.
  b.signal(SIGTERM);
  ASSERT_TRUE(b.wait_exit()) << b.output();
  std::vector<std::string> acd{upstream("127.0.0.11"), upstream("127.0.0.13"), upstream("127.0.0.14")};
  ASSERT_TRUE(wait_upstreams(tier, acd)) << conf() << tier.output();
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.13", "127.0.0.14"})) << describe(last_seen_) << tier.output();

  // A template change that renders an invalid directive, loaded by SIGHUP:
  // `nginx -t` refuses it, the file stays byte for byte, nginx keeps serving.
  std::string good = conf();
  std::string broken = template_text_;
  size_t http = broken.find("http {\n");
  ASSERT_NE(http, std::string::npos);
  broken.insert(http + 7, "    no_such_directive on;\n");
  dir_.write("nginx.conf.ctmpl", broken);
  tier.signal(SIGHUP);
  ASSERT_TRUE(tier.wait_for("template nginx: the check refused the new .*; keeping the old one")) << tier.output();
  EXPECT_TRUE(tier.wait_seen("check\\.template nginx.*unknown directive \"no_such_directive\"")) << tier.output();
  EXPECT_EQ(conf(), good) << "a refused render must not touch the file";
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.13", "127.0.0.14"}, 3s)) << describe(last_seen_);
  EXPECT_EQ(pid_from_file(), master);
  EXPECT_TRUE(alive(master));
  {
    std::vector<std::string> leftovers;
    for (const auto& e : fs::directory_iterator(dir_.path()))
      if (e.path().filename().string().find(".autopilot-") != std::string::npos)
        leftovers.push_back(e.path().filename());
    EXPECT_TRUE(leftovers.empty()) << "the refused temp file was left behind: " << leftovers.front();
  }

  // The good template again: the new renderer finds the file up to date.
  dir_.write("nginx.conf.ctmpl", template_text_);
  tier.signal(SIGHUP);
  ASSERT_TRUE(tier.wait_for("reload: rendering template nginx")) << tier.output();
  ASSERT_TRUE(tier.wait_for("template nginx: .*nginx.conf is up to date")) << tier.output();
  EXPECT_EQ(conf(), good);

  // The catalog goes away (its directory renamed): nothing is rendered from
  // it, the file keeps its last good content and nginx keeps serving.
  std::string away = catalog_ + ".away";
  fs::rename(catalog_, away);
  ASSERT_TRUE(tier.wait_for("template nginx: the catalog is unavailable; keeping the last good .*nginx.conf", 10s))
      << tier.output();
  // The apps notice too (their heartbeats, every 500 ms, fail): time enough
  // for a wrong render to have happened.
  EXPECT_TRUE(a.wait_seen("job app: heartbeating .*: ", 5s)) << a.output();
  EXPECT_EQ(conf(), good) << "never an empty upstream list because the catalog blinked";
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.13", "127.0.0.14"}, 3s)) << describe(last_seen_);
  EXPECT_EQ(tier.count("template nginx: the catalog is unavailable"), 1) << "said once";

  // Back: the renderer resumes (same instances: the file stays), and follows
  // the catalog again.
  fs::rename(away, catalog_);
  ASSERT_TRUE(tier.wait_for("template nginx: the catalog answers again; rendering", 10s)) << tier.output();
  EXPECT_EQ(conf(), good);
  d.signal(SIGTERM);
  ASSERT_TRUE(d.wait_exit()) << d.output();
  ASSERT_TRUE(wait_upstreams(tier, {upstream("127.0.0.11"), upstream("127.0.0.13")})) << conf() << tier.output();
  EXPECT_TRUE(wait_backends({"127.0.0.11", "127.0.0.13"})) << describe(last_seen_) << tier.output();

  // Shutdown: the tier stops nginx.
  tier.signal(SIGTERM);
  auto exit = tier.wait_exit();
  ASSERT_TRUE(exit) << tier.output();
  EXPECT_FALSE(alive(master)) << "nginx outlived its autopilot";
  a.signal(SIGTERM);
  c.signal(SIGTERM);
  EXPECT_TRUE(a.wait_exit());
  EXPECT_TRUE(c.wait_exit());
  std::cout << fmt::format("nginx test took {:.1f} s\n",
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace
}  // namespace autopilot::testing
