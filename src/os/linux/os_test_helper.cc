// A child for linux_processes_test. Usage:
//   os_test_helper double-fork N   make N orphans that exit at once, then exit 0
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

static int double_fork(int n) {
  for (int i = 0; i < n; ++i) {
    pid_t middle = fork();
    if (middle < 0) return 1;
    if (middle == 0) {
      // The grandchild outlives its parent, so the subreaper inherits it.
      if (fork() < 0) _exit(1);
      _exit(0);
    }
    int status = 0;
    waitpid(middle, &status, 0);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "double-fork") == 0) return double_fork(std::atoi(argv[2]));
  std::fprintf(stderr, "usage: os_test_helper double-fork N\n");
  return 2;
}
