#include "health/endpoint.h"

#include <gtest/gtest.h>

namespace autopilot::health {
namespace {

namespace ip = boost::asio::ip;

TcpTarget tcp(const char* ip, std::uint16_t port) { return TcpTarget{ip::make_address(ip), port}; }

std::string http_error(std::string_view url, std::optional<int> status = std::nullopt) {
  auto r = parse_http_target(url, status);
  return r ? "parsed" : r.error().message;
}

std::string tcp_error(std::string_view text) {
  auto r = parse_tcp_target(text);
  return r ? "parsed" : r.error().message;
}

TEST(EndpointTest, ParsesHttpUrls) {
  struct Case {
    const char* url;
    TcpTarget address;
    const char* host;
    const char* target;
  };
  const Case cases[] = {
      {"http://127.0.0.1:8080/health", tcp("127.0.0.1", 8080), "127.0.0.1:8080", "/health"},
      {"http://127.0.0.1", tcp("127.0.0.1", 80), "127.0.0.1", "/"},
      {"http://127.0.0.1/", tcp("127.0.0.1", 80), "127.0.0.1", "/"},
      {"http://127.0.0.1:80/x", tcp("127.0.0.1", 80), "127.0.0.1", "/x"},
      {"HTTP://10.0.0.2:9/", tcp("10.0.0.2", 9), "10.0.0.2:9", "/"},
      {"http://localhost:3000/ready?full=1", tcp("127.0.0.1", 3000), "localhost:3000", "/ready?full=1"},
      {"http://LocalHost/", tcp("127.0.0.1", 80), "LocalHost", "/"},
      {"http://127.0.0.1:8080?x=1", tcp("127.0.0.1", 8080), "127.0.0.1:8080", "/?x=1"},
      {"http://127.0.0.1/a%20b#frag", tcp("127.0.0.1", 80), "127.0.0.1", "/a%20b"},
      {"http://[::1]:8080/health", tcp("::1", 8080), "[::1]:8080", "/health"},
      {"http://[::1]/", tcp("::1", 80), "[::1]", "/"},
      {"http://[2001:db8::5]:65535", tcp("2001:db8::5", 65535), "[2001:db8::5]:65535", "/"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    auto r = parse_http_target(c.url);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->address, c.address);
    EXPECT_EQ(r->host, c.host);
    EXPECT_EQ(r->target, c.target);
    EXPECT_EQ(r->expected_status, std::nullopt);
  }
}

TEST(EndpointTest, RefusesBadHttpUrls) {
  EXPECT_EQ(http_error("http://x:99999/"), "\"http://x:99999/\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(http_error("http://127.0.0.1:0/"), "\"http://127.0.0.1:0/\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(http_error("http://127.0.0.1:/"), "\"http://127.0.0.1:/\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(http_error("http://127.0.0.1:8o/"), "\"http://127.0.0.1:8o/\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(http_error("https://127.0.0.1/"),
            "\"https://127.0.0.1/\" uses https, which is not supported yet (use http://)");
  EXPECT_EQ(http_error("127.0.0.1:8080/health"),
            "\"127.0.0.1:8080/health\" is not an http:// URL (expected http://HOST[:PORT][/PATH])");
  EXPECT_EQ(http_error(""), "\"\" is not an http:// URL (expected http://HOST[:PORT][/PATH])");
  EXPECT_EQ(http_error("ftp://127.0.0.1/"),
            "\"ftp://127.0.0.1/\" is not an http:// URL (expected http://HOST[:PORT][/PATH])");
  EXPECT_EQ(http_error("http://example.com/health"),
            "\"http://example.com/health\" has host \"example.com\", which is not an IP address: autopilot does not "
            "look up names (use an IPv4 address, an [IPv6] address or localhost)");
  EXPECT_EQ(http_error("http://app:8080/"),
            "\"http://app:8080/\" has host \"app\", which is not an IP address: autopilot does not look up names "
            "(use an IPv4 address, an [IPv6] address or localhost)");
  EXPECT_EQ(http_error("http://127.1/"),
            "\"http://127.1/\" has host \"127.1\", which is not an IP address: autopilot does not look up names "
            "(use an IPv4 address, an [IPv6] address or localhost)");
  EXPECT_EQ(http_error("http:///health"), "\"http:///health\" has no host");
  EXPECT_EQ(http_error("http://:8080/"), "\"http://:8080/\" has no host");
  EXPECT_EQ(http_error("http://user:pw@127.0.0.1/"),
            "\"http://user:pw@127.0.0.1/\" has user info, which is not supported");
  EXPECT_EQ(http_error("http://::1/"), "\"http://::1/\" has an IPv6 address without brackets (write it as [::1]:PORT)");
  EXPECT_EQ(http_error("http://[::1/"), "\"http://[::1/\" has an unclosed '['");
  EXPECT_EQ(http_error("http://[::1]x/"), "\"http://[::1]x/\" has unexpected text after ']'");
  EXPECT_EQ(http_error("http://[::g]/"), "\"http://[::g]/\" has an invalid IPv6 address \"::g\"");
  EXPECT_EQ(http_error("http://[127.0.0.1]/"), "\"http://[127.0.0.1]/\" has an invalid IPv6 address \"127.0.0.1\"");
  EXPECT_EQ(http_error("http://127.0.0.1/a b"),
            "\"http://127.0.0.1/a b\" has a space or control character in its path");
  EXPECT_EQ(http_error("http://127.0.0.1/a\r\nX: y"),
            "\"http://127.0.0.1/a\r\nX: y\" has a space or control character in its path");
}

TEST(EndpointTest, ExpectedStatus) {
  auto exact = parse_http_target("http://127.0.0.1/", 204);
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->expected_status, 204);
  EXPECT_TRUE(exact->is_healthy_status(204));
  EXPECT_FALSE(exact->is_healthy_status(200));

  auto any = parse_http_target("http://127.0.0.1/");
  ASSERT_TRUE(any);
  EXPECT_TRUE(any->is_healthy_status(200));
  EXPECT_TRUE(any->is_healthy_status(299));
  EXPECT_FALSE(any->is_healthy_status(199));
  EXPECT_FALSE(any->is_healthy_status(300)) << "the boundary: a redirect is not healthy";
  EXPECT_FALSE(any->is_healthy_status(301));
  EXPECT_FALSE(any->is_healthy_status(503));

  EXPECT_EQ(http_error("http://127.0.0.1/", 42), "expected status 42 is not an HTTP status (must be 100..599)");
  EXPECT_EQ(http_error("http://127.0.0.1/", 600), "expected status 600 is not an HTTP status (must be 100..599)");
  EXPECT_EQ(http_error("http://127.0.0.1/", 599), "parsed");
}

TEST(EndpointTest, ParsesTcpTargets) {
  auto v4 = parse_tcp_target("127.0.0.1:6379");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(*v4, tcp("127.0.0.1", 6379));
  auto local = parse_tcp_target("localhost:1");
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_EQ(*local, tcp("127.0.0.1", 1));
  auto v6 = parse_tcp_target("[::1]:65535");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(*v6, tcp("::1", 65535));
}

TEST(EndpointTest, RefusesBadTcpTargets) {
  EXPECT_EQ(tcp_error("127.0.0.1"), "\"127.0.0.1\" has no port (expected HOST:PORT)");
  EXPECT_EQ(tcp_error("[::1]"), "\"[::1]\" has no port (expected HOST:PORT)");
  EXPECT_EQ(tcp_error(""), "\"\" has no port (expected HOST:PORT)");
  EXPECT_EQ(tcp_error("127.0.0.1:65536"), "\"127.0.0.1:65536\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(tcp_error("127.0.0.1:-1"), "\"127.0.0.1:-1\" has an invalid port (must be 1..65535)");
  EXPECT_EQ(tcp_error(":80"), "\":80\" has no host");
  EXPECT_EQ(tcp_error("redis:6379"),
            "\"redis:6379\" has host \"redis\", which is not an IP address: autopilot does not look up names (use "
            "an IPv4 address, an [IPv6] address or localhost)");
  EXPECT_EQ(tcp_error("::1:80"), "\"::1:80\" has an IPv6 address without brackets (write it as [::1]:PORT)");
  EXPECT_EQ(tcp_error("tcp://127.0.0.1:80"), "\"tcp://127.0.0.1:80\" should be HOST:PORT, without a scheme");
}

TEST(EndpointTest, FormatsForLogs) {
  EXPECT_EQ(to_string(tcp("127.0.0.1", 80)), "127.0.0.1:80");
  EXPECT_EQ(to_string(tcp("::1", 80)), "[::1]:80");
  auto url = parse_http_target("http://localhost:8080?q#f");
  ASSERT_TRUE(url);
  EXPECT_EQ(to_string(*url), "http://localhost:8080/?q");
}

}  // namespace
}  // namespace autopilot::health
