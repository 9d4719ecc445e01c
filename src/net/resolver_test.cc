// Tests of the c-ares Resolver on a real io_context. DNS is a fake server on
// 127.0.0.1 (answers from a table, NXDOMAIN otherwise, or silent), hosts
// files are fixtures: no test leaves the loopback.
#include "net/resolver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/udp.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "os/linux/loop_testing.h"

namespace autopilot::net {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;
using boost::asio::ip::udp;
using os::run_for;
using os::run_until;

// A DNS server on 127.0.0.1 for tests: answers A/AAAA from `records`,
// NXDOMAIN for other names, or nothing at all when `silent`.
class FakeDns {
 public:
  explicit FakeDns(boost::asio::io_context& io) : socket_(io, udp::endpoint(make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(socket_.local_endpoint().port()); }

  std::map<std::string, Addresses> records;
  bool silent = false;
  int queries = 0;

 private:
  void receive() {
    socket_.async_receive_from(boost::asio::buffer(buffer_), peer_, [this](boost::system::error_code ec, size_t n) {
      if (ec) return;
      ++queries;
      if (!silent) answer(n);
      receive();
    });
  }

  void answer(size_t n) {
    const auto* q = buffer_.data();
    if (n < 12) return;
    // The question: labels, then type and class.
    size_t at = 12;
    std::string name;
    while (at < n && q[at] != 0) {
      size_t len = q[at];
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(q + at + 1), std::min(len, n - at - 1));
      at += len + 1;
    }
    at += 1;
    if (at + 4 > n) return;
    const int type = (q[at] << 8) | q[at + 1];
    const size_t question_end = at + 4;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

    std::vector<unsigned char> reply(q, q + question_end);
    auto found = records.find(name);
    int rcode = found == records.end() ? 3 : 0;                   // NXDOMAIN
    reply[2] = static_cast<unsigned char>(0x80 | (q[2] & 0x01));  // QR, RD copied
    reply[3] = static_cast<unsigned char>(0x80 | rcode);          // RA, rcode
    reply[6] = reply[7] = reply[8] = reply[9] = reply[10] = reply[11] = 0;
    int answers = 0;
    if (found != records.end()) {
      for (auto& a : found->second) {
        if ((type == 1 && !a.is_v4()) || (type == 28 && !a.is_v6()) || (type != 1 && type != 28)) continue;
        unsigned char rr[] = {0xc0, 0x0c, 0, static_cast<unsigned char>(type), 0, 1, 0, 0, 0, 60, 0, 0};
        std::vector<unsigned char> data;
        if (a.is_v4()) {
          auto b = a.to_v4().to_bytes();
          data.assign(b.begin(), b.end());
        } else {
          auto b = a.to_v6().to_bytes();
          data.assign(b.begin(), b.end());
        }
        rr[11] = static_cast<unsigned char>(data.size());
        reply.insert(reply.end(), rr, rr + sizeof rr);
        reply.insert(reply.end(), data.begin(), data.end());
        ++answers;
      }
    }
    reply[7] = static_cast<unsigned char>(answers);
    socket_.send_to(boost::asio::buffer(reply), peer_);
  }

  udp::socket socket_;
  udp::endpoint peer_;
  std::array<unsigned char, 1500> buffer_{};
};

struct Outcome {
  bool returned = false;  // resolve() has returned
  int calls = 0;
  std::optional<Result<Addresses>> result;
};

// Starts a lookup and checks the callback does not run inline.
void start(Resolver& resolver, const std::string& host, Outcome& out) {
  resolver.resolve(host, [&out](Result<Addresses> r) {
    EXPECT_TRUE(out.returned) << "resolve() called back inline";
    ++out.calls;
    out.result = std::move(r);
  });
  out.returned = true;
}

Result<Addresses> lookup(boost::asio::io_context& io, Resolver& resolver, const std::string& host,
                         std::chrono::milliseconds limit = 5s) {
  Outcome out;
  start(resolver, host, out);
  if (!run_until(
          io, [&] { return out.calls > 0; }, limit))
    return make_error("test: no callback in time");
  run_for(io, 20ms);
  EXPECT_EQ(out.calls, 1) << host;
  return std::move(*out.result);
}

Addresses addresses(std::initializer_list<const char*> list) {
  Addresses out;
  for (auto* a : list) out.push_back(make_address(a));
  return out;
}

// A hosts file fixture, removed with the object.
struct HostsFile {
  explicit HostsFile(const std::string& content) {
    char name[] = "/tmp/resolver-test-hosts-XXXXXX";
    int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    if (fd >= 0) ::close(fd);
    path = name;
    std::ofstream(path) << content;
  }
  ~HostsFile() { std::filesystem::remove(path); }
  std::string path;
};

TEST(ParseIpLiteral, AcceptsV4V6AndBracketedV6Only) {
  EXPECT_EQ(parse_ip_literal("10.0.0.1"), make_address("10.0.0.1"));
  EXPECT_EQ(parse_ip_literal("::1"), make_address("::1"));
  EXPECT_EQ(parse_ip_literal("[2001:db8::1]"), make_address("2001:db8::1"));
  EXPECT_FALSE(parse_ip_literal("[10.0.0.1]"));
  EXPECT_FALSE(parse_ip_literal("etcd-1"));
  EXPECT_FALSE(parse_ip_literal("1.2.3"));
  EXPECT_FALSE(parse_ip_literal(""));
  EXPECT_FALSE(parse_ip_literal("[]"));
}

TEST(Resolver, LiteralsAnswerWithoutLookup) {
  boost::asio::io_context io;
  FakeDns dns(io);
  Resolver resolver(io, ResolverOptions{1s, {dns.address()}, {}});
  auto v4 = lookup(io, resolver, "192.0.2.10");
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(*v4, addresses({"192.0.2.10"}));
  auto v6 = lookup(io, resolver, "2001:db8::5");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(*v6, addresses({"2001:db8::5"}));
  auto bracketed = lookup(io, resolver, "[::1]");
  ASSERT_TRUE(bracketed.ok()) << bracketed.error().message;
  EXPECT_EQ(*bracketed, addresses({"::1"}));
  EXPECT_EQ(dns.queries, 0);
}

TEST(Resolver, LocalhostAnswersLoopbackV4First) {
  boost::asio::io_context io;
  FakeDns dns(io);
  HostsFile hosts("# empty hosts file\n");
  Resolver resolver(io, ResolverOptions{1s, {dns.address()}, hosts.path});
  for (const char* name : {"localhost", "LocalHost", "localhost."}) {
    auto r = lookup(io, resolver, name);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, addresses({"127.0.0.1", "::1"})) << name;
  }
  EXPECT_EQ(dns.queries, 0);
}

TEST(Resolver, ReadsTheHostsFile) {
  boost::asio::io_context io;
  FakeDns dns(io);
  HostsFile hosts("# fixture\n2001:db8::7 fixture-host\n10.9.8.7 fixture-host alias-host\n");
  ASSERT_EQ(std::getenv("CARES_HOSTS"), nullptr);
  Resolver resolver(io, ResolverOptions{1s, {dns.address()}, hosts.path});
  auto r = lookup(io, resolver, "fixture-host");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, addresses({"10.9.8.7", "2001:db8::7"})) << "IPv4 first";
  auto alias = lookup(io, resolver, "alias-host");
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(*alias, addresses({"10.9.8.7"}));
  EXPECT_EQ(dns.queries, 0) << "the hosts file answers without DNS";
  EXPECT_EQ(std::getenv("CARES_HOSTS"), nullptr) << "the environment is left as it was";
}

TEST(Resolver, ReadsTheSystemHostsFile) {
  // /etc/hosts usually names this machine; only then is no DNS involved.
  char name[256] = {};
  ASSERT_EQ(::gethostname(name, sizeof name - 1), 0);
  std::ifstream in("/etc/hosts");
  std::string line, address;
  while (std::getline(in, line) && address.empty()) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string first, word;
    words >> first;
    while (words >> word)
      if (word == name) address = first;
  }
  if (address.empty()) GTEST_SKIP() << "/etc/hosts does not name this host (" << name << ")";
  boost::asio::io_context io;
  Resolver resolver(io, 2s);
  auto r = lookup(io, resolver, name);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(std::find(r->begin(), r->end(), make_address(address)), r->end()) << name << " -> " << address;
}

TEST(Resolver, AsksDnsAndOrdersIpv4First) {
  boost::asio::io_context io;
  FakeDns dns(io);
  dns.records["svc.test"] = addresses({"2001:db8::1", "10.1.2.3", "10.1.2.4"});
  HostsFile hosts("");
  Resolver resolver(io, ResolverOptions{2s, {dns.address()}, hosts.path});
  auto r = lookup(io, resolver, "svc.test");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, addresses({"10.1.2.3", "10.1.2.4", "2001:db8::1"}));
  EXPECT_GE(dns.queries, 2) << "A and AAAA";
}

TEST(Resolver, ManyLookupsAtOnce) {
  boost::asio::io_context io;
  FakeDns dns(io);
  dns.records["svc.test"] = addresses({"10.1.2.3"});
  HostsFile hosts("");
  Resolver resolver(io, ResolverOptions{2s, {dns.address()}, hosts.path});
  std::vector<Outcome> outcomes(40);
  for (size_t i = 0; i < outcomes.size(); ++i) start(resolver, i % 2 ? "svc.test" : "missing.test", outcomes[i]);
  ASSERT_TRUE(run_until(
      io, [&] { return std::all_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o.calls > 0; }); }));
  run_for(io, 20ms);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].calls, 1);
    EXPECT_EQ(outcomes[i].result->ok(), i % 2 == 1) << i;
  }
}

TEST(Resolver, UnknownNameFailsClearly) {
  boost::asio::io_context io;
  FakeDns dns(io);
  HostsFile hosts("");
  Resolver resolver(io, ResolverOptions{2s, {dns.address()}, hosts.path});
  auto r = lookup(io, resolver, "no-such-host.test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot resolve \"no-such-host.test\": no such host");
  EXPECT_GE(dns.queries, 1);
}

TEST(Resolver, BadInputFailsClearly) {
  boost::asio::io_context io;
  Resolver resolver(io, 1s);
  auto empty = lookup(io, resolver, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "cannot resolve \"\": empty host name");
  auto bracketed = lookup(io, resolver, "[10.0.0.1]");
  ASSERT_FALSE(bracketed.ok());
  EXPECT_EQ(bracketed.error().message, "cannot resolve \"[10.0.0.1]\": not a valid host name");

  Resolver misconfigured(io, ResolverOptions{1s, {"not an address"}, {}});
  auto r = lookup(io, misconfigured, "svc.test");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("bad DNS server list \"not an address\""), std::string::npos) << r.error().message;
}

TEST(Resolver, SilentServerTimesOutOnTime) {
  boost::asio::io_context io;
  FakeDns dns(io);
  dns.silent = true;
  HostsFile hosts("");
  Resolver resolver(io, ResolverOptions{300ms, {dns.address()}, hosts.path});
  auto started = std::chrono::steady_clock::now();
  Outcome out;
  start(resolver, "slow.test", out);
  ASSERT_TRUE(run_until(
      io, [&] { return out.calls > 0; }, 3s));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 1s);
  ASSERT_FALSE(out.result->ok());
  EXPECT_EQ(out.result->error().message, "cannot resolve \"slow.test\": timed out after 300ms");
  EXPECT_GE(dns.queries, 2) << "c-ares retried within the deadline";
  run_for(io, 600ms);  // c-ares' own retries end meanwhile: no second callback
  EXPECT_EQ(out.calls, 1);
}

TEST(Resolver, DestroyingCancelsPendingLookups) {
  boost::asio::io_context io;
  FakeDns dns(io);
  dns.silent = true;
  Outcome queried, fresh, posted;
  {
    HostsFile hosts("");
    Resolver resolver(io, ResolverOptions{300ms, {dns.address()}, hosts.path});
    start(resolver, "pending.test", queried);
    ASSERT_TRUE(run_until(
        io, [&] { return dns.queries > 0; }, 2s))
        << "the query is on the wire";
    start(resolver, "fresh.test", fresh);
    start(resolver, "10.0.0.1", posted);  // its answer is already posted
  }
  run_for(io, 600ms);
  EXPECT_EQ(queried.calls, 0);
  EXPECT_EQ(fresh.calls, 0);
  EXPECT_EQ(posted.calls, 0);
}

TEST(Resolver, CallbackMayDestroyTheResolver) {
  boost::asio::io_context io;
  auto resolver = std::make_unique<Resolver>(io, 1s);
  int calls = 0;
  resolver->resolve("10.0.0.1", [&](Result<Addresses>) {
    ++calls;
    resolver.reset();
  });
  resolver->resolve("10.0.0.2", [&](Result<Addresses>) { ++calls; });
  run_for(io, 50ms);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(resolver, nullptr);
}

}  // namespace
}  // namespace autopilot::net
