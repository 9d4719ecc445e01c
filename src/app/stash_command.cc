#include "app/stash_command.h"

#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "app/catalog_command.h"
#include "app/linux_wiring.h"
#include "health/checks.h"
#include "jobs/job_config.h"
#include "jobs/service.h"
#include "net/interfaces.h"
#include "os/linux/signals.h"
#include "stash/stash.h"

namespace autopilot::app {
namespace {

constexpr int kFailed = 1;
constexpr int kBadInput = 2;
// How long a shutdown waits for the catalog to confirm the deregistration.
constexpr std::chrono::seconds kWithdrawLimit{5};

void print_error(const std::string& message) { fmt::print(stderr, "autopilot: {}\n", message); }

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
  return buf;
}

// The job whose Service registers the server: its port, the address its
// interfaces pick, and a check on the server itself.
Result<jobs::JobConfig> registration_job(const stash::StashConfig& cfg, int port) {
  jobs::JobConfig job;
  job.name = cfg.service.name;
  if (auto valid = discovery::validate_service_name(job.name); !valid)
    return make_error("service.name: " + valid.error().message);
  auto specs = net::parse_interface_specs(cfg.service.interfaces);
  if (!specs) return make_error("service.interfaces: " + specs.error().message);
  auto addresses = net::system_addresses();
  if (!addresses) return addresses.error();
  auto address = net::select_address(*specs, *addresses);
  if (!address) return make_error("service.interfaces: " + address.error().message);
  job.service.port = port;
  job.service.id = cfg.service.id;
  job.service.address = *address;
  job.service.node = host_name();
  health::HealthConfig health;
  // Over TLS the http check (plain HTTP only) cannot speak to us: a connect proves the listener.
  if (cfg.tls) {
    health.kind = health::Kind::kTcp;
    health.address = fmt::format("127.0.0.1:{}", port);
  } else {
    health.kind = health::Kind::kHttp;
    health.url = fmt::format("http://127.0.0.1:{}{}", port, stash::kHealthPath);
  }
  health.interval = cfg.service.interval;
  health.ttl = cfg.service.ttl;
  health.timeout = std::min<Duration>(cfg.service.interval, std::chrono::seconds(2));
  job.health = health;
  if (auto r = discovery::validate_instance(jobs::instance_of(job)); !r)
    return make_error("the instance to register is invalid: " + r.error().message);
  return job;
}

}  // namespace

int run_stash_command(const StashOptions& options, const config::Env& env) {
  auto cfg = stash::load_stash_config({options.config_file, options.port}, env);
  if (!cfg) {
    print_error(cfg.error().format());
    return kBadInput;
  }
  bool has_catalog = !options.discovery_dir.empty() || !options.etcd.empty();
  if (cfg->needs_catalog() && !has_catalog) {
    print_error("a kv mount serves catalog keys: give --discovery-dir DIR or --etcd URLS");
    return kBadInput;
  }
  std::optional<discovery::DiscoveryConfig> catalog_config;
  if (has_catalog) {
    auto chosen = choose_catalog(options.discovery_dir, options.etcd, "", false, env);
    if (!chosen) {
      print_error(chosen.error().format());
      return kBadInput;
    }
    catalog_config = std::move(*chosen);
  }

  LinuxWiring os(log::LogConfig{log::Level::kInfo, log::Format::kDefault, "stdout"}, env);
  if (auto opened = os.log().open(); !opened) {
    print_error(opened.error().message);
    return kFailed;
  }
  if (catalog_config) {
    if (auto opened = os.open_catalog(*catalog_config); !opened) {
      print_error(fmt::format("opening the {}: {}", catalog_config->describe(), opened.error().message));
      return kFailed;
    }
  }
  const Wiring wiring = os.wiring();
  auto stash = stash::Stash::make(*cfg, os.loop(), wiring.catalog, os.log());
  if (!stash) {
    print_error(stash.error().message);
    return kBadInput;
  }
  net::HttpServer server(
      os.loop(),
      [s = stash->get()](const net::HttpRequest& r, net::HttpServer::Reply reply) { s->handle(r, std::move(reply)); },
      stash::kServerLimits);
  if (cfg->tls) {
    if (auto r = server.use_tls(cfg->tls->cert_pem, cfg->tls->key_pem); !r) {
      print_error(r.error().message);
      return kBadInput;
    }
  }
  if (auto r = server.listen(cfg->address, cfg->port); !r) {
    print_error(r.error().message);
    return kFailed;
  }
  std::unique_ptr<jobs::Service> service;
  if (wiring.catalog) {
    auto job = registration_job(*cfg, server.port());
    if (!job) {
      print_error(job.error().message);
      return kBadInput;
    }
    service = std::make_unique<jobs::Service>(*job, wiring, health::make_check(*job->health, job->name, wiring));
  }
  bool stopping = false;
  // Caught before the first log line, so a signal right after it is ours to handle.
  os::SignalSource signals(os.loop(), [&](int sig) {
    if (sig != SIGTERM && sig != SIGINT) return;
    if (stopping) return;
    stopping = true;
    os.log().info(fmt::format("stash: received {}; stopping", strsignal(sig)));
    server.stop();
    if (!service) return os.loop().stop();
    service->withdraw(kWithdrawLimit, [&] { os.loop().stop(); });
  });
  os.log().info(fmt::format("stash: serving {} mount{} on {}:{} ({}) from {}", cfg->mounts.size(),
                            cfg->mounts.size() == 1 ? "" : "s", cfg->address, server.port(),
                            cfg->tls ? "https" : "http", cfg->source));
  if (service) service->start();

  os.loop().run();
  os.log().info("stash: stopped");
  return 0;
}

}  // namespace autopilot::app
