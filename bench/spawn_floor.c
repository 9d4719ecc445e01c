/* The floor for supervising 10 periodic jobs: a bare C loop that does only
 * what cannot be avoided. Once a second it starts 10 `true`, each with one
 * pipe for its output, the way autopilot's later starts do: clone with
 * CLONE_VM and no CLONE_VFORK (the loop goes on while the child execs; the
 * child makes raw system calls on a stack of its own), then waits on epoll
 * until every pipe is closed, and reaps them. It prints its own CPU time, to
 * compare with autopilot's in the same run (bench/supervisor.sh).
 *   spawn_floor SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;
static char* child_argv[] = {"true", NULL};
static const char* true_path;

#if defined(__x86_64__)
#define UNWAITED 1
static long sys3(long n, long a, long b, long c) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
#define UNWAITED 1
static long sys3(long n, long a, long b, long c) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#define UNWAITED 0 /* no raw calls here: wait for each exec (CLONE_VFORK) */
static long sys3(long n, long a, long b, long c) { return syscall(n, a, b, c); }
#endif

struct slot {
  int out_fd;
  char stack[4096] __attribute__((aligned(64)));
};

static int child(void* arg) {
  struct slot* s = arg;
  sys3(SYS_dup3, s->out_fd, 1, 0);
  sys3(SYS_dup3, s->out_fd, 2, 0);
  sys3(SYS_execve, (long)true_path, (long)child_argv, (long)environ);
  sys3(SYS_exit_group, 127, 0, 0);
  return 127;
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
      static struct slot slots[10];
      struct slot* s = &slots[j]; /* free again: last second's children exec'd long ago */
      s->out_fd = p[1];
      int flags = CLONE_VM | SIGCHLD | (UNWAITED ? 0 : CLONE_VFORK);
      if (clone(child, s->stack + sizeof s->stack, flags, s) < 0) return 1;
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
