#include "config/v2.h"

#include "base/strings.h"
#include "decode/command.h"

namespace autopilot::config {
namespace {

using decode::Decoder;
using decode::Node;
using Json = nlohmann::ordered_json;

const std::vector<std::string> kTopKeys{"consul",   "etcd",        "logging",  "preStart",    "onStart",
                                        "preStop",  "postStop",    "stopTimeout", "services", "backends",
                                        "coprocesses", "tasks",    "telemetry"};
const std::vector<std::string> kServiceKeys{"name", "port", "health", "poll", "ttl", "timeout", "interfaces", "tags",
                                            "consul"};
const std::vector<std::string> kBackendKeys{"name", "poll", "onChange", "tag", "timeout"};
const std::vector<std::string> kCoprocessKeys{"name", "command", "restarts"};
const std::vector<std::string> kTaskKeys{"name", "command", "frequency", "timeout"};
const std::vector<std::string> kEtcdKeys{"endpoints", "prefix"};
const std::vector<std::string> kTelemetryKeys{"port", "interfaces", "tags", "sensors"};
const std::vector<std::string> kSensorKeys{"namespace", "subsystem", "name", "help", "type", "poll", "check", "timeout"};

// Builds the v3 document, giving each value the position of its v2 origin.
class Translator {
 public:
  Translator(const Decoder& d, const json5::Document& src, bool started) : d_(d), src_(src), started_(started) {
    out_.doc.file = src.file;
    out_.doc.value = Json::object();
    out_.doc.value_pos[""] = src.pos_of("");
  }

  Result<V2Translation> run(const std::vector<std::string>& app);

 private:
  Result<void> top_level();
  Result<void> prestart();
  Result<void> services(const std::vector<std::string>& app);
  Result<void> service_job(const Node& svc, const std::string& name, const std::vector<std::string>& app);
  Result<void> hooks();
  Result<void> backends();
  Result<void> coprocesses();
  Result<void> tasks();
  Result<void> telemetry();

  // Sets `to` (a JSON pointer in the output) to `value`, placed at `from`.
  void put(const std::string& to, Json value, const Node& from);
  // Copies the v2 subtree `from` to `to`, positions included.
  void copy(const std::string& to, const Node& from);
  std::string next(const char* list) { return std::string("/") + list + "/" + std::to_string(count_[list]++); }
  Result<Node> required(const Node& obj, const std::string& key, const std::string& what) const;
  Result<std::string> command_name(const Node& command) const;
  Result<Node> list_of_objects(const std::string& key, const std::vector<std::string>& keys, size_t i) const;
  void wait_for_prestart(const std::string& job, const Node& from, bool is_app = false);
  // For a job whose `when` is taken (an interval, a watch): `when.after`.
  std::string gate_as_poller(const std::string& job, const Node& from);

  const Decoder& d_;
  const json5::Document& src_;
  V2Translation out_;
  std::map<std::string, int> count_;
  std::string app_name_;
  bool has_prestart_ = false;
  bool started_;
};

void Translator::put(const std::string& to, Json value, const Node& from) {
  out_.doc.value[Json::json_pointer(to)] = std::move(value);
  out_.doc.value_pos[to] = src_.pos_of(from.pointer);
  auto key = src_.key_pos.find(from.pointer);
  out_.doc.key_pos[to] = key != src_.key_pos.end() ? key->second : src_.pos_of(from.pointer);
  out_.shown_paths[to] = from.path;
}

void Translator::copy(const std::string& to, const Node& from) {
  put(to, *from, from);
  const std::string& base = from.pointer;
  for (const auto* positions : {&src_.value_pos, &src_.key_pos}) {
    auto& target = positions == &src_.value_pos ? out_.doc.value_pos : out_.doc.key_pos;
    for (const auto& [p, pos] : *positions)
      if (p.size() > base.size() && starts_with(p, base + "/")) target[to + p.substr(base.size())] = pos;
  }
}

Result<Node> Translator::required(const Node& obj, const std::string& key, const std::string& what) const {
  if (auto n = d_.field(obj, key)) return *n;
  return d_.error(obj, "needs '" + key + "' (" + what + ")");
}

// ContainerPilot v2 names a coprocess or task without a name by its command.
Result<std::string> Translator::command_name(const Node& command) const {
  auto argv = decode::command(d_, command);
  if (!argv) return argv.error();
  return join(*argv, " ");
}

Result<Node> Translator::list_of_objects(const std::string& key, const std::vector<std::string>& keys,
                                         size_t i) const {
  Node list = *d_.field(d_.root(), key);
  Node n = d_.element(list, i);
  if (auto r = d_.require_object(n); !r) return r.error();
  if (auto r = d_.only_keys(n, keys); !r) return r.error();
  return n;
}

// On a reload (started_) only the app still waits: preStart ran once and
// will not run again, and the others restart now, as v2 restarted them.
void Translator::wait_for_prestart(const std::string& job, const Node& from, bool is_app) {
  if (has_prestart_ && (is_app || !started_)) put(job + "/when", Json{{"source", "preStart"}, {"once", "exitSuccess"}}, from);
}

// v2 polls backends and runs tasks only once preStart has succeeded: the
// job's `when` (a watch event, an interval) gets `after` preStart's
// exitSuccess (JobConfig::gate). v2 also skips them in maintenance, which no
// key says: that is set outside the document. Returns the note for
// `migrate`, whose v3 output cannot keep the pause.
std::string Translator::gate_as_poller(const std::string& job, const Node& from) {
  out_.paused_in_maintenance.push_back(std::stoul(job.substr(job.rfind('/') + 1)));
  std::string note = "; v2 skipped it in maintenance (SIGUSR1), which v3 cannot say";
  if (!has_prestart_ || started_) return note;
  put(job + "/when/after", Json{{"source", "preStart"}, {"once", "exitSuccess"}}, from);
  return ", once preStart succeeded" + note;
}

Result<void> Translator::top_level() {
  Node root = d_.root();
  if (auto r = d_.only_keys(root, kTopKeys); !r) return r.error();
  auto consul = d_.field(root, "consul");
  auto etcd = d_.field(root, "etcd");
  if (consul && etcd)
    return d_.key_error(*etcd, "a v2 config names one discovery backend: `consul` or `etcd`, not both");
  if (consul) copy("/consul", *consul);
  if (etcd) {
    if (auto r = d_.require_object(*etcd); !r) return r.error();
    if (auto r = d_.only_keys(*etcd, kEtcdKeys); !r) return r.error();
    auto endpoints = required(*etcd, "endpoints", "the etcd client URLs");
    if (!endpoints) return endpoints.error();
    copy("/discovery/etcd/endpoints", *endpoints);
    std::string prefix = "/containerpilot";  // v2's default
    Node prefix_at = *etcd;
    if (auto p = d_.field(*etcd, "prefix")) {
      auto s = d_.string(*p);
      if (!s) return s.error();
      prefix = *s;
      prefix_at = *p;
    }
    if (!starts_with(prefix, "/")) prefix = "/" + prefix;
    if (prefix.back() != '/') prefix += "/";
    put("/discovery/etcd/prefix", prefix, prefix_at);
    out_.notes.emplace_back("/discovery", "v2 `etcd`: the etcd catalog");
  }
  if (auto logging = d_.field(root, "logging")) copy("/logging", *logging);
  if (auto stop = d_.field(root, "stopTimeout")) {
    auto seconds = d_.integer(*stop);
    if (!seconds) return seconds.error();
    if (*seconds < -1) return d_.error(*stop, "must be -1 (SIGKILL at once), 0 (the default 5) or seconds");
    // -1: SIGKILL at once, which a negative top-level stopTimeout means in v3 too.
    if (*seconds != 0) put("/stopTimeout", *seconds, *stop);
    out_.notes.emplace_back("/stopTimeout", "v2 `stopTimeout` (seconds; -1 = SIGKILL at once)");
  }
  return {};
}

Result<void> Translator::prestart() {
  Node root = d_.root();
  auto pre = d_.field(root, "preStart");
  auto on_start = d_.field(root, "onStart");
  if (pre && on_start)
    return d_.key_error(*on_start, "is the old name of `preStart`; give one of the two, not both");
  if (!pre) pre = on_start;
  if (!pre) return {};
  if (auto argv = decode::command(d_, *pre); !argv) return argv.error();
  std::string job = next("jobs");
  put(job, Json{{"name", "preStart"}}, *pre);
  copy(job + "/exec", *pre);
  out_.notes.emplace_back(job, "v2 `" + pre->path + "`: runs first; the app waits for its success");
  has_prestart_ = true;
  return {};
}

Result<void> Translator::service_job(const Node& svc, const std::string& name, const std::vector<std::string>& app) {
  std::string job = next("jobs");
  put(job, Json{{"name", name}}, svc);
  if (!app.empty()) {
    put(job + "/exec", Json(app), d_.root());
    out_.notes.emplace_back(job, "the app of the command line, registered as v2 `" + svc.path + "`");
  } else {
    out_.notes.emplace_back(job, "v2 `" + svc.path + "`: registered, its health checked (no process)");
  }
  auto port = required(svc, "port", "the port the service is advertised on");
  if (!port) return port.error();
  copy(job + "/port", *port);
  auto poll = required(svc, "poll", "seconds between health checks");
  if (!poll) return poll.error();
  auto ttl = required(svc, "ttl", "seconds a passing check keeps the service registered");
  if (!ttl) return ttl.error();
  for (const Node& n : {*poll, *ttl}) {
    auto seconds = d_.integer(n);
    if (!seconds) return seconds.error();
    if (*seconds <= 0) return d_.error(n, "must be a positive number of seconds");
  }
  put(job + "/health", Json::object(), svc);
  // v2 runs the check if there is one; without it the service always passes
  // (ContainerPilot 2's Service.CheckHealth), as a v3 heartbeat does.
  if (auto health = d_.field(svc, "health")) {
    if (auto argv = decode::command(d_, *health); !argv) return argv.error();
    copy(job + "/health/exec", *health);
  }
  copy(job + "/health/interval", *poll);
  copy(job + "/health/ttl", *ttl);
  if (auto timeout = d_.field(svc, "timeout")) copy(job + "/health/timeout", *timeout);
  for (const char* key : {"interfaces", "tags", "consul"})
    if (auto n = d_.field(svc, key)) copy(job + "/" + key, *n);
  wait_for_prestart(job, svc, !app.empty());
  return {};
}

Result<void> Translator::services(const std::vector<std::string>& app) {
  Node root = d_.root();
  auto list = d_.field(root, "services");
  size_t count = 0;
  if (list) {
    if (auto r = d_.require_array(*list); !r) return r.error();
    count = (*list)->size();
  }
  // The service the app runs: the only one, or the one named "app".
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t run_by_app = kNone;
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) {
    auto svc = list_of_objects("services", kServiceKeys, i);
    if (!svc) return svc.error();
    auto name = required(*svc, "name", "the service name");
    if (!name) return name.error();
    auto s = d_.string(*name);
    if (!s) return s.error();
    names.push_back(*s);
    if (*s == "app") run_by_app = i;
  }
  if (!app.empty() && run_by_app == kNone && count == 1) run_by_app = 0;
  if (app.empty()) run_by_app = kNone;
  for (size_t i = 0; i < count; ++i) {
    Node svc = d_.element(*list, i);
    if (auto r = service_job(svc, names[i], run_by_app == i ? app : std::vector<std::string>{}); !r) return r;
    if (run_by_app == i) app_name_ = names[i];
  }
  if (!app.empty() && app_name_.empty()) {
    app_name_ = "app";
    std::string job = next("jobs");
    put(job, Json{{"name", app_name_}, {"exec", app}}, root);
    out_.notes.emplace_back(job, "the app of the command line");
    wait_for_prestart(job, root, true);
  }
  if (!app_name_.empty()) put("/mainJob", app_name_, root);
  return {};
}

Result<void> Translator::hooks() {
  Node root = d_.root();
  for (auto [key, event] : {std::pair{"preStop", "stopping"}, {"postStop", "stopped"}}) {
    auto n = d_.field(root, key);
    if (!n) continue;
    if (auto argv = decode::command(d_, *n); !argv) return argv.error();
    std::string job = next("jobs");
    put(job, Json{{"name", key}}, *n);
    copy(job + "/exec", *n);
    // Without an app, the hooks run when autopilot shuts down.
    Json when = app_name_.empty() ? Json{{"once", "shutdown"}} : Json{{"source", app_name_}, {"once", event}};
    put(job + "/when", when, *n);
    std::string note = std::string("v2 `") + key + "`: on the app's " + event;
    if (std::string(key) == "postStop") note += " (v2 exited with its status when it failed; v3 keeps the app's)";
    out_.notes.emplace_back(job, note);
    if (std::string(key) == "postStop") out_.exit_status_job = key;
  }
  return {};
}

Result<void> Translator::backends() {
  auto list = d_.field(d_.root(), "backends");
  if (!list) return {};
  if (auto r = d_.require_array(*list); !r) return r.error();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    auto b = list_of_objects("backends", kBackendKeys, i);
    if (!b) return b.error();
    auto name = required(*b, "name", "the service to watch");
    if (!name) return name.error();
    auto s = d_.string(*name);
    if (!s) return s.error();
    auto poll = required(*b, "poll", "seconds between looks at the catalog");
    if (!poll) return poll.error();
    auto on_change = required(*b, "onChange", "the command run when the service's instances change");
    if (!on_change) return on_change.error();
    if (auto argv = decode::command(d_, *on_change); !argv) return argv.error();
    std::string watch = next("watches");
    put(watch, Json::object(), *b);
    copy(watch + "/name", *name);
    copy(watch + "/interval", *poll);
    if (auto tag = d_.field(*b, "tag")) copy(watch + "/tag", *tag);
    out_.notes.emplace_back(watch, "v2 `" + b->path + "`: the watch");
    std::string job = next("jobs");
    put(job, Json{{"name", "onChange-" + *s}}, *b);
    copy(job + "/exec", *on_change);
    put(job + "/when", Json{{"source", "watch." + *s}, {"each", "changed"}}, *on_change);
    if (auto timeout = d_.field(*b, "timeout")) copy(job + "/timeout", *timeout);
    out_.notes.emplace_back(job, "v2 `" + b->path + ".onChange`: on each change of " + *s + gate_as_poller(job, *b));
  }
  return {};
}

Result<void> Translator::coprocesses() {
  auto list = d_.field(d_.root(), "coprocesses");
  if (!list) return {};
  if (auto r = d_.require_array(*list); !r) return r.error();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    auto c = list_of_objects("coprocesses", kCoprocessKeys, i);
    if (!c) return c.error();
    auto command = required(*c, "command", "the coprocess to run");
    if (!command) return command.error();
    auto name = command_name(*command);
    if (!name) return name.error();
    std::string job = next("jobs");
    put(job, Json{{"name", *name}}, *c);
    if (auto n = d_.field(*c, "name")) copy(job + "/name", *n);
    copy(job + "/exec", *command);
    if (auto restarts = d_.field(*c, "restarts")) copy(job + "/restarts", *restarts);
    wait_for_prestart(job, *c);
    out_.notes.emplace_back(job, "v2 `" + c->path + "`");
  }
  return {};
}

Result<void> Translator::tasks() {
  auto list = d_.field(d_.root(), "tasks");
  if (!list) return {};
  if (auto r = d_.require_array(*list); !r) return r.error();
  for (size_t i = 0; i < (*list)->size(); ++i) {
    auto t = list_of_objects("tasks", kTaskKeys, i);
    if (!t) return t.error();
    auto command = required(*t, "command", "the command to run periodically");
    if (!command) return command.error();
    auto name = command_name(*command);
    if (!name) return name.error();
    auto frequency = required(*t, "frequency", "how often it runs, e.g. \"30s\"");
    if (!frequency) return frequency.error();
    if (auto f = d_.duration(*frequency, false); !f) return f.error();
    std::string job = next("jobs");
    put(job, Json{{"name", *name}}, *t);
    if (auto n = d_.field(*t, "name")) copy(job + "/name", *n);
    copy(job + "/exec", *command);
    put(job + "/when", Json::object(), *frequency);
    copy(job + "/when/interval", *frequency);
    if (auto timeout = d_.field(*t, "timeout")) copy(job + "/timeout", *timeout);
    out_.notes.emplace_back(job,
                            "v2 `" + t->path + "`: every " + (*frequency)->get<std::string>() + gate_as_poller(job, *t));
  }
  return {};
}

// v2's telemetry block is v3's (port, interfaces, tags); each sensor becomes
// a metric of the block and a periodic job running its check, whose output
// sets the metric (v3 has no sensors: the link is JobConfig::sensor_metric,
// outside the document).
Result<void> Translator::telemetry() {
  auto t = d_.field(d_.root(), "telemetry");
  if (!t) return {};
  if (auto r = d_.require_object(*t); !r) return r.error();
  if (auto r = d_.only_keys(*t, kTelemetryKeys); !r) return r.error();
  put("/telemetry", Json::object(), *t);
  for (const char* key : {"port", "interfaces", "tags"})
    if (auto n = d_.field(*t, key)) copy(std::string("/telemetry/") + key, *n);
  auto sensors = d_.field(*t, "sensors");
  if (!sensors) return {};
  if (auto r = d_.require_array(*sensors); !r) return r.error();
  for (size_t i = 0; i < (*sensors)->size(); ++i) {
    Node s = d_.element(*sensors, i);
    if (auto r = d_.require_object(s); !r) return r.error();
    if (auto r = d_.only_keys(s, kSensorKeys); !r) return r.error();
    std::string metric = "/telemetry/metrics/" + std::to_string(i);
    put(metric, Json::object(), s);
    std::string full;
    for (const char* key : {"namespace", "subsystem", "name", "help", "type"}) {
      auto n = d_.field(s, key);
      if (!n) continue;
      copy(metric + "/" + key, *n);
      if (std::string_view(key) != "help" && std::string_view(key) != "type" && (*n)->is_string() &&
          !(*n)->get<std::string>().empty())
        full += (full.empty() ? "" : "_") + (*n)->get<std::string>();
    }
    auto check = required(s, "check", "the command whose output is the metric's value");
    if (!check) return check.error();
    auto poll = required(s, "poll", "how often the check runs, in seconds");
    if (!poll) return poll.error();
    auto seconds = d_.integer(*poll);
    if (!seconds) return seconds.error();
    if (*seconds < 1) return d_.error(*poll, "must be at least 1 (seconds)");
    std::string job = next("jobs");
    put(job, Json{{"name", "sensor-" + (full.empty() ? std::to_string(i) : full)}}, s);
    copy(job + "/exec", *check);
    put(job + "/when", Json::object(), *poll);
    copy(job + "/when/interval", *poll);
    if (auto timeout = d_.field(s, "timeout")) copy(job + "/timeout", *timeout);
    out_.sensors.emplace_back(std::stoul(job.substr(job.rfind('/') + 1)), full);
    out_.notes.emplace_back(job, "v2 `" + s.path + "`: runs every " + std::to_string(*seconds) + "s" +
                                     gate_as_poller(job, s) + "; v3 has no sensors, so nothing sets " + full +
                                     " from its output: set it with `autopilot -putmetric` from the check instead");
  }
  return {};
}

Result<V2Translation> Translator::run(const std::vector<std::string>& app) {
  if (auto r = d_.require_object(d_.root()); !r) return r.error();
  if (auto r = top_level(); !r) return r.error();
  if (auto r = prestart(); !r) return r.error();
  if (auto r = coprocesses(); !r) return r.error();
  if (auto r = services(app); !r) return r.error();
  if (auto r = hooks(); !r) return r.error();
  if (auto r = backends(); !r) return r.error();
  if (auto r = tasks(); !r) return r.error();
  if (auto r = telemetry(); !r) return r.error();
  return std::move(out_);
}

}  // namespace

Result<V2Translation> translate_v2(const Decoder& d, const json5::Document& v2, const std::vector<std::string>& app,
                                   bool started) {
  return Translator(d, v2, started).run(app);
}

}  // namespace autopilot::config
