#include "app/control_command.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "control/control_client.h"
#include "control/control_config.h"

namespace autopilot::app {
namespace {

using Json = nlohmann::ordered_json;
constexpr int kFailed = 1;

struct Request {
  std::string flag;  // for messages: "-putmetric"
  std::string method, target, body;
};

// ContainerPilot's parsing of -putenv and -putmetric values: split at the
// first '='.
Result<Json> pairs(const std::vector<std::string>& values) {
  Json out = Json::object();
  for (const auto& v : values) {
    auto eq = v.find('=');
    if (eq == std::string::npos) return make_error("flag value '" + v + "' was not in the format 'key=val'");
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// What the flags ask for, by ContainerPilot's precedence.
Result<Request> request_of(const ControlFlags& f) {
  if (f.status) return Request{"status", "GET", "/v3/status", ""};
  if (f.reload) return Request{"-reload", "POST", "/v3/reload", ""};
  if (!f.maintenance.empty()) {
    // ContainerPilot takes any other word as disable; a typo must not end
    // maintenance, so we refuse it.
    if (f.maintenance != "enable" && f.maintenance != "disable")
      return make_error("-maintenance takes enable or disable, not \"" + f.maintenance + "\"");
    return Request{"-maintenance", "POST", "/v3/maintenance/" + f.maintenance, ""};
  }
  if (!f.putenv.empty()) {
    auto body = pairs(f.putenv);
    if (!body) return body.error();
    return Request{"-putenv", "POST", "/v3/environ", dump(*body)};
  }
  if (!f.putmetric.empty()) {
    auto body = pairs(f.putmetric);
    if (!body) return body.error();
    return Request{"-putmetric", "POST", "/v3/metric", dump(*body)};
  }
  return Request{"-ping", "GET", "/v3/ping", ""};
}

// The config's socket; the default without a config.
Result<std::string> socket_of(const std::string& config_flag, const config::Env& env, const config::LoadOptions& load) {
  auto path = config::resolve_path(config_flag, env);
  if (!path) return std::string(control::kDefaultSocket);
  auto cfg = config::load(*path, env, load);
  if (!cfg) return cfg.error();
  return cfg->control.socket;
}

// The server's reason: {"error": ...} or its plain-text body.
std::string reason(const control::ControlReply& reply) {
  Json j = Json::parse(reply.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  std::string text = reply.body;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::replace(text.begin(), text.end(), '\n', ' ');
  return fmt::format("status {}{}{}", reply.status, text.empty() ? "" : ": ", text);
}

// One line: a config error's quoted source and caret are left out.
int fail(const std::string& message) {
  fmt::print(stderr, "autopilot: {}\n", message.substr(0, message.find('\n')));
  return kFailed;
}

}  // namespace

Result<std::string> status_table(const std::string& json) {
  Json j = Json::parse(json, nullptr, false);
  if (!j.is_object() || !j["Jobs"].is_array() || !j["Services"].is_array() || !j["Watches"].is_array())
    return make_error("the status is not the JSON of /v3/status");
  auto text = [](const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string out = fmt::format("autopilot {}\n", text(j["Version"]));
  if (!j["Jobs"].empty()) {
    size_t w = 3;
    for (const auto& job : j["Jobs"]) w = std::max(w, text(job["Name"]).size());
    out += fmt::format("\n{:<{}}  {}\n", "JOB", w, "STATUS");
    for (const auto& job : j["Jobs"]) out += fmt::format("{:<{}}  {}\n", text(job["Name"]), w, text(job["Status"]));
  }
  if (!j["Services"].empty()) {
    size_t w = 7, a = 7;
    for (const auto& s : j["Services"]) {
      w = std::max(w, text(s["Name"]).size());
      a = std::max(a, text(s["Address"]).size());
    }
    out += fmt::format("\n{:<{}}  {:<{}}  {:>5}  {}\n", "SERVICE", w, "ADDRESS", a, "PORT", "STATUS");
    for (const auto& s : j["Services"])
      out += fmt::format("{:<{}}  {:<{}}  {:>5}  {}\n", text(s["Name"]), w, text(s["Address"]), a, text(s["Port"]),
                         text(s["Status"]));
  }
  if (!j["Watches"].empty()) {
    out += "\nWATCH\n";
    for (const auto& w : j["Watches"]) out += text(w) + "\n";
  }
  return out;
}

int run_control_command(const ControlFlags& flags, const std::string& config_flag, const config::Env& env,
                        const config::LoadOptions& load) {
  auto request = request_of(flags);
  if (!request) return fail(request.error().message);
  auto socket = socket_of(config_flag, env, load);
  if (!socket) return fail(socket.error().format());
  auto reply = control::control_request(*socket, request->method, request->target, request->body);
  if (!reply) return fail(request->flag + ": " + reply.error().message);
  if (reply->status != 200) return fail(request->flag + ": " + reason(*reply));
  if (request->flag == "-ping") fmt::print("ok\n");
  if (request->flag == "status") {
    if (flags.json) {
      fmt::print("{}\n", reply->body);
      return 0;
    }
    auto table = status_table(reply->body);
    if (!table) return fail("status: " + table.error().message);
    fmt::print("{}", *table);
  }
  return 0;
}

}  // namespace autopilot::app
