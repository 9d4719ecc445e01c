// `files` on the real binary: every source, every bad input that needs the
// environment or a server (the rest are in bad_configs/140-153), modes,
// `changed` events, secrets kept out of the output and of `-template`, a
// stash found through the embedded catalog (over http and over https with a
// test CA, before and after it registers), optional 404s, HTTPS with a test
// CA, and atomic replacement under a polling reader. The HTTP server is
// files_server.py (python3) on 127.0.0.1, except in the one test that runs a
// real `autopilot stash`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "discovery/etcd/blocking_http.h"
#include "discovery/testing.h"
#include "harness.h"

namespace autopilot::testing {
namespace {

namespace fs = std::filesystem;

// "aGVsbG8tc2VjcmV0" is base64 of "hello-secret".
constexpr const char* kSecret = "hello-secret";
constexpr const char* kSecretBase64 = "aGVsbG8tc2VjcmV0";

class FileServer {
 public:
  explicit FileServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{"python3", "-u", source_dir() + "/tests/integration/files_server.py", root.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process = std::make_unique<Process>(argv);
    auto line = process->wait_for("listening on ");
    if (line) port = std::stoi(line->substr(line->find("on ") + 3));
  }
  std::string url(const std::string& path, const char* scheme = "http") const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port) + path;
  }
  void put(const std::string& path, const std::string& content) const {
    fs::path p = fs::path(root.path()) / path.substr(1);
    fs::create_directories(p.parent_path());
    std::string tmp = p.string() + ".tmp";
    std::ofstream(tmp, std::ios::binary) << content;
    fs::rename(tmp, p);  // the server never serves half a file
  }

  TempDir root;
  std::unique_ptr<Process> process;
  int port = 0;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

std::string run_to_exit(Process& p) {
  auto exit = p.wait_exit();
  EXPECT_TRUE(exit);
  if (exit) {
    EXPECT_EQ(exit->code, 0) << p.output();
  }
  return p.output();
}

TEST(Files, EverySourceWritesItsFileWithItsModeBeforeTheJobsStart) {
  FileServer server({"--token", "t0ken"});
  ASSERT_GT(server.port, 0);
  server.put("/public/app.conf", "public-conf");
  server.put("/private/db.pass", "db-pass");
  TempDir dir;
  std::string out = dir.path() + "/out";
  fs::create_directories(out);
  std::ofstream(out + "/image.crt") << "from-the-image";
  std::string config = R"({
  files: [
    { path: ")" + out + R"(/b64.key", sources: [{ base64_env: "KEY_BASE64" }] },
    { path: ")" + out + R"(/env.txt", sources: [{ env: "UNSET_VAR" }, { env: "PLAIN" }] },
    { path: ")" + out + R"(/app.conf", sources: [{ url: ")" +
                       server.url("/public/app.conf") + R"(" }] },
    { path: ")" + out + R"(/db.pass", sources: [{ url: ")" +
                       server.url("/private/db.pass") + R"(", token_env: "TOKEN" }] },
    { path: ")" + out + R"(/image.crt", sources: [{ base64_env: "CRT_BASE64" }, { keep: true }] },
    { path: ")" + out + R"(/public.conf", mode: "0640", sources: [{ url: ")" +
                       server.url("/public/app.conf") + R"(" }] },
  ],
  jobs: [{ name: "app", exec: ["sh", "-c", "cat )" +
                       out + R"(/app.conf; echo"] }],
})";
  Process p = run_autopilot(dir, config, {std::string("KEY_BASE64=") + kSecretBase64, "PLAIN=plain", "TOKEN=t0ken"});
  std::string output = run_to_exit(p);
  EXPECT_EQ(read_text(out + "/b64.key"), kSecret);
  EXPECT_EQ(mode_of(out + "/b64.key"), 0600u);
  EXPECT_EQ(read_text(out + "/env.txt"), "plain");
  EXPECT_EQ(mode_of(out + "/env.txt"), 0600u);
  EXPECT_EQ(read_text(out + "/app.conf"), "public-conf");
  EXPECT_EQ(mode_of(out + "/app.conf"), 0644u);
  EXPECT_EQ(read_text(out + "/db.pass"), "db-pass");
  EXPECT_EQ(mode_of(out + "/db.pass"), 0600u);
  EXPECT_EQ(read_text(out + "/image.crt"), "from-the-image");
  EXPECT_EQ(mode_of(out + "/public.conf"), 0640u);
  // The job ran after the files were in place.
  int wrote = p.find("files: wrote .*/app.conf");
  int ran = p.find("app .* public-conf");
  EXPECT_GE(wrote, 0) << output;
  EXPECT_GT(ran, wrote) << output;
  EXPECT_GE(p.find("files: .*/image.crt: kept the file already there"), 0) << output;
  EXPECT_EQ(output.find(kSecret), std::string::npos) << output;
  EXPECT_EQ(output.find(kSecretBase64), std::string::npos) << output;
  EXPECT_EQ(output.find("t0ken"), std::string::npos) << output;
  EXPECT_EQ(output.find("db-pass"), std::string::npos) << output;
  EXPECT_TRUE(server.process->wait_seen("GET /private/db.pass 200 auth=yes"));
}

TEST(Files, SecretsStayOutOfTheRenderedConfig) {
  TempDir dir;
  std::string config = R"({
  files: [{ path: ")" + dir.path() +
                       R"(/k", sources: [{ base64_env: "KEY_BASE64" }] }],
  jobs: [{ name: "app", exec: "true" }],
})";
  std::string path = dir.write("autopilot.json5", config);
  Process p({autopilot_bin(), "-config", path, "-template"}, {std::string("KEY_BASE64=") + kSecretBase64});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << p.output();
  EXPECT_NE(p.output().find("KEY_BASE64"), std::string::npos) << p.output();
  EXPECT_EQ(p.output().find(kSecretBase64), std::string::npos) << p.output();
  EXPECT_FALSE(fs::exists(dir.path() + "/k")) << "-template writes nothing";
}

TEST(Files, SecretsStayOutOfStatusAndMetrics) {
  TempDir dir;
  int port = discovery::etcd::testing::free_port("127.0.0.1");
  ASSERT_GT(port, 0);
  Process p = run_autopilot(dir,
                            R"({
  files: [{ name: "key", path: ")" +
                                dir.path() + R"(/k", sources: [{ base64_env: "KEY_BASE64" }] }],
  jobs: [{ name: "app", exec: "sleep 30" }],
  telemetry: { port: )" + std::to_string(port) +
                                R"(, interfaces: ["static:127.0.0.1"] },
})",
                            {std::string("KEY_BASE64=") + kSecretBase64});
  ASSERT_TRUE(p.wait_for("telemetry: serving")) << p.output();
  ASSERT_TRUE(p.wait_seen("files: wrote")) << p.output();
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  for (const char* path : {"/status", "/metrics"}) {
    auto reply = discovery::etcd::testing::http_request(base, "GET", path);
    ASSERT_TRUE(reply) << reply.error().message;
    EXPECT_EQ(reply->status, 200) << path;
    EXPECT_EQ(reply->body.find(kSecret), std::string::npos) << path << ": " << reply->body;
    EXPECT_EQ(reply->body.find(kSecretBase64), std::string::npos) << path << ": " << reply->body;
  }
  EXPECT_EQ(p.output().find(kSecret), std::string::npos) << p.output();
  p.signal(SIGTERM);
  EXPECT_TRUE(p.wait_exit());
}

TEST(Files, InvalidBase64NamesTheVariableNeverItsValueAndStartsNothing) {
  TempDir dir;
  std::string config = R"({
  files: [{ path: ")" + dir.path() +
                       R"(/k", sources: [{ base64_env: "SSL_KEY_BASE64" }] }],
  jobs: [{ name: "app", exec: "touch )" +
                       dir.path() + R"(/started" }],
})";
  Process p = run_autopilot(dir, config, {"SSL_KEY_BASE64=c2VjcmV0*c2VjcmV0"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  EXPECT_NE(p.output().find("autopilot.json5:2:"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("files[0].sources[0]: $SSL_KEY_BASE64 is not valid base64: illegal base64 data at input "
                            "byte 8"),
            std::string::npos)
      << p.output();
  EXPECT_EQ(p.output().find("c2VjcmV0"), std::string::npos) << p.output();
  EXPECT_FALSE(fs::exists(dir.path() + "/k"));
  EXPECT_FALSE(fs::exists(dir.path() + "/started"));
}

TEST(Files, Sha256MismatchAndARefusedUrlAfterItsRetriesAreErrors) {
  FileServer server;
  ASSERT_GT(server.port, 0);
  server.put("/a", "content");
  TempDir dir;
  std::string zeros(64, '0');
  Process p = run_autopilot(dir, R"({
  files: [{ path: ")" + dir.path() + R"(/a", sources: [{ url: ")" +
                                     server.url("/a") + R"(", sha256: ")" + zeros + R"(" }] }],
  jobs: [{ name: "app", exec: "true" }],
})");
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  // sha256("content")
  EXPECT_NE(p.output().find(server.url("/a") +
                            ": sha256 mismatch: the content's is "
                            "ed7002b439e9ac845f22357d822bac1444730fbdb6016d3ec9432297b9ec9f73, the config pins " +
                            zeros),
            std::string::npos)
      << p.output();
  EXPECT_FALSE(fs::exists(dir.path() + "/a"));

  int closed_port;
  {
    FileServer gone;
    closed_port = gone.port;
  }
  TempDir dir2;
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port) + "/x";
  Process q = run_autopilot(dir2, R"({
  files: [{ path: ")" + dir2.path() + R"(/x", sources: [{ url: ")" +
                                      url + R"(", retries: 1, timeout: "2s" }] }],
  jobs: [{ name: "app", exec: "true" }],
})");
  exit = q.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << q.output();
  EXPECT_NE(q.output().find("files[0].sources[0]: " + url + ": connect: Connection refused (after 2 attempts)"),
            std::string::npos)
      << q.output();
  EXPECT_GE(q.find("retrying in (12[5-9]|1[3-9]\\d|2[0-4]\\d|250)ms"), 0) << q.output();  // 250 ms, jittered
}

TEST(Files, A5xxIsRetriedUntilTheServerAnswers) {
  FileServer server({"--flaky", "2"});
  ASSERT_GT(server.port, 0);
  server.put("/flaky/app.json", "{}");
  TempDir dir;
  Process p = run_autopilot(dir, R"({
  files: [{ path: ")" + dir.path() + R"(/app.json", sources: [{ url: ")" +
                                     server.url("/flaky/app.json") + R"(" }] }],
  jobs: [{ name: "app", exec: "true" }],
})");
  std::string output = run_to_exit(p);
  EXPECT_EQ(read_text(dir.path() + "/app.json"), "{}");
  EXPECT_EQ(p.count("HTTP 503; retrying in"), 2) << output;
}

TEST(Files, HttpsIsVerifiedAgainstTheGivenCa) {
  TempDir pki;
  std::string cert = pki.path() + "/cert.pem", key = pki.path() + "/key.pem";
  Process openssl({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                   "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert});
  auto made = openssl.wait_exit(30s);
  ASSERT_TRUE(made && made->code == 0) << openssl.output();
  FileServer server({"--cert", cert, "--key", key});
  ASSERT_GT(server.port, 0);
  server.put("/ssl/dhparam.pem", "dh");
  TempDir dir;
  std::string config = R"({
  files: [{ path: ")" + dir.path() +
                       R"(/dh.pem", sources: [{ url: ")" + server.url("/ssl/dhparam.pem", "https") +
                       R"(", retries: 0 }] }],
  jobs: [{ name: "app", exec: "true" }],
})";
  Process trusted = run_autopilot(dir, config, {"SSL_CERT_FILE=" + cert});
  run_to_exit(trusted);
  EXPECT_EQ(read_text(dir.path() + "/dh.pem"), "dh");

  TempDir dir2;
  std::string config2 = config;
  config2.replace(config2.find(dir.path()), dir.path().size(), dir2.path());
  Process untrusted = run_autopilot(dir2, config2, {"SSL_CERT_FILE=/nonexistent"});
  auto exit = untrusted.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << untrusted.output();
  EXPECT_NE(untrusted.output().find("TLS handshake"), std::string::npos) << untrusted.output();
}

// The seed's StashBox habit: the stash server is found through the catalog,
// a file it has is used, and a 404 on an optional file keeps the image's.
TEST(Files, StashFoundThroughTheCatalogAndAnOptional404KeepsTheImagesFile) {
  FileServer stash;
  ASSERT_GT(stash.port, 0);
  stash.put("/ssl/ssl.crt", "stash-cert");
  TempDir dir;
  std::string catalog = dir.path() + "/catalog";
  // One autopilot registers the stash server under the service name `stash`.
  TempDir registrar_dir;
  Process registrar = run_autopilot(registrar_dir, R"({
  discovery: { embedded: { dir: ")" + catalog + R"(" } },
  jobs: [{ name: "stash", exec: "sleep 60", port: )" + std::to_string(stash.port) +
                                                       R"(,
           interfaces: ["static:127.0.0.1"], health: { interval: "200ms", ttl: 5 } }],
})");
  ASSERT_TRUE(registrar.wait_for("job stash: registered")) << registrar.output();

  std::string out = dir.path() + "/out";
  fs::create_directories(out);
  std::ofstream(out + "/ssl.key") << "image-key";
  Process p = run_autopilot(
      dir,
      R"({
  discovery: { embedded: { dir: ")" +
          catalog + R"(" } },
  files: [
    { path: ")" +
          out + R"(/ssl.crt", sources: [{ base64_env: "SSL_CERT_BASE64" }, { stash: "/ssl/ssl.crt" }, { keep: true }] },
    { path: ")" +
          out + R"(/ssl.key", optional: true, sources: [{ base64_env: "SSL_KEY_BASE64" }, { stash: "/ssl/ssl.key" }] },
  ],
  jobs: [{ name: "app", exec: "true" }],
})");
  std::string output = run_to_exit(p);
  EXPECT_EQ(read_text(out + "/ssl.crt"), "stash-cert");
  EXPECT_EQ(mode_of(out + "/ssl.crt"), 0600u);
  EXPECT_EQ(read_text(out + "/ssl.key"), "image-key");
  EXPECT_NE(output.find("from stash /ssl/ssl.crt"), std::string::npos) << output;
  EXPECT_TRUE(stash.process->wait_seen("GET /ssl/ssl.key 404"));
  registrar.signal(SIGTERM);
  EXPECT_TRUE(registrar.wait_exit());
}

// A StashBox server's tree: srv/ssl/ssl.crt holding `cert`, an embedded
// catalog beside it, and a config serving srv/ with the token from
// $STASH_TOKEN, registered on 127.0.0.1 under StashBox's default name
// (`stash`: the config names no service); `extra`: more top-level keys.
struct StashTree {
  explicit StashTree(const std::string& cert, const std::string& extra = "") {
    fs::create_directories(dir.path() + "/srv/ssl");
    dir.write("srv/ssl/ssl.crt", cert);
    catalog = dir.path() + "/catalog";
    config = dir.write("stash.json", R"({ "tokenEnv": "STASH_TOKEN",
  "mounts": [ { "mount": "/", "provider": "file", "basePath": ")" + dir.path() + R"(/srv" } ], )" + extra + R"(
  "service": { "interfaces": ["static:127.0.0.1"], "interval": "200ms", "ttl": 2 } })");
  }
  TempDir dir;
  std::string catalog;
  std::string config;
};

// Both halves of the StashBox habit together: a real `autopilot stash`
// (file mount, bearer token from its environment) registers itself as the
// service `stash` in an embedded catalog; once it is passing there, an
// autopilot finds it by name, fetches the certificate with its token, keeps
// the image's key on an optional 404, and only then starts its job.
TEST(Files, FromARealAutopilotStashFoundThroughTheCatalog) {
  constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIBstash0cert\n-----END CERTIFICATE-----\n";
  constexpr const char* kToken = "stash-t0ken-9f3";
  StashTree tree(kCert);
  const std::string& catalog = tree.catalog;
  const std::string& cfg = tree.config;
  Process stash({autopilot_bin(), "stash", "-p", "0", "-c", cfg, "--discovery-dir", catalog},
                {std::string("STASH_TOKEN=") + kToken});
  auto serving = stash.wait_for("stash: serving .* on [0-9.]+:\\d+");
  ASSERT_TRUE(serving) << stash.output();
  // Passing in the catalog: `catalog service` lists passing instances only.
  bool passing = stash.wait_until([&] {
    Process list({autopilot_bin(), "catalog", "service", "stash", "--discovery-dir", catalog});
    auto exit = list.wait_exit();
    return exit && exit->code == 0 && list.output().find("\"port\"") != std::string::npos;
  });
  ASSERT_TRUE(passing) << stash.output();

  TempDir dir;
  std::string out = dir.path() + "/out";
  fs::create_directories(out);
  std::ofstream(out + "/ssl.key") << "image-key";
  mode_t image_key_mode = mode_of(out + "/ssl.key");
  Process p = run_autopilot(dir, R"({
  discovery: { embedded: { dir: ")" + catalog + R"(" } },
  files: [
    { path: ")" + out + R"(/ssl.crt",
      sources: [{ base64_env: "SSL_CERT_BASE64" }, { stash: "/ssl/ssl.crt", token_env: "STASH_TOKEN" }] },
    { path: ")" + out + R"(/ssl.key", optional: true,
      sources: [{ base64_env: "SSL_KEY_BASE64" }, { stash: "/ssl/ssl.key", token_env: "STASH_TOKEN" }] },
  ],
  jobs: [{ name: "app", exec: ["sh", "-c", "test -s )" + out + R"(/ssl.crt && echo cert-in-place"] }],
})",
                            {std::string("STASH_TOKEN=") + kToken});
  std::string output = run_to_exit(p);
  EXPECT_EQ(read_text(out + "/ssl.crt"), kCert);
  EXPECT_EQ(mode_of(out + "/ssl.crt"), 0600u);  // a stash is a secret source
  EXPECT_EQ(read_text(out + "/ssl.key"), "image-key");
  EXPECT_EQ(mode_of(out + "/ssl.key"), image_key_mode);  // untouched
  int wrote = p.find("files: wrote .*/ssl.crt");
  int ran = p.find("app .*cert-in-place");
  EXPECT_GE(wrote, 0) << output;
  EXPECT_GT(ran, wrote) << output;
  EXPECT_GE(p.find("from stash /ssl/ssl.crt"), 0) << output;
  EXPECT_GE(p.find("ssl.key: no source yielded content; optional, left as it is"), 0) << output;
  EXPECT_EQ(output.find(kToken), std::string::npos) << output;
  EXPECT_EQ(output.find("MIIBstash0cert"), std::string::npos) << output;

  stash.signal(SIGTERM);
  auto exit = stash.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << stash.output();
  EXPECT_EQ(stash.output().find(kToken), std::string::npos) << stash.output();
  EXPECT_EQ(stash.output().find("MIIBstash0cert"), std::string::npos) << stash.output();
}

bool openssl(const std::string& dir, const std::string& command) {
  Process p({"sh", "-c", "cd " + dir + " && openssl " + command + " >/dev/null 2>&1"});
  auto exit = p.wait_exit(60s);
  return exit && exit->code == 0;
}

// The same over https: the stash serves TLS with a certificate a throwaway CA
// signed (openssl, IP SAN 127.0.0.1) and registers in the catalog. The files
// side starts first, so the stash is not in the catalog yet and the source
// is retried (with back-off) until it is; then it is found by name, asked
// over https (`https: true`) and trusted through `ca_file`. An optional 404
// over https keeps the image's file, content and mode. Without the CA file
// the handshake fails (the system's CAs do not know the test CA).
TEST(Files, FromAnHttpsStashFoundThroughTheCatalogTrustingATestCa) {
  constexpr const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIBtls0stash\n-----END CERTIFICATE-----\n";
  constexpr const char* kToken = "stash-tls-t0ken";
  TempDir pki;
  std::string d = pki.path();
  ASSERT_TRUE(openssl(d, "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=files-test-ca"));
  ASSERT_TRUE(openssl(d, "req -newkey rsa:2048 -nodes -keyout stash.key -out stash.csr -subj /CN=127.0.0.1"));
  pki.write("ext.cnf", "subjectAltName=IP:127.0.0.1\n");
  ASSERT_TRUE(openssl(d, "x509 -req -in stash.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out stash.pem -days 2 "
                         "-extfile ext.cnf"));

  StashTree tree(kCert, R"("tls": { "cert": ")" + d + R"(/stash.pem", "key": ")" + d + R"(/stash.key" },)");
  const std::string& catalog = tree.catalog;
  const std::string& cfg = tree.config;

  TempDir dir;
  std::string out = dir.path() + "/out";
  fs::create_directories(out);
  std::ofstream(out + "/ssl.key") << "image-key";
  ::chmod((out + "/ssl.key").c_str(), 0640);
  std::string files = R"(
  files: [
    { path: ")" + out + R"(/ssl.crt",
      sources: [{ base64_env: "SSL_CERT_BASE64" },
                { stash: "/ssl/ssl.crt", https: true, ca_file: ")" + d + R"(/ca.pem", token_env: "STASH_TOKEN", retries: 20 }] },
    { path: ")" + out + R"(/ssl.key", optional: true,
      sources: [{ stash: "/ssl/ssl.key", https: true, ca_file: ")" + d + R"(/ca.pem", token_env: "STASH_TOKEN" }] },
  ],)";
  Process p = run_autopilot(dir, R"({
  discovery: { embedded: { dir: ")" + catalog + R"(" } },)" + files + R"(
  jobs: [{ name: "app", exec: ["sh", "-c", "test -s )" + out + R"(/ssl.crt && echo cert-in-place"] }],
})",
                            {std::string("STASH_TOKEN=") + kToken});
  // Not in the catalog yet: asked again after a back-off.
  ASSERT_TRUE(p.wait_for("ssl.crt: stash /ssl/ssl.crt \\(service \"stash\"\\): no healthy instance in the "
                         "catalog; retrying in \\d+ms"))
      << p.output();

  Process stash({autopilot_bin(), "stash", "-p", "0", "-c", cfg, "--discovery-dir", catalog},
                {std::string("STASH_TOKEN=") + kToken});
  ASSERT_TRUE(stash.wait_for("stash: serving .* on [0-9.]+:\\d+ \\(https\\)")) << stash.output();
  auto exit = p.wait_exit(60s);
  ASSERT_TRUE(exit) << p.output();
  EXPECT_EQ(exit->code, 0) << p.output();
  std::string output = p.output();
  EXPECT_EQ(read_text(out + "/ssl.crt"), kCert);
  EXPECT_EQ(mode_of(out + "/ssl.crt"), 0600u);
  EXPECT_EQ(read_text(out + "/ssl.key"), "image-key");
  EXPECT_EQ(mode_of(out + "/ssl.key"), 0640u);
  EXPECT_GE(p.find("files: wrote .*/ssl.crt .* from stash /ssl/ssl.crt"), 0) << output;
  EXPECT_GE(p.find("ssl.key: no source yielded content; optional, left as it is"), 0) << output;
  EXPECT_GT(p.find("app .*cert-in-place"), p.find("files: wrote .*/ssl.crt")) << output;
  EXPECT_EQ(output.find(kToken), std::string::npos) << output;
  EXPECT_EQ(output.find("MIIBtls0stash"), std::string::npos) << output;

  // The stash is up and found now; without ca_file its certificate is not trusted.
  TempDir dir2;
  std::string untrusting = files;
  for (size_t at; (at = untrusting.find(", ca_file: \"" + d + "/ca.pem\"")) != std::string::npos;)
    untrusting.erase(at, (", ca_file: \"" + d + "/ca.pem\"").size());
  untrusting.replace(untrusting.find("retries: 20"), 11, "retries: 0");
  untrusting.replace(untrusting.find(out), out.size(), dir2.path());
  Process q = run_autopilot(dir2, R"({
  discovery: { embedded: { dir: ")" + catalog + R"(" } },)" + untrusting + R"(
  jobs: [{ name: "app", exec: "true" }],
})",
                            {std::string("STASH_TOKEN=") + kToken, "SSL_CERT_FILE=/nonexistent", "SSL_CERT_DIR=/nonexistent"});
  exit = q.wait_exit(30s);
  ASSERT_TRUE(exit) << q.output();
  EXPECT_EQ(exit->code, 2) << q.output();
  EXPECT_GE(q.find("files\\[0\\]\\.sources\\[1\\]: https://127\\.0\\.0\\.1:\\d+/ssl/ssl\\.crt: TLS handshake"), 0)
      << q.output();
  EXPECT_FALSE(fs::exists(dir2.path() + "/ssl.crt"));

  stash.signal(SIGTERM);
  exit = stash.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 0) << stash.output();
}

// A job waits on file.NAME's `changed`: once at start, again on a reload that
// changes the content, not on one that does not.
TEST(Files, ChangedEventsReachJobsAtStartAndOnReload) {
  FileServer server;
  ASSERT_GT(server.port, 0);
  server.put("/app.json", "v1");
  TempDir dir;
  std::string conf = dir.path() + "/app.json";
  Process p = run_autopilot(dir, R"({
  files: [{ name: "appconf", path: ")" +
                                     conf + R"(", sources: [{ url: ")" + server.url("/app.json") + R"(" }] }],
  jobs: [
    { name: "main", exec: "sleep 60" },
    { name: "onchange", exec: ["sh", "-c", "printf 'conf is %s\\n' \"$(cat )" +
                                     conf + R"J()\""],
      when: { source: "file.appconf", each: "changed" } },
  ],
})J");
  ASSERT_TRUE(p.wait_for("conf is v1")) << p.output();
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for("reloading")) << p.output();
  server.put("/app.json", "v2");
  p.signal(SIGHUP);
  ASSERT_TRUE(p.wait_for("conf is v2")) << p.output();
  EXPECT_EQ(p.count("conf is"), 2) << p.output();
  EXPECT_EQ(p.count("files: wrote"), 2) << p.output();
  p.signal(SIGTERM);
  EXPECT_TRUE(p.wait_exit());
}

// A reader polling the path sees the old bytes or the new ones, never a
// mix or a short file, while a 5 MB file is replaced 100 times by reloads.
TEST(Files, AReaderNeverSeesPartialContentWhileA5MBFileIsReplaced) {
  constexpr size_t kSize = 5 * 1024 * 1024;
  constexpr int kRounds = 100;
  FileServer server;
  ASSERT_GT(server.port, 0);
  server.put("/big", std::string(kSize, 'a'));
  TempDir dir;
  std::string path = dir.path() + "/big";
  Process p = run_autopilot(dir, R"({
  files: [{ path: ")" + path + R"(", sources: [{ url: ")" +
                                     server.url("/big") + R"(" }] }],
  jobs: [{ name: "main", exec: "sleep 600" }],
})");
  ASSERT_TRUE(p.wait_for("files: wrote")) << p.output();
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop) {
      std::string s = read_text(path);
      ++reads;
      bool whole = s.size() == kSize && s.find_first_not_of(s[0]) == std::string::npos;
      if (!whole) ++bad;
    }
  });
  for (int round = 1; round <= kRounds; ++round) {
    server.put("/big", std::string(kSize, round % 2 ? 'b' : 'a'));
    p.signal(SIGHUP);
    ASSERT_TRUE(p.wait_until([&] { return p.count("files: wrote") == round + 1; }, 20s)) << "round " << round << "\n"
                                                                                         << p.output().substr(0, 4000);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(bad, 0) << "of " << reads << " reads";
  EXPECT_GT(reads, kRounds);
  p.signal(SIGTERM);
  EXPECT_TRUE(p.wait_exit());
}

// A catalog key, and an owner given by names read from /etc/passwd and
// /etc/group (no NSS in the static binary); an unknown one stops the start.
TEST(Files, ACatalogKeyAndAnOwnerByName) {
  discovery::testing::CatalogLoop catalog;
  catalog.expect_ok([&](discovery::Callback<void> done) {
    catalog.catalog->put("config/app.json", "{\"from\": \"kv\"}",
                         [done](Result<discovery::Index> r) { done(r ? Result<void>() : Result<void>(r.error())); });
  });
  TempDir dir;
  std::string out = dir.path() + "/out";
  std::string config = R"({
  discovery: { embedded: { dir: ")" +
                       catalog.dir() + R"(" } },
  files: [{ path: ")" + out +
                       R"(/app.json", owner: "root:root", sources: [{ kv: "config/app.json" }] }],
  jobs: [{ name: "app", exec: "true" }],
})";
  Process p = run_autopilot(dir, config);
  run_to_exit(p);
  EXPECT_EQ(read_text(out + "/app.json"), "{\"from\": \"kv\"}");
  EXPECT_EQ(mode_of(out + "/app.json"), 0600u);
  struct stat st {};
  ASSERT_EQ(::stat((out + "/app.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);

  TempDir dir2;
  std::string config2 = config;
  config2.replace(config2.find("root:root"), 9, "no-such-user-here");
  config2.replace(config2.find(out), out.size(), dir2.path());
  Process q = run_autopilot(dir2, config2);
  auto exit = q.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << q.output();
  EXPECT_NE(q.output().find("files[0]: owner: no user \"no-such-user-here\" in /etc/passwd"), std::string::npos)
      << q.output();
}

TEST(Files, AnUnwritableDirectoryIsAnError) {
  TempDir dir;
  std::string target;
  if (::geteuid() == 0) {
    target = "/sys/autopilot-files-test.crt";  // sysfs: no new files, even for root
  } else {
    fs::create_directories(dir.path() + "/ro");
    ::chmod((dir.path() + "/ro").c_str(), 0555);
    target = dir.path() + "/ro/a.crt";
  }
  Process p = run_autopilot(dir, R"({
  files: [{ path: ")" + target + R"(", sources: [{ env: "A" }] }],
  jobs: [{ name: "app", exec: "true" }],
})",
                            {"A=x"});
  auto exit = p.wait_exit();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code, 2) << p.output();
  EXPECT_NE(p.output().find("files[0].path: mkstemp "), std::string::npos) << p.output();
}

}  // namespace
}  // namespace autopilot::testing
