// The RESP codec and the endpoint list parser of the demo app.
#include "resp.h"

#include <gtest/gtest.h>

#include "app_config.h"

namespace stack {
namespace {

using resp::Decoder;
using Kind = resp::Value::Kind;

TEST(RespEncode, CommandIsAnArrayOfBulkStrings) {
  EXPECT_EQ(resp::encode({"SET", "k", "a b\r\n"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na b\r\n\r\n");
  EXPECT_EQ(resp::encode({"PING"}), "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(resp::encode({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST(RespDecode, EveryReplyType) {
  Decoder d;
  d.feed("+OK\r\n-READONLY You can't write\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n$0\r\n\r\n");
  auto v = d.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kSimple);
  EXPECT_EQ(v->text, "OK");
  v = d.next();
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->is_error());
  EXPECT_EQ(v->text, "READONLY You can't write");
  v = d.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kInteger);
  EXPECT_EQ(v->integer, 42);
  EXPECT_EQ(d.next()->integer, -7);
  v = d.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kBulk);
  EXPECT_EQ(v->text, "hello");
  EXPECT_EQ(d.next()->kind, Kind::kNil);
  EXPECT_EQ(d.next()->kind, Kind::kNil);
  v = d.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, Kind::kBulk);
  EXPECT_EQ(v->text, "");
  EXPECT_FALSE(d.next());
  EXPECT_FALSE(d.failed());
  EXPECT_EQ(d.buffered(), 0u);
}

// ROLE on a master: an array holding a nested array of replicas.
TEST(RespDecode, NestedArraysAsRoleReplies) {
  Decoder d;
  d.feed("*3\r\n$6\r\nmaster\r\n:3129659\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$7\r\n3129242\r\n");
  auto v = d.next();
  ASSERT_TRUE(v);
  ASSERT_EQ(v->kind, Kind::kArray);
  ASSERT_EQ(v->items.size(), 3u);
  EXPECT_EQ(v->items[0].text, "master");
  EXPECT_EQ(v->items[1].integer, 3129659);
  ASSERT_EQ(v->items[2].items.size(), 1u);
  EXPECT_EQ(v->items[2].items[0].items[1].text, "9001");
}

// A reply split anywhere, even inside CRLF or a bulk payload containing CRLF,
// decodes the same once complete, and not before.
TEST(RespDecode, RepliesSplitAtEveryByte) {
  const std::string wire = "*2\r\n$4\r\na\r\nb\r\n:1\r\n+PONG\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    Decoder d;
    d.feed(wire.substr(0, cut));
    std::vector<resp::Value> got;
    while (auto v = d.next()) got.push_back(*v);
    d.feed(wire.substr(cut));
    while (auto v = d.next()) got.push_back(*v);
    ASSERT_EQ(got.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(got[0].items[0].text, "a\r\nb");
    EXPECT_EQ(got[0].items[1].integer, 1);
    EXPECT_EQ(got[1].text, "PONG");
    EXPECT_FALSE(d.failed());
  }
}

TEST(RespDecode, ByteByByteFeeding) {
  const std::string wire = "$11\r\nhello world\r\n";
  Decoder d;
  for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
    d.feed(wire.substr(i, 1));
    EXPECT_FALSE(d.next()) << "complete too early at " << i;
  }
  d.feed(wire.substr(wire.size() - 1));
  auto v = d.next();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->text, "hello world");
}

TEST(RespDecode, ProtocolErrorsFailForGood) {
  for (std::string bad : {"?x\r\n", ":12a\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "*x\r\n", ":\r\n", "$99999999999\r\n"}) {
    Decoder d;
    d.feed(bad);
    EXPECT_FALSE(d.next()) << bad;
    EXPECT_TRUE(d.failed()) << bad;
    d.feed("+OK\r\n");
    EXPECT_FALSE(d.next()) << "a failed decoder stays failed: " << bad;
  }
}

TEST(RespDecode, DeepNestingIsRefused) {
  Decoder d;
  std::string wire;
  for (int i = 0; i < 100; ++i) wire += "*1\r\n";
  wire += ":1\r\n";
  d.feed(wire);
  EXPECT_FALSE(d.next());
  EXPECT_TRUE(d.failed());
}

TEST(Endpoints, FileLinesAndEnvironmentList) {
  auto file = parse_endpoints_file("# rendered by autopilot\nredis 127.0.1.21:6379\nredis 127.0.1.22\nnoise x\n");
  ASSERT_EQ(file.size(), 2u);
  EXPECT_EQ(file[0], (Endpoint{"127.0.1.21", 6379}));
  EXPECT_EQ(file[1], (Endpoint{"127.0.1.22", 6379}));
  auto list = parse_endpoints_list("127.0.0.1:7000,127.0.0.2:bad,127.0.0.3");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], (Endpoint{"127.0.0.1", 7000}));
  EXPECT_EQ(list[1], (Endpoint{"127.0.0.3", 6379}));
  EXPECT_TRUE(parse_endpoints_file("").empty());
}

}  // namespace
}  // namespace stack
