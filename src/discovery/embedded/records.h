// The on-disk form of the embedded catalog's records: JSON texts for an
// instance (with its TTL, absolute expiry and indexes) and a KV entry, and the
// file-name encoding of KV keys. Pure functions; no I/O. Internal to
// discovery/embedded.
//
// Records come from other processes and are untrusted: the decoders validate
// everything (names, port, sizes, types) and return an Error instead of
// throwing.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "discovery/catalog.h"

namespace autopilot::discovery::embedded {

// Wall clock: records are shared by processes (and containers), so expiry is
// an absolute wall-clock time, not a monotonic one.
using WallClock = std::chrono::system_clock;

struct InstanceRecord {
  Instance instance;
  std::chrono::milliseconds ttl{0};
  WallClock::time_point expires{};
  Index create_index = 0;
  Index mod_index = 0;

  bool is_live(WallClock::time_point now) const { return now < expires; }
};

// Longest TTL a record may have (a reader refuses more: expiry times stay
// far from the clock's limits).
constexpr std::chrono::milliseconds kMaxTtl = std::chrono::hours(24 * 365 * 100);

// Largest record file a reader accepts.
constexpr size_t kMaxRecordBytes = 64 * 1024;

std::string encode_instance(const InstanceRecord& record);
Result<InstanceRecord> decode_instance(std::string_view text);

// Fails when the value is not valid UTF-8 (JSON strings must be).
Result<std::string> encode_kv(const KvEntry& entry);
Result<KvEntry> decode_kv(std::string_view text);

// The content of a `.index` or `revision` file: the decimal index at its
// start; 0 when there is none (a missing or torn file reads as "no change").
Index parse_index(std::string_view text);

// A KV key as one safe file name: letters, digits, '-' and '_' stay, every
// other byte becomes %XX, then ".kv" is appended. Never contains '/', never
// starts with '.', so it cannot escape kv/ or look like a temp file.
std::string encode_key(std::string_view key);
// The inverse for names made by encode_key; nullopt for anything else.
std::optional<std::string> decode_key(std::string_view file_name);

}  // namespace autopilot::discovery::embedded
