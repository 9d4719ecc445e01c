// The parts of `autopilot stash` that need no socket: which request paths
// are refused, how StashBox's config and STASHBOX__ variables are read, and
// ETag matching, the handler's 405. The server itself is tested on the real
// binary with curl (tests/integration/stash_test.cc), its bounds with the
// other servers' (net/http_server_test.cc).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/asio/io_context.hpp>

#include "base/strings.h"
#include "stash/file_store.h"
#include "stash/request_path.h"
#include "stash/stash.h"
#include "stash/stash_config.h"

namespace autopilot::stash {
namespace {

TEST(RequestPath, PlainPathsAreSplitAndDecoded) {
  auto p = parse_request_path("/ssl/my%20cert.pem?x=1");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->segments, (std::vector<std::string>{"ssl", "my cert.pem"}));
  EXPECT_FALSE(p->trailing_slash);
  auto root = parse_request_path("/");
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->segments.empty());
  auto dir = parse_request_path("/conf/");
  ASSERT_TRUE(dir);
  EXPECT_TRUE(dir->trailing_slash);
  EXPECT_EQ(dir->text(), "/conf/");
}

TEST(RequestPath, TraversalFormsAreRefused) {
  for (const char* target :
       {"/../secret", "/a/../../secret", "/%2e%2e/secret", "/%2E%2E/secret", "/.%2e/secret", "/%2e./secret",
        "/..%2fsecret", "/%2e%2e%2fsecret", "/%252e%252e/secret", "/%25%32%65", "/..\\secret", "/%5c..%5csecret",
        "//etc/passwd", "http://x/../secret", "secret", "*", "/a/./b", "/a%00b", "/%", "/%zz", "/%2", "/a//b",
        "/%2fetc%2fpasswd", "/\x01"}) {
    EXPECT_FALSE(parse_request_path(target)) << target;
  }
}

TEST(RequestPath, StripMount) {
  std::vector<std::string> segs{"ssl", "a.pem"};
  EXPECT_FALSE(strip_mount({"ss"}, segs));
  EXPECT_TRUE(strip_mount({"ssl"}, segs));
  EXPECT_EQ(segs, std::vector<std::string>{"a.pem"});
}

TEST(Etag, MatchesWeakListsAndStar) {
  EXPECT_TRUE(etag_matches("\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("\"b\", \"a\"", "\"a\""));
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_FALSE(etag_matches("\"b\"", "\"a\""));
}

class StashConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("stash_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "stash");
    old_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
  }
  void TearDown() override {
    std::filesystem::current_path(old_);
    std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& text) {
    std::ofstream(dir_ / "c.json") << text;
    return (dir_ / "c.json").string();
  }
  std::filesystem::path dir_, old_;
};

TEST_F(StashConfigTest, DefaultsServeTheStashDirectoryOnPort80) {
  auto cfg = load_stash_config({}, {});
  ASSERT_TRUE(cfg) << cfg.error().format();
  EXPECT_EQ(cfg->port, 80);
  ASSERT_EQ(cfg->mounts.size(), 1u);
  EXPECT_EQ(cfg->mounts[0].mount, "/");
  EXPECT_EQ(cfg->mounts[0].base_path, (dir_ / "stash").string());
}

// StashBox's README, "Complex configuration via environment variables",
// as written (the quotes are the shell's).
TEST_F(StashConfigTest, StashBoxReadmeEnvironmentExampleIsAccepted) {
  Env env{{"STASHBOX__PORT", "1337"},          {"STASHBOX__mounts__0__mount", "/"},
          {"STASHBOX__mounts__0__provider", "file"}, {"STASHBOX__mounts__0__basePath", "stash"},
          {"STASHBOX__mounts__1__mount", "/env"},    {"STASHBOX__mounts__1__provider", "env"},
          {"STASHBOX__mounts__1__var", "KEY"},       {"KEY", "secret"}};
  auto cfg = load_stash_config({}, env);
  ASSERT_TRUE(cfg) << cfg.error().format();
  EXPECT_EQ(cfg->port, 1337);
  ASSERT_EQ(cfg->mounts.size(), 2u);
  EXPECT_EQ(cfg->mounts[1].mount, "/env");
  EXPECT_EQ(cfg->mounts[1].value, "secret");
}

TEST_F(StashConfigTest, PrecedenceIsFlagThenEnvironmentThenFile) {
  std::string file = write(R"({"PORT": 1000, "mounts": [{"mount": "/", "provider": "file", "basePath": "stash"},
                                                         {"mount": "/k", "provider": "env", "var": "A"}]})");
  auto from_file = load_stash_config({file, {}}, {});
  ASSERT_TRUE(from_file) << from_file.error().format();
  EXPECT_EQ(from_file->port, 1000);
  EXPECT_EQ(from_file->mounts.size(), 2u);
  auto from_env = load_stash_config({file, {}}, {{"STASHBOX__PORT", "2000"}});
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->port, 2000);
  auto from_flag = load_stash_config({file, 3000}, {{"STASHBOX__PORT", "2000"}});
  ASSERT_TRUE(from_flag);
  EXPECT_EQ(from_flag->port, 3000);
  // A mounts list in the environment replaces the file's.
  auto mounts = load_stash_config({file, {}}, {{"STASHBOX__mounts__0__mount", "/only"},
                                               {"STASHBOX__mounts__0__provider", "env"},
                                               {"STASHBOX__mounts__0__var", "B"}});
  ASSERT_TRUE(mounts) << mounts.error().format();
  ASSERT_EQ(mounts->mounts.size(), 1u);
  EXPECT_EQ(mounts->mounts[0].mount, "/only");
  // STASHBOX_CONFIG names the file when -c does not.
  auto by_env = load_stash_config({}, {{"STASHBOX_CONFIG", file}});
  ASSERT_TRUE(by_env);
  EXPECT_EQ(by_env->port, 1000);
}

TEST_F(StashConfigTest, ErrorsNameTheLineOrTheVariable) {
  std::string file = write("{\n  \"mounts\": [\n    {\"mount\": \"/\", \"provider\": \"amazon\", \"keyId\": \"x\"}\n  ]\n}\n");
  auto bad = load_stash_config({file, {}}, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().format(),
            file + ":3:32: mounts[0].provider: provider \"amazon\" (an object store) is not supported by autopilot "
                   "stash; sync the objects into a directory served by \"file\", or use \"proxy\"\n"
                   "    {\"mount\": \"/\", \"provider\": \"amazon\", \"keyId\": \"x\"}\n"
                   "                               ^");
  auto env = load_stash_config({}, {{"STASHBOX__mounts__0__provider", "fil"}, {"STASHBOX__mounts__0__mount", "/"}});
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().format(), "$STASHBOX__mounts__0__provider: mounts[0].provider: unknown provider \"fil\" (did "
                                  "you mean \"file\"?); the providers are file, env, proxy and kv");
  auto b64 = load_stash_config({}, {{"STASHBOX__mounts__0__provider", "env"}, {"STASHBOX__mounts__0__mount", "/k"},
                                    {"STASHBOX__mounts__0__var", "K"}, {"STASHBOX__mounts__0__encoding", "base64"},
                                    {"K", "not*base64-secret"}});
  ASSERT_FALSE(b64);
  EXPECT_EQ(b64.error().message.find("secret"), std::string::npos) << b64.error().message;
  EXPECT_NE(b64.error().message.find("the variable K is not valid base64"), std::string::npos) << b64.error().message;
  std::string other = write("{\"mounts\": [{\"mount\": \"/\", \"provider\": \"file\", \"basePath\": \"stash\", \"var\": \"X\"}]}");
  auto misplaced = load_stash_config({other, {}}, {});
  ASSERT_FALSE(misplaced);
  EXPECT_EQ(misplaced.error().message, "mounts[0].var: \"var\" does not apply to the file provider");
  auto token = load_stash_config({}, {{"STASHBOX__tokenEnv", "NOPE"}});
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().format(), "$STASHBOX__tokenEnv: tokenEnv: the variable NOPE is not set (it holds the bearer token)");
}

// Both ways of opening beneath basePath: what stays inside is served, what
// leaves is not found, whatever the route out.
class FileStoreTest : public ::testing::TestWithParam<FileStore::Resolve> {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("file_store_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "base/dir");
    std::ofstream(root_ / "secret") << "SECRET";
    std::ofstream(root_ / "base/dir/file") << "content";
    std::filesystem::create_symlink(root_ / "secret", root_ / "base/abs");
    std::filesystem::create_symlink("../secret", root_ / "base/rel");
    std::filesystem::create_symlink("..", root_ / "base/dir/up");
    std::filesystem::create_symlink("dir/file", root_ / "base/inside");
    ::mkfifo((root_ / "base/fifo").c_str(), 0600);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_P(FileStoreTest, ServesRegularFilesBeneathBasePathOnly) {
  auto store = FileStore::open((root_ / "base").string(), GetParam());
  ASSERT_TRUE(store) << store.error().message;
  auto file = store->read({"dir", "file"});
  ASSERT_TRUE(file && *file);
  EXPECT_EQ((*file)->content, "content");
  EXPECT_FALSE((*file)->etag.empty());
  for (const auto& route : std::vector<std::vector<std::string>>{
           {"abs"}, {"rel"}, {"dir", "up", "..", "secret"}, {"dir", "up", "up"}, {"..", "secret"}, {"dir"},
           {"fifo"}, {"missing"}, {}}) {
    auto r = store->read(route);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(*r) << join(route, "/");
  }
  auto inside = store->read({"inside"});
  ASSERT_TRUE(inside);
  // A symlink that stays inside works with openat2, and is refused by the walk.
  EXPECT_EQ(inside->has_value(), GetParam() == FileStore::Resolve::kBeneath);
}

INSTANTIATE_TEST_SUITE_P(BothResolves, FileStoreTest,
                         ::testing::Values(FileStore::Resolve::kBeneath, FileStore::Resolve::kNoSymlinks));

// Methods other than GET and HEAD are the handler's to refuse (the server
// passes every method on), before the path or a token is looked at.
TEST(StashHandler, OtherMethodsGet405WithAllow) {
  boost::asio::io_context io;
  log::Log log{log::LogConfig{log::Level::kError, log::Format::kDefault, "stderr"}};
  StashConfig config;
  MountConfig mount;
  mount.mount = "/k";
  mount.provider = ProviderKind::kEnv;
  mount.var = "K";
  mount.value = "v";
  mount.token = "tok";
  config.mounts = {mount};
  auto stash = Stash::make(config, io, nullptr, log);
  ASSERT_TRUE(stash) << stash.error().message;
  auto answer = [&](std::string method, std::string target) {
    std::optional<net::HttpResponse> got;
    (*stash)->handle({method, target, target}, [&](net::HttpResponse r) { got = std::move(r); });
    return got;
  };
  for (const char* method : {"PUT", "POST", "DELETE", "OPTIONS", "get"}) {
    auto r = answer(method, "/../k");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 405) << method;
    EXPECT_EQ(r->headers, (std::vector<std::pair<std::string, std::string>>{{"Allow", "GET, HEAD"}})) << method;
  }
  for (const char* method : {"GET", "HEAD"}) {
    auto r = answer(method, "/k");
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->status, 401) << method;  // on to the mount's token check
  }
}

}  // namespace
}  // namespace autopilot::stash
