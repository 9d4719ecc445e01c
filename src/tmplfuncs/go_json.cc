#include "tmplfuncs/go_json.h"

#include <charconv>
#include <cmath>

#include "tmplfuncs/records.h"

namespace autopilot::tmplfuncs {
namespace {

using tmpl::Value;

constexpr int kMaxDepth = 1000;
constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t valid_utf8_len(const std::string& s, size_t i) {
  auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) { return at(k) >= lo && at(k) <= hi; };
  unsigned c = at(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void append_string(std::string& out, const std::string& s, bool escape_html) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (b < 0x20 || (escape_html && (b == '<' || b == '>' || b == '&'))) {
            out += "\\u00";
            out += kHex[b >> 4];
            out += kHex[b & 0xF];
          } else {
            out += static_cast<char>(b);
          }
      }
      ++i;
      continue;
    }
    size_t n = valid_utf8_len(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
    } else if (n == 3 && b == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";  // JSONP-safe, as Go
      i += 3;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  out += '"';
}

// encoding/json's float64: 'f' format, or 'e' below 1e-6 / from 1e21 with
// a one-digit negative exponent unpadded (1e-7, not 1e-07).
Result<void> append_float(std::string& out, double f) {
  if (std::isnan(f)) return make_error("json: unsupported value: NaN");
  if (std::isinf(f)) return make_error(f > 0 ? "json: unsupported value: +Inf" : "json: unsupported value: -Inf");
  double a = std::fabs(f);
  bool exp = a != 0 && (a < 1e-6 || a >= 1e21);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string text(buf, r.ptr);
  size_t n = text.size();
  if (exp && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') text.erase(n - 2, 1);
  out += text;
  return {};
}

class Encoder {
 public:
  Encoder(std::string& out, JsonStyle style) : out_(out), style_(style) {}

  Result<void> encode(const Value& v, int depth) {
    if (depth > kMaxDepth) return make_error("json: value nested too deeply");
    switch (v.kind()) {
      case Value::Kind::kNull:
        out_ += "null";
        return {};
      case Value::Kind::kBool:
        out_ += v.as_bool() ? "true" : "false";
        return {};
      case Value::Kind::kInt:
        out_ += std::to_string(v.as_int());
        return {};
      case Value::Kind::kFloat:
        if (v.is_complex()) return make_error("json: unsupported type: complex128");
        return append_float(out_, v.as_float());
      case Value::Kind::kString:
        append_string(out_, v.as_string(), style_.escape_html);
        return {};
      case Value::Kind::kList:
        return encode_list(v.as_list(), depth);
      case Value::Kind::kMap:
        return encode_map(v.as_map(), depth);
      case Value::Kind::kRecord:
        return encode_record(v, depth);
    }
    return {};
  }

 private:
  void newline(int depth) {
    if (!style_.pretty) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(depth) * 2, ' ');
  }

  Result<void> encode_list(const std::vector<Value>& items, int depth) {
    out_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += ',';
      newline(depth + 1);
      if (auto r = encode(items[i], depth + 1); !r) return r;
    }
    if (!items.empty()) newline(depth);
    out_ += ']';
    return {};
  }

  // Members as (name, value) pairs, in the order to write them.
  template <class Members>
  Result<void> encode_object(const Members& members, int depth) {
    out_ += '{';
    bool first = true;
    for (const auto& [name, value] : members) {
      if (!first) out_ += ',';
      first = false;
      newline(depth + 1);
      append_string(out_, name, style_.escape_html);
      out_ += style_.pretty ? ": " : ":";
      if (auto r = encode(value, depth + 1); !r) return r;
    }
    if (!first) newline(depth);
    out_ += '}';
    return {};
  }

  Result<void> encode_map(const std::map<std::string, Value>& m, int depth) { return encode_object(m, depth); }

  Result<void> encode_record(const Value& v, int depth) {
    const auto* r = dynamic_cast<const StructRecord*>(&v.as_record());
    if (!r) return make_error("json: unsupported type: " + std::string(v.as_record().type_name()));
    std::vector<std::pair<std::string, Value>> members;
    for (size_t k = 0, n = r->field_count(); k < n; ++k)
      if (r->field_in_json(k)) members.emplace_back(r->field_name(k), r->field_value(k));
    return encode_object(members, depth);
  }

  std::string& out_;
  JsonStyle style_;
};

}  // namespace

Result<std::string> to_go_json(const Value& v, JsonStyle style) {
  std::string out;
  Encoder encoder(out, style);
  if (auto r = encoder.encode(v, 0); !r) return r.error();
  return out;
}

}  // namespace autopilot::tmplfuncs
