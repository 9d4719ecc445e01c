// Decoder: typed, positioned reading of a parsed config document.
// Each area decodes its own slice of the config with it (jobs/job_config.cc,
// ...), so every error names file:line:col, the config path
// (`jobs[2].when.interval`) and the offending line. Knows nothing of jobs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/result.h"
#include "json5/json5.h"

namespace autopilot::decode {

// One value of the document: the JSON, its JSON pointer (for positions) and
// its config path in the user's spelling (for messages).
struct Node {
  const nlohmann::ordered_json* json = nullptr;
  std::string pointer;
  std::string path;

  const nlohmann::ordered_json& operator*() const { return *json; }
  const nlohmann::ordered_json* operator->() const { return json; }
};

// A value as the user wrote it, for messages: NaN and Infinity by name
// (nlohmann's dump() turns them into "null").
std::string shown(const nlohmann::ordered_json& j);

class Decoder {
 public:
  // `doc` and `text` (the text it was parsed from) must outlive the decoder.
  Decoder(const json5::Document& doc, std::string_view text) : doc_(doc), text_(text) {}

  Node root() const { return Node{&doc_.value, "", ""}; }

  // "<file>:L:C: <path>: <message>" pointing at the value of `n`.
  Error error(const Node& n, std::string_view message) const;
  // The same, pointing at the key of `n` (for unknown or misplaced keys).
  Error key_error(const Node& n, std::string_view message) const;

  // Fails on the first key of `obj` not in `allowed`, suggesting a close one.
  Result<void> only_keys(const Node& obj, std::span<const std::string> allowed) const;
  Result<void> require_object(const Node& n) const;
  Result<void> require_array(const Node& n) const;

  std::optional<Node> field(const Node& obj, std::string_view key) const;
  Node element(const Node& array, size_t index) const;

  Result<std::string> string(const Node& n) const;
  // Integers; numeric strings ("5") are accepted, as Go's weak decoding does.
  Result<std::int64_t> integer(const Node& n) const;
  Result<bool> boolean(const Node& n) const;
  Result<std::vector<std::string>> string_list(const Node& n) const;
  // A Go duration string, or (when bare_seconds) an integer or numeric
  // string meaning seconds.
  Result<Duration> duration(const Node& n, bool bare_seconds) const;

  std::string file() const { return doc_.pos_of("").file; }

  // Added to every unknown-key message, to say how the file was read
  // ("read as a ContainerPilot v2 config because of `services`").
  void set_unknown_key_note(std::string note) { unknown_key_note_ = std::move(note); }
  // For a document translated from another (a v2 config): the path to show
  // for each pointer and what lies below it, in the original's spelling.
  void set_shown_paths(std::map<std::string, std::string> paths) { shown_paths_ = std::move(paths); }
  // The path of n as the user wrote it (`services[1]` in a v2 file, `jobs[1]` in v3).
  std::string shown_path(const Node& n) const;

 private:
  Error at(const SourcePos& pos, std::string_view path, std::string_view message) const;

  const json5::Document& doc_;
  std::string_view text_;
  std::string unknown_key_note_;
  std::map<std::string, std::string> shown_paths_;
};

}  // namespace autopilot::decode
