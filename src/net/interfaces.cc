#include "net/interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "base/strings.h"

namespace autopilot::net {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

constexpr std::string_view kStaticPrefix = "static:";
constexpr std::string_view kForms =
    "expected an interface name (eth0, eth0:inet, eth0:inet6, eth0[1]), a CIDR (10.0.0.0/16), inet, inet6 "
    "or static:<ip>";

// Quotes a spec for a message, escaping what could forge lines or quotes.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

struct ParsedIp {
  Bytes bytes{};
  bool is_v6 = false;
};

// A literal IPv4 or IPv6 address (inet_pton: no zone, no prefix, no leading
// zeros in IPv4), in 16-byte form.
std::optional<ParsedIp> parse_ip(std::string_view text) {
  std::string s(text);  // inet_pton needs a NUL-terminated string
  ParsedIp out;
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.bytes.data(), &v6, 16);
    out.is_v6 = true;
    return out;
  }
  return std::nullopt;
}

std::string format_ip(const Bytes& bytes, bool is_v6) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v6) {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  }
  return buf;
}

bool is_loopback_ip(const Bytes& b, bool is_v6) {
  if (!is_v6) return b[12] == 127;
  static constexpr Bytes kV6Loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return b == kV6Loopback;
}

bool is_v6_link_local(const InterfaceAddress& a) {
  return a.is_v6 && a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;  // fe80::/10
}

// The first `bits` bits of a and b agree.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, int bits) {
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<InterfaceSpec> parse_static(const std::string& text) {
  std::string_view ip = std::string_view(text).substr(kStaticPrefix.size());
  auto parsed = parse_ip(ip);
  if (!parsed) {
    return make_error(
        fmt::format("invalid interface spec {}: {} is not an IPv4 or IPv6 address", in_quotes(text), in_quotes(ip)));
  }
  InterfaceSpec spec;
  spec.text = text;
  spec.kind = InterfaceSpec::Kind::kStatic;
  spec.is_v6 = parsed->is_v6;
  spec.ip = format_ip(parsed->bytes, parsed->is_v6);
  return spec;
}

Result<InterfaceSpec> parse_cidr(const std::string& text) {
  auto bad = [&](std::string_view why) {
    return make_error(fmt::format("invalid interface spec {}: invalid CIDR: {}", in_quotes(text), why));
  };
  size_t slash = text.find('/');
  std::string_view addr = std::string_view(text).substr(0, slash);
  std::string_view len = std::string_view(text).substr(slash + 1);
  auto parsed = parse_ip(addr);
  if (!parsed) return bad(fmt::format("{} is not an IPv4 or IPv6 address", in_quotes(addr)));
  int max = parsed->is_v6 ? 128 : 32;
  int prefix = -1;
  if (is_digits(len) && len.size() <= 3) std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (prefix < 0 || prefix > max) {
    return bad(fmt::format("the prefix length must be a number from 0 to {} for an {} address", max,
                           parsed->is_v6 ? "IPv6" : "IPv4"));
  }
  InterfaceSpec spec;
  spec.text = text;
  spec.kind = InterfaceSpec::Kind::kCidr;
  spec.is_v6 = parsed->is_v6;
  spec.prefix_len = prefix;
  // Clear the host bits (10.0.0.1/16 means 10.0.0.0/16, as in Go).
  int bits = parsed->is_v6 ? prefix : 96 + prefix;
  for (int i = 0; i < 16; ++i, bits -= 8) {
    if (bits >= 8) continue;
    parsed->bytes[i] &= bits <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - bits));
  }
  spec.network = parsed->bytes;
  return spec;
}

// eth0, eth0:inet, eth0:inet6, eth0[3].
Result<InterfaceSpec> parse_named(const std::string& text) {
  auto bad = [&](std::string_view why) {
    return make_error(fmt::format("invalid interface spec {}: {}", in_quotes(text), why));
  };
  size_t end = 0;
  while (end < text.size() && is_name_char(text[end])) ++end;
  if (end == 0) return bad(kForms);
  InterfaceSpec spec;
  spec.text = text;
  spec.interface = text.substr(0, end);
  std::string_view rest = std::string_view(text).substr(end);
  if (rest.empty() || rest == ":inet" || rest == ":inet6") {
    spec.kind = InterfaceSpec::Kind::kFamily;
    spec.is_v6 = rest == ":inet6";
    return spec;
  }
  if (rest[0] == ':') return bad("the family after ':' must be inet or inet6");
  if (rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after the index");
    if (close + 1 != rest.size()) return bad("nothing may follow the index in []");
    std::string_view digits = rest.substr(1, close - 1);
    if (!is_digits(digits)) return bad("the index in [] must be a number (0 is the first address)");
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), spec.index);
    if (ec != std::errc()) return bad("the index in [] is too large");
    spec.kind = InterfaceSpec::Kind::kIndex;
    return spec;
  }
  return bad(fmt::format("interface names hold only letters, digits, '_', '-' and '.'; {}", kForms));
}

Result<InterfaceSpec> parse_spec(const std::string& text) {
  if (text == "inet" || text == "inet6") {
    InterfaceSpec spec;
    spec.text = text;
    spec.kind = InterfaceSpec::Kind::kFamily;
    spec.is_v6 = text == "inet6";
    return spec;
  }
  if (starts_with(text, kStaticPrefix)) return parse_static(text);
  if (text.find('/') != std::string::npos) return parse_cidr(text);
  if (parse_ip(text)) {
    return make_error(fmt::format("invalid interface spec {}: a bare address is not a spec; write static:{} to "
                                  "advertise it, or {}/{} to pick it from the interfaces",
                                  in_quotes(text), text, text, text.find(':') != std::string::npos ? 128 : 32));
  }
  return parse_named(text);
}

bool matches(const InterfaceSpec& spec, const InterfaceAddress& a, std::uint32_t index_in_interface) {
  switch (spec.kind) {
    case InterfaceSpec::Kind::kFamily:
      if (spec.interface.empty() ? a.is_loopback : spec.interface != a.interface) return false;
      if (spec.is_v6 != a.is_v6) return false;
      return !is_v6_link_local(a);
    case InterfaceSpec::Kind::kIndex:
      return spec.interface == a.interface && spec.index == index_in_interface;
    case InterfaceSpec::Kind::kCidr:
      if (spec.is_v6 != a.is_v6) return false;
      return spec.is_v6 ? same_prefix(spec.network.data(), a.bytes.data(), spec.prefix_len)
                        : same_prefix(spec.network.data() + 12, a.bytes.data() + 12, spec.prefix_len);
    case InterfaceSpec::Kind::kStatic:
      return false;  // handled before the address scan
  }
  return false;
}

void sort_addresses(std::vector<InterfaceAddress>& addresses) {
  std::stable_sort(addresses.begin(), addresses.end(), [](const InterfaceAddress& x, const InterfaceAddress& y) {
    if (x.interface != y.interface) return x.interface < y.interface;
    return x.bytes < y.bytes;
  });
}

}  // namespace

Result<InterfaceAddress> make_interface_address(std::string interface, std::string_view ip,
                                                bool on_loopback_interface) {
  auto parsed = parse_ip(ip);
  if (!parsed) {
    return make_error(fmt::format("interface {}: {} is not an IPv4 or IPv6 address", in_quotes(interface), in_quotes(ip)));
  }
  InterfaceAddress a;
  a.interface = std::move(interface);
  a.is_v6 = parsed->is_v6;
  a.bytes = parsed->bytes;
  a.ip = format_ip(a.bytes, a.is_v6);
  a.is_loopback = on_loopback_interface || is_loopback_ip(a.bytes, a.is_v6);
  return a;
}

Result<std::vector<InterfaceSpec>> parse_interface_specs(const std::vector<std::string>& specs) {
  const std::vector<std::string>& texts = specs.empty() ? kDefaultInterfaceSpecs : specs;
  std::vector<InterfaceSpec> out;
  std::vector<std::string> errors;
  for (const auto& text : texts) {
    auto spec = parse_spec(text);
    if (spec) {
      out.push_back(std::move(*spec));
    } else {
      errors.push_back(spec.error().message);
    }
  }
  if (!errors.empty()) return make_error(join(errors, "; "));
  return out;
}

Result<std::string> select_address(const std::vector<InterfaceSpec>& specs, std::vector<InterfaceAddress> addresses) {
  sort_addresses(addresses);
  for (const auto& spec : specs) {
    if (spec.kind == InterfaceSpec::Kind::kStatic) return spec.ip;
    std::uint32_t index = 0;
    for (size_t i = 0; i < addresses.size(); ++i) {
      index = (i > 0 && addresses[i].interface == addresses[i - 1].interface) ? index + 1 : 0;
      if (matches(spec, addresses[i], index)) return addresses[i].ip;
    }
  }
  std::vector<std::string> tried;
  for (const auto& spec : specs) tried.push_back(in_quotes(spec.text));
  std::vector<std::string> seen;
  for (const auto& a : addresses) seen.push_back(a.interface + "=" + a.ip);
  return make_error(fmt::format("no interface address matches the interfaces [{}]; addresses seen: {}",
                                join(tried, ", "), seen.empty() ? std::string("none") : join(seen, ", ")));
}

Result<std::vector<InterfaceAddress>> system_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return make_error(fmt::format("getifaddrs: {}", std::strerror(errno)));
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
  std::vector<InterfaceAddress> out;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_name == nullptr) continue;
    InterfaceAddress a;
    a.interface = it->ifa_name;
    if (it->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
      a.bytes[10] = a.bytes[11] = 0xff;
      std::memcpy(a.bytes.data() + 12, &sin->sin_addr, 4);
    } else if (it->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(it->ifa_addr);
      std::memcpy(a.bytes.data(), &sin6->sin6_addr, 16);
      a.is_v6 = true;
    } else {
      continue;
    }
    a.ip = format_ip(a.bytes, a.is_v6);
    a.is_loopback = (it->ifa_flags & IFF_LOOPBACK) != 0 || is_loopback_ip(a.bytes, a.is_v6);
    out.push_back(std::move(a));
  }
  sort_addresses(out);
  return out;
}

}  // namespace autopilot::net
