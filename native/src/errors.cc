#include "errors.h"

#include <cstring>

namespace rbdfn {

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(-err);
  return name != nullptr ? name : "E" + std::to_string(-err);
}

Napi::Error MakeError(Napi::Env env, const Failure& failure) {
  std::string message = failure.op + ": " + std::strerror(-failure.err);
  std::string scope;
  if (!failure.pool.empty()) scope += "pool=" + failure.pool;
  if (!failure.ns.empty()) scope += (scope.empty() ? "" : " ") + std::string("namespace=") + failure.ns;
  if (!failure.image.empty()) scope += (scope.empty() ? "" : " ") + std::string("image=") + failure.image;
  if (!failure.snapshot.empty()) scope += (scope.empty() ? "" : " ") + std::string("snapshot=") + failure.snapshot;
  if (!scope.empty()) message += " (" + scope + ")";

  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object obj = error.Value();
  obj.Set("code", ErrnoName(failure.err));
  obj.Set("errno", failure.err);
  obj.Set("op", failure.op);
  if (!failure.pool.empty()) obj.Set("pool", failure.pool);
  obj.Set("namespace", failure.ns);
  if (!failure.image.empty()) obj.Set("image", failure.image);
  if (!failure.snapshot.empty()) obj.Set("snapshot", failure.snapshot);
  for (const auto& [key, value] : failure.extra) obj.Set(key, value);
  return error;
}

}  // namespace rbdfn
