// The Materializer on fakes: FakeFiles, FakeTimers, the in-memory catalog and
// a map for the environment. url and stash sources talk to real servers in
// tests/integration/files_test.cc.
#include "files/materializer.h"

#include <gtest/gtest.h>

#include <map>

#include "decode/decoder.h"
#include "json5/json5.h"
#include "wiring/testing/fake_wiring.h"

namespace autopilot::files {
namespace {

class MaterializerTest : public ::testing::Test {
 protected:
  MaterializerTest() {
    fake_.bus.subscribe([this](const events::Event& e) { events_.push_back(events::describe(e)); });
  }

  std::vector<FileConfig> files(const std::string& text) {
    auto doc = json5::parse(text, "c.json5");
    EXPECT_TRUE(doc) << doc.error().format();
    decode::Decoder d(*doc, text);
    auto r = decode_files(d, *d.field(d.root(), "files"));
    EXPECT_TRUE(r) << r.error().format();
    return r ? *r : std::vector<FileConfig>{};
  }

  Result<std::vector<Outcome>> run(const std::string& text) {
    std::optional<Result<std::vector<Outcome>>> got;
    materializer_.run(files(text), [&](Result<std::vector<Outcome>> r) { got = std::move(r); });
    EXPECT_TRUE(fake_.run_until([&] { return got.has_value(); }));
    return got ? std::move(*got) : Result<std::vector<Outcome>>(make_error("no answer"));
  }

  std::string content(const std::string& path) {
    auto r = fake_.files.read(path);
    return r ? *r : "(" + r.error().message + ")";
  }
  mode_t mode(const std::string& path) { return (*fake_.files.stat(path))->mode; }

  std::map<std::string, std::string> env_;
  FakeWiring fake_;
  // Set before the Materializer copies the Wiring.
  bool has_env_ = (
      fake_.env = [this](const std::string& name) -> std::optional<std::string> {
        auto it = env_.find(name);
        if (it == env_.end()) return std::nullopt;
        return it->second;
      },
      true);
  std::vector<std::string> events_;
  Materializer materializer_{fake_.wiring()};
};

TEST_F(MaterializerTest, TheFirstSourceThatYieldsWinsAndSecretsGet0600) {
  env_["CERT_BASE64"] = "LS0tLS1CRUdJTg==";  // "-----BEGIN"
  env_["EMPTY"] = "";
  auto r = run(R"({files: [{name: "cert", path: "/etc/ssl/certs/ssl.crt",
                   sources: [{base64_env: "UNSET"}, {env: "EMPTY"}, {base64_env: "CERT_BASE64"}, {env: "NOT_TRIED"}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(*r, std::vector<Outcome>{Outcome::kWritten});
  EXPECT_EQ(content("/etc/ssl/certs/ssl.crt"), "-----BEGIN");
  EXPECT_EQ(mode("/etc/ssl/certs/ssl.crt"), 0600u);
  EXPECT_TRUE(events_.empty()) << "its owner publishes, when the jobs are subscribed";
  publish_changes(fake_.bus, files(R"({files: [{name: "cert", path: "/a", sources: [{keep: true}]},
                                               {name: "key", path: "/b", sources: [{keep: true}]}]})"),
                  {Outcome::kUnchanged, Outcome::kWritten});
  fake_.settle();
  EXPECT_EQ(events_, std::vector<std::string>{"changed from file.key"});
}

TEST_F(MaterializerTest, ModeAndWrappedBase64) {
  env_["KEY_BASE64"] = "aGVs\nbG8=\n";
  auto r = run(R"({files: [{path: "/k", mode: "0640", sources: [{base64_env: "KEY_BASE64"}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(content("/k"), "hello");
  EXPECT_EQ(mode("/k"), 0640u);
}

TEST_F(MaterializerTest, UnchangedContentIsNotRewrittenAndPublishesNothing) {
  env_["A"] = "same";
  const char* config = R"({files: [{path: "/a", sources: [{env: "A"}]}]})";
  ASSERT_TRUE(run(config));
  auto before = **fake_.files.stat("/a");
  events_.clear();
  auto r = run(config);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::vector<Outcome>{Outcome::kUnchanged});
  EXPECT_EQ(**fake_.files.stat("/a"), before) << "same inode and mtime";
  EXPECT_TRUE(events_.empty());
  // A new mode alone is a rewrite.
  r = run(R"({files: [{path: "/a", mode: "0644", sources: [{env: "A"}]}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::vector<Outcome>{Outcome::kWritten});
  EXPECT_EQ(mode("/a"), 0644u);
}

TEST_F(MaterializerTest, KeepLeavesTheImagesFileAlone) {
  fake_.files.write_for_test("/etc/nginx/ssl.key", "image", 0644);
  auto before = **fake_.files.stat("/etc/nginx/ssl.key");
  auto r = run(R"({files: [{path: "/etc/nginx/ssl.key", sources: [{base64_env: "SSL_KEY_BASE64"}, {keep: true}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(*r, std::vector<Outcome>{Outcome::kKept});
  EXPECT_EQ(**fake_.files.stat("/etc/nginx/ssl.key"), before);
  EXPECT_TRUE(events_.empty());
}

TEST_F(MaterializerTest, NoSourceYieldingIsAnErrorThatSaysWhyUnlessOptional) {
  auto r = run(R"({files: [{path: "/k",
  sources: [{base64_env: "K_BASE64"}, {kv: "cfg/k"}, {keep: true}]}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().format(),
            "c.json5:1:10: files[0]: no source yielded content for /k ($K_BASE64 is unset or empty; key \"cfg/k\" is "
            "absent; no file at /k to keep); add {keep: true} to keep a file already there, or optional: true\n"
            "{files: [{path: \"/k\",\n"
            "         ^");
  r = run(R"({files: [{path: "/k", optional: true, sources: [{env: "K"}]}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, std::vector<Outcome>{Outcome::kSkipped});
  EXPECT_FALSE(*fake_.files.stat("/k"));
}

TEST_F(MaterializerTest, InvalidBase64NamesTheVariableNeverItsValue) {
  env_["SSL_KEY_BASE64"] = "c2VjcmV0*c2VjcmV0";
  auto r = run(R"({files: [{path: "/k", sources: [{base64_env: "SSL_KEY_BASE64"}]}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "files[0].sources[0]: $SSL_KEY_BASE64 is not valid base64: illegal base64 data at input byte 8");
  EXPECT_EQ(r.error().format().find("c2VjcmV0"), std::string::npos);
  EXPECT_FALSE(*fake_.files.stat("/k"));
}

TEST_F(MaterializerTest, ACatalogKey) {
  fake_.expect_ok([&](auto done) {
    fake_.catalog.put("cfg/app.json", "{\"a\":1}",
                      [done](Result<discovery::Index> r) { done(r ? Result<void>() : Result<void>(r.error())); });
  });
  auto r = run(R"({files: [{path: "/app/config.json", sources: [{kv: "cfg/app.json"}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  EXPECT_EQ(content("/app/config.json"), "{\"a\":1}");
  EXPECT_EQ(mode("/app/config.json"), 0600u);
}

TEST_F(MaterializerTest, APathThatIsADirectoryAndAnUnwritableDirectory) {
  fake_.files.make_dirs("/etc/ssl/certs").error();
  env_["A"] = "x";
  auto r = run(R"({files: [{path: "/etc/ssl/certs", sources: [{env: "A"}]}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "files[0].path: /etc/ssl/certs is a directory");
  fake_.files.set_writable_for_test("/etc/ssl/certs", false);
  r = run(R"({files: [{path: "/etc/ssl/certs/a.crt", sources: [{env: "A"}]}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "files[0].path: mkstemp /etc/ssl/certs/.a.crt.autopilot-XXXXXX: Permission denied");
}

TEST_F(MaterializerTest, OwnerNamesComeFromPasswdAndGroupWithoutNss) {
  fake_.files.write_for_test("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n");
  fake_.files.write_for_test("/etc/group", "root:x:0:\nnginx:x:102:\nssl-cert:x:110:nginx\n");
  env_["A"] = "x";
  auto r = run(R"({files: [{path: "/a", owner: "nginx", sources: [{env: "A"}]},
                           {path: "/b", owner: "nginx:ssl-cert", sources: [{env: "A"}]},
                           {path: "/c", owner: "7:8", sources: [{env: "A"}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  auto owner = [&](const char* p) {
    auto i = **fake_.files.stat(p);
    return std::to_string(i.uid) + ":" + std::to_string(i.gid);
  };
  EXPECT_EQ(owner("/a"), "101:102");
  EXPECT_EQ(owner("/b"), "101:110");
  EXPECT_EQ(owner("/c"), "7:8");
  r = run(R"({files: [{path: "/d", owner: "www", sources: [{env: "A"}]}]})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "files[0]: owner: no user \"www\" in /etc/passwd");
}

TEST_F(MaterializerTest, AFailureStopsTheRunBeforeLaterFiles) {
  env_["A"] = "x";
  auto r = run(R"({files: [{path: "/a", sources: [{env: "MISSING"}]}, {path: "/b", sources: [{env: "A"}]}]})");
  ASSERT_FALSE(r);
  EXPECT_FALSE(*fake_.files.stat("/b"));
}

// How long a run takes to give up on a stash that never shows up in the
// catalog: the sum of its waits between tries, on the fake clock.
Duration time_to_give_up(FakeWiring& fake, std::optional<double> u, const std::string& retries) {
  MaterializerOptions options;
  if (u) options.uniform = [u] { return *u; };
  Materializer m(fake.wiring(), options);
  std::string text = R"({files: [{path: "/c", sources: [{stash: "/ssl/ssl.crt")" + retries + "}]}]}";
  auto doc = json5::parse(text, "c.json5");
  decode::Decoder d(*doc, text);
  auto files = decode_files(d, *d.field(d.root(), "files"));
  EXPECT_TRUE(files) << files.error().format();
  std::optional<Result<std::vector<Outcome>>> got;
  auto start = fake.timers.now();
  m.run(*files, [&](Result<std::vector<Outcome>> r) { got = std::move(r); });
  EXPECT_TRUE(fake.timers.advance_until([&] { return got.has_value(); }, std::chrono::minutes(5)));
  EXPECT_TRUE(got && !*got);
  if (got && !*got) {
    EXPECT_NE(got->error().message.find("no healthy instance in the catalog"), std::string::npos)
        << got->error().message;
  }
  EXPECT_FALSE(*fake.files.stat("/c"));
  return fake.timers.now() - start;
}

// The waits between tries double from 250 ms to a cap of 4 s, each one a pick
// between half of that and all of it (pinned here at both ends and between).
TEST_F(MaterializerTest, AStashNotInTheCatalogYetIsRetriedWithCappedExponentialBackOffAndJitter) {
  using ms = std::chrono::milliseconds;
  const std::vector<ms> full{ms(250), ms(500), ms(1000), ms(2000), ms(4000), ms(4000), ms(4000)};
  Duration before_low{0}, before_high{0}, before_mid{0};
  for (size_t retries = 1; retries <= full.size(); ++retries) {
    std::string r = ", retries: " + std::to_string(retries);
    Duration low = time_to_give_up(fake_, 0.0, r);
    Duration high = time_to_give_up(fake_, 1.0, r);
    Duration mid = time_to_give_up(fake_, 0.5, r);
    EXPECT_EQ(low - before_low, full[retries - 1] / 2) << "wait " << retries;
    EXPECT_EQ(high - before_high, full[retries - 1]) << "wait " << retries;
    EXPECT_EQ(mid - before_mid, full[retries - 1] * 3 / 4) << "wait " << retries;
    before_low = low;
    before_high = high;
    before_mid = mid;
  }
  // No retries: one try, no wait.
  EXPECT_EQ(time_to_give_up(fake_, 1.0, ", retries: 0"), Duration::zero());
  // The default: 5 retries; unpinned, the jitter stays within its bounds.
  EXPECT_EQ(time_to_give_up(fake_, 1.0, ""), ms(7750));
  for (int i = 0; i < 5; ++i) {
    Duration d = time_to_give_up(fake_, std::nullopt, ", retries: 7");
    EXPECT_GE(d, ms(15750) / 2);
    EXPECT_LE(d, ms(15750));
  }
}

}  // namespace
}  // namespace autopilot::files
