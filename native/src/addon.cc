// Registers the addon's exports; the work lives in one file per feature.
#include <napi.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include <string>

#include "cluster.h"

namespace {

std::string Version(int major, int minor, int extra) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(extra);
}

Napi::Value Versions(const Napi::CallbackInfo& info) {
  int major, minor, extra;
  Napi::Object out = Napi::Object::New(info.Env());
  rados_version(&major, &minor, &extra);
  out.Set("librados", Version(major, minor, extra));
  rbd_version(&major, &minor, &extra);
  out.Set("librbd", Version(major, minor, extra));
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Cluster", rbdfn::Cluster::Define(env));
  exports.Set("versions", Napi::Function::New<Versions>(env, "versions"));
  return exports;
}

}  // namespace

NODE_API_MODULE(rbd_native, Init)
