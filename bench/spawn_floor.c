/* The floor for supervising 10 periodic jobs: a bare C loop that does only
 * what cannot be avoided. Once a second it starts 10 `true` (clone with
 * CLONE_VM | CLONE_VFORK, then execve, each with one pipe for its output),
 * waits on epoll until every pipe is closed, and reaps them. It prints its own
 * CPU time, to compare with autopilot's in the same run (bench/supervisor.sh).
 *   spawn_floor SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;
static char* child_argv[] = {"true", NULL};
static const char* true_path;
static int out_fd;
static char stack[64 * 1024];

static int child(void* unused) {
  (void)unused;
  dup2(out_fd, 1);
  dup2(out_fd, 2);
  execve(true_path, child_argv, environ);
  _exit(127);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int seconds = atoi(argv[1]);
  true_path = access("/usr/bin/true", X_OK) == 0 ? "/usr/bin/true" : "/bin/true";
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int s = 0; s < seconds; s++) {
    next.tv_sec += 1;
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    for (int j = 0; j < 10; j++) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) return 1;
      out_fd = p[1];
      if (clone(child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL) < 0) return 1;
      close(p[1]);
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
      epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    }
    for (int open = 10; open > 0;) {
      struct epoll_event evs[16];
      int n = epoll_wait(ep, evs, 16, -1);
      for (int i = 0; i < n; i++) {
        char buf[4096];
        if (read(evs[i].data.fd, buf, sizeof buf) <= 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, evs[i].data.fd, NULL);
          close(evs[i].data.fd);
          open--;
        }
      }
    }
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
  struct timespec cpu;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  double s = cpu.tv_sec + cpu.tv_nsec / 1e9;
  printf("%.1f ms in %d s = %.3f%% of one core\n", s * 1e3, seconds, 100 * s / seconds);
  return 0;
}
