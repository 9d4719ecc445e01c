// Decoding `files`: the shapes accepted and the messages for the rest,
// compared as exact strings (file:line:col comes from the decoder).
#include "files/file_config.h"

#include <gtest/gtest.h>

#include "decode/decoder.h"
#include "json5/json5.h"

namespace autopilot::files {
namespace {

Result<std::vector<FileConfig>> decode(const std::string& text) {
  auto doc = json5::parse(text, "c.json5");
  if (!doc) return doc.error();
  decode::Decoder d(*doc, text);
  return decode_files(d, *d.field(d.root(), "files"));
}

std::string error_of(const std::string& text) {
  auto r = decode(text);
  if (r) return "(no error)";
  return r.error().format();
}

TEST(FileConfigTest, DecodesEverySourceInOrder) {
  auto r = decode(R"({files: [{path: "/etc/ssl/certs/ssl.crt", owner: "0:0", optional: true, sources: [
      {base64_env: "SSL_CERT_BASE64"}, {env: "SSL_CERT"},
      {url: "https://cfg:8443/ssl.crt", sha256: "AA00000000000000000000000000000000000000000000000000000000000000",
       token_env: "T", timeout: "2s", retries: 1},
      {stash: "/ssl/ssl.crt"}, {stash: "/ssl/ssl.crt", server: "http://stashbox:8080"},
      {stash: "/x", server: ""}, {kv: "config/ssl.crt"}, {keep: true}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  ASSERT_EQ(r->size(), 1u);
  const FileConfig& f = r->front();
  EXPECT_EQ(f.name, "ssl.crt");
  EXPECT_EQ(f.event_source().str(), "file.ssl.crt");
  EXPECT_FALSE(f.mode.has_value());
  EXPECT_TRUE(f.optional);
  ASSERT_EQ(f.sources.size(), 8u);
  EXPECT_EQ(f.sources[0].type, SourceType::kBase64Env);
  EXPECT_EQ(f.sources[0].value, "SSL_CERT_BASE64");
  EXPECT_EQ(f.sources[2].url->str(), "https://cfg:8443/ssl.crt");
  EXPECT_EQ(f.sources[2].sha256, "aa00000000000000000000000000000000000000000000000000000000000000");
  EXPECT_EQ(f.sources[2].retries, 1);
  EXPECT_EQ(f.sources[2].timeout, std::chrono::seconds(2));
  EXPECT_FALSE(f.sources[3].url.has_value());
  EXPECT_EQ(f.sources[3].service, "stash");
  EXPECT_EQ(f.sources[4].url->str(), "http://stashbox:8080/");
  EXPECT_FALSE(f.sources[5].url.has_value()) << "an empty server means the catalog";
  EXPECT_EQ(f.sources[7].type, SourceType::kKeep);
  EXPECT_TRUE(f.needs_catalog());
}

TEST(FileConfigTest, SecretSourcesAreThoseThatCarrySecrets) {
  auto r = decode(R"({files: [{path: "/a", sources: [{base64_env: "A"}, {env: "B"}, {url: "http://x/a"},
      {url: "http://x/a", token_env: "T"}, {stash: "/a"}, {kv: "k"}, {keep: true}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  std::vector<bool> secret;
  for (const auto& s : r->front().sources) secret.push_back(s.is_secret());
  EXPECT_EQ(secret, (std::vector<bool>{true, true, false, true, true, true, false}));
}

TEST(FileConfigTest, HttpsAndACaFileForAStashFoundInTheCatalogOrAnHttpsUrl) {
  auto r = decode(R"({files: [{path: "/a", sources: [
      {stash: "/ssl/ssl.crt", https: true, ca_file: "/etc/ssl/stash-ca.pem"},
      {stash: "/ssl/ssl.crt", server: "https://stash:8443", ca_file: "/ca.pem"},
      {stash: "/x", server: "", https: true},
      {url: "https://cfg:8443/a", ca_file: "/ca.pem"}, {stash: "/plain"}]}]})");
  ASSERT_TRUE(r) << r.error().format();
  const auto& s = r->front().sources;
  EXPECT_TRUE(s[0].https);
  EXPECT_EQ(s[0].ca_file, "/etc/ssl/stash-ca.pem");
  EXPECT_FALSE(s[0].url.has_value());
  EXPECT_EQ(s[1].ca_file, "/ca.pem");
  EXPECT_TRUE(s[2].https);
  EXPECT_FALSE(s[2].url.has_value());
  EXPECT_EQ(s[3].ca_file, "/ca.pem");
  EXPECT_FALSE(s[4].https);
  EXPECT_EQ(s[4].retries, 5);

  auto msg = [](const std::string& text) {
    auto d = decode(text);
    return d ? std::string("(no error)") : d.error().message;
  };
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{stash: "/a", ca_file: "/ca.pem"}]}]})"),
            "files[0].sources[0].ca_file: applies to https: add https: true to ask the stash found in the catalog "
            "over https");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{stash: "/a", server: "http://s:80", ca_file: "/ca.pem"}]}]})"),
            "files[0].sources[0].ca_file: applies to https:// servers, not http://s/");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{url: "http://x/a", ca_file: "/ca.pem"}]}]})"),
            "files[0].sources[0].ca_file: applies to https:// URLs, not http://x/a");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{stash: "/a", server: "http://s", https: true}]}]})"),
            "files[0].sources[0].https: is for a stash found in the catalog; this one's server is http:// (give an "
            "https:// server instead)");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{url: "https://x/a", https: true}]}]})"),
            "files[0].sources[0].https: applies to stash sources, not url");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{env: "A", ca_file: "/ca.pem"}]}]})"),
            "files[0].sources[0].ca_file: applies to url and stash sources, not env");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{stash: "/a", https: true, ca_file: ""}]}]})"),
            "files[0].sources[0].ca_file: must be the path of a PEM file of CA certificates");
}

TEST(FileConfigTest, ModeIsAnOctalStringNeverANumber) {
  auto r = decode(R"({files: [{path: "/a", mode: "0640", sources: [{keep: true}]}]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->front().mode, 0640u);
  EXPECT_EQ(error_of("{files: [{path: \"/a\", mode: 640, sources: [{keep: true}]}]}"),
            "c.json5:1:29: files[0].mode: must be an octal mode string such as \"0640\" (a number is refused: JSON "
            "has no octal numbers, so 640 would not mean 0640)\n"
            "{files: [{path: \"/a\", mode: 640, sources: [{keep: true}]}]}\n"
            "                            ^");
  EXPECT_EQ(decode("{files: [{path: \"/a\", mode: \"0980\", sources: [{keep: true}]}]}").error().message,
            "files[0].mode: \"0980\" is not an octal file mode (such as \"0640\")");
}

TEST(FileConfigTest, RefusesBadShapes) {
  auto msg = [](const std::string& text) {
    auto r = decode(text);
    return r ? std::string("(no error)") : r.error().message;
  };
  EXPECT_EQ(msg(R"({files: [{sources: [{keep: true}]}]})"), "files[0]: needs a 'path': where the file is written");
  EXPECT_EQ(msg(R"({files: [{path: "rel/a", sources: [{keep: true}]}]})"),
            "files[0].path: must be an absolute path, not \"rel/a\"");
  EXPECT_EQ(msg(R"({files: [{path: "/a"}]})"),
            "files[0]: needs 'sources': where the content comes from, tried in order");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: []}]})"), "files[0].sources: needs at least one source");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{env: "A", url: "http://x/"}]}]})"),
            "files[0].sources[0].url: one source per element: this one is already env (give another element of "
            "`sources` for the next one to try)");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{env: "A", sha256: "00"}]}]})"),
            "files[0].sources[0].sha256: applies to url and stash sources, not env");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{url: "http://x/", server: "http://y"}]}]})"),
            "files[0].sources[0].server: applies to stash sources, not url");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{url: "ftp://x/"}]}]})"),
            "files[0].sources[0].url: bad URL \"ftp://x/\": only http:// and https:// are supported");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{stash: "ssl.crt"}]}]})"),
            "files[0].sources[0].stash: must start with '/' (\"/ssl/ssl.crt\")");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{url: "http://x/", sha256: "abc"}]}]})"),
            "files[0].sources[0].sha256: must be a SHA-256 digest: 64 hex digits");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{keep: false}]}]})"),
            "files[0].sources[0].keep: must be true (leave the source out to not keep the file)");
  EXPECT_EQ(msg(R"({files: [{path: "/a", sources: [{}]}]})"),
            "files[0].sources[0]: needs one of base64_env, env, url, stash, kv or keep");
  EXPECT_EQ(msg(R"({files: [{path: "/d/a", sources: [{keep: true}]}, {path: "/e/a", sources: [{keep: true}]}]})"),
            "files[1].path: duplicate file name \"a\" (also files[0]); give each a 'name': events come from file.NAME");
  EXPECT_EQ(
      msg(R"({files: [{path: "/a", name: "x", sources: [{keep: true}]}, {path: "/a", sources: [{keep: true}]}]})"),
      "files[1].path: \"/a\" is written by files[0] already");
}

}  // namespace
}  // namespace autopilot::files
