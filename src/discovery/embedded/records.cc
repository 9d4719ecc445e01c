#include "discovery/embedded/records.h"

#include <fmt/format.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "discovery/instance_json.h"

namespace autopilot::discovery::embedded {
namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

std::int64_t to_unix_ms(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Milliseconds as far as a WallClock time point reaches (about 292 years
// either way): beyond that the conversion would overflow.
constexpr std::int64_t kMaxUnixMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::duration::max()).count();

bool in_clock_range(std::int64_t ms) { return ms >= -kMaxUnixMs && ms <= kMaxUnixMs; }

WallClock::time_point from_unix_ms(std::int64_t ms) {
  return WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(std::chrono::milliseconds(ms)));
}

// nlohmann throws on type mismatches; this adapter is the one place that
// catches, so nothing throws past the decoders.
template <class Fn>
auto parse_with(std::string_view text, Fn&& fn) -> decltype(fn(std::declval<const json&>())) {
  if (text.size() > kMaxRecordBytes) return make_error("record too large");
  try {
    json j = json::parse(text);
    if (!j.is_object()) return make_error("record is not a JSON object");
    if (j.value("v", 0) != kFormatVersion) return make_error("unknown record format version");
    return fn(j);
  } catch (const json::exception& e) {
    return make_error(fmt::format("malformed record: {}", e.what()));
  }
}

// Indexes must be unsigned integers; a negative or fractional one is malformed.
bool get_index(const json& j, const char* field, Index& out) {
  const json& v = j.at(field);
  if (!v.is_number_unsigned()) return false;
  out = v.get<Index>();
  return true;
}

}  // namespace

std::string encode_instance(const InstanceRecord& r) {
  json j = instance_to_json(r.instance);
  j["v"] = kFormatVersion;
  j["ttl_ms"] = r.ttl.count();
  j["expires_unix_ms"] = to_unix_ms(r.expires);
  j["create_index"] = r.create_index;
  j["mod_index"] = r.mod_index;
  // Instances are validated before they are written (no control characters);
  // `replace` only guards against invalid UTF-8 in a tag or meta value.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<InstanceRecord> decode_instance(std::string_view text) {
  return parse_with(text, [](const json& j) -> Result<InstanceRecord> {
    InstanceRecord r;
    auto instance = instance_from_json(j);
    if (!instance) return instance.error();
    r.instance = std::move(*instance);
    auto ttl_ms = j.at("ttl_ms").get<std::int64_t>();
    auto expires_ms = j.at("expires_unix_ms").get<std::int64_t>();
    if (!in_clock_range(ttl_ms) || !in_clock_range(expires_ms)) {
      return make_error("ttl_ms and expires_unix_ms must be within the clock's range");
    }
    r.ttl = std::chrono::milliseconds(ttl_ms);
    r.expires = from_unix_ms(expires_ms);
    if (!get_index(j, "create_index", r.create_index) || !get_index(j, "mod_index", r.mod_index)) {
      return make_error("create_index and mod_index must be unsigned integers");
    }
    if (r.ttl.count() <= 0) return make_error("ttl_ms must be positive");
    if (r.ttl > kMaxTtl) return make_error("ttl_ms is too large");
    return r;
  });
}

Result<std::string> encode_kv(const KvEntry& e) {
  json j = {{"v", kFormatVersion},
            {"key", e.key},
            {"value", e.value},
            {"create_index", e.create_index},
            {"mod_index", e.mod_index}};
  try {
    return j.dump();
  } catch (const json::exception&) {
    return make_error(fmt::format("value of key \"{}\" is not valid UTF-8", e.key));
  }
}

Result<KvEntry> decode_kv(std::string_view text) {
  return parse_with(text, [](const json& j) -> Result<KvEntry> {
    KvEntry e;
    e.key = j.at("key").get<std::string>();
    e.value = j.at("value").get<std::string>();
    if (!get_index(j, "create_index", e.create_index) || !get_index(j, "mod_index", e.mod_index)) {
      return make_error("create_index and mod_index must be unsigned integers");
    }
    if (auto valid = validate_key(e.key); !valid) return valid.error();
    return e;
  });
}

Index parse_index(std::string_view text) {
  Index value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string encode_key(std::string_view key) {
  std::string out;
  for (char c : key) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (keep) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out + ".kv";
}

std::optional<std::string> decode_key(std::string_view name) {
  if (!name.ends_with(".kv") || name.size() == 3) return std::nullopt;
  name.remove_suffix(3);
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '%') {
      out += name[i];
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    unsigned value = 0;
    for (size_t k = 1; k <= 2; ++k) {
      char h = name[i + k];
      value <<= 4;
      if (h >= '0' && h <= '9')
        value |= h - '0';
      else if (h >= 'A' && h <= 'F')
        value |= h - 'A' + 10;
      else
        return std::nullopt;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  if (encode_key(out) != std::string(name) + ".kv") return std::nullopt;  // only canonical names
  return out;
}

}  // namespace autopilot::discovery::embedded
