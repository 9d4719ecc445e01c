// Interfaces: picks the IP address a job advertises in the catalog, from the
// job's `interfaces` option (ContainerPilot v3 semantics, described in the
// project's ContainerPilot v3 reference, §8).
//
//   "interfaces": ["eth0:inet", "10.0.0.0/16", "inet", "static:192.0.2.7"]
//
// Rules:
// - Specs are tried in order; the first spec that matches an address wins.
//   With no specs the default is ["eth0:inet", "inet"].
// - Addresses are considered sorted by interface name (bytewise), then by IP
//   bytes in 16-byte form (an IPv4 address compares as ::ffff:a.b.c.d).
//   "First" below means first in that order.
// - Spec forms:
//     eth0, eth0:inet   first IPv4 address of eth0
//     eth0:inet6        first IPv6 address of eth0, skipping link-local ones
//     eth0[1]           second address of eth0 (zero-based, any family,
//                       link-local included)
//     10.0.0.0/16       first address inside the CIDR on any interface,
//     fdc6::/48         loopback and link-local included; an IPv4 CIDR
//                       matches IPv4 addresses only, an IPv6 CIDR IPv6 only;
//                       host bits are allowed and ignored (10.0.0.1/16)
//     inet, inet6       first non-loopback IPv4 / IPv6 address of any
//                       interface (inet6 skips link-local addresses)
//     static:1.2.3.4    that literal IPv4 or IPv6 address (in canonical
//                       text), no lookup
// - An address is loopback when its interface is (IFF_LOOPBACK) or the
//   address itself is (127.0.0.0/8, ::1).
// - No match is an error that lists the specs tried and the addresses seen.
//
// Differences from ContainerPilot:
// - Interface names may contain '-' and '.' as well as [A-Za-z0-9_] (Linux
//   allows them: eth0.100, veth-a1); ContainerPilot accepts only \w+.
// - IPv6 link-local addresses (fe80::/10) are skipped by `inet6` and
//   `name:inet6`: without a zone (%eth0) they are useless to advertise.
//   `name[n]` and a CIDR such as fe80::/10 still reach them.
// - A spec that is a bare IP address ("10.0.0.7") is rejected with a hint to
//   write static:10.0.0.7 or 10.0.0.7/32, rather than taken as an interface
//   name that can never match.
// - Every bad spec is reported when the config is loaded.
//
// The selection is a pure function over a list of addresses, so tests use
// synthetic lists; system_addresses() reads the real ones (getifaddrs; no DNS
// or NSS, so it works in the static binary).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace autopilot::net {

// Used when a job lists no interfaces.
inline const std::vector<std::string> kDefaultInterfaceSpecs = {"eth0:inet", "inet"};

// One address of one interface.
struct InterfaceAddress {
  std::string interface;                 // "eth0"
  std::string ip;                        // canonical text (inet_ntop): "10.0.0.2", "fdc6::1"
  bool is_loopback = false;
  bool is_v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // 16-byte form; IPv4 as ::ffff:a.b.c.d
};

// Builds an InterfaceAddress from a literal IP (no zone, no prefix).
// is_loopback is set when `on_loopback_interface` or the IP is a loopback
// address. Error when `ip` is not an IPv4 or IPv6 literal.
Result<InterfaceAddress> make_interface_address(std::string interface, std::string_view ip,
                                                bool on_loopback_interface = false);

// One parsed entry of `interfaces`. Build it with parse_interface_specs().
struct InterfaceSpec {
  enum class Kind {
    kFamily,  // eth0, eth0:inet, eth0:inet6, inet, inet6
    kIndex,   // eth0[1]
    kCidr,    // 10.0.0.0/16, fdc6::/48
    kStatic,  // static:1.2.3.4
  };
  std::string text;                        // as written, for messages
  Kind kind = Kind::kFamily;
  std::string interface;                   // kFamily, kIndex; empty = any non-loopback interface
  bool is_v6 = false;                      // kFamily, kCidr: which family
  std::uint32_t index = 0;                 // kIndex
  std::array<std::uint8_t, 16> network{};  // kCidr: 16-byte form, host bits cleared
  int prefix_len = 0;                      // kCidr: 0-32 (IPv4) or 0-128 (IPv6)
  std::string ip;                          // kStatic: canonical text
};

// Parses and validates `interfaces` (config time). An empty list yields the
// parsed kDefaultInterfaceSpecs. The error names every bad spec, e.g.
// `invalid interface spec "eth0[x]": the index in [] must be a number (0 is
// the first address)`; several bad specs are joined with "; ".
Result<std::vector<InterfaceSpec>> parse_interface_specs(const std::vector<std::string>& specs);

// The address the first matching spec selects, as text. Pure: `addresses` is
// sorted here (the order it comes in does not matter).
Result<std::string> select_address(const std::vector<InterfaceSpec>& specs, std::vector<InterfaceAddress> addresses);

// The machine's IPv4 and IPv6 addresses (getifaddrs), interfaces up or down,
// in the order select_address() considers them.
Result<std::vector<InterfaceAddress>> system_addresses();

}  // namespace autopilot::net
