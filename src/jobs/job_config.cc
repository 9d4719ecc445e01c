#include "jobs/job_config.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "base/strings.h"
#include "decode/command.h"
#include "decode/decoder.h"
#include "json5/json5.h"

namespace autopilot::jobs {
namespace {

using decode::Decoder;
using decode::Node;

const std::vector<std::string> kJobKeys{"name",       "exec",   "logging",        "when", "timeout", "stopTimeout",
                                        "restarts",   "port",   "health",         "tags", "meta",    "id",
                                        "interfaces", "consul", "initial_status", "drain"};
const std::vector<std::string> kWhenKeys{"source", "once", "each", "interval", "timeout", "after"};
const std::vector<std::string> kAfterKeys{"source", "once"};
const std::vector<std::string> kLoggingKeys{"raw"};
const std::vector<std::string> kConsulKeys{"enableTagOverride", "deregisterCriticalServiceAfter"};
// Keys that only mean something for a registered job (one with a port).
const std::vector<std::string> kRegistrationKeys{"tags", "meta", "id", "interfaces", "initial_status", "consul", "drain"};

Result<int> decode_restarts(const Decoder& d, const Node& n) {
  auto invalid = [&] {
    return d.error(n, "field '" + decode::shown(*n) + "' invalid: accepts positive integers, \"unlimited\", or \"never\"");
  };
  if (n->is_string()) {
    const auto& s = n->get_ref<const std::string&>();
    if (s == "unlimited") return kUnlimited;
    if (s == "never") return 0;
  }
  if (!n->is_string() && !n->is_number()) return invalid();
  auto i = d.integer(n);
  if (!i || *i < 0 || *i > 1'000'000) return invalid();
  return static_cast<int>(*i);
}

// An event name of `once` or `each`.
Result<events::Code> decode_event(const Decoder& d, const Node& n) {
  auto name = d.string(n);
  if (!name) return name.error();
  auto code = events::parse_when_name(*name);
  if (!code || *code == events::Code::kSignal || *code == events::Code::kError) {
    std::string msg = "\"" + *name + "\" is not a valid event";
    if (auto s = suggest(*name, events::when_names())) msg += " (did you mean \"" + *s + "\"?)";
    return d.error(n, msg);
  }
  return *code;
}

// The event a `when.after` names, as a `once` start would: the job's start
// events and ticks count from its first occurrence on (JobConfig::gate).
Result<events::Event> decode_after(const Decoder& d, const Node& n) {
  if (auto r = d.require_object(n); !r) return r.error();
  if (auto r = d.only_keys(n, kAfterKeys); !r) return r.error();
  auto source = d.field(n, "source");
  auto once = d.field(n, "once");
  if (!source || !once)
    return d.error(n, "needs a 'source' and a 'once' event: what must have happened before the job may start");
  auto s = d.string(*source);
  if (!s) return s.error();
  if (s->empty()) return d.error(*source, "must not be blank");
  auto code = decode_event(d, *once);
  if (!code) return code.error();
  return events::Event{*code, events::Source::parse(*s)};
}

Result<WhenConfig> decode_when(const Decoder& d, const Node& n) {
  if (auto r = d.only_keys(n, kWhenKeys); !r) return r.error();
  WhenConfig when;
  auto interval = d.field(n, "interval");
  auto once = d.field(n, "once");
  auto each = d.field(n, "each");
  if ((interval ? 1 : 0) + (once ? 1 : 0) + (each ? 1 : 0) > 1)
    return d.error(n, "can have only one of 'interval', 'once', or 'each'");
  if (interval) {
    auto v = d.duration(*interval, true);
    if (!v) return v.error();
    if (*v < std::chrono::milliseconds(1)) return d.error(*interval, "cannot be less than 1ms");
    when.interval = *v;
  }
  if (auto source = d.field(n, "source")) {
    auto s = d.string(*source);
    if (!s) return s.error();
    if (s->empty()) return d.error(*source, "must not be blank");
    when.source = events::Source::parse(*s);
  }
  if (once || each) {
    const Node& ev = once ? *once : *each;
    auto code = decode_event(d, ev);
    if (!code) return code.error();
    when.event = *code;
    when.each = each.has_value();
    if (!d.field(n, "source") && *code != events::Code::kStartup && *code != events::Code::kShutdown)
      return d.error(ev, "needs a 'source': the job, watch or check whose event starts this job");
  } else if (d.field(n, "source") && !when.is_signal() && !interval) {
    return d.error(n, "has a 'source' but no 'once' or 'each' event, so the job would never start");
  }
  if (auto timeout = d.field(n, "timeout")) {
    auto v = d.duration(*timeout, true);
    if (!v) return v.error();
    when.timeout = *v;
  }
  return when;
}

Result<void> decode_service(const Decoder& d, const Node& n, JobConfig& job) {
  ServiceConfig& svc = job.service;
  auto port = d.field(n, "port");
  if (!port) {
    for (const auto& key : kRegistrationKeys) {
      if (auto k = d.field(n, key)) return d.key_error(*k, "only applies to a job with a 'port' (one that is registered)");
    }
    return {};
  }
  auto p = d.integer(*port);
  if (!p) return p.error();
  if (*p < 0 || *p > 65535) return d.error(*port, "must be a port number (1..65535)");
  if (*p == 0) return {};
  svc.port = static_cast<int>(*p);
  if (auto r = discovery::validate_service_name(job.name); !r)
    return d.error(*d.field(n, "name"), "is the service name of a job with a port: " + r.error().message);
  if (!job.health) return d.key_error(*port, "needs a 'health' block: a registered job must say how it is checked");
  if (auto id = d.field(n, "id")) {
    auto s = d.string(*id);
    if (!s) return s.error();
    if (auto r = discovery::validate_instance_id(*s); !r) return d.error(*id, r.error().message);
    svc.id = *s;
  }
  if (auto tags = d.field(n, "tags")) {
    auto list = d.string_list(*tags);
    if (!list) return list.error();
    svc.tags = std::move(*list);
  }
  if (auto meta = d.field(n, "meta")) {
    if (auto r = d.require_object(*meta); !r) return r.error();
    for (const auto& [k, v] : (*meta)->items()) {
      Node value{&v, meta->pointer + "/" + json5::pointer_token(k), meta->path + "." + k};
      auto s = d.string(value);
      if (!s) return s.error();
      svc.meta[k] = *s;
    }
  }
  if (auto interfaces = d.field(n, "interfaces")) {
    if ((*interfaces)->is_string()) {
      svc.interfaces = {(*interfaces)->get<std::string>()};
    } else {
      auto list = d.string_list(*interfaces);
      if (!list) return list.error();
      svc.interfaces = std::move(*list);
    }
    if (svc.interfaces.empty()) return d.error(*interfaces, "must name at least one interface spec");
  }
  if (auto status = d.field(n, "initial_status")) {
    auto s = d.string(*status);
    if (!s) return s.error();
    auto st = discovery::parse_status(*s);
    if (!st || *st == discovery::Status::kMaintenance)
      return d.error(*status, "\"" + *s + "\" is not an initial status (passing, warning, critical)");
    svc.initial_status = *st;
  }
  if (auto consul = d.field(n, "consul")) {
    // Accepted for ContainerPilot compatibility; both fields are optional (D12).
    if (auto r = d.require_object(*consul); !r) return r.error();
    if (auto r = d.only_keys(*consul, kConsulKeys); !r) return r.error();
    if (auto tag = d.field(*consul, "enableTagOverride"))
      if (auto b = d.boolean(*tag); !b) return b.error();
    if (auto after = d.field(*consul, "deregisterCriticalServiceAfter"))
      if (auto v = d.duration(*after, false); !v) return v.error();
  }
  if (auto drain = d.field(n, "drain")) {
    auto v = d.duration(*drain, true);
    if (!v) return v.error();
    if (v->count() < 0) return d.error(*drain, "must not be negative");
    svc.drain = *v;
  }
  return {};
}

Result<JobConfig> decode_job(const Decoder& d, const Node& n) {
  if (auto r = d.only_keys(n, kJobKeys); !r) return r.error();
  JobConfig job;
  job.fingerprint = n->dump();
  auto name = d.field(n, "name");
  if (!name) return d.error(n, "'name' must not be blank");
  auto s = d.string(*name);
  if (!s) return s.error();
  if (s->empty()) return d.error(*name, "'name' must not be blank");
  job.name = *s;
  if (auto exec = d.field(n, "exec")) {
    auto argv = decode::command(d, *exec);
    if (!argv) return argv.error();
    job.exec = std::move(*argv);
  }
  if (auto logging = d.field(n, "logging")) {
    if (auto r = d.only_keys(*logging, kLoggingKeys); !r) return r.error();
    if (auto raw = d.field(*logging, "raw")) {
      auto b = d.boolean(*raw);
      if (!b) return b.error();
      job.raw_logging = *b;
    }
  }
  if (auto when = d.field(n, "when")) {
    auto w = decode_when(d, *when);
    if (!w) return w.error();
    job.when = std::move(*w);
    if (auto after = d.field(*when, "after")) {
      auto gate = decode_after(d, *after);
      if (!gate) return gate.error();
      job.gate = *gate;
    }
  } else {
    job.when.source = events::Source::global();
  }
  job.restarts = job.when.is_periodic() ? kUnlimited : 0;
  if (auto restarts = d.field(n, "restarts")) {
    auto r = decode_restarts(d, *restarts);
    if (!r) return r.error();
    if (*r == kUnlimited && job.when.each)
      return d.error(*restarts, "\"unlimited\" cannot be combined with when.each (the job already starts on every event)");
    job.restarts = *r;
  }
  if (auto timeout = d.field(n, "timeout")) {
    auto v = d.duration(*timeout, true);
    if (!v) return v.error();
    if (*v < std::chrono::milliseconds(1)) return d.error(*timeout, "cannot be less than 1ms");
    job.timeout = *v;
  } else if (job.when.is_periodic()) {
    job.timeout = job.when.interval;
  }
  if (auto stop = d.field(n, "stopTimeout")) {
    auto v = d.duration(*stop, true);
    if (!v) return v.error();
    if (v->count() < 0) return d.error(*stop, "must not be negative");
    job.stop_timeout = *v;
  }
  if (auto health = d.field(n, "health")) {
    auto h = health::decode_health(d, *health);
    if (!h) return h.error();
    job.health = std::move(*h);
  }
  if (auto r = decode_service(d, n, job); !r) return r.error();
  return job;
}

}  // namespace

discovery::Instance instance_of(const JobConfig& job) {
  const ServiceConfig& s = job.service;
  discovery::Instance i;
  i.id = !s.id.empty() ? s.id : job.name + "-" + s.node + "-" + s.address + ":" + std::to_string(s.port);
  i.name = job.name;
  i.address = s.address;
  i.port = s.port;
  i.tags = s.tags;
  i.meta = s.meta;
  i.node = s.node;
  return i;
}

std::vector<std::string> split_exec(const std::string& exec) { return decode::split_command(exec); }

Result<std::vector<JobConfig>> decode_jobs(const Decoder& d, const Node& jobs) {
  if (auto r = d.require_array(jobs); !r) return r.error();
  std::vector<JobConfig> out;
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < jobs->size(); ++i) {
    Node n = d.element(jobs, i);
    if (auto r = d.require_object(n); !r) return r.error();
    auto job = decode_job(d, n);
    if (!job) return job.error();
    if (auto [it, inserted] = seen.emplace(job->name, i); !inserted) {
      return d.error(*d.field(n, "name"), "duplicate job name \"" + job->name + "\" (also " +
                                               d.shown_path(d.element(jobs, it->second)) + ")");
    }
    out.push_back(std::move(*job));
  }
  return out;
}

Result<void> check_job_graph(const Decoder& d, const Node& jobs, const std::vector<JobConfig>& configs,
                             events::KnownSources known) {
  std::map<std::string, size_t> index;
  std::vector<std::string> names;
  for (size_t i = 0; i < configs.size(); ++i) {
    index[configs[i].name] = i;
    names.push_back(configs[i].name);
  }
  auto when_source_node = [&](size_t i) {
    Node job = d.element(jobs, i);
    Node when = *d.field(job, "when");
    return d.field(when, "source").value_or(when);
  };
  // Every source must be something that publishes events.
  auto after_source_node = [&](size_t i) {
    Node after = *d.field(*d.field(d.element(jobs, i), "when"), "after");
    return d.field(after, "source").value_or(after);
  };
  known.jobs = names;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (auto bad = events::check_source(configs[i].when.source, known)) return d.error(when_source_node(i), *bad);
    if (const auto& gate = configs[i].gate)
      if (auto bad = events::check_source(gate->source, known)) return d.error(after_source_node(i), *bad);
  }
  // A job waiting on another job's event (other than stopping/stopped, which
  // shutdown publishes for jobs that never ran) depends on it. A cycle of
  // such dependencies can never start.
  std::vector<int> state(configs.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<size_t> path;
  std::function<std::optional<size_t>(size_t)> visit = [&](size_t i) -> std::optional<size_t> {
    state[i] = 1;
    path.push_back(i);
    const auto& w = configs[i].when;
    auto job_of = [&](const events::Source& s, events::Code code) {
      auto dep = s.kind() == events::SourceKind::kJob ? index.find(s.name()) : index.end();
      bool waits = dep != index.end() && code != events::Code::kStopping && code != events::Code::kStopped;
      return waits ? std::optional<size_t>(dep->second) : std::nullopt;
    };
    std::vector<std::optional<size_t>> deps{w.is_periodic() ? std::nullopt : job_of(w.source, w.event)};
    if (const auto& gate = configs[i].gate) deps.push_back(job_of(gate->source, gate->code));
    for (auto dep : deps) {
      if (!dep) continue;
      if (state[*dep] == 1) return *dep;
      if (state[*dep] == 0)
        if (auto c = visit(*dep)) return c;
    }
    state[i] = 2;
    path.pop_back();
    return std::nullopt;
  };
  for (size_t i = 0; i < configs.size(); ++i) {
    if (state[i] != 0) continue;
    if (auto start = visit(i)) {
      std::string cycle;
      bool on = false;
      for (size_t j : path) {
        on = on || j == *start;
        if (on) cycle += configs[j].name + " -> ";
      }
      cycle += configs[*start].name;
      return d.error(when_source_node(*start), "jobs wait for each other in a cycle and none can start: " + cycle);
    }
  }
  return {};
}

}  // namespace autopilot::jobs
