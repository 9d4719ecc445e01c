#include "stash/env_overrides.h"

#include <string_view>
#include <vector>


namespace autopilot::stash {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view kPrefix = "STASHBOX__";
constexpr size_t kMaxIndex = 999;

std::vector<std::string> split_segments(std::string_view s) {
  std::vector<std::string> out;
  for (size_t start = 0;;) {
    size_t at = s.find("__", start);
    out.emplace_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 2;
  }
}

bool from_env(const json5::Document& doc, const std::string& pointer) {
  auto it = doc.value_pos.find(pointer);
  return it != doc.value_pos.end() && it->second.file.starts_with("$");
}

bool is_index(std::string_view s) {
  return !s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

Json value_of(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (text == "null") return nullptr;
  return text;
}

// Forgets the file's positions at and below `pointer` (the value there is
// replaced), then marks it as coming from `var`.
void mark(json5::Document& doc, const std::string& pointer, const std::string& var) {
  auto forget = [&](auto& positions) {
    for (auto it = positions.begin(); it != positions.end();)
      it = (it->first == pointer || it->first.starts_with(pointer + "/")) ? positions.erase(it) : std::next(it);
  };
  forget(doc.value_pos);
  forget(doc.key_pos);
  SourcePos pos{"$" + var, 0, 0};
  doc.value_pos[pointer] = pos;
  doc.key_pos[pointer] = pos;
}

}  // namespace

Result<void> apply_env_overrides(json5::Document& doc, const Env& env) {
  for (const auto& [name, text] : env) {
    if (!name.starts_with(kPrefix)) continue;
    auto segments = split_segments(std::string_view(name).substr(kPrefix.size()));
    Json* node = &doc.value;
    std::string pointer;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& seg = segments[i];
      if (seg.empty()) return make_error("environment variable " + name + ": empty path segment");
      bool last = i + 1 == segments.size();
      std::string child = pointer + "/" + json5::pointer_token(seg);
      if (!node->is_object() && !node->is_array()) {
        *node = is_index(seg) ? Json::array() : Json::object();
        mark(doc, pointer, name);
      }
      if (node->is_array() && !is_index(seg)) {
        *node = Json::object();
        mark(doc, pointer, name);
      }
      // A list named in the environment replaces the file's (nconf returns
      // the first store's array whole): empty it the first time.
      if (node->is_array() && !from_env(doc, pointer)) {
        *node = Json::array();
        mark(doc, pointer, name);
      }
      Json* next;
      if (node->is_array()) {
        size_t index = std::stoul(seg);
        if (index > kMaxIndex) return make_error("environment variable " + name + ": index " + seg + " is too large");
        while (node->size() <= index) node->push_back(nullptr);
        next = &(*node)[index];
      } else {
        next = &(*node)[seg];
      }
      if (last) {
        *next = value_of(text);
        mark(doc, child, name);
      } else if (!next->is_object() && !next->is_array()) {
        *next = is_index(segments[i + 1]) ? Json::array() : Json::object();
        mark(doc, child, name);
      }
      node = next;
      pointer = child;
    }
  }
  return {};
}

}  // namespace autopilot::stash
