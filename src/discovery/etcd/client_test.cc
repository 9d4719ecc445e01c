// Tests of the etcd client (client.h): endpoint parsing and reply reading on
// their own, then everything else against real etcd 3.4 processes on
// 127.0.0.1 (etcd_server.h; skipped when etcd is not installed): calls,
// etcd's error codes, failover past dead and silent members, a killed
// leader, streams and their probes, auth and TLS.
#include "discovery/etcd/client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "base/base64.h"
#include "discovery/etcd/blocking_http.h"
#include "discovery/etcd/etcd_server.h"
#include "discovery/etcd/gateway_reply.h"
#include "discovery/etcd/wire.h"
#include "os/linux/asio_timers.h"
#include "os/linux/loop_testing.h"

namespace autopilot::discovery::etcd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using os::run_for;
using os::run_until;
using testing::EtcdCluster;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// parse_endpoint

TEST(ParseEndpoint, AcceptedForms) {
  auto check = [](std::string_view text, bool tls, const std::string& host, int port, const std::string& url) {
    auto endpoint = parse_endpoint(text);
    ASSERT_TRUE(endpoint.ok()) << text << ": " << endpoint.error().message;
    EXPECT_EQ(endpoint->tls, tls) << text;
    EXPECT_EQ(endpoint->host, host) << text;
    EXPECT_EQ(endpoint->port, port) << text;
    EXPECT_EQ(endpoint->url(), url) << text;
  };
  check("http://10.0.0.1:2379", false, "10.0.0.1", 2379, "http://10.0.0.1:2379");
  check("https://etcd-1:2379", true, "etcd-1", 2379, "https://etcd-1:2379");
  check("http://[::1]:2379", false, "::1", 2379, "http://[::1]:2379");
  check("https://[fe80::1]", true, "fe80::1", 2379, "https://[fe80::1]:2379");
  check("etcd-1:2379", false, "etcd-1", 2379, "http://etcd-1:2379");
  check("etcd-1", false, "etcd-1", 2379, "http://etcd-1:2379");
  check("HTTPS://Etcd.Example.COM:443", true, "Etcd.Example.COM", 443, "https://Etcd.Example.COM:443");
  check("http://127.0.0.1:2379/", false, "127.0.0.1", 2379, "http://127.0.0.1:2379");
  check("localhost:65535", false, "localhost", 65535, "http://localhost:65535");
}

TEST(ParseEndpoint, ErrorsNameTheText) {
  auto error = [](std::string_view text) {
    auto endpoint = parse_endpoint(text);
    return endpoint.ok() ? std::string("accepted") : endpoint.error().message;
  };
  EXPECT_EQ(error("http://etcd:2379/v3"), "invalid etcd endpoint \"http://etcd:2379/v3\": a path is not allowed");
  // Never the password: the message goes to terminals and logs.
  EXPECT_EQ(error("http://root:PW@etcd:2379"),
            "invalid etcd endpoint \"http://***@etcd:2379\": user info is not supported (use username/password)");
  EXPECT_EQ(error("http://etcd:2379?x=1"),
            "invalid etcd endpoint \"http://etcd:2379?x=1\": a query or fragment is not allowed");
  EXPECT_EQ(error("http://etcd:70000"),
            "invalid etcd endpoint \"http://etcd:70000\": port 70000 out of range (1-65535)");
  EXPECT_EQ(error("etcd:0"), "invalid etcd endpoint \"etcd:0\": port 0 out of range (1-65535)");
  EXPECT_EQ(error("etcd:"), "invalid etcd endpoint \"etcd:\": empty port");
  EXPECT_EQ(error("etcd:23x"), "invalid etcd endpoint \"etcd:23x\": bad port \"23x\"");
  EXPECT_EQ(error("unix:///run/etcd.sock"),
            "invalid etcd endpoint \"unix:///run/etcd.sock\": unsupported scheme \"unix\" (http or https)");
  EXPECT_EQ(error("::1"), "invalid etcd endpoint \"::1\": an IPv6 address needs brackets, as in http://[::1]:2379");
  EXPECT_EQ(error("http://[::1"), "invalid etcd endpoint \"http://[::1\": missing ']'");
  EXPECT_EQ(error(""), "invalid etcd endpoint \"\": no host");
  EXPECT_EQ(error("http://"), "invalid etcd endpoint \"http://\": no host");
  EXPECT_EQ(error("http://:2379"), "invalid etcd endpoint \"http://:2379\": no host");
  EXPECT_EQ(error("http://et cd:2379"), "invalid etcd endpoint \"http://et cd:2379\": bad character ' ' in the host");
}

// ---------------------------------------------------------------------------
// Reading the gateway's replies

TEST(GatewayReply, UnaryBodies) {
  auto ok = read_unary_reply(200, R"({"header":{"revision":"5"},"count":"1"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["count"], "1");

  // A stream method called as unary: the first frame's result.
  auto keepalive = read_unary_reply(200, "{\"result\":{\"ID\":\"7\",\"TTL\":\"5\"}}\n");
  ASSERT_TRUE(keepalive.ok());
  EXPECT_EQ((*keepalive)["TTL"], "5");
  auto two = read_unary_reply(200, "{\"result\":{\"ID\":\"7\"}}\n{\"result\":{\"ID\":\"8\"}}\n");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)["ID"], "7");

  auto error = read_unary_reply(
      404,
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().code, 5);
  EXPECT_EQ(error.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(error.error().message, "etcdserver: requested lease not found");

  auto frame_error = read_unary_reply(
      503,
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_FALSE(frame_error.ok());
  EXPECT_EQ(frame_error.error().code, 14);
  EXPECT_EQ(frame_error.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(frame_error.error().message, "etcdserver: no leader");

  auto text = read_unary_reply(404, "404 page not found\n");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().code, 12);
  EXPECT_EQ(text.error().kind, ErrorKind::kOther);
  EXPECT_EQ(text.error().message, "HTTP 404: \"404 page not found\"");
  auto proxy = read_unary_reply(502, "<html>bad gateway</html>");
  ASSERT_FALSE(proxy.ok());
  EXPECT_EQ(proxy.error().code, 14);
  EXPECT_EQ(proxy.error().kind, ErrorKind::kUnavailable);
  auto refused = read_unary_reply(401, "Unauthorized");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kUnauthenticated);

  auto garbage = read_unary_reply(200, "not json");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().message, "malformed reply: \"not json\"");
}

// etcd's codes as ErrorKind, including the two errors etcd tells apart only
// by their text.
TEST(GatewayReply, GrpcCodesMapToErrorKinds) {
  EXPECT_EQ(kind_of_grpc(kCodeOutOfRange, "mvcc: required revision has been compacted"), ErrorKind::kOutOfRange);
  EXPECT_EQ(kind_of_grpc(kCodeUnauthenticated, "etcdserver: invalid auth token"), ErrorKind::kUnauthenticated);
  EXPECT_EQ(kind_of_grpc(kCodeInvalidArgument, "etcdserver: user name is empty"), ErrorKind::kUnauthenticated);
  EXPECT_EQ(kind_of_grpc(kCodeInvalidArgument, "etcdserver: key is not provided"), ErrorKind::kOther);
  EXPECT_EQ(kind_of_grpc(kCodeFailedPrecondition, "etcdserver: authentication is not enabled"),
            ErrorKind::kUnsupported);
  EXPECT_EQ(kind_of_grpc(kCodeFailedPrecondition, "etcdserver: not capable"), ErrorKind::kOther);
  EXPECT_EQ(kind_of_grpc(kCodeUnknown, "etcdserver: request timed out"), ErrorKind::kOther);
  Error error = grpc_error(kCodeNotFound, "etcdserver: requested lease not found");
  EXPECT_EQ(error.kind, ErrorKind::kNotFound);
  EXPECT_EQ(error.code, kCodeNotFound);
  EXPECT_EQ(grpc_error(kCodeInvalidArgument, "etcdserver: user name is empty").kind, ErrorKind::kUnauthenticated);
}

// Found writing fuzz/catalog_fuzz (inputs in fuzz/findings/catalog_fuzz/): a watch frame
// with a field of another type (`"canceled": 1`, a non-string `type` or
// `cancel_reason`, an event that is not an object) made nlohmann's value()
// throw out of the watch's frame handler; a revision of more than 19 digits
// overflowed int64 (UBSan).
TEST(Wire, WatchFramesOfTheWrongShapeAreReadNotThrown) {
  auto frame = read_watch_frame(Json::parse(R"({"canceled": 1, "cancel_reason": 7, "compact_revision": "x",
    "events": [1, {"type": 3, "kv": {"key": "YQ==", "mod_revision": "5"}}, {"kv": 2},
               {"type": "DELETE", "kv": {"key": "Yg==", "mod_revision": 6}}]})"));
  EXPECT_FALSE(frame.canceled);
  EXPECT_EQ(frame.cancel_reason, "");
  EXPECT_EQ(frame.compact_revision, 0);
  ASSERT_EQ(frame.events.size(), 2u);
  EXPECT_FALSE(frame.events[0].is_delete);
  EXPECT_EQ(frame.events[0].kv.key, "a");
  EXPECT_EQ(frame.events[0].kv.mod_revision, 5u);
  EXPECT_TRUE(frame.events[1].is_delete);
  EXPECT_EQ(frame.events[1].kv.key, "b");
  ASSERT_EQ(frame.malformed.size(), 1u);
  EXPECT_EQ(frame.malformed[0].message, "etcd reply: a key-value is not an object");
  auto canceled = read_watch_frame(
      Json::parse(R"({"canceled": true, "compact_revision": "12", "cancel_reason": "mvcc: compacted"})"));
  EXPECT_TRUE(canceled.canceled);
  EXPECT_EQ(canceled.compact_revision, 12);
  EXPECT_EQ(canceled.cancel_reason, "mvcc: compacted");
  EXPECT_TRUE(read_watch_frame(Json::parse("[1]")).events.empty());
}

TEST(Wire, IntFieldsOutOfRangeAreMalformed) {
  auto j = Json::parse(R"({"a": "9223372036854775807", "b": "-9223372036854775808", "c": "99999999999999999999",
                          "d": "-99999999999999999999", "e": "12x", "f": "", "g": "-", "h": 42, "i": true})");
  EXPECT_EQ(int_field(j, "a"), INT64_MAX);
  EXPECT_EQ(int_field(j, "b"), INT64_MIN);
  for (const char* zero : {"c", "d", "e", "f", "g", "i", "missing"}) EXPECT_EQ(int_field(j, zero), 0) << zero;
  EXPECT_EQ(int_field(j, "h"), 42);
}

TEST(GatewayReply, FramesSplitAcrossPieces) {
  FrameSplitter frames;
  frames.append("{\"result\":{\"created\":tr");
  EXPECT_FALSE(frames.next());
  frames.append("ue}}\n{\"result\":{\"events\":[]}}\n{\"err");
  auto first = frames.next();
  ASSERT_TRUE(first);
  auto created = read_frame(*first);
  ASSERT_TRUE(created.ok() && created->has_value());
  EXPECT_EQ((**created)["created"], true);
  auto second = frames.next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(read_frame(*second).ok());
  EXPECT_FALSE(frames.next());
  EXPECT_EQ(frames.pending(), 5u);
  frames.append("or\":{\"grpc_code\":14,\"message\":\"etcdserver: no leader\"}}\n\n");
  auto last = read_frame(*frames.next());
  ASSERT_FALSE(last.ok());
  EXPECT_EQ(last.error().code, 14);
  EXPECT_EQ(last.error().message, "etcdserver: no leader");
  auto blank = read_frame(*frames.next());
  ASSERT_TRUE(blank.ok());
  EXPECT_FALSE(blank->has_value());
  EXPECT_FALSE(read_frame("{broken").ok());
}

// ---------------------------------------------------------------------------
// Against real etcd

Endpoint endpoint_of(const std::string& url) {
  auto endpoint = parse_endpoint(url);
  EXPECT_TRUE(endpoint.ok()) << url;
  return endpoint.ok() ? *endpoint : Endpoint{};
}

std::string b64(std::string_view text) { return base64_encode(text); }

std::string unb64(const Json& value) {
  if (!value.is_string()) return "<missing>";
  auto decoded = base64_decode(value.get<std::string>());
  return decoded.ok() ? *decoded : "<bad base64>";
}

// A listening socket that never answers: connections complete in the kernel
// and then hear nothing, like a member frozen or cut off mid-path.
struct Blackhole {
  explicit Blackhole(boost::asio::io_context& io)
      : acceptor(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }
  boost::asio::ip::tcp::acceptor acceptor;
};

class Loop {
 public:
  explicit Loop(log::LogConfig log_config = {}) : log(log_config) {}

  std::unique_ptr<Client> client(std::vector<std::string> urls, Duration timeout = 1s,
                                 std::function<void(ClientOptions&)> adjust = {}) {
    ClientOptions options;
    for (const auto& url : urls) options.endpoints.push_back(endpoint_of(url));
    options.request_timeout = timeout;
    if (adjust) adjust(options);
    auto made = Client::create(std::move(options), io, timers, log);
    EXPECT_TRUE(made.ok()) << made.error().message;
    return made.ok() ? std::move(*made) : nullptr;
  }

  // Runs one call to its end (bounded); a callback that runs inline fails the test.
  Result<Json> call(Client& client, const std::string& method, Json body, std::chrono::milliseconds limit = 20s) {
    std::optional<Result<Json>> out;
    bool returned = false;
    client.call(method, std::move(body), [&](Result<Json> reply) {
      if (!returned) ADD_FAILURE() << "callback ran inline";
      out.emplace(std::move(reply));
    });
    returned = true;
    if (!run_until(
            io, [&] { return out.has_value(); }, limit))
      return make_error("test: no reply in time");
    return std::move(*out);
  }

  boost::asio::io_context io;
  os::AsioTimers timers{io};
  log::Log log;
};

// A watch opened through the client, recording what it delivers.
struct Watch {
  std::vector<Json> frames;
  std::optional<Error> ended;
  Handle handle;

  void open(Client& client, const std::string& prefix) {
    Json body = {
        {"create_request", {{"key", b64(prefix)}, {"range_end", b64(prefix.substr(0, prefix.size() - 1) + "0")}}}};
    handle = client.stream(
        "watch", body, [this](Json frame) { frames.push_back(std::move(frame)); },
        [this](Error error) {
          if (ended) ADD_FAILURE() << "on_end ran twice";
          ended = std::move(error);
        });
  }
  size_t events() const {
    size_t n = 0;
    for (const auto& frame : frames) n += frame.contains("events") ? frame["events"].size() : 0;
    return n;
  }
  std::vector<Json> all_events() const {
    std::vector<Json> out;
    for (const auto& frame : frames) {
      if (frame.contains("events"))
        for (const auto& event : frame["events"]) out.push_back(event);
    }
    return out;
  }
};

#define SKIP_WITHOUT_ETCD() AUTOPILOT_SKIP_WITHOUT_ETCD()

TEST(EtcdClientCreate, ChecksOptions) {
  Loop loop;
  auto create = [&](std::function<void(ClientOptions&)> adjust) {
    ClientOptions options;
    options.endpoints.push_back(endpoint_of("http://127.0.0.1:2379"));
    adjust(options);
    auto made = Client::create(std::move(options), loop.io, loop.timers, loop.log);
    return made.ok() ? std::string("ok") : made.error().message;
  };
  EXPECT_EQ(create([](ClientOptions&) {}), "ok");
  EXPECT_EQ(create([](ClientOptions& o) { o.endpoints.clear(); }), "etcd: no endpoints");
  EXPECT_EQ(create([](ClientOptions& o) { o.request_timeout = 0s; }), "etcd: the request timeout must be positive");
  EXPECT_EQ(create([](ClientOptions& o) { o.cert_pem = "x"; }),
            "etcd: a client certificate and its key go together (one is missing)");
  EXPECT_EQ(create([](ClientOptions& o) { o.password = "pw"; }), "etcd: a password without a username");
  EXPECT_EQ(
      create([](ClientOptions& o) { o.ca_pem = "not a certificate"; }).rfind("etcd: bad CA certificate (PEM): ", 0),
      0u);
}

class EtcdClientSingle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::etcd_available()) return;
    auto started = EtcdCluster::start(1);
    ASSERT_TRUE(started.ok()) << started.error().message;
    cluster_ = std::move(*started).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    SKIP_WITHOUT_ETCD();
    ASSERT_NE(cluster_, nullptr);
    client_ = loop_.client({cluster_->client_url(0)});
    ASSERT_NE(client_, nullptr);
  }

  static EtcdCluster* cluster_;
  Loop loop_;
  std::unique_ptr<Client> client_;
};
EtcdCluster* EtcdClientSingle::cluster_ = nullptr;

TEST_F(EtcdClientSingle, PutAndRangeRoundTrip) {
  auto put = loop_.call(*client_, "kv/put", {{"key", b64("/t/a")}, {"value", b64("hello\nworld")}});
  ASSERT_TRUE(put.ok()) << put.error().message;
  EXPECT_TRUE((*put)["header"].contains("revision"));
  auto range = loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}});
  ASSERT_TRUE(range.ok()) << range.error().message;
  ASSERT_EQ((*range)["kvs"].size(), 1u);
  EXPECT_EQ(unb64((*range)["kvs"][0]["key"]), "/t/a");
  EXPECT_EQ(unb64((*range)["kvs"][0]["value"]), "hello\nworld");
  EXPECT_EQ(client_->current_member(), cluster_->client_url(0));
  // Many calls in a row reuse kept-alive connections.
  for (int i = 0; i < 50; ++i) {
    auto again = loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}, {"count_only", true}});
    ASSERT_TRUE(again.ok()) << again.error().message;
  }
}

TEST_F(EtcdClientSingle, EtcdErrorsKeepTheirCode) {
  std::string url = cluster_->client_url(0);
  auto future = loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}, {"revision", "100000000"}});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, kCodeOutOfRange);
  EXPECT_EQ(future.error().message, "etcd " + url + ": etcdserver: mvcc: required revision is a future revision");

  auto revoke = loop_.call(*client_, "lease/revoke", {{"ID", "123456789"}});
  ASSERT_FALSE(revoke.ok());
  EXPECT_EQ(revoke.error().code, kCodeNotFound);
  EXPECT_EQ(revoke.error().message, "etcd " + url + ": etcdserver: requested lease not found");

  auto unknown = loop_.call(*client_, "kv/nonsense", Json::object());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, 12);
  EXPECT_EQ(unknown.error().message, "etcd " + url + ": HTTP 404: \"Not Found\"");
}

TEST_F(EtcdClientSingle, KeepAliveThroughCall) {
  auto grant = loop_.call(*client_, "lease/grant", {{"TTL", 10}});
  ASSERT_TRUE(grant.ok()) << grant.error().message;
  std::string id = (*grant)["ID"];
  auto keepalive = loop_.call(*client_, "lease/keepalive", {{"ID", id}});
  ASSERT_TRUE(keepalive.ok()) << keepalive.error().message;
  EXPECT_EQ((*keepalive)["ID"], id);
  EXPECT_EQ((*keepalive)["TTL"], "10");
  EXPECT_TRUE(keepalive->contains("header"));
  // An unknown lease is not an error: the frame has no TTL.
  auto gone = loop_.call(*client_, "lease/keepalive", {{"ID", "99999"}});
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_FALSE(gone->contains("TTL"));
}

TEST_F(EtcdClientSingle, WatchDeliversEventsUntilCancelled) {
  Watch watch;
  watch.open(*client_, "/w/");
  ASSERT_TRUE(run_until(
      loop_.io, [&] { return !watch.frames.empty() || watch.ended; }, 5s));
  ASSERT_FALSE(watch.ended) << watch.ended->message;
  EXPECT_EQ(watch.frames[0]["created"], true);

  ASSERT_TRUE(loop_.call(*client_, "kv/put", {{"key", b64("/w/a")}, {"value", b64("1")}}).ok());
  ASSERT_TRUE(loop_.call(*client_, "kv/put", {{"key", b64("/w/b")}, {"value", b64("2")}}).ok());
  ASSERT_TRUE(loop_.call(*client_, "kv/deleterange", {{"key", b64("/w/a")}}).ok());
  ASSERT_TRUE(loop_.call(*client_, "kv/put", {{"key", b64("/x/outside")}, {"value", b64("3")}}).ok());
  ASSERT_TRUE(run_until(
      loop_.io, [&] { return watch.events() >= 3; }, 5s));
  auto events = watch.all_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(events[0].contains("type"));  // PUT is the zero value
  EXPECT_EQ(unb64(events[0]["kv"]["key"]), "/w/a");
  EXPECT_EQ(unb64(events[0]["kv"]["value"]), "1");
  EXPECT_EQ(unb64(events[1]["kv"]["key"]), "/w/b");
  EXPECT_EQ(events[2]["type"], "DELETE");
  EXPECT_EQ(unb64(events[2]["kv"]["key"]), "/w/a");

  watch.handle.cancel();
  size_t frames = watch.frames.size();
  ASSERT_TRUE(loop_.call(*client_, "kv/put", {{"key", b64("/w/c")}, {"value", b64("4")}}).ok());
  run_for(loop_.io, 300ms);
  EXPECT_EQ(watch.frames.size(), frames);
  EXPECT_FALSE(watch.ended);
}

TEST_F(EtcdClientSingle, CancelFromInsideOnFrameStopsAtOnce) {
  ASSERT_TRUE(loop_.call(*client_, "kv/put", {{"key", b64("/c/a")}, {"value", b64("1")}}).ok());
  auto put = loop_.call(*client_, "kv/put", {{"key", b64("/c/b")}, {"value", b64("2")}});
  ASSERT_TRUE(put.ok());
  // From revision 1: the created frame and a catch-up frame arrive together.
  int frames = 0;
  bool ended = false;
  Handle handle;
  handle = client_->stream(
      "watch", {{"create_request", {{"key", b64("/c/")}, {"range_end", b64("/c0")}, {"start_revision", 1}}}},
      [&](Json) {
        ++frames;
        handle.cancel();
      },
      [&](Error) { ended = true; });
  ASSERT_TRUE(run_until(
      loop_.io, [&] { return frames > 0; }, 5s));
  run_for(loop_.io, 200ms);
  EXPECT_EQ(frames, 1);
  EXPECT_FALSE(ended);
}

TEST_F(EtcdClientSingle, DestroyingTheClientSilencesEverything) {
  bool called = false;
  Watch watch;
  watch.open(*client_, "/d/");
  client_->call("kv/range", {{"key", b64("/d/")}}, [&](Result<Json>) { called = true; });
  client_.reset();
  run_for(loop_.io, 300ms);
  EXPECT_FALSE(called);
  EXPECT_TRUE(watch.frames.empty());
  EXPECT_FALSE(watch.ended);
  watch.handle.cancel();  // harmless after the client is gone
}

TEST_F(EtcdClientSingle, ConcurrentCallsDoNotWaitForEachOther) {
  // A lock held by one lease makes a second lock/lock block in etcd; a range
  // sent meanwhile must be answered at once on its own connection.
  auto lease1 = loop_.call(*client_, "lease/grant", {{"TTL", 30}});
  auto lease2 = loop_.call(*client_, "lease/grant", {{"TTL", 30}});
  ASSERT_TRUE(lease1.ok() && lease2.ok());
  auto held = loop_.call(*client_, "lock/lock", {{"name", b64("/locks/x")}, {"lease", (*lease1)["ID"]}});
  ASSERT_TRUE(held.ok()) << held.error().message;
  std::optional<Result<Json>> blocked;
  client_->call("lock/lock", {{"name", b64("/locks/x")}, {"lease", (*lease2)["ID"]}},
                [&](Result<Json> reply) { blocked.emplace(std::move(reply)); });
  run_for(loop_.io, 100ms);
  auto start = Clock::now();
  auto range = loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}});
  ASSERT_TRUE(range.ok()) << range.error().message;
  EXPECT_LT(ms_since(start), 300);
  EXPECT_FALSE(blocked.has_value());
  ASSERT_TRUE(run_until(
      loop_.io, [&] { return blocked.has_value(); }, 5s));
  ASSERT_FALSE(blocked->ok());
  EXPECT_EQ(blocked->error().code, kCodeUnavailable);
  EXPECT_EQ(blocked->error().message, "etcd: no member answered (" + cluster_->client_url(0) + ": timed out after 1s)");
  EXPECT_TRUE(loop_.call(*client_, "lease/revoke", {{"ID", (*lease1)["ID"]}}).ok());
  EXPECT_TRUE(loop_.call(*client_, "lease/revoke", {{"ID", (*lease2)["ID"]}}).ok());
}

TEST_F(EtcdClientSingle, PooledConnectionsToARestartedMemberAreReplaced) {
  ASSERT_TRUE(loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}}).ok());
  cluster_->stop(0);
  auto restarted = cluster_->restart(0);
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  // The pooled connection was closed by the old process: the call finds out
  // on sending, and goes again on a fresh connection, not to "the next member".
  auto start = Clock::now();
  auto reply = loop_.call(*client_, "kv/range", {{"key", b64("/t/a")}});
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_LT(ms_since(start), 500);
}

// ---------------------------------------------------------------------------
// Failover

TEST(EtcdClientFailover, PastADeadAndASilentMember) {
  SKIP_WITHOUT_ETCD();
  auto cluster = EtcdCluster::start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.error().message;
  Loop loop;
  Blackhole blackhole(loop.io);
  std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::string live = (*cluster)->client_url(2);
  auto client = loop.client({dead, blackhole.url(), live}, 500ms);

  auto start = Clock::now();
  auto reply = loop.call(*client, "kv/put", {{"key", b64("/f/a")}, {"value", b64("1")}});
  long long elapsed = ms_since(start);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(client->current_member(), live);
  EXPECT_GE(elapsed, 450);
  EXPECT_LT(elapsed, 900);
  std::printf("failover past a dead and a blackhole member (deadline 500ms): %lld ms\n", elapsed);

  // The next call starts with the member that answered.
  start = Clock::now();
  ASSERT_TRUE(loop.call(*client, "kv/range", {{"key", b64("/f/a")}}).ok());
  EXPECT_LT(ms_since(start), 200);
}

TEST(EtcdClientFailover, NoMemberAnswers) {
  Loop loop;
  Blackhole blackhole(loop.io);
  std::string dead1 = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::string dead2 = "http://127.0.0.1:" + std::to_string(testing::free_port());
  auto client = loop.client({dead1, blackhole.url(), dead2}, 300ms);
  auto start = Clock::now();
  auto reply = loop.call(*client, "kv/range", {{"key", b64("/x")}});
  long long elapsed = ms_since(start);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, kCodeUnavailable);
  EXPECT_EQ(reply.error().message, "etcd: no member answered (" + dead1 + ": connect: Connection refused; " +
                                       blackhole.url() + ": timed out after 300ms; " + dead2 +
                                       ": connect: Connection refused)");
  EXPECT_LT(elapsed, 700);

  // A stream fails the same way, through on_end.
  std::optional<Error> ended;
  Handle handle = client->stream(
      "watch", {{"create_request", {{"key", b64("/x")}}}}, [](Json) { ADD_FAILURE() << "frame"; },
      [&](Error error) { ended = std::move(error); });
  ASSERT_TRUE(run_until(
      loop.io, [&] { return ended.has_value(); }, 5s));
  EXPECT_EQ(ended->code, kCodeUnavailable);
  EXPECT_EQ(ended->message.rfind("etcd: no member answered (", 0), 0u) << ended->message;
}

TEST(EtcdClientFailover, CallsRecoverAfterTheLeaderIsKilled) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(3);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& cluster = *started;
  int leader = cluster->leader();
  ASSERT_GE(leader, 0);
  Loop loop;
  // Starting from the leader, so that calls are in flight to it when it dies.
  auto client = loop.client(
      {cluster->client_url(leader), cluster->client_url((leader + 1) % 3), cluster->client_url((leader + 2) % 3)}, 1s);

  // Puts one after another, as long as the test runs.
  struct Outcome {
    Clock::time_point at;
    bool ok;
    std::string error;
  };
  std::vector<Outcome> outcomes;
  int n = 0;
  std::function<void()> next = [&] {
    client->call("kv/put", {{"key", b64("/k/" + std::to_string(n++))}, {"value", b64("v")}}, [&](Result<Json> r) {
      outcomes.push_back({Clock::now(), r.ok(), r.ok() ? "" : r.error().message});
      next();
    });
  };
  next();
  ASSERT_TRUE(run_until(
      loop.io, [&] { return outcomes.size() >= 5; }, 10s));
  for (const auto& o : outcomes) ASSERT_TRUE(o.ok) << o.error;
  EXPECT_EQ(client->current_member(), cluster->client_url(leader));
  auto killed_at = Clock::now();
  cluster->kill(leader);
  size_t after_kill = outcomes.size();
  auto first_ok_after = [&]() -> const Outcome* {
    for (size_t i = after_kill; i < outcomes.size(); ++i)
      if (outcomes[i].ok) return &outcomes[i];
    return nullptr;
  };
  ASSERT_TRUE(run_until(
      loop.io, [&] { return first_ok_after() != nullptr; }, 15s));
  long long recovery = std::chrono::duration_cast<std::chrono::milliseconds>(first_ok_after()->at - killed_at).count();
  size_t failures = 0;
  for (size_t i = after_kill; i < outcomes.size(); ++i) failures += outcomes[i].ok ? 0 : 1;
  std::printf("leader killed: first successful put after %lld ms (%zu failed calls before)\n", recovery, failures);
  for (size_t i = after_kill; i < outcomes.size() && !outcomes[i].ok; ++i)
    std::printf("  failed: %s\n", outcomes[i].error.c_str());
  EXPECT_LT(recovery, 8000);
  // And they keep succeeding.
  size_t settled = outcomes.size();
  ASSERT_TRUE(run_until(
      loop.io, [&] { return outcomes.size() >= settled + 20; }, 10s));
  for (size_t i = settled; i < outcomes.size(); ++i) EXPECT_TRUE(outcomes[i].ok) << outcomes[i].error;
  client.reset();  // before `next` and `outcomes` go
}

// ---------------------------------------------------------------------------
// Streams ending

TEST(EtcdClientStream, EndsWhenTheMemberFreezesOrDies) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& cluster = *started;
  Loop loop;
  std::string url = cluster->client_url(0);
  auto client = loop.client({url}, 500ms, [](ClientOptions& o) { o.stream_probe_interval = 500ms; });

  // Frozen (SIGSTOP): the socket stays open, only the probe can tell.
  Watch frozen;
  frozen.open(*client, "/s/");
  ASSERT_TRUE(run_until(
      loop.io, [&] { return !frozen.frames.empty(); }, 5s));
  pid_t pid = cluster->pid(0);
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  auto stopped_at = Clock::now();
  bool ended = run_until(
      loop.io, [&] { return frozen.ended.has_value(); }, 5s);
  long long noticed = ms_since(stopped_at);
  ::kill(pid, SIGCONT);
  ASSERT_TRUE(ended);
  EXPECT_EQ(frozen.ended->code, kCodeUnavailable);
  EXPECT_EQ(frozen.ended->message, "etcd " + url + ": stream probe failed: timed out after 500ms");
  EXPECT_LT(noticed, 1500);
  std::printf("frozen member noticed by the stream probe after %lld ms (probe every 500ms, deadline 500ms)\n", noticed);

  // Killed: the connection breaks.
  Watch killed;
  killed.open(*client, "/s/");
  ASSERT_TRUE(run_until(
      loop.io, [&] { return !killed.frames.empty() || killed.ended; }, 10s));
  ASSERT_FALSE(killed.ended) << killed.ended->message;
  cluster->kill(0);
  ASSERT_TRUE(run_until(
      loop.io, [&] { return killed.ended.has_value(); }, 3s));
  EXPECT_EQ(killed.ended->code, kCodeUnavailable);
  EXPECT_EQ(killed.ended->message.rfind("etcd " + url + ": ", 0), 0u) << killed.ended->message;
  std::printf("killed member: %s\n", killed.ended->message.c_str());
}

// ---------------------------------------------------------------------------
// Auth

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(EtcdClientAuth, PasswordTokenAndReauthentication) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& cluster = *started;
  std::string url = cluster->client_url(0);
  const std::string password = "s3cret-Pa55";

  std::string log_path = std::filesystem::temp_directory_path() / ("etcd-client-auth-" + std::to_string(getpid()));
  struct RemoveAtEnd {
    std::string path;
    ~RemoveAtEnd() { std::filesystem::remove(path); }
  } remove_log{log_path};
  Loop loop(log::LogConfig{log::Level::kDebug, log::Format::kDefault, log_path});
  ASSERT_TRUE(loop.log.open().ok());

  auto admin = loop.client({url});
  ASSERT_TRUE(loop.call(*admin, "auth/user/add", {{"name", "root"}, {"password", password}}).ok());
  ASSERT_TRUE(loop.call(*admin, "auth/user/grant", {{"user", "root"}, {"role", "root"}}).ok());
  auto enabled = loop.call(*admin, "auth/enable", Json::object());
  ASSERT_TRUE(enabled.ok()) << enabled.error().message;

  // Without credentials, etcd's refusal is returned as it is.
  auto anonymous = loop.call(*admin, "kv/range", {{"key", b64("/a")}});
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().code, 3);
  EXPECT_EQ(anonymous.error().message, "etcd " + url + ": etcdserver: user name is empty");

  auto root = loop.client({url}, 1s, [&](ClientOptions& o) {
    o.username = "root";
    o.password = password;
  });
  auto put = loop.call(*root, "kv/put", {{"key", b64("/a")}, {"value", b64("1")}});
  ASSERT_TRUE(put.ok()) << put.error().message;
  auto range = loop.call(*root, "kv/range", {{"key", b64("/a")}});
  ASSERT_TRUE(range.ok()) << range.error().message;
  EXPECT_EQ(unb64((*range)["kvs"][0]["value"]), "1");

  // Streams carry the token too.
  Watch watch;
  watch.open(*root, "/a/");
  ASSERT_TRUE(run_until(
      loop.io, [&] { return !watch.frames.empty() || watch.ended; }, 5s));
  ASSERT_FALSE(watch.ended) << watch.ended->message;
  EXPECT_EQ(watch.frames[0]["created"], true);
  EXPECT_FALSE(watch.frames[0].contains("cancel_reason")) << watch.frames[0].dump();
  watch.handle.cancel();

  auto wrong = loop.client({url}, 1s, [](ClientOptions& o) {
    o.username = "root";
    o.password = "wrong";
  });
  auto refused = loop.call(*wrong, "kv/range", {{"key", b64("/a")}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, 3);
  EXPECT_EQ(refused.error().message, "etcd " + url +
                                         ": etcdserver: authentication failed, invalid user ID or password "
                                         "(authenticating as user \"root\")");

  // Disabling auth drops every token; once enabled again, root's token is
  // refused (401) and the client authenticates again by itself.
  ASSERT_TRUE(loop.call(*root, "auth/disable", Json::object()).ok());
  ASSERT_TRUE(loop.call(*root, "auth/enable", Json::object()).ok());
  auto after = loop.call(*root, "kv/range", {{"key", b64("/a")}});
  ASSERT_TRUE(after.ok()) << after.error().message;

  std::string logged = read_file(log_path);
  EXPECT_EQ(count(logged, "authenticated as user \"root\""), 2u) << logged;
  EXPECT_EQ(logged.find(password), std::string::npos) << logged;
}

TEST(EtcdClientAuth, CredentialsForAClusterWithoutAuth) {
  SKIP_WITHOUT_ETCD();
  auto started = EtcdCluster::start(1);
  ASSERT_TRUE(started.ok()) << started.error().message;
  Loop loop;
  auto client = loop.client({(*started)->client_url(0)}, 1s, [](ClientOptions& o) {
    o.username = "root";
    o.password = "pw";
  });
  auto reply = loop.call(*client, "kv/range", {{"key", b64("/a")}});
  EXPECT_TRUE(reply.ok()) << reply.error().message;
}

// ---------------------------------------------------------------------------
// TLS

// A one-member etcd serving its client URL over https with a certificate
// made here by the openssl CLI (a CA, and a server cert with IP SAN
// 127.0.0.1). The harness has no TLS option, so the test runs it itself.
class TlsEtcd {
 public:
  ~TlsEtcd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Result<void> start() {
    char tmpl[] = "/tmp/etcd-client-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) return make_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ + "/server.ext") << "subjectAltName=IP:127.0.0.1\n";
    std::ofstream(dir_ + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script = "cd " + dir_ + " && exec >openssl.log 2>&1 && " +                                           //
                         "openssl req -x509 " + key + " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca && " +  //
                         "openssl req " + key + " -keyout server.key -out server.csr -subj /CN=etcd && " +           //
                         "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 " +      //
                         "-extfile server.ext -out server.pem && " +                                                 //
                         "openssl req " + key + " -keyout client.key -out client.csr -subj /CN=root && " +           //
                         "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 " +      //
                         "-extfile client.ext -out client.pem";
    if (std::system(script.c_str()) != 0) return make_error("openssl failed: " + read_file(dir_ + "/openssl.log"));
    port_ = testing::free_port();
    int peer = testing::free_port();
    std::string client_url = "https://127.0.0.1:" + std::to_string(port_);
    std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    std::vector<std::string> args = {"/usr/bin/etcd",
                                     "--name=tls",
                                     "--data-dir=" + dir_ + "/data",
                                     "--listen-client-urls=" + client_url,
                                     "--advertise-client-urls=" + client_url,
                                     "--listen-peer-urls=" + peer_url,
                                     "--initial-advertise-peer-urls=" + peer_url,
                                     "--initial-cluster=tls=" + peer_url,
                                     "--cert-file=" + dir_ + "/server.pem",
                                     "--key-file=" + dir_ + "/server.key",
                                     "--logger=zap",
                                     "--log-outputs=stderr"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::string log = dir_ + "/etcd.log";
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return make_error("fork failed");
    if (pid_ == 0) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return {};
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  std::string file(const std::string& name) const { return read_file(dir_ + "/" + name); }

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

TEST(EtcdClientTls, VerifiesTheMemberAgainstTheCa) {
  SKIP_WITHOUT_ETCD();
  TlsEtcd etcd;
  auto started = etcd.start();
  ASSERT_TRUE(started.ok()) << started.error().message;
  Loop loop;
  auto client = loop.client({etcd.url()}, 1s, [&](ClientOptions& o) {
    o.ca_pem = etcd.file("ca.pem");
    o.cert_pem = etcd.file("client.pem");
    o.key_pem = etcd.file("client.key");
  });
  // etcd gives no event when it is ready: poll (bounded).
  Result<Json> status = make_error("not asked");
  auto deadline = Clock::now() + 20s;
  while (Clock::now() < deadline) {
    status = loop.call(*client, "maintenance/status", Json::object());
    if (status.ok()) break;
    run_for(loop.io, 100ms);
  }
  ASSERT_TRUE(status.ok()) << status.error().message << "\n" << etcd.file("etcd.log");
  auto put = loop.call(*client, "kv/put", {{"key", b64("/tls")}, {"value", b64("yes")}});
  ASSERT_TRUE(put.ok()) << put.error().message;

  Watch watch;
  watch.open(*client, "/tls/");
  ASSERT_TRUE(run_until(
      loop.io, [&] { return !watch.frames.empty() || watch.ended; }, 5s));
  ASSERT_FALSE(watch.ended) << watch.ended->message;
  watch.handle.cancel();

  // Without the CA: the system's roots do not know it.
  auto untrusted = loop.client({etcd.url()});
  auto refused = loop.call(*untrusted, "kv/range", {{"key", b64("/tls")}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, kCodeUnavailable);
  EXPECT_EQ(refused.error().message,
            "etcd: no member answered (" + etcd.url() +
                ": TLS handshake: certificate verify failed (unable to get local issuer certificate))");

  // The right CA but another name than the certificate's (only IP 127.0.0.1).
  std::string by_name = "https://localhost:" + etcd.url().substr(etcd.url().rfind(':') + 1);
  auto mismatch = loop.client({by_name}, 1s, [&](ClientOptions& o) { o.ca_pem = etcd.file("ca.pem"); });
  auto wrong_name = loop.call(*mismatch, "kv/range", {{"key", b64("/tls")}});
  ASSERT_FALSE(wrong_name.ok());
  EXPECT_EQ(wrong_name.error().message,
            "etcd: no member answered (" + by_name + ": TLS handshake: certificate verify failed (hostname mismatch))");
}

}  // namespace
}  // namespace autopilot::discovery::etcd
