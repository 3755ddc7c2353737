// Connecting and closing the process's cluster handle.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "cluster_state.h"
#include "worker.h"

namespace rbdfn {

struct ConnectOptions {
  std::string conf;     // ceph.conf path; empty reads no file at all
  std::string id;       // client id without "client."
  std::string keyring;  // keyring path; empty keeps the conf's/default search path
  std::string mon_host;
  std::string key;  // base64 secret; never logged
  double timeout_seconds = 10;
};

class ConnectWorker : public PromiseWorker {
 public:
  ConnectWorker(Napi::Env env, std::shared_ptr<ClusterState> state, ConnectOptions options)
      : PromiseWorker(env, "rados_connect"), state_(std::move(state)), options_(std::move(options)) {}

 protected:
  void Execute() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  int Configure(rados_t cluster);
  std::string ConfGet(rados_t cluster, const char* option);

  std::shared_ptr<ClusterState> state_;
  ConnectOptions options_;
  std::string fsid_;
  uint64_t instance_id_ = 0;
};

class CloseWorker : public PromiseWorker {
 public:
  CloseWorker(Napi::Env env, std::shared_ptr<ClusterState> state)
      : PromiseWorker(env, "rados_shutdown"), state_(std::move(state)) {}

 protected:
  void Execute() override { state_->Shutdown(); }

 private:
  std::shared_ptr<ClusterState> state_;
};

}  // namespace rbdfn
