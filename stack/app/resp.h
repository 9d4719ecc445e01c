// RESP (REdis Serialization Protocol, version 2): the encoder for commands
// and an incremental decoder for replies. What the demo app's Redis client
// (redis_client.h) speaks; nothing here does I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace stack::resp {

// One reply. `kNil` is RESP2's null bulk string or null array.
struct Value {
  enum class Kind { kSimple, kError, kInteger, kBulk, kArray, kNil };
  Kind kind = Kind::kNil;
  std::string text;          // kSimple, kError, kBulk
  std::int64_t integer = 0;  // kInteger
  std::vector<Value> items;  // kArray

  bool is_error() const { return kind == Kind::kError; }
};

// A command as an array of bulk strings: {"SET", "k", "v"}.
std::string encode(const std::vector<std::string>& args);

// Decodes replies from a byte stream fed in pieces of any size.
class Decoder {
 public:
  // Appends received bytes.
  void feed(std::string_view bytes);
  // The next complete reply, or nullopt when more bytes are needed.
  // A protocol error (a bad type byte, a bad length) makes every later call
  // return nullopt and sets failed(): the connection must be dropped.
  std::optional<Value> next();
  bool failed() const { return failed_; }
  // Bytes received but not yet consumed by a complete reply.
  std::size_t buffered() const { return buffer_.size() - pos_; }

 private:
  enum class Parse { kDone, kNeedMore, kBad };
  Parse parse(std::size_t& at, Value& out, int depth);
  Parse line(std::size_t& at, std::string_view& out);

  std::string buffer_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace stack::resp
