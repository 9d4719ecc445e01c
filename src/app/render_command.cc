#include "app/render_command.h"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <fmt/format.h>

#include "app/catalog_command.h"
#include "app/linux_wiring.h"
#include "log/log.h"
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
  LinuxWiring os(log::LogConfig{log::Level::kInfo, log::Format::kDefault, "stderr"}, env);
  if (auto present = require_existing_catalog(*chosen, os.files()); !present) {
    print_error(present.error().message);
    return kFailed;
  }
  if (auto opened = os.log().open(); !opened) {
    print_error(opened.error().message);
    return kFailed;
  }
  if (auto opened = os.open_catalog(*chosen); !opened) {
    print_error(opened.error().message);
    return kFailed;
  }
  const Wiring wiring = os.wiring();
  boost::asio::io_context& io = os.loop();
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
  return failed ? kFailed : 0;
}

}  // namespace autopilot::app
