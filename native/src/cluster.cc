#include "cluster.h"

#include <functional>
#include <thread>

#include "connect.h"
#include "images.h"
#include "pools.h"

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
                         InstanceMethod<&Cluster::CreateImage>("createImage"),
                         InstanceMethod<&Cluster::StatImage>("statImage"),
                         InstanceMethod<&Cluster::RemoveImage>("removeImage"),
                         InstanceMethod<&Cluster::TrashMove>("trashMove"),
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
  if (closing_.IsEmpty()) closing_ = Napi::Persistent((new CloseWorker(info.Env(), state_))->Start().As<Napi::Object>());
  return closing_.Value();
}

Napi::Value Cluster::ListPools(const Napi::CallbackInfo& info) {
  return (new ListPoolsWorker(info.Env(), state_))->Start();
}

Napi::Value Cluster::ListImages(const Napi::CallbackInfo& info) {
  return (new ListImagesWorker(info.Env(), state_, StringArg(info, 0, "pool"),
                               StringArg(info, 1, "namespace")))
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
  return (new StatImageWorker(info.Env(), state_, StringArg(info, 0, "pool"),
                              StringArg(info, 1, "namespace"), StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::RemoveImage(const Napi::CallbackInfo& info) {
  return (new RemoveImageWorker(info.Env(), state_, StringArg(info, 0, "pool"),
                                StringArg(info, 1, "namespace"), StringArg(info, 2, "image")))
      ->Start();
}

Napi::Value Cluster::TrashMove(const Napi::CallbackInfo& info) {
  return (new TrashMoveWorker(info.Env(), state_, StringArg(info, 0, "pool"),
                              StringArg(info, 1, "namespace"), StringArg(info, 2, "image"),
                              static_cast<uint64_t>(NumberArg(info, 3, "delaySeconds"))))
      ->Start();
}

}  // namespace rbdfn
