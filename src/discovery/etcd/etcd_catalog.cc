// Instances and KV of EtcdCatalog (watches and locks: etcd_watches.cc).
#include "discovery/etcd/etcd_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <set>

#include "base/base64.h"
#include "discovery/instance_json.h"

namespace autopilot::discovery::etcd {

namespace {

Result<void> validate_prefix(const std::string& prefix) {
  if (prefix.size() < 2 || prefix.front() != '/' || prefix.back() != '/')
    return make_error(fmt::format("etcd prefix \"{}\" must start and end with '/' (like \"/autopilot/\")", prefix));
  for (char c : prefix) {
    if (static_cast<unsigned char>(c) < 0x20) return make_error("etcd prefix holds a control character");
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<EtcdCatalog>> EtcdCatalog::open(EtcdOptions options, boost::asio::io_context& io,
                                                       os::Timers& timers, log::Log& log) {
  if (auto valid = validate_prefix(options.prefix); !valid) return valid.error();
  auto client = Client::create(options.client, io, timers, log);
  if (!client) return client.error();
  return std::unique_ptr<EtcdCatalog>(new EtcdCatalog(std::move(options), std::move(*client), io, timers, log));
}

EtcdCatalog::EtcdCatalog(EtcdOptions options, std::unique_ptr<Client> client, boost::asio::io_context& io,
                         os::Timers& timers, log::Log& log)
    : options_(std::move(options)), client_(std::move(client)), io_(io), timers_(timers), log_(log) {
  layout_.prefix = options_.prefix;
}

EtcdCatalog::~EtcdCatalog() = default;

std::int64_t EtcdCatalog::lease_seconds(Duration ttl) {
  double seconds = std::chrono::duration<double>(ttl).count();
  return std::max<std::int64_t>(2, static_cast<std::int64_t>(std::ceil(seconds)));
}

std::optional<Instance> EtcdCatalog::decode_instance(const Kv& kv) {
  Result<Instance> instance = make_error("");
  try {
    instance = instance_from_json(Json::parse(kv.value));
  } catch (const Json::exception& e) {
    instance = make_error(e.what());
  }
  if (!instance) {
    log_.warn(fmt::format("etcd: skipping the malformed record {}: {}", kv.key, instance.error().message));
    return std::nullopt;
  }
  return std::move(*instance);
}

// --- instances -------------------------------------------------------------------

void EtcdCatalog::register_instance(Instance instance, Duration ttl, Callback<void> done) {
  auto valid = validate_instance(instance);
  if (valid && ttl <= Duration::zero()) valid = make_error("the TTL of an instance must be positive");
  if (!valid) return complete(std::move(done), valid);
  // The lease and where the id was before (another service name, an older
  // lease) are asked for at once; the txn that writes the record follows.
  struct Pending {
    Instance instance;
    Callback<void> done;
    std::optional<Result<LeaseId>> lease;
    std::optional<Result<Located>> where;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(instance), std::move(done), {}, {}});
  auto both = [this, pending] {
    if (!pending->lease || !pending->where) return;
    Result<LeaseId>& lease = *pending->lease;
    if (!lease) return pending->done(lease.error());
    if (!*pending->where) {
      revoke(*lease);
      return pending->done(pending->where->error());
    }
    write_registration(std::move(pending->instance), *lease, **pending->where, std::move(pending->done));
  };
  client_->call("lease/grant", Json{{"TTL", std::to_string(lease_seconds(ttl))}}, [pending, both](Result<Json> r) {
    if (!r) {
      pending->lease = Result<LeaseId>(r.error());
    } else if (LeaseId id = int_field(*r, "ID"); id == 0) {
      pending->lease = Result<LeaseId>(make_error("etcd granted no lease"));
    } else {
      pending->lease = Result<LeaseId>(id);
    }
    both();
  });
  locate(pending->instance.id, [pending, both](Result<Located> where) {
    pending->where = std::move(where);
    both();
  });
}

void EtcdCatalog::write_registration(Instance instance, LeaseId lease, const Located& where, Callback<void> done) {
  Json ops = Json::array();
  if (!where.name.empty() && where.name != instance.name)
    ops.push_back(delete_op(layout_.instance_key(where.name, instance.id)));
  ops.push_back(put_op(layout_.instance_key(instance.name, instance.id), instance_to_json(instance).dump(), lease));
  ops.push_back(put_op(layout_.id_key(instance.id), instance.name, lease));
  LeaseId old_lease = where.lease;
  client_->call("kv/txn", Json{{"success", std::move(ops)}},
                [this, instance = std::move(instance), lease, old_lease, done = std::move(done)](Result<Json> r) {
                  if (!r) {
                    revoke(lease);
                    return done(r.error());
                  }
                  // Both keys now hang on the new lease; the old one holds nothing of ours.
                  if (old_lease != 0 && old_lease != lease) revoke(old_lease);
                  auto it = registered_.find(instance.id);
                  if (it != registered_.end() && it->second.lease != lease && it->second.lease != old_lease)
                    revoke(it->second.lease);
                  std::string id = instance.id;
                  registered_[id] = Registration{std::move(instance), lease};
                  done(Result<void>());
                });
}

void EtcdCatalog::locate(const std::string& id, std::function<void(Result<Located>)> done) {
  client_->call("kv/range", range_request(layout_.id_key(id)), [done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    auto kvs = kvs_of(*r);
    if (!kvs) return done(kvs.error());
    Located where;
    if (!kvs->empty()) {
      where.name = kvs->front().value;
      where.lease = kvs->front().lease;
      if (!validate_service_name(where.name)) where.name.clear();  // a malformed index entry: ignore it
    }
    done(where);
  });
}

void EtcdCatalog::revoke(LeaseId lease, std::function<void()> then) {
  if (lease == 0) {
    if (then) then();
    return;
  }
  client_->call("lease/revoke", Json{{"ID", std::to_string(lease)}}, [this, lease, then](Result<Json> r) {
    // Not found: it expired already, which is what we wanted. Otherwise it
    // expires on its own within its TTL.
    if (!r && r.error().kind != ErrorKind::kNotFound)
      log_.warn(fmt::format("etcd: could not revoke lease {:x}: {}", lease, r.error().message));
    if (then) then();
  });
}

void EtcdCatalog::heartbeat(const std::string& id, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  auto keep_alive = [this, id, done](LeaseId lease) {
    client_->call("lease/keepalive", Json{{"ID", std::to_string(lease)}}, [this, id, lease, done](Result<Json> r) {
      if (!r) return done(r.error());
      if (int_field(*r, "TTL") <= 0) {  // etcd forgot the lease: the record is gone with it
        auto it = registered_.find(id);
        if (it != registered_.end() && it->second.lease == lease) registered_.erase(it);
        return done(unknown_instance_error(id));
      }
      done(Result<void>());
    });
  };
  if (auto it = registered_.find(id); it != registered_.end()) return keep_alive(it->second.lease);
  locate(id, [id, done, keep_alive](Result<Located> where) {
    if (!where) return done(where.error());
    if (where->name.empty() || where->lease == 0) return done(unknown_instance_error(id));
    keep_alive(where->lease);
  });
}

void EtcdCatalog::set_status(const std::string& id, Status status, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  auto rewrite = [this, id, status, done](Instance instance) {
    instance.status = status;
    std::string key = layout_.instance_key(instance.name, id);
    Json put = put_op(key, instance_to_json(instance).dump());
    put["request_put"]["ignore_lease"] = true;
    Json txn = {{"compare", Json::array({compare(key, "VERSION", "GREATER", 0)})}, {"success", Json::array({put})}};
    client_->call("kv/txn", std::move(txn), [this, id, instance, done](Result<Json> r) {
      if (!r) return done(r.error());
      if (!r->value("succeeded", false)) {
        registered_.erase(id);
        return done(unknown_instance_error(id));
      }
      if (auto it = registered_.find(id); it != registered_.end()) it->second.instance = instance;
      done(Result<void>());
    });
  };
  if (auto it = registered_.find(id); it != registered_.end()) return rewrite(it->second.instance);
  locate(id, [this, id, done, rewrite](Result<Located> where) {
    if (!where) return done(where.error());
    if (where->name.empty()) return done(unknown_instance_error(id));
    client_->call("kv/range", range_request(layout_.instance_key(where->name, id)),
                  [this, id, done, rewrite](Result<Json> r) {
                    if (!r) return done(r.error());
                    auto kvs = kvs_of(*r);
                    if (!kvs) return done(kvs.error());
                    std::optional<Instance> instance;
                    if (!kvs->empty()) instance = decode_instance(kvs->front());
                    if (!instance) return done(unknown_instance_error(id));
                    rewrite(std::move(*instance));
                  });
  });
}

void EtcdCatalog::deregister(const std::string& id, Callback<void> done) {
  if (auto valid = validate_instance_id(id); !valid) return complete(std::move(done), valid);
  locate(id, [this, id, done = std::move(done)](Result<Located> where) mutable {
    if (!where) return done(where.error());
    auto mine = registered_.find(id);
    std::string name = where->name.empty() && mine != registered_.end() ? mine->second.instance.name : where->name;
    LeaseId lease = where->lease != 0 ? where->lease : (mine != registered_.end() ? mine->second.lease : 0);
    if (name.empty()) {
      registered_.erase(id);
      return revoke(lease, [done] { done(Result<void>()); });
    }
    Json ops = Json::array({delete_op(layout_.instance_key(name, id)), delete_op(layout_.id_key(id))});
    client_->call("kv/txn", Json{{"success", std::move(ops)}}, [this, id, lease, done = std::move(done)](Result<Json> r) {
      if (!r) return done(r.error());
      registered_.erase(id);
      // Done once the lease is gone too: a heartbeat after this fails.
      revoke(lease, [done] { done(Result<void>()); });
    });
  });
}

void EtcdCatalog::list(const std::string& service, bool healthy_only, Callback<std::vector<Instance>> done) {
  if (auto valid = validate_service_name(service); !valid)
    return complete(std::move(done), Result<std::vector<Instance>>(valid.error()));
  std::string dir = layout_.service_dir(service);
  client_->call("kv/range", range_request(dir, prefix_end(dir)),
                [this, healthy_only, done = std::move(done)](Result<Json> r) {
                  if (!r) return done(r.error());
                  auto kvs = kvs_of(*r);
                  if (!kvs) return done(kvs.error());
                  std::vector<Instance> out;
                  for (const auto& kv : *kvs) {
                    auto instance = decode_instance(kv);
                    if (instance && (!healthy_only || is_healthy(instance->status))) out.push_back(std::move(*instance));
                  }
                  std::sort(out.begin(), out.end(), [](const Instance& a, const Instance& b) { return a.id < b.id; });
                  done(std::move(out));
                });
}

// The whole services tree, values too: the tags are in the records (as
// Consul's /v1/catalog/services, which consul-template reads, has them).
void EtcdCatalog::services(Callback<std::vector<ServiceSummary>> done) {
  std::string root = layout_.services_root();
  client_->call("kv/range", range_request(root, prefix_end(root)), [this, done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    auto kvs = kvs_of(*r);
    if (!kvs) return done(kvs.error());
    std::vector<Instance> live;
    for (const auto& kv : *kvs) {
      if (auto instance = decode_instance(kv)) live.push_back(std::move(*instance));
    }
    done(summarize(live));
  });
}

// --- KV ----------------------------------------------------------------------------

void EtcdCatalog::get(const std::string& key, Callback<std::optional<KvEntry>> done) {
  if (auto valid = validate_key(key); !valid)
    return complete(std::move(done), Result<std::optional<KvEntry>>(valid.error()));
  client_->call("kv/range", range_request(layout_.kv_key(key)), [key, done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    auto kvs = kvs_of(*r);
    if (!kvs) return done(kvs.error());
    if (kvs->empty()) return done(std::optional<KvEntry>());
    const Kv& kv = kvs->front();
    done(std::optional<KvEntry>(KvEntry{key, kv.value, kv.create_revision, kv.mod_revision}));
  });
}

void EtcdCatalog::put(const std::string& key, const std::string& value, Callback<Index> done) {
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), Result<Index>(valid.error()));
  Json body = put_op(layout_.kv_key(key), value)["request_put"];
  client_->call("kv/put", std::move(body), [done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    done(revision_of(*r));
  });
}

void EtcdCatalog::del(const std::string& key, Callback<void> done) {
  if (auto valid = validate_key(key); !valid) return complete(std::move(done), valid);
  client_->call("kv/deleterange", range_request(layout_.kv_key(key)), [done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    done(Result<void>());
  });
}

void EtcdCatalog::list_kv(const std::string& prefix, Callback<std::vector<KvEntry>> done) {
  if (!prefix.empty()) {
    if (auto valid = validate_key(prefix); !valid)
      return complete(std::move(done), Result<std::vector<KvEntry>>(valid.error()));
  }
  std::string root = layout_.kv_root();
  std::string from = root + prefix;
  client_->call("kv/range", range_request(from, prefix_end(from)), [root, done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    auto kvs = kvs_of(*r);
    if (!kvs) return done(kvs.error());
    std::vector<KvEntry> out;
    for (auto& kv : *kvs)
      out.push_back(KvEntry{kv.key.substr(root.size()), std::move(kv.value), kv.create_revision, kv.mod_revision});
    done(std::move(out));  // etcd ranges are sorted by key
  });
}

void EtcdCatalog::compare_and_set(const std::string& key, Index expected_mod_index, const std::string& value,
                                  Callback<std::optional<Index>> done) {
  if (auto valid = validate_key(key); !valid)
    return complete(std::move(done), Result<std::optional<Index>>(valid.error()));
  std::string full = layout_.kv_key(key);
  Json condition = expected_mod_index == 0
                       ? compare(full, "CREATE", "EQUAL", 0)
                       : compare(full, "MOD", "EQUAL", static_cast<std::int64_t>(expected_mod_index));
  Json txn = {{"compare", Json::array({condition})}, {"success", Json::array({put_op(full, value)})}};
  client_->call("kv/txn", std::move(txn), [done = std::move(done)](Result<Json> r) {
    if (!r) return done(r.error());
    if (!r->value("succeeded", false)) return done(std::optional<Index>());
    done(std::optional<Index>(revision_of(*r)));
  });
}

}  // namespace autopilot::discovery::etcd
