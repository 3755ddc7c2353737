// Base classes for promise-returning operations. Inputs are copied into the
// worker before Queue(); Execute() runs on the libuv pool and never touches JS.
#pragma once

#include <napi.h>
#include <rbd/librbd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "cluster_state.h"
#include "errors.h"
#include "progress.h"

namespace rbdfn {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Queues the work and hands back its promise.
  Napi::Promise Start() {
    Queue();
    return deferred_.Promise();
  }

 protected:
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }

  // Records a failure. The first one wins: it is the cause, later ones are effects.
  void Fail(int err, const char* op) {
    if (failure_.Failed()) return;
    failure_.Set(err, op);
    SetError(op);
  }

  void OnOK() final { Settle(true); }
  void OnError(const Napi::Error&) final { Settle(false); }

  Failure failure_;
  // Started by workers that take an onProgress callback; inactive otherwise.
  Progress progress_;

 private:
  // With progress reports still queued, the promise settles after them, and
  // the worker lives until then.
  void Settle(bool ok) {
    if (!progress_.active()) return Complete(ok);
    SuppressDestruct();
    progress_.Finish(Env(), ok, [this, ok](Napi::Env) {
      Complete(ok);
      delete this;
    });
  }
  void Complete(bool ok) {
    if (ok) {
      deferred_.Resolve(Result(Env()));
    } else {
      deferred_.Reject(MakeError(Env(), failure_).Value());
    }
  }

  Napi::Promise::Deferred deferred_;
};

// An operation on a connected cluster, optionally scoped to a pool/namespace/image.
class ClusterWorker : public PromiseWorker {
 public:
  // op names the main librados/librbd call, reported if the handle is unusable.
  ClusterWorker(Napi::Env env, const char* op, std::shared_ptr<ClusterState> state, std::string pool = "",
                std::string ns = "", std::string image = "")
      : PromiseWorker(env, op), op_(op), state_(std::move(state)), in_flight_(state_.get()) {
    failure_.pool = std::move(pool);
    failure_.ns = std::move(ns);
    failure_.image = std::move(image);
  }

 protected:
  void Execute() final {
    if (in_flight_.rc() != 0) return Fail(in_flight_.rc(), op_);
    Run();
    in_flight_.Done();
  }

  // The librados/librbd work. Report errors with Fail().
  virtual void Run() = 0;

  // The ioctx for this worker's pool/namespace, or nullptr after Fail().
  std::shared_ptr<Ioctx> OpenIoctx() {
    std::shared_ptr<Ioctx> io;
    int r = state_->GetIoctx(failure_.pool, failure_.ns, &io);
    if (r < 0) {
      Fail(r, "rados_ioctx_create");
      return nullptr;
    }
    return io;
  }

  // Runs op(ioctx); if it fails with -ENOENT because the cached ioctx belongs
  // to a pool that was since deleted or recreated, retries once on a fresh one.
  template <typename Op>
  int WithIoctx(Op op) {
    auto io = OpenIoctx();
    if (!io) return failure_.err;
    int r = op(io.get());
    if (r == -ENOENT && state_->EvictIfStale(failure_.pool, failure_.ns, io)) {
      io = OpenIoctx();
      if (!io) return failure_.err;
      r = op(io.get());
    }
    return r;
  }

  // Opens this worker's image: read-only (no exclusive lock, no watch of our
  // own) to read, read-write to change it. On failure, Fail()s, returns false.
  bool OpenImage(rbd_image_t* image, bool read_only) {
    int r = WithIoctx([&](Ioctx* io) {
      return read_only ? rbd_open_read_only(io->get(), failure_.image.c_str(), image, nullptr)
                       : rbd_open(io->get(), failure_.image.c_str(), image, nullptr);
    });
    if (r < 0) Fail(r, read_only ? "rbd_open_read_only" : "rbd_open");
    return r >= 0;
  }

  // librbd lists a missing namespace as empty; callers deserve a 404. Call
  // after an empty listing; Fail()s with ENOENT if the namespace is missing.
  void CheckNamespace() {
    if (failure_.ns.empty()) return;
    bool exists = false;
    int r = WithIoctx([&](Ioctx* io) { return rbd_namespace_exists(io->get(), failure_.ns.c_str(), &exists); });
    if (r < 0) return Fail(r, "rbd_namespace_exists");
    if (!exists) Fail(-ENOENT, "rbd_namespace_exists");
  }

  const char* op_;
  std::shared_ptr<ClusterState> state_;
  // Taken on the JS thread when the call is made, not when a pool thread
  // picks it up: a close() issued after this call then waits for it.
  InFlight in_flight_;
};

}  // namespace rbdfn
