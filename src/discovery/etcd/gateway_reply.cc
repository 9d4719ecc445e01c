#include "discovery/etcd/gateway_reply.h"

#include <fmt/format.h>

#include "discovery/etcd/grpc_code.h"

namespace autopilot::discovery::etcd {
namespace {

using Json = nlohmann::json;

// gRPC's own HTTP-to-status mapping, for replies that are not the gateway's
// JSON (a proxy's page, a 404 for an unknown method).
int code_for_http_status(int status) {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
    case 405:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return kCodeUnknown;
  }
}

// A short, single-line excerpt of an unexpected body for an error message.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 120)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > 120) out += "...";
  return out;
}

std::optional<Json> parse(std::string_view text) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return std::nullopt;
  return json;
}

std::optional<int> int_of(const Json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int>();
  return std::nullopt;
}

std::string string_of(const Json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// {"error":{"grpc_code":14,"http_code":503,"message":"..","http_status":".."}}
std::optional<Error> stream_error(const Json& frame) {
  auto it = frame.find("error");
  if (it == frame.end() || !it->is_object()) return std::nullopt;
  std::string message = string_of(*it, "message");
  if (message.empty()) message = "error frame without a message";
  return grpc_error(int_of(*it, "grpc_code").value_or(kCodeUnknown), std::move(message));
}

// {"error":"<msg>","message":"<msg>","code":N}
std::optional<Error> unary_error(const Json& body) {
  if (!body.is_object()) return std::nullopt;
  auto code = int_of(body, "code");
  if (!code) return stream_error(body);
  std::string message = string_of(body, "message");
  if (message.empty()) message = string_of(body, "error");
  return grpc_error(*code, message.empty() ? "error without a message" : message);
}

Result<Json> unwrap(Json body) {
  if (auto error = stream_error(body)) return *error;
  if (body.is_object() && body.size() == 1 && body.contains("result")) return std::move(body["result"]);
  return body;
}

}  // namespace

Result<Json> read_unary_reply(int status, std::string_view body) {
  std::optional<Json> json = parse(body);
  if (!json && status == 200) {
    // A stream method called as unary: frames, one per line; the first counts.
    FrameSplitter lines;
    lines.append(body);
    lines.append("\n");
    while (auto line = lines.next()) {
      if (line->find_first_not_of(" \t\r") == std::string::npos) continue;
      json = parse(*line);
      break;
    }
  }
  if (status == 200) {
    if (!json || !json->is_object()) {
      return grpc_error(kCodeUnknown, fmt::format("malformed reply: \"{}\"", excerpt(body)));
    }
    return unwrap(std::move(*json));
  }
  if (json) {
    if (auto error = unary_error(*json)) return *error;
  }
  return grpc_error(code_for_http_status(status), fmt::format("HTTP {}: \"{}\"", status, excerpt(body)));
}

Result<std::optional<Json>> read_frame(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return std::optional<Json>();
  std::optional<Json> frame = parse(line);
  if (!frame || !frame->is_object()) {
    return grpc_error(kCodeUnknown, fmt::format("malformed stream frame: \"{}\"", excerpt(line)));
  }
  if (auto error = stream_error(*frame)) return *error;
  auto result = frame->find("result");
  if (result == frame->end()) return std::optional<Json>();
  return std::optional<Json>(std::move(*result));
}

std::optional<std::string> FrameSplitter::next() {
  auto newline = buffer_.find('\n', start_);
  if (newline == std::string::npos) {
    // Keep only the incomplete tail, so the buffer does not grow with the stream.
    if (start_ > 0) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
    return std::nullopt;
  }
  std::string line = buffer_.substr(start_, newline - start_);
  start_ = newline + 1;
  return line;
}

}  // namespace autopilot::discovery::etcd
