#include "cluster_state.h"

#include <cerrno>
#include <vector>

namespace rbdfn {

bool ClusterState::Adopt(rados_t cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;
  cluster_ = cluster;
  return true;
}

int ClusterState::Acquire() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return -ESHUTDOWN;
  if (cluster_ == nullptr) return -ENOTCONN;
  ++inflight_;
  return 0;
}

void ClusterState::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--inflight_ == 0) idle_.notify_all();
}

void ClusterState::Shutdown() {
  rados_t cluster;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Ioctx>> ioctxs;
  {
    std::unique_lock<std::mutex> lock(mu_);
    closed_ = true;
    // Every operation is bounded by the configured timeouts, so this wait is too.
    idle_.wait(lock, [this] { return inflight_ == 0; });
    cluster = cluster_;
    cluster_ = nullptr;
    ioctxs.swap(ioctxs_);
  }
  ioctxs.clear();  // ioctxs must go before the cluster handle
  if (cluster != nullptr) rados_shutdown(cluster);
}

int ClusterState::GetIoctx(const std::string& pool, const std::string& ns, std::shared_ptr<Ioctx>* out) {
  auto key = std::make_pair(pool, ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = ioctxs_.find(key);
    if (it != ioctxs_.end()) {
      *out = it->second;
      return 0;
    }
  }
  // Created outside the lock: it may wait for an osdmap.
  rados_ioctx_t io;
  int r = rados_ioctx_create(cluster_, pool.c_str(), &io);
  if (r < 0) return r;
  rados_ioctx_set_namespace(io, ns.c_str());
  auto created = std::make_shared<Ioctx>(io);

  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = ioctxs_.emplace(key, created);
  *out = it->second;  // another thread may have won the race; use its ioctx
  return 0;
}

bool ClusterState::EvictIfStale(const std::string& pool, const std::string& ns, const std::shared_ptr<Ioctx>& io) {
  int64_t current = rados_pool_lookup(cluster_, pool.c_str());
  if (current == rados_ioctx_get_id(io->get())) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ioctxs_.find(std::make_pair(pool, ns));
  if (it != ioctxs_.end() && it->second == io) ioctxs_.erase(it);
  return true;
}

}  // namespace rbdfn
