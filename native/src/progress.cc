#include "progress.h"

namespace rbdfn {

void Progress::Start(Napi::Env env, Napi::Value callback) {
  if (!callback.IsFunction()) return;
  tsfn_ = Napi::ThreadSafeFunction::New(env, callback.As<Napi::Function>(), "rbdProgress", 0, 1);
  active_ = true;
  sent_at_ = std::chrono::steady_clock::now();
}

int Progress::Callback(uint64_t done, uint64_t total, void* arg) {
  auto* self = static_cast<Progress*>(arg);
  if (!self->active_) return 0;
  std::lock_guard<std::mutex> lock(self->mu_);
  self->done_ = done;
  self->total_ = total;
  self->pending_ = true;
  self->reported_ = true;
  // librbd may start over for a second phase: a move either way is a step.
  uint64_t moved = done >= self->sent_done_ ? done - self->sent_done_ : self->sent_done_ - done;
  bool step = total == 0 || moved * 100 >= total;
  if (step && std::chrono::steady_clock::now() - self->sent_at_ >= std::chrono::milliseconds(250)) self->Send();
  return 0;
}

void Progress::Send() {
  uint64_t done = done_, total = total_;
  tsfn_.NonBlockingCall([done, total](Napi::Env env, Napi::Function fn) {
    // Rethrown as JS, like any callback's exception; a C++ exception escaping
    // here would skip node-addon-api's cleanup of this call.
    try {
      fn.Call({Napi::Number::New(env, static_cast<double>(done)), Napi::Number::New(env, static_cast<double>(total))});
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
  });
  sent_done_ = done;
  sent_at_ = std::chrono::steady_clock::now();
  pending_ = false;
}

void Progress::Finish(Napi::Env env, bool succeeded, std::function<void(Napi::Env)> then) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reported_ && succeeded && done_ != total_) {
      done_ = total_;
      pending_ = true;
    }
    if (pending_) Send();
  }
  napi_status status = tsfn_.NonBlockingCall([then](Napi::Env env, Napi::Function) { then(env); });
  tsfn_.Release();
  active_ = false;
  // Last: then() may delete this Progress's owner.
  if (status != napi_ok) then(env);
}

}  // namespace rbdfn
