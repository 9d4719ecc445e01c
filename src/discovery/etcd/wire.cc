#include "discovery/etcd/wire.h"

#include <fmt/format.h>

#include <charconv>

#include "base/base64.h"

namespace autopilot::discovery::etcd {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xFF) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::int64_t int_field(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return 0;
  // Decimal digits with an optional '-'; anything else, or out of int64's
  // range, is malformed.
  const auto& text = it->get_ref<const std::string&>();
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return 0;
  return value;
}

Index revision_of(const Json& reply) {
  auto header = reply.find("header");
  if (header == reply.end() || !header->is_object()) return 0;
  auto revision = int_field(*header, "revision");
  return revision > 0 ? static_cast<Index>(revision) : 0;
}

namespace {

Result<std::string> bytes_field(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::string();
  if (!it->is_string()) return make_error(fmt::format("etcd reply: {} is not a base64 string", name));
  return base64_decode(it->get_ref<const std::string&>());
}

}  // namespace

Result<Kv> kv_from_json(const Json& j) {
  if (!j.is_object()) return make_error("etcd reply: a key-value is not an object");
  Kv kv;
  auto key = bytes_field(j, "key");
  if (!key) return key.error();
  auto value = bytes_field(j, "value");
  if (!value) return value.error();
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = static_cast<Index>(std::max<std::int64_t>(0, int_field(j, "create_revision")));
  kv.mod_revision = static_cast<Index>(std::max<std::int64_t>(0, int_field(j, "mod_revision")));
  kv.lease = int_field(j, "lease");
  return kv;
}

Result<std::vector<Kv>> kvs_of(const Json& reply) {
  std::vector<Kv> out;
  auto it = reply.find("kvs");
  if (it == reply.end()) return out;
  if (!it->is_array()) return make_error("etcd reply: kvs is not a list");
  out.reserve(it->size());
  for (const auto& item : *it) {
    auto kv = kv_from_json(item);
    if (!kv) return kv.error();
    out.push_back(std::move(*kv));
  }
  return out;
}

WatchFrame read_watch_frame(const Json& frame) {
  WatchFrame out;
  if (!frame.is_object()) return out;
  if (auto it = frame.find("canceled"); it != frame.end() && it->is_boolean()) out.canceled = it->get<bool>();
  out.compact_revision = int_field(frame, "compact_revision");
  if (auto it = frame.find("cancel_reason"); it != frame.end() && it->is_string()) {
    out.cancel_reason = it->get<std::string>();
  }
  auto events = frame.find("events");
  if (events == frame.end() || !events->is_array()) return out;
  for (const auto& event : *events) {
    if (!event.is_object()) continue;
    auto kv_json = event.find("kv");
    if (kv_json == event.end()) continue;
    auto kv = kv_from_json(*kv_json);
    if (!kv) {
      out.malformed.push_back(kv.error());
      continue;
    }
    auto type = event.find("type");
    bool is_delete = type != event.end() && type->is_string() && type->get_ref<const std::string&>() == "DELETE";
    out.events.push_back({is_delete, std::move(*kv)});
  }
  return out;
}

Json range_request(std::string_view key, std::string_view range_end, bool keys_only) {
  Json j = {{"key", base64_encode(key)}};
  if (!range_end.empty()) j["range_end"] = base64_encode(range_end);
  if (keys_only) j["keys_only"] = true;
  return j;
}

Json put_op(std::string_view key, std::string_view value, LeaseId lease) {
  Json put = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  return {{"request_put", std::move(put)}};
}

Json delete_op(std::string_view key) { return {{"request_delete_range", {{"key", base64_encode(key)}}}}; }

Json compare(std::string_view key, const char* target, const char* result, std::int64_t value) {
  Json c = {{"key", base64_encode(key)}, {"target", target}, {"result", result}};
  std::string_view t = target;
  std::string field = t == "CREATE" ? "create_revision" : t == "MOD" ? "mod_revision" : t == "LEASE" ? "lease" : "version";
  c[field] = std::to_string(value);
  return c;
}

}  // namespace autopilot::discovery::etcd
