// etcd_cluster: a local etcd cluster for the benchmark scripts, started by
// the same harness as the tests (discovery/etcd/etcd_server.h: members on
// 127.0.0.1 with free ports, data and logs in a fresh /tmp dir, each member
// dying with this process).
//
//   etcd_cluster [--members 3] [--max-seconds 600]
//
// Prints one line once every member answers /health with a leader elected:
//   URLS=http://127.0.0.1:P1,http://127.0.0.1:P2,... PIDS=pid1,pid2,...
// then waits for SIGTERM, SIGINT or SIGHUP (or --max-seconds, so a script
// that dies leaves nothing behind for long), stops the members one by one
// and removes the data dir. Exit 1 when the cluster did not start.
#include <errno.h>
#include <signal.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "discovery/etcd/etcd_server.h"

int main(int argc, char** argv) {
  int members = 3;
  int max_seconds = 600;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--members" && i + 1 < argc)
      members = std::atoi(argv[++i]);
    else if (a == "--max-seconds" && i + 1 < argc)
      max_seconds = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: etcd_cluster [--members 3] [--max-seconds 600]\n");
      return 2;
    }
  }
  if (members < 1 || members > 7 || max_seconds < 1) {
    std::fprintf(stderr, "etcd_cluster: need 1..7 members and --max-seconds >= 1\n");
    return 2;
  }
  // Blocked before the members are forked (they reset their mask), so a
  // signal arriving while they start is taken by sigtimedwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGHUP);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  namespace testing = autopilot::discovery::etcd::testing;
  auto cluster = testing::EtcdCluster::start(members);
  if (!cluster) {
    std::fprintf(stderr, "etcd_cluster: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::string urls, pids;
  for (int i = 0; i < (*cluster)->size(); ++i) {
    urls += (i ? "," : "") + (*cluster)->client_url(i);
    pids += (i ? "," : "") + std::to_string((*cluster)->pid(i));
  }
  std::printf("URLS=%s PIDS=%s\n", urls.c_str(), pids.c_str());
  std::fflush(stdout);

  timespec limit{max_seconds, 0};
  int sig = -1;
  do sig = sigtimedwait(&stop, nullptr, &limit);
  while (sig < 0 && errno == EINTR);
  if (sig < 0) std::fprintf(stderr, "etcd_cluster: no stop signal in %d s: stopping\n", max_seconds);
  cluster->reset();  // stops the members, removes the data
  return 0;
}
