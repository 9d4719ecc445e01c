#include "discovery/testing.h"

#include <stdlib.h>

#include <boost/asio/post.hpp>
#include <filesystem>

namespace autopilot::discovery::testing {

namespace fs = std::filesystem;

bool advance_until(os::FakeTimers& timers, boost::asio::io_context& io, const std::function<bool()>& done,
                   Duration limit) {
  return timers.advance_until(
      [&] {
        io.restart();
        io.poll();
        return done();
      },
      limit);
}

std::string make_temp_dir(const std::string& prefix) {
  std::string base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
  std::string pattern = base + "/" + prefix + "-XXXXXX";
  char* made = ::mkdtemp(pattern.data());
  return made ? std::string(made) : std::string();
}

Instance make_instance(const std::string& id, const std::string& name, int port, Status status) {
  Instance in;
  in.id = id;
  in.name = name;
  in.address = "127.0.0.1";
  in.port = port;
  in.tags = {"v1", "primary"};
  in.meta = {{"version", "1.2.3"}, {"zone", "a"}};
  in.status = status;
  in.node = "node-1";
  return in;
}

std::vector<std::string> ids_of(const std::vector<Instance>& instances) {
  std::vector<std::string> ids;
  for (const auto& in : instances) ids.push_back(in.id);
  return ids;
}

CatalogLoop::CatalogLoop(std::chrono::milliseconds rescan_interval)
    : bus([this](std::function<void()> f) { boost::asio::post(io, std::move(f)); }) {
  root_ = make_temp_dir("loop-test");
  EXPECT_FALSE(root_.empty());
  dir_ = root_ + "/catalog";
  embedded::EmbeddedOptions o;
  o.dir = dir_;
  o.rescan_interval = rescan_interval;
  catalog = open_another(o);
  bus.subscribe([this](const events::Event& e) { events.push_back(e); });
}

CatalogLoop::~CatalogLoop() {
  catalog.reset();
  if (!root_.empty()) fs::remove_all(root_);
}

std::unique_ptr<Catalog> CatalogLoop::open_another(embedded::EmbeddedOptions options) {
  auto c = embedded::EmbeddedCatalog::open(std::move(options), io, timers, files, log);
  if (!c) ADD_FAILURE() << c.error().message;
  return c ? std::move(*c) : nullptr;
}

void CatalogLoop::expect_ok(const std::function<void(Callback<void>)>& start) {
  auto r = await_result<void>(io, start);
  EXPECT_TRUE(r) << r.error().message;
}

std::vector<Instance> CatalogLoop::all(const std::string& service) {
  auto r = await_result<std::vector<Instance>>(io, [&](auto cb) { catalog->list(service, false, cb); });
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::vector<Instance>{};
}

int CatalogLoop::count(events::Code code, const std::string& source) const {
  int n = 0;
  for (const auto& e : events) n += e.code == code && e.source == events::Source::parse(source);
  return n;
}

}  // namespace autopilot::discovery::testing
