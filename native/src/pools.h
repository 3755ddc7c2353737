// Listing pools, through the monitors.
#pragma once

#include <string>

#include "worker.h"

namespace rbdfn {

// Runs "osd pool ls detail" and hands its JSON to JS. A mon command honours
// rados_mon_op_timeout; rados_wait_for_latest_osdmap (needed to see pools
// created elsewhere through the local osdmap) would block forever on a hung
// monitor.
class ListPoolsWorker : public ClusterWorker {
 public:
  ListPoolsWorker(Napi::Env env, std::shared_ptr<ClusterState> state)
      : ClusterWorker(env, "rados_mon_command", std::move(state)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string json_;
};

}  // namespace rbdfn
