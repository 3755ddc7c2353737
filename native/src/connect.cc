#include "connect.h"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace rbdfn {

namespace {

// rados_connect retries internally and has been seen to outlive
// client_mount_timeout, so it runs on its own thread and is abandoned when
// the wall-clock budget runs out. The abandoned thread cleans up after itself.
struct ConnectAttempt {
  std::mutex mu;
  std::condition_variable done_cv;
  rados_t cluster = nullptr;
  bool done = false;
  bool abandoned = false;
  int rc = 0;
};

// Returns rados_connect's result, or -ETIMEDOUT once the budget is spent.
// On success, and on failure within budget, the caller keeps the handle.
// *abandoned says the budget ran out and the thread owns the handle now.
int ConnectWithDeadline(rados_t cluster, std::chrono::milliseconds budget, bool* abandoned) {
  auto attempt = std::make_shared<ConnectAttempt>();
  attempt->cluster = cluster;
  std::thread([attempt] {
    int rc = rados_connect(attempt->cluster);
    std::unique_lock<std::mutex> lock(attempt->mu);
    attempt->done = true;
    attempt->rc = rc;
    if (attempt->abandoned) {
      lock.unlock();
      rados_shutdown(attempt->cluster);
      return;
    }
    attempt->done_cv.notify_all();
  }).detach();

  std::unique_lock<std::mutex> lock(attempt->mu);
  *abandoned = !attempt->done_cv.wait_for(lock, budget, [&] { return attempt->done; });
  if (!*abandoned) return attempt->rc;
  attempt->abandoned = true;
  return -ETIMEDOUT;
}

}  // namespace

std::string ConnectWorker::ConfGet(rados_t cluster, const char* option) {
  std::vector<char> buf(4096);
  if (rados_conf_get(cluster, option, buf.data(), buf.size()) < 0) return "";
  return std::string(buf.data());
}

int ConnectWorker::Configure(rados_t cluster) {
  if (!options_.conf.empty()) {
    int r = rados_conf_read_file(cluster, options_.conf.c_str());
    if (r < 0) return Fail(r, "rados_conf_read_file"), r;
  }
  char timeout[32];
  std::snprintf(timeout, sizeof(timeout), "%g", options_.timeout_seconds);
  const std::pair<const char*, std::string> settings[] = {
      {"keyring", options_.keyring},
      {"mon_host", options_.mon_host},
      {"key", options_.key},
      {"rados_mon_op_timeout", timeout},
      {"rados_osd_op_timeout", timeout},
      {"client_mount_timeout", timeout},
      // Our own diagnostics replace librados's stderr chatter.
      {"log_to_stderr", "false"},
      {"err_to_stderr", "false"},
  };
  for (const auto& [name, value] : settings) {
    if (value.empty()) continue;
    int r = rados_conf_set(cluster, name, value.c_str());
    if (r < 0) {
      Fail(r, "rados_conf_set");
      failure_.extra.emplace_back("option", name);
      return r;
    }
  }
  return 0;
}

void ConnectWorker::Execute() {
  rados_t cluster;
  const std::string user = "client." + options_.id;
  int r = rados_create2(&cluster, "ceph", user.c_str(), 0);
  if (r < 0) return Fail(r, "rados_create2");

  if (Configure(cluster) < 0) {
    rados_shutdown(cluster);
    return;
  }
  // What librados will actually use, with $cluster/$name expanded: the
  // caller's diagnostics check these files rather than guessing.
  failure_.extra.emplace_back("keyring", ConfGet(cluster, "keyring"));
  failure_.extra.emplace_back("monHost", ConfGet(cluster, "mon_host"));

  // librados's own timeouts should fire first; the extra second is slack.
  auto budget = std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_seconds * 1000) + 1000);
  bool abandoned = false;
  r = ConnectWithDeadline(cluster, budget, &abandoned);
  if (r < 0) {
    if (!abandoned) rados_shutdown(cluster);
    return Fail(r, "rados_connect");
  }

  char fsid[64] = {0};
  if (rados_cluster_fsid(cluster, fsid, sizeof(fsid) - 1) >= 0) fsid_ = fsid;
  instance_id_ = rados_get_instance_id(cluster);
  if (!state_->Adopt(cluster)) {
    rados_shutdown(cluster);
    Fail(-ESHUTDOWN, "rados_connect");
  }
}

Napi::Value ConnectWorker::Result(Napi::Env env) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("fsid", fsid_);
  info.Set("instanceId", Napi::Number::New(env, static_cast<double>(instance_id_)));
  for (const auto& [key, value] : failure_.extra) info.Set(key, value);
  return info;
}

}  // namespace rbdfn
