// Lifetime: the one rule for work scheduled on the loop (docs/design.md, "The
// lifetime rule"). An object that hands a callback to something that may call
// it after the object is gone (a catalog, a child process, an Asio wait, a
// post) owns a Lifetime and passes bind(callback) instead: once the Lifetime
// is destroyed, every callable it bound does nothing. Timers follow the same
// rule through os::Timer, which cancels instead (os/timers.h).
//
// Declare the Lifetime as the owner's last member: it then ends first, before
// the members its callbacks use, and after the owner's destructor body (which
// may still run callbacks, e.g. while closing things). Neither copyable nor
// movable: bound callbacks capture the owner's address, which a move would
// leave behind. Loop thread only.
#pragma once

#include <memory>
#include <utility>

namespace autopilot {

class Lifetime {
 public:
  // Calls `f` with its arguments while the Lifetime lasts; a no-op after.
  // Movable, and copyable when `f` is (so it fits std::function and Asio).
  template <class F>
  class Bound {
   public:
    Bound(std::weak_ptr<const int> token, F f) : token_(std::move(token)), f_(std::move(f)) {}
    template <class... Args>
    void operator()(Args&&... args) {
      if (!token_.expired()) f_(std::forward<Args>(args)...);
    }

   private:
    std::weak_ptr<const int> token_;
    F f_;
  };

  // For code that calls out and carries on afterwards: the callee may have
  // destroyed the owner (a watcher's callback that drops its catalog).
  class Observer {
   public:
    explicit Observer(std::weak_ptr<const int> token) : token_(std::move(token)) {}
    bool has_ended() const { return token_.expired(); }

   private:
    std::weak_ptr<const int> token_;
  };

  Lifetime() = default;
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  template <class F>
  Bound<F> bind(F f) const {
    return Bound<F>(token_, std::move(f));
  }
  Observer observe() const { return Observer(token_); }

 private:
  // Only its control block matters: bound callables hold weak references.
  std::shared_ptr<const int> token_ = std::make_shared<const int>(0);
};

}  // namespace autopilot
