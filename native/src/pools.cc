#include "pools.h"

#include <cerrno>

namespace rbdfn {

namespace {

// Splits "a\0b\0\0" into {"a", "b"}.
std::vector<std::string> SplitNulList(const std::vector<char>& buf, size_t len) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < len && buf[i] != '\0') {
    std::string item(&buf[i]);
    i += item.size() + 1;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

void ListPoolsWorker::Run() {
  rados_t cluster = state_->cluster();
  // A client only fetches new osdmaps when an op needs one, so without this a
  // pool created elsewhere stays invisible. One mon round trip.
  int r = rados_wait_for_latest_osdmap(cluster);
  if (r < 0) return Fail(r, "rados_wait_for_latest_osdmap");
  std::vector<char> buf(1024);
  // Returns the length it needs; grow and retry until the list fits.
  while ((r = rados_pool_list(cluster, buf.data(), buf.size())) > static_cast<int>(buf.size())) {
    buf.resize(r);
  }
  if (r < 0) return Fail(r, "rados_pool_list");

  for (auto& name : SplitNulList(buf, static_cast<size_t>(r))) {
    int64_t id = rados_pool_lookup(cluster, name.c_str());
    if (id == -ENOENT) continue;  // deleted since the listing
    if (id < 0) {
      failure_.pool = name;
      return Fail(static_cast<int>(id), "rados_pool_lookup");
    }
    std::shared_ptr<Ioctx> io;
    r = state_->GetIoctx(name, "", &io);
    if (r == -ENOENT) continue;
    if (r < 0) {
      failure_.pool = name;
      return Fail(r, "rados_ioctx_create");
    }
    std::vector<char> apps(256);
    size_t len = apps.size();
    while ((r = rados_application_list(io->get(), apps.data(), &len)) == -ERANGE) apps.resize(len);
    if (r < 0) {
      failure_.pool = name;
      return Fail(r, "rados_application_list");
    }
    pools_.push_back({std::move(name), id, SplitNulList(apps, len)});
  }
}

Napi::Value ListPoolsWorker::Result(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env, pools_.size());
  for (size_t i = 0; i < pools_.size(); ++i) {
    Napi::Object pool = Napi::Object::New(env);
    pool.Set("name", pools_[i].name);
    pool.Set("id", Napi::Number::New(env, static_cast<double>(pools_[i].id)));
    Napi::Array apps = Napi::Array::New(env, pools_[i].applications.size());
    for (size_t j = 0; j < pools_[i].applications.size(); ++j) apps.Set(j, pools_[i].applications[j]);
    pool.Set("applications", apps);
    out.Set(i, pool);
  }
  return out;
}

}  // namespace rbdfn
