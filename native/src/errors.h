// A failed librados/librbd call, captured on the worker thread and turned
// into a JS error on the main thread.
#pragma once

#include <napi.h>

#include <string>
#include <utility>
#include <vector>

namespace rbdfn {

struct Failure {
  int err = 0;     // negative errno, as librados/librbd return it
  std::string op;  // the C call that failed, e.g. "rbd_create4"
  std::string pool;
  std::string ns;
  std::string image;
  std::string snapshot;  // set by snapshot operations
  // Extra string properties for diagnostics (e.g. the effective keyring path).
  std::vector<std::pair<std::string, std::string>> extra;

  bool Failed() const { return err != 0; }
  void Set(int e, const char* operation) {
    err = e;
    op = operation;
  }
};

// "ENOENT" for -2; "E<n>" when glibc has no name for it.
std::string ErrnoName(int err);

// Error with .code, .errno, .op, .pool, .namespace, .image and .snapshot set.
Napi::Error MakeError(Napi::Env env, const Failure& failure);

}  // namespace rbdfn
