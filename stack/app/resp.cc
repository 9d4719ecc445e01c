#include "resp.h"

#include <charconv>

namespace stack::resp {

namespace {
// Bounds that keep a corrupt length from allocating the machine away.
constexpr std::int64_t kMaxBulk = 512 * 1024 * 1024;
constexpr std::int64_t kMaxItems = 1024 * 1024;
constexpr int kMaxDepth = 32;

bool to_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace

std::string encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

void Decoder::feed(std::string_view bytes) {
  // Drop what complete replies consumed before growing the buffer.
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<Value> Decoder::next() {
  if (failed_) return std::nullopt;
  std::size_t at = pos_;
  Value v;
  switch (parse(at, v, 0)) {
    case Parse::kDone:
      pos_ = at;
      return v;
    case Parse::kNeedMore:
      return std::nullopt;
    case Parse::kBad:
      failed_ = true;
      return std::nullopt;
  }
  return std::nullopt;
}

// A line ending in CRLF from `at`, without the CRLF; `at` moves past it.
Decoder::Parse Decoder::line(std::size_t& at, std::string_view& out) {
  auto end = buffer_.find("\r\n", at);
  if (end == std::string::npos) return Parse::kNeedMore;
  out = std::string_view(buffer_).substr(at, end - at);
  at = end + 2;
  return Parse::kDone;
}

Decoder::Parse Decoder::parse(std::size_t& at, Value& out, int depth) {
  if (depth > kMaxDepth) return Parse::kBad;
  if (at >= buffer_.size()) return Parse::kNeedMore;
  char type = buffer_[at++];
  std::string_view text;
  if (auto r = line(at, text); r != Parse::kDone) return r;
  std::int64_t n = 0;
  switch (type) {
    case '+':
      out.kind = Value::Kind::kSimple;
      out.text = text;
      return Parse::kDone;
    case '-':
      out.kind = Value::Kind::kError;
      out.text = text;
      return Parse::kDone;
    case ':':
      out.kind = Value::Kind::kInteger;
      return to_int(text, out.integer) ? Parse::kDone : Parse::kBad;
    case '$':
      if (!to_int(text, n) || n < -1 || n > kMaxBulk) return Parse::kBad;
      if (n == -1) {
        out.kind = Value::Kind::kNil;
        return Parse::kDone;
      }
      if (buffer_.size() - at < static_cast<std::size_t>(n) + 2) return Parse::kNeedMore;
      if (buffer_.compare(at + static_cast<std::size_t>(n), 2, "\r\n") != 0) return Parse::kBad;
      out.kind = Value::Kind::kBulk;
      out.text = buffer_.substr(at, static_cast<std::size_t>(n));
      at += static_cast<std::size_t>(n) + 2;
      return Parse::kDone;
    case '*':
      if (!to_int(text, n) || n < -1 || n > kMaxItems) return Parse::kBad;
      if (n == -1) {
        out.kind = Value::Kind::kNil;
        return Parse::kDone;
      }
      out.kind = Value::Kind::kArray;
      out.items.resize(static_cast<std::size_t>(n));
      for (auto& item : out.items)
        if (auto r = parse(at, item, depth + 1); r != Parse::kDone) return r;
      return Parse::kDone;
    default:
      return Parse::kBad;
  }
}

}  // namespace stack::resp
