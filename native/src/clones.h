// Clones: create one from a snapshot, flatten it, read its parent; and the
// cluster setting that decides librbd's default clone format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "describe.h"
#include "worker.h"

namespace rbdfn {

struct CloneOptions {
  std::optional<uint64_t> features;
  std::optional<uint64_t> clone_format;  // 1 or 2; librbd's default (auto) without
};

// Scoped to the parent image@snapshot; errors about the child (its name is
// taken, its pool or namespace is missing) are scoped to the child.
class CloneWorker : public ClusterWorker {
 public:
  CloneWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns, std::string image,
              std::string snapshot, std::string child_pool, std::string child_ns, std::string child,
              CloneOptions options)
      : ClusterWorker(env, "rbd_clone3", std::move(state), std::move(pool), std::move(ns), std::move(image)),
        child_pool_(std::move(child_pool)),
        child_ns_(std::move(child_ns)),
        child_(std::move(child)),
        options_(options) {
    failure_.snapshot = std::move(snapshot);
  }

 protected:
  void Run() override;
  // The clone as read back from its objects (DescribeNewImage), or null.
  Napi::Value Result(Napi::Env env) override;

 private:
  void FailOnChild(int err, const char* op);
  void Diagnose(int err);
  std::string child_pool_;
  std::string child_ns_;
  std::string child_;
  CloneOptions options_;
  std::optional<ImageDescription> created_;
};

class FlattenWorker : public ClusterWorker {
 public:
  FlattenWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns, std::string image,
                Napi::Value on_progress)
      : ClusterWorker(env, "rbd_flatten_with_progress", std::move(state), std::move(pool), std::move(ns),
                      std::move(image)) {
    progress_.Start(env, on_progress);
  }

 protected:
  void Run() override;
};

// The image's parent; std::nullopt in *out when it has none. Returns 0 or a
// negative errno.
int GetParent(rbd_image_t image, std::optional<ParentInfo>* out);

// The cluster's require_min_compat_client as a release number (luminous 12,
// mimic 13, ...): clone v2 needs mimic. Asked of the monitors, since the
// client's own copy of the osdmap lags a change until an OSD op brings a
// newer map; that copy answers only when the monitors do not.
class MinCompatClientWorker : public ClusterWorker {
 public:
  MinCompatClientWorker(Napi::Env env, std::shared_ptr<ClusterState> state)
      : ClusterWorker(env, "rados_get_min_compatible_client", std::move(state)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  int8_t required_ = 0;
};

}  // namespace rbdfn
