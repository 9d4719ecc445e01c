#include "decode/decoder.h"

#include <cmath>
#include <string>

#include "base/strings.h"

namespace autopilot::decode {

std::string shown(const nlohmann::ordered_json& j) {
  if (j.is_number_float()) {
    double v = j.get<double>();
    if (std::isnan(v)) return "NaN";  // dump() says "null"
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  }
  return j.dump();
}

namespace {

std::string type_name(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "a list";
    case nlohmann::json::value_t::object: return "an object";
    default: return "a number";
  }
}

}  // namespace

Error Decoder::at(const SourcePos& pos, std::string_view path, std::string_view message) const {
  std::string text = path.empty() ? std::string(message) : std::string(path) + ": " + std::string(message);
  return error_at(pos.file, text_, pos.line, pos.col, text);
}

std::string Decoder::shown_path(const Node& n) const {
  // The longest pointer with a shown path that is n's or an ancestor's.
  for (std::string p = n.pointer;; p.resize(p.rfind('/'))) {
    if (auto it = shown_paths_.find(p); it != shown_paths_.end()) {
      std::string path = it->second;
      for (const auto& token : split(std::string_view(n.pointer).substr(p.size()), '/')) {
        if (token.empty()) continue;
        bool index = token.find_first_not_of("0123456789") == std::string::npos;
        path += index ? "[" + token + "]" : (path.empty() ? "" : ".") + token;
      }
      return path;
    }
    if (p.empty()) return n.path;
  }
}

Error Decoder::error(const Node& n, std::string_view message) const {
  return at(doc_.pos_of(n.pointer), shown_path(n), message);
}

Error Decoder::key_error(const Node& n, std::string_view message) const {
  auto it = doc_.key_pos.find(n.pointer);
  return at(it != doc_.key_pos.end() ? it->second : doc_.pos_of(n.pointer), n.path, message);
}

Result<void> Decoder::require_object(const Node& n) const {
  if (!n->is_object()) return error(n, "must be an object, not " + type_name(*n));
  return {};
}

Result<void> Decoder::require_array(const Node& n) const {
  if (!n->is_array()) return error(n, "must be a list, not " + type_name(*n));
  return {};
}

Result<void> Decoder::only_keys(const Node& obj, std::span<const std::string> allowed) const {
  if (auto r = require_object(obj); !r) return r;
  for (const auto& [key, value] : obj->items()) {
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (known) continue;
    Node child = *field(obj, key);
    std::string message = "unknown key \"" + key + "\"";
    if (auto s = suggest(key, allowed)) message += " (did you mean \"" + *s + "\"?)";
    if (!unknown_key_note_.empty()) message += "; " + unknown_key_note_;
    Node parent_path{child.json, child.pointer, shown_path(obj)};
    return key_error(parent_path, message);
  }
  return {};
}

std::optional<Node> Decoder::field(const Node& obj, std::string_view key) const {
  if (!obj->is_object()) return std::nullopt;
  auto it = obj->find(std::string(key));
  if (it == obj->end()) return std::nullopt;
  std::string path = obj.path.empty() ? std::string(key) : obj.path + "." + std::string(key);
  return Node{&*it, obj.pointer + "/" + json5::pointer_token(key), path};
}

Node Decoder::element(const Node& array, size_t index) const {
  return Node{&(*array.json)[index], array.pointer + "/" + std::to_string(index),
              array.path + "[" + std::to_string(index) + "]"};
}

Result<std::string> Decoder::string(const Node& n) const {
  if (!n->is_string()) return error(n, "must be a string, not " + type_name(*n));
  return n->get<std::string>();
}

Result<std::int64_t> Decoder::integer(const Node& n) const {
  if (n->is_number_integer()) return n->get<std::int64_t>();
  if (n->is_number_float()) {
    double d = n->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
    return error(n, "must be a whole number");
  }
  if (n->is_string()) {
    const auto& s = n->get_ref<const std::string&>();
    size_t start = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (s.size() > start && s.size() < 18 && s.find_first_not_of("0123456789", start) == std::string::npos)
      return std::stoll(s);
  }
  return error(n, "must be a whole number, not " + type_name(*n));
}

Result<bool> Decoder::boolean(const Node& n) const {
  if (n->is_boolean()) return n->get<bool>();
  if (n->is_string()) {
    const auto& s = n->get_ref<const std::string&>();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return error(n, "must be true or false, not " + type_name(*n));
}

Result<std::vector<std::string>> Decoder::string_list(const Node& n) const {
  if (!n->is_array()) return error(n, "must be a list of strings, not " + type_name(*n));
  std::vector<std::string> out;
  for (size_t i = 0; i < n->size(); ++i) {
    auto s = string(element(n, i));
    if (!s) return s.error();
    out.push_back(std::move(*s));
  }
  return out;
}

Result<Duration> Decoder::duration(const Node& n, bool bare_seconds) const {
  std::string text;
  if (n->is_string()) {
    text = n->get<std::string>();
  } else if (bare_seconds && n->is_number_integer()) {
    text = std::to_string(n->get<std::int64_t>());
  } else if (bare_seconds && n->is_number_float()) {
    return error(n, "must be whole seconds or a duration: " + shown(*n) +
                        " is not a whole number (write \"2500ms\" for 2.5 s)");
  } else {
    return error(n, std::string("must be a duration like \"500ms\" or \"5s\"") +
                        (bare_seconds ? " (or whole seconds)" : "") + ", not " + type_name(*n));
  }
  auto d = parse_duration(text, bare_seconds);
  if (!d) return error(n, d.error().message);
  return *d;
}

}  // namespace autopilot::decode
