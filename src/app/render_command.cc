#include "app/render_command.h"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "app/catalog_command.h"
#include "events/bus.h"
#include "log/log.h"
#include "os/linux/asio_timers.h"
#include "os/linux/linux_files.h"
#include "os/linux/linux_processes.h"
#include "os/linux/signals.h"
#include "render/renderer.h"

namespace autopilot::app {
namespace {

constexpr int kFailed = 1;
constexpr int kBadInput = 2;

void print_error(const std::string& message) { fmt::print(stderr, "autopilot: {}\n", message); }

}  // namespace

int run_render_command(const RenderRequest& request, const config::Env& env) {
  if (request.templates.empty()) {
    print_error("render: give at least one -template \"SOURCE:DESTINATION[:COMMAND]\"");
    return kBadInput;
  }
  std::vector<render::TemplateConfig> templates;
  for (const auto& flag : request.templates) {
    auto t = render::template_from_flag(flag);
    if (!t) {
      print_error(t.error().format());
      return kBadInput;
    }
    templates.push_back(std::move(*t));
  }
  auto chosen = choose_catalog(request.discovery_dir, request.etcd, request.config_flag, request.strict, env);
  if (!chosen) {
    print_error(chosen.error().format());
    return kBadInput;
  }
  boost::asio::io_context io;
  os::LinuxFiles files(io);
  if (auto present = require_existing_catalog(*chosen, files); !present) {
    print_error(present.error().message);
    return kFailed;
  }

  os::AsioTimers timers(io);
  os::LinuxProcesses processes(io);
  log::Log log(log::LogConfig{log::Level::kInfo, log::Format::kDefault, "stderr"});
  if (auto opened = log.open(); !opened) {
    print_error(opened.error().message);
    return kFailed;
  }
  events::Bus bus([&io](std::function<void()> f) { boost::asio::post(io, std::move(f)); });
  auto catalog = discovery::open_catalog(*chosen, io, timers, files, log);
  if (!catalog) {
    print_error(catalog.error().message);
    return kFailed;
  }
  std::vector<std::string> entries;
  for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
  os::Environment child_env(std::move(entries));
  const Wiring wiring{.loop = io,
                      .timers = timers,
                      .processes = processes,
                      .files = files,
                      .log = log,
                      .bus = bus,
                      .catalog = catalog->get(),
                      .env = [&env](const std::string& name) -> std::optional<std::string> {
                        auto it = env.find(name);
                        if (it == env.end()) return std::nullopt;
                        return it->second;
                      },
                      .child_env = [&child_env] { return child_env; }};
  std::vector<std::unique_ptr<render::Renderer>> renderers;
  size_t finished = 0;
  bool failed = false;
  for (auto& t : templates) {
    if (request.once) t.wait_min = t.wait_max = Duration{0};
    auto r = std::make_unique<render::Renderer>(std::move(t), wiring);
    render::Renderer* raw = r.get();
    auto first = std::make_shared<bool>(true);
    auto done_once = [&, first] {
      if (!*first) return;
      *first = false;
      if (request.once && ++finished == renderers.size()) io.stop();
    };
    if (request.dry) {
      raw->on_dry_render = [raw, done_once](const std::string& text) {
        fmt::print("> {}\n{}", raw->config().destination, text);
        std::fflush(stdout);
        done_once();
      };
    }
    // consul-template -once exits non-zero when a template fails to execute.
    raw->on_render_error = [&, done_once](const Error&) {
      failed = true;
      done_once();
    };
    raw->on_written = [&, done_once](const Result<render::Outcome>& outcome) {
      if (!outcome || *outcome == render::Outcome::kCheckFailed || *outcome == render::Outcome::kCommandFailed)
        failed = true;
      done_once();
    };
    renderers.push_back(std::move(r));
  }
  os::SignalSource signals(io, [&](int sig) {
    if (sig == SIGINT || sig == SIGTERM) io.stop();
  });
  for (auto& r : renderers) r->start();
  io.run();
  renderers.clear();
  catalog->reset();
  return failed ? kFailed : 0;
}

}  // namespace autopilot::app
