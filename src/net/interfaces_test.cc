#include "net/interfaces.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace autopilot::net {
namespace {

InterfaceAddress addr(const std::string& interface, const std::string& ip, bool loopback_interface = false) {
  auto a = make_interface_address(interface, ip, loopback_interface);
  EXPECT_TRUE(a.ok()) << a.error().message;
  return *a;
}

// A container-like host: lo, eth0 (v4 + ULA + link-local), eth1, a VLAN and a veth.
std::vector<InterfaceAddress> host() {
  return {
      addr("lo", "127.0.0.1", true),     addr("lo", "::1", true),
      addr("eth1", "192.168.5.9"),       addr("eth0", "fe80::42:acff:fe11:2"),
      addr("eth0", "fdc6:1:2::7"),       addr("eth0", "10.0.3.4"),
      addr("eth0", "10.0.1.2"),          addr("eth0.100", "172.16.100.5"),
      addr("veth-a1", "169.254.3.3"),    addr("veth-a1", "2001:db8::5"),
  };
}

// Parses `specs` (must be valid) and selects from `addresses`.
Result<std::string> pick(const std::vector<std::string>& specs, std::vector<InterfaceAddress> addresses) {
  auto parsed = parse_interface_specs(specs);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  if (!parsed.ok()) return parsed.error();
  return select_address(*parsed, std::move(addresses));
}

std::string pick_ok(const std::vector<std::string>& specs, std::vector<InterfaceAddress> addresses) {
  auto r = pick(specs, std::move(addresses));
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : "<error>";
}

std::string parse_error(const std::vector<std::string>& specs) {
  auto r = parse_interface_specs(specs);
  EXPECT_FALSE(r.ok()) << "accepted: " << (specs.empty() ? "" : specs[0]);
  return r.ok() ? "" : r.error().message;
}

TEST(InterfaceAddressTest, MakeNormalisesAndClassifies) {
  auto a = addr("eth0", "FDC6:0:0::0001");
  EXPECT_EQ(a.ip, "fdc6::1");
  EXPECT_TRUE(a.is_v6);
  EXPECT_FALSE(a.is_loopback);
  auto b = addr("eth0", "10.1.2.3");
  EXPECT_FALSE(b.is_v6);
  EXPECT_EQ(b.bytes, (std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3}));
  EXPECT_TRUE(addr("eth0", "127.0.0.5").is_loopback);  // loopback address on any interface
  EXPECT_TRUE(addr("eth0", "::1").is_loopback);
  EXPECT_TRUE(addr("lo", "10.9.9.9", true).is_loopback);  // any address on a loopback interface
  EXPECT_FALSE(make_interface_address("eth0", "10.0.0.1/8").ok());
  EXPECT_FALSE(make_interface_address("eth0", "fe80::1%eth0").ok());
  EXPECT_EQ(make_interface_address("eth0", "nope").error().message,
            "interface \"eth0\": \"nope\" is not an IPv4 or IPv6 address");
}

TEST(InterfaceSelectTest, DefaultSpecs) {
  auto specs = parse_interface_specs({});
  ASSERT_TRUE(specs.ok());
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].text, "eth0:inet");
  EXPECT_EQ((*specs)[1].text, "inet");
  EXPECT_EQ(pick_ok({}, host()), "10.0.1.2");  // eth0's first IPv4 by bytes, whatever the input order
  // No eth0: the first non-loopback IPv4 in interface-name order.
  EXPECT_EQ(pick_ok({}, {addr("lo", "127.0.0.1", true), addr("wlan0", "10.5.0.1"), addr("ens3", "10.9.0.1")}),
            "10.9.0.1");
}

TEST(InterfaceSelectTest, NamedInterfaceFamilies) {
  EXPECT_EQ(pick_ok({"eth0"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"eth0:inet"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"eth0:inet6"}, host()), "fdc6:1:2::7");  // fe80:: sorts after fdc6:: anyway
  EXPECT_EQ(pick_ok({"eth1"}, host()), "192.168.5.9");
  EXPECT_EQ(pick_ok({"lo"}, host()), "127.0.0.1");  // a named loopback interface is allowed
  EXPECT_EQ(pick_ok({"lo:inet6"}, host()), "::1");
  EXPECT_EQ(pick_ok({"eth0.100"}, host()), "172.16.100.5");  // '.' and '-' in names (not in ContainerPilot)
  EXPECT_EQ(pick_ok({"veth-a1:inet6"}, host()), "2001:db8::5");
  EXPECT_FALSE(pick({"eth1:inet6"}, host()).ok());
  EXPECT_FALSE(pick({"eth2"}, host()).ok());
  EXPECT_FALSE(pick({"eth"}, host()).ok());  // names match exactly, not by prefix
}

TEST(InterfaceSelectTest, Inet6SkipsLinkLocal) {
  std::vector<InterfaceAddress> only_link_local = {addr("eth0", "fe80::1"), addr("eth0", "febf::2"),
                                                   addr("eth0", "10.0.0.1")};
  EXPECT_FALSE(pick({"eth0:inet6"}, only_link_local).ok());
  EXPECT_FALSE(pick({"inet6"}, only_link_local).ok());
  // Link-local sorts before a global address here (fe80 < ff..) but is skipped.
  std::vector<InterfaceAddress> mixed = {addr("eth0", "fe80::1"), addr("eth0", "ff05::9")};
  EXPECT_EQ(pick_ok({"eth0:inet6"}, mixed), "ff05::9");
  EXPECT_EQ(pick_ok({"inet6"}, mixed), "ff05::9");
  // fec0:: is outside fe80::/10 and is not skipped.
  EXPECT_EQ(pick_ok({"inet6"}, {addr("eth0", "fe80::1"), addr("eth0", "fec0::1")}), "fec0::1");
  // Indexing and an explicit CIDR still reach link-local addresses.
  EXPECT_EQ(pick_ok({"eth0[0]"}, mixed), "fe80::1");
  EXPECT_EQ(pick_ok({"fe80::/10"}, mixed), "fe80::1");
}

TEST(InterfaceSelectTest, AnyInterfaceExcludesLoopback) {
  std::vector<InterfaceAddress> list = {addr("lo", "127.0.0.1", true), addr("lo", "::1", true),
                                        addr("lo", "10.200.0.1", true), addr("docker0", "127.0.0.9")};
  EXPECT_FALSE(pick({"inet"}, list).ok());
  EXPECT_FALSE(pick({"inet6"}, list).ok());
  list.push_back(addr("tun0", "10.8.0.6"));
  list.push_back(addr("tun0", "2001:db8::1"));
  EXPECT_EQ(pick_ok({"inet"}, list), "10.8.0.6");
  EXPECT_EQ(pick_ok({"inet6"}, list), "2001:db8::1");
  // Interface order wins over address order.
  EXPECT_EQ(pick_ok({"inet"}, {addr("eth1", "10.0.0.1"), addr("eth0", "192.168.0.1")}), "192.168.0.1");
  EXPECT_EQ(pick_ok({"inet"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"inet6"}, host()), "fdc6:1:2::7");
}

TEST(InterfaceSelectTest, IndexCountsSortedAddressesOfAnyFamily) {
  // eth0 sorted: 10.0.1.2, 10.0.3.4 (::ffff:... sorts low), fdc6:1:2::7, fe80::42:acff:fe11:2
  EXPECT_EQ(pick_ok({"eth0[0]"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"eth0[1]"}, host()), "10.0.3.4");
  EXPECT_EQ(pick_ok({"eth0[2]"}, host()), "fdc6:1:2::7");
  EXPECT_EQ(pick_ok({"eth0[3]"}, host()), "fe80::42:acff:fe11:2");
  EXPECT_FALSE(pick({"eth0[4]"}, host()).ok());
  EXPECT_EQ(pick_ok({"eth1[0]"}, host()), "192.168.5.9");
  EXPECT_FALSE(pick({"eth1[1]"}, host()).ok());  // eth1's index does not run on into eth0.100
  EXPECT_EQ(pick_ok({"lo[0]"}, host()), "::1");  // ::1 sorts below ::ffff:127.0.0.1
  EXPECT_EQ(pick_ok({"lo[1]"}, host()), "127.0.0.1");
  EXPECT_EQ(pick_ok({"veth-a1[1]"}, host()), "2001:db8::5");
  EXPECT_EQ(pick_ok({"eth0[003]"}, host()), "fe80::42:acff:fe11:2");  // leading zeros, as strconv.Atoi
}

TEST(InterfaceSelectTest, SortingIsByNameThenBytesNotByText) {
  // Textually "10.0.0.10" < "10.0.0.9"; by bytes 9 < 10.
  std::vector<InterfaceAddress> list = {addr("eth0", "10.0.0.10"), addr("eth0", "10.0.0.9")};
  EXPECT_EQ(pick_ok({"eth0"}, list), "10.0.0.9");
  EXPECT_EQ(pick_ok({"eth0[1]"}, list), "10.0.0.10");
  // Names sort bytewise: "eth0" < "eth0.100" < "eth1" < "eth10" < "eth2".
  std::vector<InterfaceAddress> names = {addr("eth2", "10.2.0.1"), addr("eth10", "10.10.0.1"),
                                         addr("eth1", "10.1.0.1")};
  EXPECT_EQ(pick_ok({"inet"}, names), "10.1.0.1");
  names.erase(names.begin() + 2);
  EXPECT_EQ(pick_ok({"inet"}, names), "10.10.0.1");
  // An IPv4 address sorts before an IPv6 address above ::ffff:0:0/96, after one below it.
  std::vector<InterfaceAddress> mixed = {addr("eth0", "2001:db8::1"), addr("eth0", "255.255.255.255"),
                                         addr("eth0", "::2")};
  EXPECT_EQ(pick_ok({"eth0[0]"}, mixed), "::2");
  EXPECT_EQ(pick_ok({"eth0[1]"}, mixed), "255.255.255.255");
  EXPECT_EQ(pick_ok({"eth0[2]"}, mixed), "2001:db8::1");
  // The input order does not matter.
  auto shuffled = host();
  std::reverse(shuffled.begin(), shuffled.end());
  EXPECT_EQ(pick_ok({"eth0[1]"}, shuffled), "10.0.3.4");
}

TEST(InterfaceSelectTest, CidrV4) {
  EXPECT_EQ(pick_ok({"10.0.0.0/16"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"10.0.3.0/24"}, host()), "10.0.3.4");
  EXPECT_EQ(pick_ok({"10.0.3.4/32"}, host()), "10.0.3.4");
  EXPECT_FALSE(pick({"10.0.3.5/32"}, host()).ok());
  EXPECT_EQ(pick_ok({"172.16.0.0/12"}, host()), "172.16.100.5");
  EXPECT_EQ(pick_ok({"10.0.3.77/24"}, host()), "10.0.3.4");  // host bits are ignored
  EXPECT_EQ(pick_ok({"192.168.0.0/17"}, host()), "192.168.5.9");
  EXPECT_FALSE(pick({"192.168.128.0/17"}, host()).ok());
  // Odd prefix lengths compare bit by bit.
  EXPECT_EQ(pick_ok({"10.0.2.0/23"}, host()), "10.0.3.4");
  EXPECT_FALSE(pick({"10.0.4.0/23"}, host()).ok());
  // /0 matches any IPv4 address, loopback included: eth0 sorts first here.
  EXPECT_EQ(pick_ok({"0.0.0.0/0"}, host()), "10.0.1.2");
  EXPECT_EQ(pick_ok({"0.0.0.0/0"}, {addr("lo", "::1", true), addr("lo", "127.0.0.1", true)}), "127.0.0.1");
  // CIDRs include loopback addresses; `inet` does not.
  std::vector<InterfaceAddress> lo_only = {addr("lo", "127.0.0.1", true)};
  EXPECT_EQ(pick_ok({"127.0.0.0/8"}, lo_only), "127.0.0.1");
  EXPECT_FALSE(pick({"inet"}, lo_only).ok());
  // An IPv4 CIDR never matches IPv6 addresses, even /0.
  EXPECT_FALSE(pick({"0.0.0.0/0"}, {addr("eth0", "::ffff:10.0.0.1"), addr("eth0", "fdc6::1")}).ok());
}

TEST(InterfaceSelectTest, CidrV6) {
  EXPECT_EQ(pick_ok({"fdc6::/16"}, host()), "fdc6:1:2::7");
  EXPECT_EQ(pick_ok({"fdc6:1:2::/48"}, host()), "fdc6:1:2::7");
  EXPECT_FALSE(pick({"fdc6:1:3::/48"}, host()).ok());
  EXPECT_EQ(pick_ok({"fdc6:1:2::7/128"}, host()), "fdc6:1:2::7");
  EXPECT_FALSE(pick({"fdc6:1:2::8/128"}, host()).ok());
  EXPECT_EQ(pick_ok({"fc00::/7"}, host()), "fdc6:1:2::7");
  EXPECT_EQ(pick_ok({"2001:db8::/32"}, host()), "2001:db8::5");
  EXPECT_EQ(pick_ok({"::1/128"}, host()), "::1");  // loopback included
  // ::/0 matches any IPv6 address, never an IPv4 one.
  EXPECT_EQ(pick_ok({"::/0"}, host()), "fdc6:1:2::7");
  EXPECT_FALSE(pick({"::/0"}, {addr("eth0", "10.0.0.1")}).ok());
}

TEST(InterfaceSelectTest, StaticIsReturnedInCanonicalForm) {
  EXPECT_EQ(pick_ok({"static:192.0.2.7"}, {}), "192.0.2.7");
  EXPECT_EQ(pick_ok({"static:2001:DB8:0::1"}, {}), "2001:db8::1");  // canonical text
  EXPECT_EQ(pick_ok({"static:10.0.1.2"}, host()), "10.0.1.2");
  // It needs no interface and ends the search where it stands.
  EXPECT_EQ(pick_ok({"eth9", "static:192.0.2.7", "inet"}, host()), "192.0.2.7");
  EXPECT_EQ(pick_ok({"inet", "static:192.0.2.7"}, host()), "10.0.1.2");
}

TEST(InterfaceSelectTest, FirstMatchingSpecWins) {
  EXPECT_EQ(pick_ok({"eth9", "10.99.0.0/16", "eth1", "eth0"}, host()), "192.168.5.9");
  EXPECT_EQ(pick_ok({"eth0:inet6", "eth1"}, host()), "fdc6:1:2::7");
  EXPECT_EQ(pick_ok({"inet6", "inet"}, host()), "fdc6:1:2::7");
  EXPECT_EQ(pick_ok({"eth0[9]", "lo[1]"}, host()), "127.0.0.1");
  // Spec order, not address order: a later address under an earlier spec wins.
  EXPECT_EQ(pick_ok({"veth-a1", "eth0"}, host()), "169.254.3.3");
}

TEST(InterfaceSelectTest, NoMatchListsSpecsAndAddresses) {
  auto r = pick({"eth9", "10.99.0.0/16"}, {addr("lo", "127.0.0.1", true), addr("eth0", "10.0.0.2"),
                                           addr("lo", "::1", true)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "no interface address matches the interfaces [\"eth9\", \"10.99.0.0/16\"]; addresses seen: "
            "eth0=10.0.0.2, lo=::1, lo=127.0.0.1");  // in selection order
  auto none = pick({}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message,
            "no interface address matches the interfaces [\"eth0:inet\", \"inet\"]; addresses seen: none");
}

TEST(InterfaceSpecTest, ParsesEveryForm) {
  auto r = parse_interface_specs({"eth0", "eth0:inet6", "veth-a1[12]", "10.1.2.3/16", "fdc6::1/48", "inet6",
                                  "static:::1", "eth0.100:inet"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& s = *r;
  ASSERT_EQ(s.size(), 8u);
  EXPECT_EQ(s[0].kind, InterfaceSpec::Kind::kFamily);
  EXPECT_EQ(s[0].interface, "eth0");
  EXPECT_FALSE(s[0].is_v6);
  EXPECT_EQ(s[1].kind, InterfaceSpec::Kind::kFamily);
  EXPECT_TRUE(s[1].is_v6);
  EXPECT_EQ(s[2].kind, InterfaceSpec::Kind::kIndex);
  EXPECT_EQ(s[2].interface, "veth-a1");
  EXPECT_EQ(s[2].index, 12u);
  EXPECT_EQ(s[3].kind, InterfaceSpec::Kind::kCidr);
  EXPECT_FALSE(s[3].is_v6);
  EXPECT_EQ(s[3].prefix_len, 16);
  EXPECT_EQ(s[3].network, (std::array<std::uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 0, 0}));
  EXPECT_EQ(s[4].kind, InterfaceSpec::Kind::kCidr);
  EXPECT_TRUE(s[4].is_v6);
  EXPECT_EQ(s[4].network, (std::array<std::uint8_t, 16>{0xfd, 0xc6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(s[5].kind, InterfaceSpec::Kind::kFamily);
  EXPECT_EQ(s[5].interface, "");
  EXPECT_TRUE(s[5].is_v6);
  EXPECT_EQ(s[6].kind, InterfaceSpec::Kind::kStatic);
  EXPECT_EQ(s[6].ip, "::1");
  EXPECT_EQ(s[7].interface, "eth0.100");
  EXPECT_EQ(s[7].text, "eth0.100:inet");
}

TEST(InterfaceSpecTest, RejectsBadSpecsWithClearMessages) {
  EXPECT_EQ(parse_error({"eth0[x]"}),
            "invalid interface spec \"eth0[x]\": the index in [] must be a number (0 is the first address)");
  EXPECT_EQ(parse_error({"eth0[-1]"}),
            "invalid interface spec \"eth0[-1]\": the index in [] must be a number (0 is the first address)");
  EXPECT_EQ(parse_error({"eth0[]"}),
            "invalid interface spec \"eth0[]\": the index in [] must be a number (0 is the first address)");
  EXPECT_EQ(parse_error({"eth0[1"}), "invalid interface spec \"eth0[1\": missing ']' after the index");
  EXPECT_EQ(parse_error({"eth0[1]:inet"}), "invalid interface spec \"eth0[1]:inet\": nothing may follow the index in []");
  EXPECT_EQ(parse_error({"eth0[99999999999]"}), "invalid interface spec \"eth0[99999999999]\": the index in [] is too large");
  EXPECT_EQ(parse_error({"eth0:inet4"}), "invalid interface spec \"eth0:inet4\": the family after ':' must be inet or inet6");
  EXPECT_EQ(parse_error({"eth0:"}), "invalid interface spec \"eth0:\": the family after ':' must be inet or inet6");
  const std::string forms =
      "expected an interface name (eth0, eth0:inet, eth0:inet6, eth0[1]), a CIDR (10.0.0.0/16), inet, inet6 or "
      "static:<ip>";
  EXPECT_EQ(parse_error({""}), "invalid interface spec \"\": " + forms);
  EXPECT_EQ(parse_error({":inet"}), "invalid interface spec \":inet\": " + forms);
  EXPECT_EQ(parse_error({"eth 0"}), "invalid interface spec \"eth 0\": interface names hold only letters, digits, "
                                    "'_', '-' and '.'; " + forms);
  EXPECT_FALSE(parse_interface_specs({" eth0"}).ok());
  EXPECT_FALSE(parse_interface_specs({"eth0\n"}).ok());
  EXPECT_EQ(parse_error({"eth\"0"}).substr(0, 33), "invalid interface spec \"eth\\x220\"");
}

TEST(InterfaceSpecTest, RejectsBadCidrsAndStaticIps) {
  EXPECT_EQ(parse_error({"10.0.0.0/33"}),
            "invalid interface spec \"10.0.0.0/33\": invalid CIDR: the prefix length must be a number from 0 to 32 "
            "for an IPv4 address");
  EXPECT_EQ(parse_error({"fdc6::/129"}),
            "invalid interface spec \"fdc6::/129\": invalid CIDR: the prefix length must be a number from 0 to 128 "
            "for an IPv6 address");
  EXPECT_FALSE(parse_interface_specs({"10.0.0.0/"}).ok());
  EXPECT_FALSE(parse_interface_specs({"10.0.0.0/-1"}).ok());
  EXPECT_FALSE(parse_interface_specs({"10.0.0.0/8/8"}).ok());
  EXPECT_FALSE(parse_interface_specs({"10.0.0.0/1x"}).ok());
  EXPECT_FALSE(parse_interface_specs({"10.0.0.0/00000008"}).ok());
  EXPECT_EQ(parse_error({"10.0.0/8"}),
            "invalid interface spec \"10.0.0/8\": invalid CIDR: \"10.0.0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(parse_error({"eth0/24"}),
            "invalid interface spec \"eth0/24\": invalid CIDR: \"eth0\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(parse_error({"static:1.2.3"}),
            "invalid interface spec \"static:1.2.3\": \"1.2.3\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(parse_error({"static:"}), "invalid interface spec \"static:\": \"\" is not an IPv4 or IPv6 address");
  EXPECT_FALSE(parse_interface_specs({"static:256.1.1.1"}).ok());
  EXPECT_FALSE(parse_interface_specs({"static:example.com"}).ok());  // no DNS
  EXPECT_FALSE(parse_interface_specs({"static:fe80::1%eth0"}).ok());
  EXPECT_FALSE(parse_interface_specs({"static:10.0.0.1/8"}).ok());
  EXPECT_EQ(parse_error({"10.0.0.7"}),
            "invalid interface spec \"10.0.0.7\": a bare address is not a spec; write static:10.0.0.7 to advertise "
            "it, or 10.0.0.7/32 to pick it from the interfaces");
  EXPECT_EQ(parse_error({"fdc6::1"}),
            "invalid interface spec \"fdc6::1\": a bare address is not a spec; write static:fdc6::1 to advertise "
            "it, or fdc6::1/128 to pick it from the interfaces");
}

TEST(InterfaceSpecTest, ReportsEveryBadSpec) {
  EXPECT_EQ(parse_error({"eth0", "eth0[x]", "inet", "static:nope"}),
            "invalid interface spec \"eth0[x]\": the index in [] must be a number (0 is the first address); "
            "invalid interface spec \"static:nope\": \"nope\" is not an IPv4 or IPv6 address");
}

TEST(InterfaceSystemTest, FindsLoopbackAndSelectsFromRealList) {
  auto list = system_addresses();
  ASSERT_TRUE(list.ok()) << list.error().message;
  auto lo = std::find_if(list->begin(), list->end(),
                         [](const InterfaceAddress& a) { return a.interface == "lo" && a.ip == "127.0.0.1"; });
  ASSERT_NE(lo, list->end()) << "no 127.0.0.1 on lo";
  EXPECT_TRUE(lo->is_loopback);
  EXPECT_FALSE(lo->is_v6);
  // Already in selection order.
  EXPECT_TRUE(std::is_sorted(list->begin(), list->end(), [](const InterfaceAddress& x, const InterfaceAddress& y) {
    return x.interface != y.interface ? x.interface < y.interface : x.bytes < y.bytes;
  }));
  EXPECT_EQ(pick_ok({"static:192.0.2.1"}, *list), "192.0.2.1");
  // Whichever interface holds it, a 127/8 CIDR finds a loopback address; lo's first IPv4 is 127.0.0.1.
  auto loopback = pick({"127.0.0.0/8"}, *list);
  ASSERT_TRUE(loopback.ok()) << loopback.error().message;
  EXPECT_EQ(loopback->substr(0, 4), "127.");
  EXPECT_EQ(pick_ok({"lo"}, *list), "127.0.0.1");
  // `inet` never picks a loopback address from the real list.
  auto any = pick({"inet"}, *list);
  if (any.ok()) {
    EXPECT_NE(any->substr(0, 4), "127.");
  }
}

}  // namespace
}  // namespace autopilot::net
