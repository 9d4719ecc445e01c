#include "stash/request_path.h"

#include <cctype>

#include "base/strings.h"

namespace autopilot::stash {
namespace {

Result<std::string> decode_segment(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = raw[i];
    if (c == '%') {
      int h = i + 1 < raw.size() ? hex_digit(raw[i + 1]) : -1;
      int l = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
      if (h < 0 || l < 0) return make_error("a bad percent escape");
      c = static_cast<unsigned char>(h * 16 + l);
      i += 2;
      if (c == '/' || c == '%') return make_error("an encoded '/' or '%' (a double-encoded path?)");
    }
    if (c < 0x20 || c == 0x7f) return make_error("a control character");
    if (c == '\\') return make_error("a backslash");
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace

std::string RequestPath::text() const {
  std::string out;
  for (const auto& s : segments) out += "/" + s;
  if (out.empty() || trailing_slash) out += "/";
  return out;
}

Result<RequestPath> parse_request_path(std::string_view target) {
  if (target.empty() || target[0] != '/') return make_error("not an origin-form target");
  target = target.substr(0, target.find_first_of("?#"));
  RequestPath path;
  auto raw = split(target.substr(1), '/');
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].empty()) {
      if (i + 1 == raw.size()) {
        path.trailing_slash = i > 0;
        break;
      }
      return make_error("an empty path segment");
    }
    auto seg = decode_segment(raw[i]);
    if (!seg) return seg.error();
    if (*seg == "." || *seg == "..") return make_error("a dot segment");
    path.segments.push_back(std::move(*seg));
  }
  return path;
}

bool strip_mount(const std::vector<std::string>& prefix, std::vector<std::string>& segments) {
  if (prefix.size() > segments.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (prefix[i] != segments[i]) return false;
  segments.erase(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(prefix.size()));
  return true;
}

std::string encode_segment(std::string_view segment) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace autopilot::stash
