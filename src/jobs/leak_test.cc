// Leaks a job could leave behind, counted in every build: the global operator
// new/delete below keep a count of live blocks for the whole jobs_test binary
// (they only count; the sanitizer build's LeakSanitizer catches the same
// leaks at exit, with stacks).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "jobs/supervisor.h"
#include "wiring/testing/fake_wiring.h"

namespace {
std::atomic<long> live_blocks{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size ? size : 1);
  if (!p) throw std::bad_alloc();
  ++live_blocks;
  return p;
}
void operator delete(void* p) noexcept {
  if (!p) return;
  --live_blocks;
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace autopilot::jobs {
namespace {

using namespace std::chrono_literals;

// A supervisor with one periodic job on fakes: starts it, lets it tick a few
// times, then destroys everything.
void run_a_periodic_job_and_destroy_it() {
  FakeWiring fakes;
  JobConfig tick;
  tick.name = "tick";
  tick.exec = {"tick"};
  tick.when.source = events::Source::global();
  tick.when.interval = 100ms;
  tick.restarts = kUnlimited;
  Supervisor supervisor(fakes.wiring(nullptr), JobOptions{.default_stop_timeout = 5s}, {tick}, "");
  supervisor.start();
  fakes.settle();
  for (int i = 0; i < 3; ++i) {
    if (int pid = supervisor.find("tick")->pid()) fakes.processes.exit_for_test(pid, {0, 0});
    fakes.timers.advance(100ms);
    fakes.settle();
  }
  ASSERT_EQ(fakes.processes.spawned().size(), 4u);
}

TEST(Leaks, APeriodicJobLeavesNothingBehindWhenDestroyed) {
  run_a_periodic_job_and_destroy_it();  // once first, for anything built lazily on first use
  long before = live_blocks;
  for (int i = 0; i < 10; ++i) run_a_periodic_job_and_destroy_it();
  // Its tick schedule once held itself (a shared_ptr cycle): 3 blocks a start.
  EXPECT_EQ(live_blocks - before, 0);
}

}  // namespace
}  // namespace autopilot::jobs
