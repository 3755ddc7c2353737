// Listing pools with their ids and application tags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker.h"

namespace rbdfn {

struct PoolInfo {
  std::string name;
  int64_t id;
  std::vector<std::string> applications;
};

class ListPoolsWorker : public ClusterWorker {
 public:
  ListPoolsWorker(Napi::Env env, std::shared_ptr<ClusterState> state)
      : ClusterWorker(env, "rados_pool_list", std::move(state)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::vector<PoolInfo> pools_;
};

}  // namespace rbdfn
