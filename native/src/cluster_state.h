// The process's connection to one Ceph cluster: a rados_t plus a cache of
// ioctxs per (pool, namespace). Shared by the JS handle and every in-flight
// worker, so it outlives whichever of them finishes last.
#pragma once

#include <rados/librados.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace rbdfn {

// An ioctx bound to one pool and namespace. Namespaces are set once at
// creation because rados_ioctx_set_namespace is not thread-safe.
class Ioctx {
 public:
  explicit Ioctx(rados_ioctx_t io) : io_(io) {}
  ~Ioctx() { rados_ioctx_destroy(io_); }
  Ioctx(const Ioctx&) = delete;
  Ioctx& operator=(const Ioctx&) = delete;

  rados_ioctx_t get() const { return io_; }
  // Last image count seen by rbd_list2, so the next listing sizes its buffer
  // right and skips the -ERANGE round trip.
  std::atomic<size_t> list_hint{0};

 private:
  rados_ioctx_t io_;
};

class ClusterState {
 public:
  ClusterState() = default;
  ~ClusterState() { Shutdown(); }
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  // Takes ownership of a connected handle. Returns false if already closed,
  // in which case the caller must shut the handle down itself.
  bool Adopt(rados_t cluster);

  // Marks an operation in flight. Returns 0, or -ENOTCONN before connect,
  // or -ESHUTDOWN once closing has begun.
  int Acquire();
  void Release();

  // Waits for in-flight operations, then destroys every ioctx and shuts the
  // cluster handle down. Idempotent; safe from any thread.
  void Shutdown();

  // A cached ioctx, created on first use. Returns 0 or a negative errno.
  int GetIoctx(const std::string& pool, const std::string& ns, std::shared_ptr<Ioctx>* out);

  // Drops a cached ioctx whose pool was deleted (or deleted and recreated).
  // Returns true if it was stale, so the caller may retry once.
  bool EvictIfStale(const std::string& pool, const std::string& ns, const std::shared_ptr<Ioctx>& io);

  rados_t cluster() const { return cluster_; }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  rados_t cluster_ = nullptr;
  bool closed_ = false;
  int inflight_ = 0;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Ioctx>> ioctxs_;
};

// RAII guard over Acquire/Release; Done() releases early, once.
class InFlight {
 public:
  explicit InFlight(ClusterState* state) : state_(state), rc_(state->Acquire()) {}
  ~InFlight() { Done(); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  int rc() const { return rc_; }
  void Done() {
    if (rc_ == 0 && !done_) state_->Release();
    done_ = true;
  }

 private:
  ClusterState* state_;
  int rc_;
  bool done_ = false;
};

}  // namespace rbdfn
