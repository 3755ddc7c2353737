#include "cluster.h"

#include <functional>
#include <thread>

#include "clones.h"
#include "connect.h"
#include "images.h"
#include "pools.h"
#include "snapshots.h"
#include "trash.h"

namespace rbdfn {

namespace {

// Argument checks are a last line of defence against crashes; the
// TypeScript client validates values and gives the friendly messages.
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0)) throw Napi::RangeError::New(info.Env(), std::string(name) + " must be >= 0");
  return v;
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// An optional progress callback: a function or undefined.
Napi::Value ProgressArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsUndefined() && !info[i].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "onProgress must be a function");
  }
  return info[i];
}

std::string OptString(const Napi::Object& obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return "";
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::optional<uint64_t> OptUint(const Napi::Object& obj, const char* key) {
  Napi::Value v = obj.Get(key);
  if (v.IsUndefined()) return std::nullopt;
  if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 0) {
    throw Napi::TypeError::New(obj.Env(), std::string(key) + " must be a non-negative number");
  }
  return static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
}

}  // namespace

Napi::Function Cluster::Define(Napi::Env env) {
  return DefineClass(env, "Cluster",
                     {
                         InstanceMethod<&Cluster::Connect>("connect"),
                         InstanceMethod<&Cluster::Close>("close"),
                         InstanceMethod<&Cluster::ListPools>("listPools"),
                         InstanceMethod<&Cluster::ListImages>("listImages"),
                         InstanceMethod<&Cluster::ListImagesPage>("listImagesPage"),
                         InstanceMethod<&Cluster::CreateImage>("createImage"),
                         InstanceMethod<&Cluster::StatImage>("statImage"),
                         InstanceMethod<&Cluster::RemoveImage>("removeImage"),
                         InstanceMethod<&Cluster::ResizeImage>("resizeImage"),
                         InstanceMethod<&Cluster::ImageUsage>("imageUsage"),
                         InstanceMethod<&Cluster::CreateSnapshot>("createSnapshot"),
                         InstanceMethod<&Cluster::ListSnapshots>("listSnapshots"),
                         InstanceMethod<&Cluster::RemoveSnapshot>("removeSnapshot"),
                         InstanceMethod<&Cluster::ProtectSnapshot>("protectSnapshot"),
                         InstanceMethod<&Cluster::UnprotectSnapshot>("unprotectSnapshot"),
                         InstanceMethod<&Cluster::ListChildren>("listChildren"),
                         InstanceMethod<&Cluster::RollbackImage>("rollbackImage"),
                         InstanceMethod<&Cluster::CloneImage>("cloneImage"),
                         InstanceMethod<&Cluster::FlattenImage>("flattenImage"),
                         InstanceMethod<&Cluster::MinCompatClient>("minCompatClient"),
                         InstanceMethod<&Cluster::TrashMove>("trashMove"),
                         InstanceMethod<&Cluster::ListTrash>("listTrash"),
                         InstanceMethod<&Cluster::RestoreTrash>("restoreTrash"),
                         InstanceMethod<&Cluster::RemoveTrash>("removeTrash"),
                     });
}

Cluster::Cluster(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Cluster>(info), state_(std::make_shared<ClusterState>()) {
  // At environment teardown (process exit, worker exit) the handle is shut
  // down even if close() was never called, so the mons see a clean goodbye.
  std::weak_ptr<ClusterState> weak = state_;
  cleanup_ = info.Env().AddCleanupHook(std::function<void()>([weak, ran = cleanup_ran_] {
    *ran = true;
    if (auto state = weak.lock()) state->Shutdown();
  }));
}

Cluster::~Cluster() {
  if (*cleanup_ran_) return;  // already shut down at environment teardown
  cleanup_.Remove(Env());
  // Garbage-collected without close(): rados_shutdown blocks, so it must not
  // run here on the event loop. A thread waits for in-flight workers and
  // shuts down; workers that finish later then drop an already-closed state.
  std::thread([state = std::move(state_)] { state->Shutdown(); }).detach();
}

Napi::Value Cluster::Connect(const Napi::CallbackInfo& info) {
  if (!info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  if (connect_called_) throw Napi::Error::New(info.Env(), "connect() may be called once per handle");
  Napi::Object opts = info[0].As<Napi::Object>();
  ConnectOptions options;
  options.conf = OptString(opts, "conf");
  options.id = OptString(opts, "id");
  options.keyring = OptString(opts, "keyring");
  options.mon_host = OptString(opts, "monHost");
  options.key = OptString(opts, "key");
  auto timeout = opts.Get("timeoutSeconds");
  if (!timeout.IsNumber() || !(timeout.As<Napi::Number>().DoubleValue() > 0)) {
    throw Napi::TypeError::New(info.Env(), "timeoutSeconds must be a positive number");
  }
  options.timeout_seconds = timeout.As<Napi::Number>().DoubleValue();
  if (options.id.empty()) options.id = "admin";
  connect_called_ = true;
  return (new ConnectWorker(info.Env(), state_, std::move(options)))->Start();
}

Napi::Value Cluster::Close(const Napi::CallbackInfo& info) {
  if (closing_.IsEmpty())
    closing_ = Napi::Persistent((new CloseWorker(info.Env(), state_))->Start().As<Napi::Object>());
  return closing_.Value();
}

Napi::Value Cluster::ListPools(const Napi::CallbackInfo& info) {
  return (new ListPoolsWorker(info.Env(), state_))->Start();
}

Napi::Value Cluster::ListImages(const Napi::CallbackInfo& info) {
  return (new ListImagesWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace")))
      ->Start();
}

// (pool, namespace, {after?: string, limit: number, json: boolean})
Napi::Value Cluster::ListImagesPage(const Napi::CallbackInfo& info) {
  if (!info[2].IsObject()) throw Napi::TypeError::New(info.Env(), "options must be an object");
  Napi::Object opts = info[2].As<Napi::Object>();
  PageOptions options;
  if (!opts.Get("after").IsUndefined()) options.after = OptString(opts, "after");
  auto limit = OptUint(opts, "limit");
  if (!limit || *limit < 1) throw Napi::TypeError::New(info.Env(), "limit must be a positive number");
  options.limit = static_cast<size_t>(*limit);
  if (!opts.Get("json").IsBoolean()) throw Napi::TypeError::New(info.Env(), "json must be a boolean");
  options.json = opts.Get("json").As<Napi::Boolean>().Value();
  return (new ListImagesPageWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                   std::move(options)))
      ->Start();
}

Napi::Value Cluster::CreateImage(const Napi::CallbackInfo& info) {
  std::string pool = StringArg(info, 0, "pool");
  std::string ns = StringArg(info, 1, "namespace");
  std::string image = StringArg(info, 2, "image");
  CreateOptions options;
  options.size = static_cast<uint64_t>(NumberArg(info, 3, "size"));
  if (info[4].IsObject()) {
    Napi::Object opts = info[4].As<Napi::Object>();
    options.features = OptUint(opts, "features");
    options.order = OptUint(opts, "order");
    options.stripe_unit = OptUint(opts, "stripeUnit");
    options.stripe_count = OptUint(opts, "stripeCount");
    options.data_pool = OptString(opts, "dataPool");
  }
  bool describe = info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  return (new CreateImageWorker(info.Env(), state_, std::move(pool), std::move(ns), std::move(image),
                                std::move(options), describe))
      ->Start();
}

Napi::Value Cluster::StatImage(const Napi::CallbackInfo& info) {
  return (new StatImageWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                              StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::RemoveImage(const Napi::CallbackInfo& info) {
  return (new RemoveImageWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::TrashMove(const Napi::CallbackInfo& info) {
  return (new TrashMoveWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                              StringArg(info, 2, "image"), static_cast<uint64_t>(NumberArg(info, 3, "delaySeconds"))))
      ->Start();
}

Napi::Value Cluster::ResizeImage(const Napi::CallbackInfo& info) {
  return (new ResizeImageWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                StringArg(info, 2, "image"), static_cast<uint64_t>(NumberArg(info, 3, "size")),
                                BoolArg(info, 4, "allowShrink")))
      ->Start();
}

Napi::Value Cluster::ImageUsage(const Napi::CallbackInfo& info) {
  return (new ImageUsageWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                               StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::CreateSnapshot(const Napi::CallbackInfo& info) {
  return (new CreateSnapshotWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                   StringArg(info, 2, "image"), StringArg(info, 3, "snapshot")))
      ->Start();
}

Napi::Value Cluster::ListSnapshots(const Napi::CallbackInfo& info) {
  return (new ListSnapshotsWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                  StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::RemoveSnapshot(const Napi::CallbackInfo& info) {
  return (new RemoveSnapshotWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                   StringArg(info, 2, "image"), StringArg(info, 3, "snapshot"),
                                   BoolArg(info, 4, "unprotect")))
      ->Start();
}

Napi::Value Cluster::ProtectSnapshot(const Napi::CallbackInfo& info) {
  return (new ProtectSnapshotWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                    StringArg(info, 2, "image"), StringArg(info, 3, "snapshot"), true))
      ->Start();
}

Napi::Value Cluster::UnprotectSnapshot(const Napi::CallbackInfo& info) {
  return (new ProtectSnapshotWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                    StringArg(info, 2, "image"), StringArg(info, 3, "snapshot"), false))
      ->Start();
}

Napi::Value Cluster::ListChildren(const Napi::CallbackInfo& info) {
  return (new ListChildrenWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                 StringArg(info, 2, "image"), StringArg(info, 3, "snapshot")))
      ->Start();
}

Napi::Value Cluster::RollbackImage(const Napi::CallbackInfo& info) {
  return (new RollbackWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                             StringArg(info, 2, "image"), StringArg(info, 3, "snapshot"), ProgressArg(info, 4)))
      ->Start();
}

Napi::Value Cluster::CloneImage(const Napi::CallbackInfo& info) {
  std::string pool = StringArg(info, 0, "pool");
  std::string ns = StringArg(info, 1, "namespace");
  std::string image = StringArg(info, 2, "image");
  std::string snapshot = StringArg(info, 3, "snapshot");
  std::string child_pool = StringArg(info, 4, "childPool");
  std::string child_ns = StringArg(info, 5, "childNamespace");
  std::string child = StringArg(info, 6, "child");
  CloneOptions options;
  if (info[7].IsObject()) {
    Napi::Object opts = info[7].As<Napi::Object>();
    options.features = OptUint(opts, "features");
    options.clone_format = OptUint(opts, "cloneFormat");
  }
  return (new CloneWorker(info.Env(), state_, std::move(pool), std::move(ns), std::move(image), std::move(snapshot),
                          std::move(child_pool), std::move(child_ns), std::move(child), options))
      ->Start();
}

Napi::Value Cluster::FlattenImage(const Napi::CallbackInfo& info) {
  return (new FlattenWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                            StringArg(info, 2, "image"), ProgressArg(info, 3)))
      ->Start();
}

Napi::Value Cluster::MinCompatClient(const Napi::CallbackInfo& info) {
  return (new MinCompatClientWorker(info.Env(), state_))->Start();
}

Napi::Value Cluster::ListTrash(const Napi::CallbackInfo& info) {
  return (new ListTrashWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace")))
      ->Start();
}

Napi::Value Cluster::RestoreTrash(const Napi::CallbackInfo& info) {
  return (new RestoreTrashWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                 StringArg(info, 2, "id"), StringArg(info, 3, "name")))
      ->Start();
}

Napi::Value Cluster::RemoveTrash(const Napi::CallbackInfo& info) {
  return (new RemoveTrashWorker(info.Env(), state_, StringArg(info, 0, "pool"), StringArg(info, 1, "namespace"),
                                StringArg(info, 2, "id"), BoolArg(info, 3, "force"), BoolArg(info, 4, "purgeSnapshots"),
                                ProgressArg(info, 5)))
      ->Start();
}

}  // namespace rbdfn
