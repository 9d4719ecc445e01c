// Template engine: parse and render the nginx upstream template over 10,000
// instances. Compare with Go's text/template via bench/tmpl.sh.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "tmpl/template.h"
#include "tmpl_data.h"

namespace {

std::string template_text() {
  std::ifstream in(AUTOPILOT_BENCH_DIR "/nginx_upstreams.tmpl");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void BM_Parse(benchmark::State& state) {
  std::string text = template_text();
  for (auto _ : state) {
    auto t = autopilot::tmpl::Template::parse("nginx", text);
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_Parse);

void BM_Render(benchmark::State& state) {
  auto t = autopilot::tmpl::Template::parse("nginx", template_text());
  if (!t) {
    state.SkipWithError(t.error().format().c_str());
    return;
  }
  auto data = autopilot::tmpl::Value::from_json(bench_services(static_cast<int>(state.range(0))));
  size_t bytes = 0;
  for (auto _ : state) {
    auto out = t->execute(data);
    bytes = out ? out->size() : 0;
    benchmark::DoNotOptimize(out);
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render)->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
