// Health-check cost: an in-process http check (HttpCheck) against an exec
// check that runs `curl -fsS` (posix_spawn + waitpid), both against the same
// local HTTP server, which runs in a forked child so that neither side pays
// for it. CPU per check is getrusage(RUSAGE_SELF) + getrusage(RUSAGE_CHILDREN)
// (the reaped curls; the server is reaped only at the end); wall per check is
// steady_clock. Run through bench/health.sh, which prints the ratios.
//   health_bench [--n=200] [benchmark flags]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "health/http_check.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;

std::string g_url;

// Answers every connection with a 200 and closes it. Runs in the child.
[[noreturn]] void serve(int listener) {
  static const char kResponse[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  for (;;) {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (::write(fd, kResponse, sizeof kResponse - 1) < 0) {
      // the client went away; next
    }
    ::close(fd);
  }
}

// Forks the server on 127.0.0.1 (an ephemeral port); sets g_url.
pid_t start_server() {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 128) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("health_bench: listen");
    std::exit(1);
  }
  g_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/health";
  pid_t pid = ::fork();
  if (pid == 0) serve(listener);
  ::close(listener);
  return pid;
}

struct Usage {
  double cpu_s;
  std::chrono::steady_clock::time_point wall;
};

Usage usage_now() {
  auto seconds = [](const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return Usage{seconds(self) + seconds(children), std::chrono::steady_clock::now()};
}

void report(benchmark::State& state, const Usage& before, int failures) {
  Usage after = usage_now();
  double n = static_cast<double>(state.iterations());
  state.counters["cpu_us_per_check"] = (after.cpu_s - before.cpu_s) / n * 1e6;
  state.counters["wall_us_per_check"] = std::chrono::duration<double, std::micro>(after.wall - before.wall).count() / n;
  state.counters["failures"] = failures;
}

void BM_HttpCheck(benchmark::State& state) {
  auto target = autopilot::health::parse_http_target(g_url);
  if (!target) {
    state.SkipWithError(target.error().message.c_str());
    return;
  }
  boost::asio::io_context io;
  autopilot::health::HttpCheck check(io, *target);
  int failures = 0;
  Usage before = usage_now();
  for (auto _ : state) {
    bool is_done = false;
    check.run(2s, [&](autopilot::health::CheckResult r) {
      is_done = true;
      failures += r.healthy ? 0 : 1;
    });
    while (!is_done) io.run_one();
  }
  report(state, before, failures);
}

void BM_CurlExec(benchmark::State& state) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::string url = g_url;
  char* argv[] = {const_cast<char*>("curl"), const_cast<char*>("-fsS"), url.data(), nullptr};
  int failures = 0;
  Usage before = usage_now();
  for (auto _ : state) {
    pid_t pid = 0;
    int status = 0;
    if (posix_spawnp(&pid, "curl", &actions, nullptr, argv, environ) != 0 || ::waitpid(pid, &status, 0) != pid ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      ++failures;
    }
  }
  report(state, before, failures);
  posix_spawn_file_actions_destroy(&actions);
}

}  // namespace

int main(int argc, char** argv) {
  int n = 200;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--n=", 4) == 0) {
      n = std::atoi(argv[i] + 4);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  pid_t server = start_server();
  benchmark::RegisterBenchmark("BM_HttpCheck", BM_HttpCheck)
      ->Iterations(n)
      ->UseRealTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_CurlExec", BM_CurlExec)->Iterations(n)->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  return 0;
}
