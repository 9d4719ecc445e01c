// `autopilot stash` on the real binary, against curl: every provider, HEAD,
// 404, ETag/304, a traversal corpus (a secret planted outside basePath must
// never come back), tokens, TLS with a CA made here by openssl, StashBox's
// own README examples as written, the kv provider and registration in an
// embedded catalog and in a real etcd, and a clean exit on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/base64.h"
#include "discovery/embedded/embedded_catalog.h"
#include "discovery/etcd/blocking_http.h"
#include "discovery/etcd/etcd_server.h"
#include "harness.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "TOP-SECRET-OUTSIDE-BASEPATH";

struct Reply {
  int status = 0;
  std::string headers;
  std::string body;
  std::string header(const std::string& name) const {
    std::smatch m;
    if (std::regex_search(headers, m, std::regex("(^|\n)" + name + ": ([^\r\n]*)", std::regex::icase))) return m[2];
    return "";
  }
};

// One curl run; `args` go before the URL (--path-as-is keeps dot segments).
Reply curl(const TempDir& dir, const std::string& url, std::vector<std::string> args = {}) {
  std::string body = dir.path() + "/curl-body", head = dir.path() + "/curl-head";
  fs::remove(body);
  fs::remove(head);
  std::vector<std::string> argv{"curl", "-sS", "--path-as-is", "--max-time", "10", "-o", body, "-D", head,
                                "-w", "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  Process p(argv);
  p.wait_exit(20s);
  Reply r;
  std::smatch m;
  std::string out = p.output();
  if (std::regex_search(out, m, std::regex("(\\d{3})\\s*$"))) r.status = std::stoi(m[1]);
  r.headers = read_text(head);
  r.body = read_text(body);
  return r;
}

// A running `autopilot stash`, its port read from its first log line.
struct Stash {
  Stash(const TempDir& dir, std::vector<std::string> args, std::vector<std::string> env = {}, std::string cwd = "")
      : process(command(dir, std::move(args), cwd), std::move(env)) {
    auto line = process.wait_for("stash: serving .* on [0-9.]+:\\d+", 10s);
    if (!line) return;
    std::smatch m;
    std::regex_search(*line, m, std::regex(":(\\d+) \\((https?)\\)"));
    port = std::stoi(m[1]);
  }
  static std::vector<std::string> command(const TempDir&, std::vector<std::string> args, const std::string& cwd) {
    std::vector<std::string> argv{"sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.empty() ? "." : cwd, autopilot_bin(),
                                  "stash"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  Process process;
  int port = 0;
};

// A config dir: stash/ with files, a secret beside it, and symlinks.
struct Tree {
  explicit Tree(const TempDir& dir) : base(dir.path() + "/srv/stash") {
    fs::create_directories(base + "/ssl");
    fs::create_directories(base + "/config");
    fs::create_directories(dir.path() + "/srv/stash-evil");
    dir.write("srv/secret.txt", kSecret);
    dir.write("srv/stash-evil/secret.txt", kSecret);
    dir.write("srv/stash/ssl/ssl.crt", "CERTIFICATE\n");
    dir.write("srv/stash/config/config.json", R"({"a": 1})");
    dir.write("srv/stash/4k.txt", std::string(4096, 'x'));
    fs::create_symlink(dir.path() + "/srv/secret.txt", base + "/abs-link");
    fs::create_symlink("../secret.txt", base + "/rel-link");
    fs::create_symlink("../../secret.txt", base + "/config/deep-link");
    fs::create_symlink("..", base + "/up");
    fs::create_symlink("/", base + "/root");
    fs::create_symlink("ssl/ssl.crt", base + "/inside-link");
    ::mkfifo((base + "/fifo").c_str(), 0644);
  }
  std::string base;
};

std::string file_config(const TempDir& dir, const std::string& base, const std::string& extra = "") {
  return dir.write("config.json", R"({ "mounts": [ { "mount": "/", "provider": "file", "basePath": ")" + base +
                                      R"(" } ])" + extra + " }");
}

TEST(Stash, FileProviderGetHeadEtagAnd404) {
  TempDir dir;
  Tree tree(dir);
  Stash stash(dir, {"-p", "0", "-c", file_config(dir, tree.base)});
  ASSERT_GT(stash.port, 0) << stash.process.output();

  Reply get = curl(dir, stash.url("/ssl/ssl.crt"));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "CERTIFICATE\n");
  EXPECT_EQ(get.header("Content-Length"), "12");
  std::string etag = get.header("ETag");
  ASSERT_FALSE(etag.empty());

  Reply head = curl(dir, stash.url("/ssl/ssl.crt"), {"-I"});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("Content-Length"), "12");
  EXPECT_EQ(head.header("ETag"), etag);
  EXPECT_EQ(head.body.find("CERTIFICATE"), std::string::npos);

  Reply cached = curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "If-None-Match: " + etag});
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(cached.body, "");
  Reply other = curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "If-None-Match: \"nope\""});
  EXPECT_EQ(other.status, 200);

  dir.write("srv/stash/ssl/ssl.crt", "CHANGED CERTIFICATE\n");
  Reply changed = curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "If-None-Match: " + etag});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, "CHANGED CERTIFICATE\n");
  EXPECT_NE(changed.header("ETag"), etag);

  EXPECT_EQ(curl(dir, stash.url("/ssl/missing.crt")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/ssl/missing.crt"), {"-I"}).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/ssl")).status, 404);   // a directory: no listing
  EXPECT_EQ(curl(dir, stash.url("/ssl/")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/fifo")).status, 404);  // and the loop is not stuck on it
  EXPECT_EQ(curl(dir, stash.url("/inside-link")).status, 200);  // a symlink that stays inside
  EXPECT_EQ(curl(dir, stash.url("/ssl/ssl.crt"), {"-X", "PUT", "-d", "x"}).status, 405);
  EXPECT_EQ(curl(dir, stash.url("/_stash/health")).status, 200);
  Reply big = curl(dir, stash.url("/4k.txt"), {"-H", "X-Big: " + std::string(9000, 'a')});
  EXPECT_EQ(big.status, 431);
}

TEST(Stash, TraversalCorpusNeverServesWhatIsOutsideBasePath) {
  TempDir dir;
  Tree tree(dir);
  // Mounted below the root as well, so climbing out of a sub-mount is tried too.
  std::string cfg = dir.write("config.json", R"({ "mounts": [
    { "mount": "/", "provider": "file", "basePath": ")" + tree.base + R"(" },
    { "mount": "/config", "provider": "file", "basePath": ")" + tree.base + R"(/config" } ] })");
  Stash stash(dir, {"-p", "0", "-c", cfg});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  const std::vector<std::string> corpus = {
      "/../secret.txt", "/../../srv/secret.txt", "/ssl/../../secret.txt", "/config/../../secret.txt",
      "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt",
      "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/ssl/%2e%2e%2f%2e%2e%2fsecret.txt",
      "/%252e%252e/secret.txt", "/%252e%252e%252fsecret.txt", "/%25252e%25252e/secret.txt",
      "/..%5csecret.txt", "/%5c..%5csecret.txt", "/..\\secret.txt", "/%c0%ae%c0%ae/secret.txt",
      "/%c0%ae%c0%ae%c0%afsecret.txt", "/..%00/secret.txt", "/secret.txt%00", "//secret.txt",
      "//" + dir.path() + "/srv/secret.txt", "/%2f" + dir.path().substr(1) + "/srv/secret.txt",
      "/abs-link", "/rel-link", "/config/deep-link", "/up/secret.txt", "/root" + dir.path() + "/srv/secret.txt",
      "/root/etc/passwd", "/./../secret.txt", "/ssl/./../../secret.txt", "/%2e/%2e%2e/secret.txt",
      "/..;/secret.txt", "/../stash-evil/secret.txt", "/config/%2e%2e/%2e%2e/secret.txt", "/ssl/..",
      "/ssl/..%2f..%2fsecret.txt", "/.%252e/secret.txt", "/config/..%252f..%252fsecret.txt",
  };
  ASSERT_GE(corpus.size(), 30u);
  for (const auto& path : corpus) {
    Reply r = curl(dir, stash.url(path));
    EXPECT_NE(r.status, 200) << path;
    EXPECT_TRUE(r.status == 400 || r.status == 404) << path << " -> " << r.status;
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << path;
  }
  // Raw request lines curl would not send as they are: absolute and asterisk forms.
  for (const std::string& target : std::vector<std::string>{"http://127.0.0.1/../secret.txt", "*",
                                                            dir.path() + "/srv/secret.txt", "../secret.txt"}) {
    Reply r = curl(dir, stash.url("/"), {"--request-target", target});
    EXPECT_NE(r.status, 200) << target;
    EXPECT_EQ(r.body.find(kSecret), std::string::npos) << target;
  }
  // Still serving after all that.
  EXPECT_EQ(curl(dir, stash.url("/ssl/ssl.crt")).status, 200);
}

TEST(Stash, EnvProviderPlainAndBase64) {
  TempDir dir;
  std::string cfg = dir.write("config.json", R"({ "mounts": [
    { "mount": "/ssl/key.pem", "provider": "env", "var": "KEY" },
    { "mount": "/ssl/cert.pem", "provider": "env", "var": "CERT_BASE64", "encoding": "base64" },
    { "mount": "/unset", "provider": "env", "var": "NOT_SET_ANYWHERE" } ] })");
  Stash stash(dir, {"-p", "0", "-c", cfg}, {"KEY=the key\n", "CERT_BASE64=" + base64_encode("the cert\n")});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  Reply key = curl(dir, stash.url("/ssl/key.pem"));
  EXPECT_EQ(key.status, 200);
  EXPECT_EQ(key.body, "the key\n");
  EXPECT_EQ(curl(dir, stash.url("/ssl/cert.pem")).body, "the cert\n");
  EXPECT_EQ(curl(dir, stash.url("/ssl/key.pem"), {"-H", "If-None-Match: " + key.header("ETag")}).status, 304);
  EXPECT_EQ(curl(dir, stash.url("/unset")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/ssl/key.pem/more")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/ssl/other.pem")).status, 404);
  // Secrets never reach the log.
  EXPECT_EQ(stash.process.output().find("the key"), std::string::npos);
}

TEST(Stash, ProxyProviderForwardsToAnotherServer) {
  TempDir dir;
  Tree tree(dir);
  Stash upstream(dir, {"-p", "0", "-c", file_config(dir, tree.base)});
  ASSERT_GT(upstream.port, 0) << upstream.process.output();
  std::string cfg = dir.write("proxy.json", R"({ "mounts": [
    { "mount": "/up", "provider": "proxy", "host": "localhost:)" + std::to_string(upstream.port) + R"(", "basePath": "ssl" },
    { "mount": "/down", "provider": "proxy", "host": "http://127.0.0.1:1" } ] })");
  Stash proxy(dir, {"-p", "0", "-c", cfg});
  ASSERT_GT(proxy.port, 0) << proxy.process.output();
  Reply r = curl(dir, proxy.url("/up/ssl.crt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "CERTIFICATE\n");
  EXPECT_EQ(curl(dir, proxy.url("/up/ssl.crt"), {"-H", "If-None-Match: " + r.header("ETag")}).status, 304);
  EXPECT_EQ(curl(dir, proxy.url("/up/ssl.crt"), {"-I"}).header("Content-Length"), "12");
  EXPECT_EQ(curl(dir, proxy.url("/up/missing")).status, 404);
  EXPECT_EQ(curl(dir, proxy.url("/up/../secret.txt")).status, 400);
  EXPECT_EQ(curl(dir, proxy.url("/down/x")).status, 502);
}

TEST(Stash, BearerTokenGlobalAndPerMount) {
  TempDir dir;
  Tree tree(dir);
  std::string cfg = dir.write("config.json", R"({ "tokenEnv": "STASH_TOKEN", "mounts": [
    { "mount": "/", "provider": "file", "basePath": ")" + tree.base + R"(" },
    { "mount": "/admin", "provider": "env", "var": "ADMIN", "tokenEnv": "ADMIN_TOKEN" } ] })");
  Stash stash(dir, {"-p", "0", "-c", cfg}, {"STASH_TOKEN=s3cr3t", "ADMIN_TOKEN=root-token", "ADMIN=admin data"});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  Reply none = curl(dir, stash.url("/ssl/ssl.crt"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer realm=\"stash\"");
  EXPECT_EQ(curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "Authorization: Bearer wrong!"}).status, 401);
  EXPECT_EQ(curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "Authorization: Bearer s3cr3"}).status, 401);
  EXPECT_EQ(curl(dir, stash.url("/ssl/ssl.crt"), {"-H", "Authorization: Bearer s3cr3t"}).status, 200);
  EXPECT_EQ(curl(dir, stash.url("/nothing"), {"-H", "Authorization: Bearer s3cr3t"}).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/admin"), {"-H", "Authorization: Bearer s3cr3t"}).status, 401);
  Reply admin = curl(dir, stash.url("/admin"), {"-H", "Authorization: Bearer root-token"});
  EXPECT_EQ(admin.status, 200);
  EXPECT_EQ(admin.body, "admin data");
  EXPECT_EQ(curl(dir, stash.url("/_stash/health")).status, 200);  // health checks need no token
  EXPECT_EQ(stash.process.output().find("s3cr3t"), std::string::npos);

  // Without tokenEnv: open.
  Stash open(dir, {"-p", "0", "-c", file_config(dir, tree.base)});
  ASSERT_GT(open.port, 0) << open.process.output();
  EXPECT_EQ(curl(dir, open.url("/ssl/ssl.crt")).status, 200);
}

bool sh(const std::string& command) {
  Process p({"sh", "-c", command + " >/dev/null 2>&1"});
  auto exit = p.wait_exit(60s);
  return exit && exit->code == 0;
}

TEST(Stash, TlsWithATestCaFromFilesAndFromBase64Environment) {
  TempDir dir;
  Tree tree(dir);
  std::string d = dir.path();
  ASSERT_TRUE(sh("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca"));
  ASSERT_TRUE(sh("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1"));
  dir.write("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ASSERT_TRUE(sh("cd " + d + " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf"));

  std::string cfg = file_config(dir, tree.base, R"(, "tls": { "cert": ")" + d + R"(/server.pem", "key": ")" + d + R"(/server.key" })");
  Stash tls(dir, {"-p", "0", "-c", cfg});
  ASSERT_GT(tls.port, 0) << tls.process.output();
  std::string https = "https://127.0.0.1:" + std::to_string(tls.port);
  Reply r = curl(dir, https + "/ssl/ssl.crt", {"--cacert", d + "/ca.pem"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "CERTIFICATE\n");
  EXPECT_EQ(curl(dir, https + "/../secret.txt", {"--cacert", d + "/ca.pem"}).status, 400);
  EXPECT_EQ(curl(dir, https + "/ssl/ssl.crt").status, 0);  // an unknown CA is refused by curl
  EXPECT_NE(curl(dir, tls.url("/ssl/ssl.crt")).status, 200);  // plain HTTP on the TLS port

  std::string cfg64 = dir.write("tls64.json", R"({ "mounts": [ { "mount": "/", "provider": "file", "basePath": ")" +
                                                  tree.base + R"(" } ], "tls": { "certBase64Env": "TLS_CERT", "keyBase64Env": "TLS_KEY" } })");
  Stash tls64(dir, {"-p", "0", "-c", cfg64},
              {"TLS_CERT=" + base64_encode(read_text(d + "/server.pem")), "TLS_KEY=" + base64_encode(read_text(d + "/server.key"))});
  ASSERT_GT(tls64.port, 0) << tls64.process.output();
  EXPECT_EQ(curl(dir, "https://localhost:" + std::to_string(tls64.port) + "/ssl/ssl.crt", {"--cacert", d + "/ca.pem"}).status, 200);

  // A key that is not the certificate's: exit 2 before serving.
  ASSERT_TRUE(sh("cd " + d + " && openssl genrsa -out other.key 2048"));
  std::string bad = file_config(dir, tree.base, R"(, "tls": { "cert": ")" + d + R"(/server.pem", "key": ")" + d + R"(/other.key" })");
  Process p({autopilot_bin(), "stash", "-p", "0", "-c", bad});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  EXPECT_EQ(p.find("stash: serving"), -1);
}

// StashBox's README, "Configuring mounts" and "Complex configuration via
// environment variables", as written (PORT 1337 overridden by -p, which
// StashBox's precedence puts first).
TEST(Stash, StashBoxReadmeExamplesAreAcceptedAsWritten) {
  TempDir dir;
  Tree tree(dir);
  dir.write("srv/config.json", R"({
    "PORT": 1337,
    "mounts": 
    [
        { 
            "mount": "/",
            "provider": "file", 
            "basePath": "stash" 
        },
        { 
            "mount": "/domain.key",
            "provider": "env", 
            "var": "KEY" 
        }
    ]
})");
  // No -c: config.json in the current directory, as StashBox's default.
  Stash file(dir, {"-p", "0"}, {"KEY=domain key"}, dir.path() + "/srv");
  ASSERT_GT(file.port, 0) << file.process.output();
  EXPECT_EQ(curl(dir, file.url("/domain.key")).body, "domain key");
  EXPECT_EQ(curl(dir, file.url("/ssl/ssl.crt")).body, "CERTIFICATE\n");

  fs::remove(dir.path() + "/srv/config.json");
  Stash env(dir, {"-p", "0"},
            {"STASHBOX__PORT=1337", "STASHBOX__mounts__0__mount=/", "STASHBOX__mounts__0__provider=file",
             "STASHBOX__mounts__0__basePath=stash", "STASHBOX__mounts__1__mount=/env",
             "STASHBOX__mounts__1__provider=env", "STASHBOX__mounts__1__var=KEY", "KEY=env key"},
            dir.path() + "/srv");
  ASSERT_GT(env.port, 0) << env.process.output();
  EXPECT_EQ(curl(dir, env.url("/env")).body, "env key");
  EXPECT_EQ(curl(dir, env.url("/config/config.json")).body, R"({"a": 1})");
}

TEST(Stash, BadConfigExitsTwoWithThePositionBeforeServing) {
  TempDir dir;
  std::string cfg = dir.write("config.json", "{\n  \"mounts\": [\n    { \"mount\": \"/\", \"provider\": \"s3\" }\n  ]\n}\n");
  Process p({autopilot_bin(), "stash", "-p", "0", "-c", cfg});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(p.output(), "autopilot: " + cfg + ":3:33: mounts[0].provider: unknown provider \"s3\"; the providers are "
                        "file, env, proxy and kv\n    { \"mount\": \"/\", \"provider\": \"s3\" }\n"
                        "                                ^\n");
  Process amazon({autopilot_bin(), "stash", "-p", "0"}, {"STASHBOX__mounts__0__provider=amazon", "STASHBOX__mounts__0__mount=/"});
  exit = amazon.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_GE(amazon.find("^autopilot: \\$STASHBOX__mounts__0__provider: mounts\\[0\\].provider: provider \"amazon\" \\(an object store\\) is not supported"), 0)
      << amazon.output();
}

// SIGTERM: the stash exits 0 and its registration is gone from the catalog
// that `catalog services CATALOG_ARGS` lists.
void expect_withdrawn_on_sigterm(Stash& stash, const std::vector<std::string>& catalog_args) {
  stash.process.signal(SIGTERM);
  auto exit = stash.process.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << stash.process.output();
  EXPECT_GE(stash.process.find("job configs: deregistered"), 0) << stash.process.output();
  std::vector<std::string> argv{autopilot_bin(), "catalog", "services"};
  argv.insert(argv.end(), catalog_args.begin(), catalog_args.end());
  Process after(argv);
  ASSERT_TRUE(after.wait_exit());
  EXPECT_EQ(nlohmann::json::parse(after.output(), nullptr, false), nlohmann::json::array()) << after.output();
}

void put_key(const std::string& catalog, const std::string& key, const std::string& value) {
  boost::asio::io_context io;
  os::AsioTimers timers(io);
  os::LinuxFiles files(io);
  log::Log log(log::LogConfig{log::Level::kError, log::Format::kDefault, "stderr"});
  discovery::embedded::EmbeddedOptions options;
  options.dir = catalog;
  auto c = discovery::embedded::EmbeddedCatalog::open(options, io, timers, files, log);
  ASSERT_TRUE(c) << c.error().message;
  bool put = false;
  (*c)->put(key, value, [&](Result<discovery::Index> r) {
    put = r.ok();
    io.stop();
  });
  io.run_for(10s);
  ASSERT_TRUE(put);
}

TEST(Stash, KvProviderAndRegistrationInTheEmbeddedCatalog) {
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  put_key(catalog, "config/app.json", R"({"app": true})");
  std::string cfg = dir.write("config.json", R"({ "mounts": [ { "mount": "/kv", "provider": "kv", "prefix": "config/" } ],
    "service": { "name": "configs", "interfaces": ["static:127.0.0.1"], "interval": "200ms", "ttl": 2 } })");
  Stash stash(dir, {"-p", "0", "-c", cfg, "--discovery-dir", catalog});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  Reply r = curl(dir, stash.url("/kv/app.json"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"app": true})");
  EXPECT_EQ(curl(dir, stash.url("/kv/app.json"), {"-H", "If-None-Match: " + r.header("ETag")}).status, 304);
  EXPECT_EQ(curl(dir, stash.url("/kv/missing")).status, 404);

  ASSERT_TRUE(stash.process.wait_for("job configs: registered configs-.* at 127.0.0.1:" + std::to_string(stash.port)))
      << stash.process.output();
  Process list({autopilot_bin(), "catalog", "service", "configs", "--discovery-dir", catalog});
  ASSERT_TRUE(list.wait_exit());
  auto j = nlohmann::json::parse(list.output(), nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1) << list.output();
  EXPECT_EQ(j[0]["port"], stash.port);
  EXPECT_EQ(j[0]["address"], "127.0.0.1");

  expect_withdrawn_on_sigterm(stash, {"--discovery-dir", catalog});
}

// An etcd key as an operator writes it (etcdctl put), under the catalog's
// prefix and kv/: README's layout.
void etcd_put(const std::string& url, const std::string& key, const std::string& value) {
  nlohmann::json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  auto reply = discovery::etcd::testing::http_request(url, "POST", "/v3/kv/put", body.dump());
  ASSERT_TRUE(reply) << reply.error().message;
  ASSERT_EQ(reply->status, 200) << reply->body;
}

// The same on Debian's real etcd: the kv mount serves what etcd holds (and
// what it holds after a change), 404 for a missing key, and the server is
// registered there and found by name until SIGTERM withdraws it.
TEST(Stash, KvProviderAndRegistrationInEtcd) {
  AUTOPILOT_SKIP_WITHOUT_ETCD();
  auto started = discovery::etcd::testing::EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  std::string etcd = (*started)->client_url(0);
  ASSERT_NO_FATAL_FAILURE(etcd_put(etcd, "/autopilot/kv/config/app.json", R"({"from": "etcd"})"));
  TempDir dir;
  std::string cfg = dir.write("config.json", R"({ "mounts": [ { "mount": "/kv", "provider": "kv", "prefix": "config/" } ],
    "service": { "name": "configs", "interfaces": ["static:127.0.0.1"], "interval": "200ms", "ttl": 2 } })");
  Stash stash(dir, {"-p", "0", "-c", cfg, "--etcd", etcd});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  Reply r = curl(dir, stash.url("/kv/app.json"));
  EXPECT_EQ(r.status, 200) << stash.process.output();
  EXPECT_EQ(r.body, R"({"from": "etcd"})");
  EXPECT_EQ(r.header("Content-Length"), "16");
  EXPECT_EQ(curl(dir, stash.url("/kv/app.json"), {"-H", "If-None-Match: " + r.header("ETag")}).status, 304);
  EXPECT_EQ(curl(dir, stash.url("/kv/missing.json")).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/kv/missing.json"), {"-I"}).status, 404);
  EXPECT_EQ(curl(dir, stash.url("/kv/")).status, 404);  // no listings

  ASSERT_NO_FATAL_FAILURE(etcd_put(etcd, "/autopilot/kv/config/app.json", R"({"from": "etcd", "v": 2})"));
  Reply changed = curl(dir, stash.url("/kv/app.json"), {"-H", "If-None-Match: " + r.header("ETag")});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, R"({"from": "etcd", "v": 2})");
  EXPECT_NE(changed.header("ETag"), r.header("ETag"));

  // Found by name in etcd once its check passes (`catalog service` lists passing instances only).
  ASSERT_TRUE(stash.process.wait_for("job configs: registered configs-.* at 127.0.0.1:" + std::to_string(stash.port)))
      << stash.process.output();
  nlohmann::json found;
  bool passing = stash.process.wait_until([&] {
    Process list({autopilot_bin(), "catalog", "service", "configs", "--etcd", etcd});
    if (!list.wait_exit()) return false;
    found = nlohmann::json::parse(list.output(), nullptr, false);
    return found.is_array() && found.size() == 1;
  });
  ASSERT_TRUE(passing) << found.dump() << "\n" << stash.process.output();
  EXPECT_EQ(found[0]["port"], stash.port);
  EXPECT_EQ(found[0]["address"], "127.0.0.1");
  // In etcd itself, under the prefix: services/configs/ID.
  nlohmann::json range = {{"key", base64_encode("/autopilot/services/configs/")},
                          {"range_end", base64_encode("/autopilot/services/configs0")}, {"count_only", true}};
  auto keys = discovery::etcd::testing::http_request(etcd, "POST", "/v3/kv/range", range.dump());
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(nlohmann::json::parse(keys->body, nullptr, false).value("count", "0"), "1") << keys->body;

  expect_withdrawn_on_sigterm(stash, {"--etcd", etcd});
}

TEST(Stash, KvMountWithoutACatalogIsABadConfig) {
  TempDir dir;
  std::string cfg = dir.write("config.json", R"({ "mounts": [ { "mount": "/kv", "provider": "kv" } ] })");
  Process p({autopilot_bin(), "stash", "-p", "0", "-c", cfg});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2);
  EXPECT_EQ(p.output(), "autopilot: a kv mount serves catalog keys: give --discovery-dir DIR or --etcd URLS\n");
}

TEST(Stash, SigintStopsCleanly) {
  TempDir dir;
  Tree tree(dir);
  Stash stash(dir, {"-p", "0", "-c", file_config(dir, tree.base)});
  ASSERT_GT(stash.port, 0) << stash.process.output();
  stash.process.signal(SIGINT);
  auto exit = stash.process.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << stash.process.output();
}

}  // namespace
}  // namespace autopilot::testing
