#include "snapshots.h"

#include <algorithm>
#include <ctime>

namespace rbdfn {

int ListUserSnapshots(rbd_image_t image, std::vector<SnapshotInfo>* out) {
  std::vector<rbd_snap_info_t> snaps(16);
  int max = static_cast<int>(snaps.size());
  int r;
  while ((r = rbd_snap_list(image, snaps.data(), &max)) == -ERANGE) snaps.resize(max);
  if (r < 0) return r;
  // rbd_snap_list has every namespace: what group snapshots, the trash (a
  // removed snapshot that still has v2 clones) and mirroring keep.
  int count = r;
  r = 0;
  for (int i = 0; i < count; ++i) {
    rbd_snap_namespace_type_t type;
    int rc = rbd_snap_get_namespace_type(image, snaps[i].id, &type);
    if (rc < 0) {
      r = rc;
      break;
    }
    if (type != RBD_SNAP_NAMESPACE_TYPE_USER) continue;
    SnapshotInfo info;
    info.name = snaps[i].name;
    info.id = snaps[i].id;
    info.size = snaps[i].size;
    out->push_back(std::move(info));
  }
  rbd_snap_list_end(snaps.data());
  if (r < 0) return r;
  std::sort(out->begin(), out->end(), [](const SnapshotInfo& a, const SnapshotInfo& b) { return a.id < b.id; });
  return 0;
}

int ListChildren(rbd_image_t image, std::vector<ChildInfo>* out) {
  std::vector<rbd_linked_image_spec_t> specs(8);
  size_t max = specs.size();
  int r;
  while ((r = rbd_list_children3(image, specs.data(), &max)) == -ERANGE) specs.resize(max);
  if (r < 0) return r;
  for (size_t i = 0; i < max; ++i) {
    out->push_back(
        {specs[i].pool_name, specs[i].pool_namespace, specs[i].image_name, specs[i].image_id, specs[i].trash});
  }
  rbd_linked_image_spec_list_cleanup(specs.data(), max);
  return 0;
}

void CreateSnapshotWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  int r = rbd_snap_create2(image, failure_.snapshot.c_str(), 0, NoProgress, nullptr);
  rbd_close(image);
  if (r < 0) Fail(r, "rbd_snap_create2");
}

void ListSnapshotsWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, true)) return;
  Collect(image);
  rbd_close(image);
}

// Fills snapshots_; on error calls Fail() and returns the negative errno.
int ListSnapshotsWorker::Collect(rbd_image_t image) {
  int r = ListUserSnapshots(image, &snapshots_);
  if (r < 0) return Fail(r, "rbd_snap_list"), r;
  for (auto& snap : snapshots_) {
    struct timespec ts;
    if ((r = rbd_snap_get_timestamp(image, snap.id, &ts)) < 0) return Fail(r, "rbd_snap_get_timestamp"), r;
    snap.created_ms = ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
    int is_protected = 0;
    if ((r = rbd_snap_is_protected(image, snap.name.c_str(), &is_protected)) < 0) {
      return Fail(r, "rbd_snap_is_protected"), r;
    }
    snap.is_protected = is_protected != 0;
    // Children are listed for the snapshot the image is set to.
    if ((r = rbd_snap_set_by_id(image, snap.id)) < 0) return Fail(r, "rbd_snap_set_by_id"), r;
    std::vector<ChildInfo> children;
    if ((r = ListChildren(image, &children)) < 0) return Fail(r, "rbd_list_children3"), r;
    snap.children = children.size();
  }
  return 0;
}

// Snapshot ids are uint64 but counted up from 1 per pool: as numbers, exact
// below 2^53.
Napi::Value ListSnapshotsWorker::Result(Napi::Env env) {
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  Napi::Array out = Napi::Array::New(env, snapshots_.size());
  for (size_t i = 0; i < snapshots_.size(); ++i) {
    const SnapshotInfo& snap = snapshots_[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", snap.name);
    o.Set("id", num(static_cast<double>(snap.id)));
    o.Set("size", num(static_cast<double>(snap.size)));
    o.Set("createdAtMs", num(snap.created_ms));
    o.Set("protected", Napi::Boolean::New(env, snap.is_protected));
    o.Set("children", num(static_cast<double>(snap.children)));
    out.Set(i, o);
  }
  return out;
}

void RemoveSnapshotWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  uint32_t flags = unprotect_ ? RBD_SNAP_REMOVE_UNPROTECT : 0;
  int r = rbd_snap_remove2(image, failure_.snapshot.c_str(), flags, NoProgress, nullptr);
  rbd_close(image);
  if (r < 0) Fail(r, "rbd_snap_remove2");
}

void ProtectSnapshotWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  const char* snap = failure_.snapshot.c_str();
  int r = protect_ ? rbd_snap_protect(image, snap) : rbd_snap_unprotect(image, snap);
  rbd_close(image);
  if (r < 0) Fail(r, op_);
}

void ListChildrenWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, true)) return;
  int r = rbd_snap_set(image, failure_.snapshot.c_str());
  if (r < 0) {
    Fail(r, "rbd_snap_set");
  } else if ((r = ListChildren(image, &children_)) < 0) {
    Fail(r, "rbd_list_children3");
  }
  rbd_close(image);
}

Napi::Value ListChildrenWorker::Result(Napi::Env env) {
  Napi::Array out = Napi::Array::New(env, children_.size());
  for (size_t i = 0; i < children_.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("pool", children_[i].pool);
    o.Set("namespace", children_[i].ns);
    o.Set("name", children_[i].name);
    o.Set("id", children_[i].id);
    o.Set("trash", Napi::Boolean::New(env, children_[i].trash));
    out.Set(i, o);
  }
  return out;
}

void RollbackWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  bool exists = false;
  int r = rbd_snap_exists(image, failure_.snapshot.c_str(), &exists);
  if (r < 0) {
    Fail(r, "rbd_snap_exists");
  } else if (!exists) {
    Fail(-ENOENT, "rbd_snap_exists");
  } else if (std::vector<Watcher> others; CollectWatchers(image, true, &others) == 0) {
    if (others.empty()) {
      r = rbd_snap_rollback_with_progress(image, failure_.snapshot.c_str(), Progress::Callback, &progress_);
      if (r < 0) Fail(r, "rbd_snap_rollback_with_progress");
      rolled_back_ = r >= 0;
    }
    if (r >= 0) Collect(image, true);  // the image as restored, or as it is when watched
  }
  rbd_close(image);
}

Napi::Value RollbackWorker::Result(Napi::Env env) {
  Napi::Object out = ImageDescriptionToJs(env, description_);
  out.Set("rolledBack", Napi::Boolean::New(env, rolled_back_));
  return out;
}

}  // namespace rbdfn
