// demo_app ADDRESS PORT: the smallest web app, for the discovery demo and the
// discovery tests. Answers every request with 200 "hello from ADDRESS:PORT";
// prints one line when listening and one on SIGTERM (then exits 0); dies with
// its parent (PR_SET_PDEATHSIG), so a kill -9 of the autopilot above it
// leaves nothing behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void on_term(int) {
  const char msg[] = "demo_app: got SIGTERM\n";
  (void)!::write(1, msg, sizeof msg - 1);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: demo_app ADDRESS PORT\n");
    return 2;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGTERM, on_term);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (::inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) return 2;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    std::perror("demo_app: bind/listen");
    return 1;
  }
  std::string hello = "demo_app listening on " + std::string(argv[1]) + ":" + argv[2] + " pid " +
                      std::to_string(::getpid()) + "\n";
  (void)!::write(1, hello.data(), hello.size());
  std::string body = "hello from " + std::string(argv[1]) + ":" + argv[2] + "\n";
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  for (;;) {
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) continue;
    char buf[2048];
    std::string request;
    ssize_t n;
    while (request.find("\r\n\r\n") == std::string::npos && (n = ::read(c, buf, sizeof buf)) > 0)
      request.append(buf, static_cast<size_t>(n));
    (void)!::write(c, response.data(), response.size());
    ::close(c);
  }
}
