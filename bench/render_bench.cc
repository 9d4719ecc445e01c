// Catalog template render time: an nginx upstream template
// (bench/render_upstreams.ctmpl: `if service "app"`, `range service "app"`,
// .ID .Address .Port, `.Tags | join ","`) executed with consul-template's
// real functions (tmplfuncs::add_consul_template_funcs) for 10, 1,000 and
// 10,000 healthy instances. The template is parsed once; each iteration is
// one execute(), i.e. one Renderer pass minus the file write.
//
// Three Sources:
//  - BM_RenderFake: the test FakeSource, which filters, copies, sorts and
//    builds the instance records on every `service` call (three calls per
//    pass here), so it costs more than the Renderer's cache.
//  - BM_RenderNewSet: what a Renderer pass costs after a watch delivered a
//    new set (every pass that a catalog change triggers): the instance
//    records are built once (tmplfuncs::instance_list, as the Renderer's cache
//    does on the first `service` call after a delivery), then shared by the
//    three calls. This is the number BENCHMARKS.md reports.
//  - BM_RenderCached: the records already built (a pass that another
//    dependency triggered): the engine and the functions alone.
// Target: <= 10 ms for 10,000 instances.
#include <benchmark/benchmark.h>

#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tmpl/template.h"
#include "tmplfuncs/fake_source.h"
#include "tmplfuncs/functions.h"
#include "tmplfuncs/records.h"

namespace {

using namespace autopilot;

std::string template_text() {
  std::ifstream in(AUTOPILOT_BENCH_DIR "/render_upstreams.ctmpl");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// n healthy instances of "app", ids in sorting order, on 10.x.y.z:8080.
std::vector<discovery::Instance> instances(int n) {
  std::vector<discovery::Instance> out;
  out.reserve(static_cast<size_t>(n));
  for (int k = 0; k < n; ++k) {
    discovery::Instance i;
    char id[32];
    std::snprintf(id, sizeof id, "app-%06d", k);
    i.id = id;
    i.name = "app";
    i.address = "10." + std::to_string(k / 65536 % 256) + "." + std::to_string(k / 256 % 256) + "." +
                std::to_string(k % 256);
    i.port = 8080;
    i.tags = {"blue", k % 2 ? "canary" : "stable"};
    i.status = discovery::Status::kPassing;
    i.node = "node-1";
    out.push_back(std::move(i));
  }
  return out;
}

// The Renderer's cache: one sorted vector from the last delivery, and its
// instance records, built on the first read after a delivery.
class CachedSource : public tmplfuncs::Source {
 public:
  explicit CachedSource(std::vector<discovery::Instance> v)
      : instances_(std::make_shared<const std::vector<discovery::Instance>>(std::move(v))) {}
  // A watch delivered a new set: the records are built again on the next read.
  void delivered() { records_.reset(); }
  std::optional<tmpl::Value> service(const tmplfuncs::ServiceQuery&) override {
    if (!records_) records_ = tmplfuncs::instance_list(instances_);
    return *records_;
  }
  const std::vector<discovery::ServiceSummary>* services() override { return &names_; }
  const std::vector<discovery::KvEntry>* kv(const std::string&) override { return &kv_; }
  std::optional<std::string> env(const std::string&) override { return std::nullopt; }
  Result<std::string> file(const std::string& path) override { return make_error("file: " + path); }

 private:
  std::shared_ptr<const std::vector<discovery::Instance>> instances_;
  std::optional<tmpl::Value> records_;
  std::vector<discovery::ServiceSummary> names_{{"app", {}}};
  std::vector<discovery::KvEntry> kv_;
};

// `before_pass` runs before each timed pass (inside the timing).
void run(benchmark::State& state, tmplfuncs::Source& source, const std::function<void()>& before_pass = {}) {
  tmpl::FuncMap funcs;
  tmplfuncs::add_consul_template_funcs(funcs, source);
  auto t = tmpl::Template::parse("render_upstreams.ctmpl", template_text(), std::move(funcs));
  if (!t) {
    state.SkipWithError(t.error().format().c_str());
    return;
  }
  // The output is what the template says (once, outside the timing).
  auto first = t->execute(tmpl::Value::map({}));
  if (!first || first->find("    server 10.0.0.0:8080 max_fails=3 fail_timeout=10s; # app-000000 [blue,stable]\n") ==
                    std::string::npos) {
    state.SkipWithError(first ? ("unexpected output:\n" + first->substr(0, 400)).c_str() : first.error().format().c_str());
    return;
  }
  size_t bytes = 0;
  for (auto _ : state) {
    if (before_pass) before_pass();
    auto out = t->execute(tmpl::Value::map({}));
    if (!out) {
      state.SkipWithError(out.error().format().c_str());
      return;
    }
    bytes = out->size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
}

void BM_RenderFake(benchmark::State& state) {
  tmplfuncs::testing::FakeSource source;
  source.instances["app"] = instances(static_cast<int>(state.range(0)));
  run(state, source);
  if (source.misses) state.SkipWithError("the FakeSource counted a miss");
}
BENCHMARK(BM_RenderFake)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_RenderNewSet(benchmark::State& state) {
  CachedSource source(instances(static_cast<int>(state.range(0))));
  run(state, source, [&] { source.delivered(); });
}
BENCHMARK(BM_RenderNewSet)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_RenderCached(benchmark::State& state) {
  CachedSource source(instances(static_cast<int>(state.range(0))));
  run(state, source);
}
BENCHMARK(BM_RenderCached)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Parse alone (with the function map), which the Renderer does once per template.
void BM_ParseWithFuncs(benchmark::State& state) {
  CachedSource source({});
  std::string text = template_text();
  for (auto _ : state) {
    tmpl::FuncMap funcs;
    tmplfuncs::add_consul_template_funcs(funcs, source);
    auto t = tmpl::Template::parse("render_upstreams.ctmpl", text, std::move(funcs));
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_ParseWithFuncs)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
