// Golden tests of a real nginx.conf template (nginx_golden/nginx.conf.ctmpl):
// rendered in-process by render::Renderer over an embedded catalog (a fresh
// directory per test) holding 0, 1, 3 or 1,000 instances of `app`, compared
// byte for byte with the checked-in nginx_golden/*.conf, and vetted by
// `nginx -t`. Each render is done twice, by two renderers with their own
// caches: the bytes must match.
//
// The 1,000-instance render has no golden file: it must equal nginx-1.conf
// with the one `server` line replaced by the 1,000 expected ones (in the
// catalog's order: node, then id) and the count in the header comment.
//
// To rewrite the golden files after a deliberate template change, run with
// AUTOPILOT_UPDATE_GOLDEN=1, then read the diff.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "discovery/testing.h"
#include "harness.h"
#include "os/linux/linux_processes.h"
#include "render/renderer.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;
using discovery::Instance;
using discovery::Status;

std::string golden_dir() { return source_dir() + "/tests/integration/nginx_golden"; }

bool updating_goldens() {
  const char* u = std::getenv("AUTOPILOT_UPDATE_GOLDEN");
  return u && *u && std::string(u) != "0";
}

Instance app_instance(const std::string& id, const std::string& address, int port, Status status = Status::kPassing) {
  Instance i;
  i.id = id;
  i.name = "app";
  i.address = address;
  i.port = port;
  i.status = status;
  i.node = "node-1";
  return i;
}

struct NginxCheck {
  bool ok = false;
  std::string output;
};

// `nginx -t` on `conf`, prefix `prefix` (pid, temp paths), bounded.
NginxCheck nginx_test(const std::string& conf, const std::string& prefix) {
  Process p({"nginx", "-t", "-c", conf, "-p", prefix + "/"});
  auto exit = p.wait_exit(20s);
  return {exit && exit->code == 0, p.output()};
}

bool nginx_installed() { return std::system("command -v nginx >/dev/null 2>&1") == 0; }

class NginxGolden : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nginx_installed()) << "nginx is not installed (scripts/install-deps.sh installs it): "
                                      "these tests vet every render with `nginx -t`";
  }

  void register_all(const std::vector<Instance>& instances) {
    for (const auto& i : instances)
      loop_.expect_ok([&](auto cb) { loop_.catalog->register_instance(i, std::chrono::minutes(10), cb); });
  }

  render::TemplateConfig template_config(const std::string& destination) {
    render::TemplateConfig t;
    t.name = "nginx";
    t.source = golden_dir() + "/nginx.conf.ctmpl";
    t.template_file = t.source;
    t.text = read_text(t.source);
    t.destination = destination;
    return t;
  }

  Wiring wiring(const std::map<std::string, std::string>& env) {
    return Wiring{.loop = loop_.io,
                  .timers = loop_.timers,
                  .processes = processes_,
                  .files = loop_.files,
                  .log = loop_.log,
                  .bus = loop_.bus,
                  .catalog = loop_.catalog.get(),
                  .env = [env](const std::string& name) -> std::optional<std::string> {
                    auto it = env.find(name);
                    if (it == env.end()) return std::nullopt;
                    return it->second;
                  }};
  }

  // Renders the template over the catalog into dir_/nginx.conf, then once
  // more (a second renderer, its own cache) without writing; returns the
  // file's bytes and expects both renders to agree.
  std::string render(const std::map<std::string, std::string>& env) {
    std::string dest = dir_.path() + "/nginx.conf";
    auto t = template_config(dest);
    EXPECT_TRUE(render::check_template(t)) << "the template must parse";
    std::optional<Result<render::Outcome>> outcome;
    render::Renderer writer(t, wiring(env));
    writer.on_written = [&](const Result<render::Outcome>& r) { outcome = r; };
    writer.start();
    EXPECT_TRUE(loop_.run_until([&] { return outcome.has_value(); }, 20s)) << "no render within 20 s";
    if (!outcome) return "";
    EXPECT_TRUE(*outcome) << outcome->error().message;
    EXPECT_EQ(**outcome, render::Outcome::kWritten);
    std::string text = read_text(dest);

    std::optional<std::string> again;
    render::Renderer dry(t, wiring(env));
    dry.on_dry_render = [&](const std::string& s) { again = s; };
    dry.start();
    EXPECT_TRUE(loop_.run_until([&] { return again.has_value(); }, 20s)) << "no second render within 20 s";
    EXPECT_EQ(again.value_or(""), text) << "two renders of the same catalog differ";
    return text;
  }

  // Compares with nginx_golden/<name>, or rewrites it when updating.
  void expect_golden(const std::string& name, const std::string& text) {
    std::string path = golden_dir() + "/" + name;
    if (updating_goldens()) {
      std::ofstream(path, std::ios::binary) << text;
      std::cout << "wrote " << path << "\n";
      return;
    }
    ASSERT_TRUE(fs::exists(path)) << path << " is missing: run with AUTOPILOT_UPDATE_GOLDEN=1 and review it";
    EXPECT_EQ(text, read_text(path)) << "the render differs from " << path;
  }

  void expect_nginx_accepts(const std::string& name) {
    auto check = nginx_test(dir_.path() + "/nginx.conf", dir_.path());
    EXPECT_TRUE(check.ok) << "nginx -t refused the render for " << name << ":\n"
                          << check.output << "\n--- nginx.conf:\n"
                          << read_text(dir_.path() + "/nginx.conf");
  }

  // The three healthy instances of the small goldens, and one critical one
  // that `service "app"` (healthy only) must leave out.
  std::vector<Instance> three() {
    return {app_instance("app-13", "127.0.0.13", 8080), app_instance("app-11", "127.0.0.11", 8080),
            app_instance("app-12", "127.0.0.12", 8081), app_instance("app-14", "127.0.0.14", 8080, Status::kCritical)};
  }

  discovery::testing::CatalogLoop loop_;
  os::LinuxProcesses processes_{loop_.io};
  TempDir dir_;
  const std::map<std::string, std::string> plain_env_{{"LISTEN", "127.0.0.1:18080"}};
};

TEST_F(NginxGolden, ZeroInstancesServe503WithoutAnUpstream) {
  std::string text = render(plain_env_);
  EXPECT_EQ(text.find("upstream"), std::string::npos) << text;
  EXPECT_NE(text.find("return 503"), std::string::npos) << text;
  expect_golden("nginx-0.conf", text);
  expect_nginx_accepts("0 instances");
}

TEST_F(NginxGolden, OneInstance) {
  register_all({app_instance("app-11", "127.0.0.11", 8080)});
  std::string text = render(plain_env_);
  expect_golden("nginx-1.conf", text);
  expect_nginx_accepts("1 instance");
}

TEST_F(NginxGolden, ThreeInstancesSortedAndHealthyOnly) {
  register_all(three());
  std::string text = render(plain_env_);
  EXPECT_EQ(text.find("127.0.0.14"), std::string::npos) << "a critical instance is not an upstream";
  expect_golden("nginx-3.conf", text);
  expect_nginx_accepts("3 instances");
}

// A record planted in the shared catalog directory by anyone who can write
// it, with an address that would close nginx's upstream and open a server of
// its own: skipped (with a warning) on read, never rendered.
TEST_F(NginxGolden, AHostileAddressInTheCatalogIsSkippedNotRendered) {
  register_all(three());
  std::string dir = loop_.dir() + "/services/app/";
  std::string record = read_text(dir + "app-11.json");
  ASSERT_NE(record.find("\"127.0.0.11\""), std::string::npos) << record;
  record.replace(record.find("\"127.0.0.11\""), 12, "\"1.2.3.4:80; } server { listen 8081; root /; } upstream x {\"");
  record.replace(record.find("\"app-11\""), 8, "\"evil\"");
  std::ofstream(dir + "evil.json") << record;
  std::string text = render(plain_env_);
  EXPECT_EQ(text.find("1.2.3.4"), std::string::npos) << text;
  expect_golden("nginx-3.conf", text);
  expect_nginx_accepts("3 instances and a hostile record");
}

// The same render through the real binary: `autopilot render -once` over
// the same catalog directory, with the environment it is given and no other.
TEST_F(NginxGolden, TheRenderCommandWritesTheSameBytes) {
  register_all(three());
  std::string dest = dir_.path() + "/cli.conf";
  std::string spec = golden_dir() + "/nginx.conf.ctmpl:" + dest;
  Process p({"env", "-i", "PATH=" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin"),
             "LISTEN=127.0.0.1:18080", autopilot_bin(), "render", "--template", spec, "--once", "--discovery-dir",
             loop_.dir()});
  auto exit = p.wait_exit(20s);
  ASSERT_TRUE(exit) << "autopilot render -once did not exit within 20 s\n" << p.output();
  ASSERT_EQ(exit->code, 0) << p.output();
  EXPECT_EQ(read_text(dest), read_text(golden_dir() + "/nginx-3.conf")) << p.output();
}

TEST_F(NginxGolden, ThreeInstancesWithSslAndEnvironment) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "openssl is not installed: the SSL variant needs a self-signed certificate";
  std::string cmd = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 -keyout '{0}/key.pem' "
      "-out '{0}/cert.pem' >'{0}/openssl.log' 2>&1",
      dir_.path());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_text(dir_.path() + "/openssl.log");
  register_all(three());
  std::string text = render({{"LISTEN", "127.0.0.1:18080"},
                             {"SSL", "1"},
                             {"SSL_LISTEN", "127.0.0.1:18443"},
                             {"WORKERS", "4"},
                             {"BALANCE", "least_conn"}});
  expect_golden("nginx-3-ssl.conf", text);
  expect_nginx_accepts("3 instances with SSL");
}

TEST_F(NginxGolden, AThousandInstances) {
  std::vector<Instance> instances;
  std::string servers;
  for (int n = 1; n <= 1000; ++n) {
    std::string id = fmt::format("app-{:04}", n);
    std::string address = fmt::format("10.0.{}.{}", n / 250, n % 250 + 1);
    instances.push_back(app_instance(id, address, 8080));
    servers += fmt::format("        server {}:8080;  # {}\n", address, id);
  }
  // Registered out of order: the render sorts by (node, id).
  std::reverse(instances.begin(), instances.end());
  auto t0 = std::chrono::steady_clock::now();
  register_all(instances);
  auto t1 = std::chrono::steady_clock::now();
  std::string text = render(plain_env_);
  auto t2 = std::chrono::steady_clock::now();
  std::cout << fmt::format("registered 1000 in {} ms, rendered twice in {} ms\n",
                           std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count(),
                           std::chrono::duration_cast<std::chrono::milliseconds>(t2 - t1).count());

  // nginx-1.conf, with its one server line replaced by the thousand.
  std::string expected = read_text(golden_dir() + "/nginx-1.conf");
  std::string one = "        server 127.0.0.11:8080;  # app-11\n";
  size_t at = expected.find(one);
  ASSERT_NE(at, std::string::npos) << "nginx-1.conf has no line: " << one;
  expected.replace(at, one.size(), servers);
  std::string count_from = "1 healthy instance(s)", count_to = "1000 healthy instance(s)";
  at = expected.find(count_from);
  ASSERT_NE(at, std::string::npos);
  expected.replace(at, count_from.size(), count_to);

  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), std::count(expected.begin(), expected.end(), '\n'));
  EXPECT_NE(text.find("\n        server 10.0.0.2:8080;  # app-0001\n"), std::string::npos) << "first server";
  EXPECT_NE(text.find("\n        server 10.0.4.1:8080;  # app-1000\n    }\n"), std::string::npos) << "last server";
  EXPECT_TRUE(text == expected) << "the 1000-instance render differs from nginx-1.conf expanded; got:\n" << text;
  expect_nginx_accepts("1000 instances");
}

}  // namespace
}  // namespace autopilot::testing
