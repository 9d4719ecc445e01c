// Tells whether the calling thread is about to run out of stack, so that deep
// template recursion or nesting ends in an Error instead of a crash whatever
// the thread's stack size or the build's frame sizes. Internal header.
#pragma once

#include <pthread.h>

#include <cstddef>

namespace autopilot::tmpl {

class StackGuard {
 public:
  // Looks the bounds up only on first use (it may read /proc/self/maps).
  bool exhausted() {
    if (!looked_up_) look_up();
    char probe;
    return low_ != nullptr && static_cast<size_t>(&probe - low_) < kMargin;
  }

 private:
  static constexpr size_t kMargin = 256u << 10;

  void look_up() {
    looked_up_ = true;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) low_ = static_cast<const char*>(addr);
    pthread_attr_destroy(&attr);
  }

  bool looked_up_ = false;
  const char* low_ = nullptr;
};

}  // namespace autopilot::tmpl
