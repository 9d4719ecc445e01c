// DeferredRelease: an optional capability of a discovery::Lock whose
// release completes after release() returns (etcd: the delete has to reach
// the server). A process about to exit right after releasing (`autopilot
// lock`) asks for it with dynamic_cast and waits for `released`; a Lock
// without it (embedded, memory) is free for others when release() returns.
// Kept out of catalog.h on purpose: every area includes that header, and
// this concerns one command.
#pragma once

#include <functional>

namespace autopilot::discovery {

class DeferredRelease {
 public:
  // Lock::release(), then `released` on the loop once the server applied it
  // or the request failed (then the lease frees the lock within its TTL).
  virtual void release_then(std::function<void()> released) = 0;

 protected:
  ~DeferredRelease() = default;
};

}  // namespace autopilot::discovery
