// Progress of a long librbd call (rollback, flatten, trash remove), reported
// to an optional JS callback. librbd calls back on its own threads, so the
// reports go through a thread-safe function, created on the JS thread when
// the call is made and released when the work ends.
#pragma once

#include <napi.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace rbdfn {

// For librbd calls whose progress we do not report: librbd's C wrapper calls
// the function unconditionally, so it must not be null.
inline int NoProgress(uint64_t, uint64_t, void*) { return 0; }

class Progress {
 public:
  // On the JS thread. A function starts the reports; anything else (undefined)
  // means no callback and no thread-safe function.
  void Start(Napi::Env env, Napi::Value callback);
  bool active() const { return active_; }

  // A librbd_progress_fn_t, with this Progress as its argument. Forwards at
  // most one report per 1% step and per 250 ms, whichever comes later.
  static int Callback(uint64_t done, uint64_t total, void* arg);

  // On the JS thread once the work has ended: sends a last report if librbd
  // reported any (done = total when the work succeeded: librbd's own last
  // one may count from 0), then runs then() behind every queued report, so a
  // promise settled there settles after the last report was delivered.
  void Finish(Napi::Env env, bool succeeded, std::function<void(Napi::Env)> then);

 private:
  void Send();  // with mu_ held

  Napi::ThreadSafeFunction tsfn_;
  bool active_ = false;
  std::mutex mu_;
  uint64_t done_ = 0, total_ = 0;  // the latest report from librbd
  bool pending_ = false;           // ... not sent yet
  bool reported_ = false;          // librbd reported at all
  uint64_t sent_done_ = 0;
  std::chrono::steady_clock::time_point sent_at_;
};

}  // namespace rbdfn
