// The JS-facing cluster handle. Each method copies its arguments, queues a
// worker and returns a promise; nothing here blocks.
#pragma once

#include <napi.h>

#include <memory>

#include "cluster_state.h"

namespace rbdfn {

class Cluster : public Napi::ObjectWrap<Cluster> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Cluster(const Napi::CallbackInfo& info);
  ~Cluster() override;

 private:
  Napi::Value Connect(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value ListPools(const Napi::CallbackInfo& info);
  Napi::Value ListImages(const Napi::CallbackInfo& info);
  Napi::Value ListImagesPage(const Napi::CallbackInfo& info);
  Napi::Value CreateImage(const Napi::CallbackInfo& info);
  Napi::Value StatImage(const Napi::CallbackInfo& info);
  Napi::Value RemoveImage(const Napi::CallbackInfo& info);
  Napi::Value ResizeImage(const Napi::CallbackInfo& info);
  Napi::Value ImageUsage(const Napi::CallbackInfo& info);
  Napi::Value CreateSnapshot(const Napi::CallbackInfo& info);
  Napi::Value ListSnapshots(const Napi::CallbackInfo& info);
  Napi::Value RemoveSnapshot(const Napi::CallbackInfo& info);
  Napi::Value ProtectSnapshot(const Napi::CallbackInfo& info);
  Napi::Value UnprotectSnapshot(const Napi::CallbackInfo& info);
  Napi::Value ListChildren(const Napi::CallbackInfo& info);
  Napi::Value RollbackImage(const Napi::CallbackInfo& info);
  Napi::Value CloneImage(const Napi::CallbackInfo& info);
  Napi::Value FlattenImage(const Napi::CallbackInfo& info);
  Napi::Value MinCompatClient(const Napi::CallbackInfo& info);
  Napi::Value TrashMove(const Napi::CallbackInfo& info);
  Napi::Value ListTrash(const Napi::CallbackInfo& info);
  Napi::Value RestoreTrash(const Napi::CallbackInfo& info);
  Napi::Value RemoveTrash(const Napi::CallbackInfo& info);

  std::shared_ptr<ClusterState> state_;
  Napi::Env::CleanupHook<std::function<void()>> cleanup_;
  // Set once the hook has run: node-addon-api frees it then, so Remove() must not.
  std::shared_ptr<bool> cleanup_ran_ = std::make_shared<bool>(false);
  bool connect_called_ = false;
  // The first close()'s promise, which later calls return: each CloseWorker
  // holds a pool thread until in-flight calls finish, so one per call could
  // take every thread while a call they wait for is still queued.
  Napi::ObjectReference closing_;
};

}  // namespace rbdfn
