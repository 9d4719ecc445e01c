// libFuzzer target for what autopilot reads from a catalog another process
// wrote: the embedded catalog's files (src/discovery/embedded/records.h:
// instance and KV records, KV file names, .index files) and etcd's JSON
// gateway (src/discovery/etcd: unary replies, the frames of a watch stream,
// their key-values and the instance records in them). The first byte picks
// the reader, the rest is the file or body. Every input must be read or
// refused with an Error (nothing throws, nothing overflows), and what is
// read must survive a write and a second read unchanged.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "discovery/embedded/records.h"
#include "discovery/etcd/gateway_reply.h"
#include "discovery/etcd/wire.h"
#include "discovery/instance_json.h"

using namespace autopilot;
using namespace autopilot::discovery;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void embedded_instance(std::string_view text) {
  auto r = embedded::decode_instance(text);
  if (!r) return;
  auto again = embedded::decode_instance(embedded::encode_instance(*r));
  check(again.ok() && again->instance == r->instance && again->ttl == r->ttl && again->expires == r->expires);
}

void embedded_kv(std::string_view text) {
  auto r = embedded::decode_kv(text);
  if (!r) return;
  auto encoded = embedded::encode_kv(*r);
  check(encoded.ok());
  auto again = embedded::decode_kv(*encoded);
  check(again.ok() && *again == *r);
}

void embedded_names(std::string_view text) {
  (void)embedded::decode_key(text);
  (void)embedded::parse_index(text);
  if (text.empty()) return;  // keys are not empty (validate_key)
  auto name = embedded::encode_key(text);
  check(name.find('/') == std::string::npos && !name.starts_with("."));
  auto back = embedded::decode_key(name);
  check(back && *back == text);
}

// A key-value's value as the etcd catalog reads it: an instance record.
void etcd_values(const std::vector<etcd::Kv>& kvs) {
  for (const auto& kv : kvs) {
    auto j = nlohmann::json::parse(kv.value, nullptr, false);
    if (!j.is_discarded()) (void)instance_from_json(j);
  }
}

void etcd_unary(std::string_view body, int status) {
  auto reply = etcd::read_unary_reply(status, body);
  if (!reply) {
    (void)reply.error().format();
    return;
  }
  (void)etcd::revision_of(*reply);
  (void)etcd::int_field(*reply, "ID");
  (void)etcd::int_field(*reply, "TTL");
  if (auto kvs = etcd::kvs_of(*reply)) etcd_values(*kvs);
}

// A watch stream's body, cut into pieces at the bytes 0xFF (as reads may cut it).
void etcd_stream(std::string_view body) {
  etcd::FrameSplitter lines;
  size_t start = 0;
  for (;;) {
    size_t cut = body.find('\xff', start);
    lines.append(body.substr(start, cut == std::string_view::npos ? cut : cut - start));
    while (auto line = lines.next()) {
      auto frame = etcd::read_frame(*line);
      if (!frame || !frame->has_value()) continue;
      auto watch = etcd::read_watch_frame(**frame);
      std::vector<etcd::Kv> kvs;
      for (auto& e : watch.events) kvs.push_back(e.kv);
      etcd_values(kvs);
    }
    if (cut == std::string_view::npos) break;
    start = cut + 1;
  }
  (void)lines.pending();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 6) {
    case 0: embedded_instance(text); break;
    case 1: embedded_kv(text); break;
    case 2: embedded_names(text); break;
    case 3: etcd_unary(text, 200); break;
    case 4: etcd_unary(text, 300 + bytes[0] / 6 * 7); break;
    default: etcd_stream(text); break;
  }
  return 0;
}
