#include "config/addresses.h"

#include <unistd.h>

#include <optional>

#include "discovery/catalog.h"
#include "net/interfaces.h"

namespace autopilot::config {
namespace {

using decode::Node;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

}  // namespace

Result<void> resolve_addresses(const decode::Decoder& d, const Node& jobs_node, std::vector<jobs::JobConfig>& jobs) {
  std::optional<std::vector<net::InterfaceAddress>> system;
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto& svc = jobs[i].service;
    if (!svc.is_registered()) continue;
    Node job = d.element(jobs_node, i);
    Node where = d.field(job, "interfaces").value_or(*d.field(job, "port"));
    auto specs = net::parse_interface_specs(svc.interfaces);
    if (!specs) return d.error(where, specs.error().message);
    if (!system) {
      auto addresses = net::system_addresses();
      if (!addresses) return d.error(where, addresses.error().message);
      system = std::move(*addresses);
    }
    auto address = net::select_address(*specs, *system);
    if (!address) return d.error(where, address.error().message);
    svc.address = *address;
    svc.node = host_name();
    jobs[i].fingerprint += "@" + svc.address;
    auto instance = jobs::instance_of(jobs[i]);
    if (auto r = discovery::validate_instance(instance); !r)
      return d.error(d.field(job, "id").value_or(job), "the instance to register is invalid: " + r.error().message);
  }
  return {};
}

}  // namespace autopilot::config
