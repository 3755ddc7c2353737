#include "trash.h"

#include <ctime>

#include "snapshots.h"

namespace rbdfn {

void TrashMoveWorker::Run() {
  int r = WithIoctx([&](Ioctx* io) { return rbd_trash_move(io->get(), failure_.image.c_str(), delay_seconds_); });
  if (r < 0) Fail(r, "rbd_trash_move");
}

void ListTrashWorker::Run() {
  std::vector<rbd_trash_image_info_t> infos;
  size_t count = 64;
  int r = WithIoctx([&](Ioctx* io) {
    int rc;
    do {
      infos.resize(count);
      rc = rbd_trash_list(io->get(), infos.data(), &count);  // -ERANGE sets count to what it needs
    } while (rc == -ERANGE);
    return rc;
  });
  if (r < 0) return Fail(r, "rbd_trash_list");
  for (size_t i = 0; i < count; ++i) {
    const rbd_trash_image_info_t& info = infos[i];
    entries_.push_back({info.id, info.name, static_cast<int>(info.source), static_cast<double>(info.deletion_time),
                        static_cast<double>(info.deferment_end_time)});
  }
  rbd_trash_list_cleanup(infos.data(), count);
  if (count == 0) CheckNamespace();
}

Napi::Value ListTrashWorker::Result(Napi::Env env) {
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  Napi::Array out = Napi::Array::New(env, entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("id", entries_[i].id);
    o.Set("name", entries_[i].name);
    o.Set("source", num(entries_[i].source));
    o.Set("deletedAtS", num(entries_[i].deleted_s));
    o.Set("deferredUntilS", num(entries_[i].deferred_until_s));
    out.Set(i, o);
  }
  return out;
}

void RestoreTrashWorker::Run() {
  rbd_trash_image_info_t info;
  int r = WithIoctx([&](Ioctx* io) { return rbd_trash_get(io->get(), id_.c_str(), &info); });
  if (r < 0) return Fail(r, "rbd_trash_get");
  if (failure_.image.empty()) failure_.image = info.name;
  source_ = static_cast<int>(info.source);
  rbd_trash_get_cleanup(&info);
  if (source_ != RBD_TRASH_IMAGE_SOURCE_USER && source_ != RBD_TRASH_IMAGE_SOURCE_USER_PARENT) return;

  r = WithIoctx([&](Ioctx* io) { return rbd_trash_restore(io->get(), id_.c_str(), failure_.image.c_str()); });
  if (r < 0) return Fail(r, "rbd_trash_restore");
  restored_ = true;
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, true)) return;
  Collect(image);
  rbd_close(image);
}

// The image as statImage answers, with restored true and its name; or {restored: false, name, source}.
Napi::Value RestoreTrashWorker::Result(Napi::Env env) {
  Napi::Object out = restored_ ? ImageDescriptionToJs(env, description_) : Napi::Object::New(env);
  out.Set("restored", Napi::Boolean::New(env, restored_));
  out.Set("name", failure_.image);
  if (!restored_) out.Set("source", Napi::Number::New(env, source_));
  return out;
}

void RemoveTrashWorker::Run() {
  if (!force_ || purge_snapshots_) {
    rbd_trash_image_info_t info;
    int r = WithIoctx([&](Ioctx* io) { return rbd_trash_get(io->get(), id_.c_str(), &info); });
    if (r < 0) return Fail(r, "rbd_trash_get");
    failure_.image = info.name;
    time_t deferred_until = info.deferment_end_time;
    rbd_trash_get_cleanup(&info);
    // librbd refuses a deferred image with EPERM, and so do we, before the
    // snapshots are purged. deferredUntil tells it from a caps EPERM.
    if (!force_ && deferred_until > time(nullptr)) {
      failure_.extra.emplace_back("deferredUntil", std::to_string(deferred_until));
      return Fail(-EPERM, "rbd_trash_remove_with_progress");
    }
  }
  auto io = OpenIoctx();
  if (!io) return;
  // librbd refuses an image with snapshots (ENOTEMPTY) before it removes
  // anything: the snapshots are purged only then, sparing the common case
  // an open of its own.
  int r = rbd_trash_remove_with_progress(io->get(), id_.c_str(), force_, Progress::Callback, &progress_);
  if (r == -ENOTEMPTY && purge_snapshots_) {
    if (PurgeSnapshots(io->get()) < 0) return;
    r = rbd_trash_remove_with_progress(io->get(), id_.c_str(), force_, Progress::Callback, &progress_);
  }
  if (r < 0) Fail(r, "rbd_trash_remove_with_progress");
}

// Removes every user snapshot, unprotecting it, unless one has clones: then
// nothing, and -ECHILD naming that snapshot. On error calls Fail() and
// returns the negative errno.
int RemoveTrashWorker::PurgeSnapshots(rados_ioctx_t io) {
  rbd_image_t image = nullptr;
  int r = rbd_open_by_id(io, id_.c_str(), &image, nullptr);
  if (r < 0) return Fail(r, "rbd_open_by_id"), r;
  std::vector<SnapshotInfo> snaps;
  r = ListUserSnapshots(image, &snaps);
  if (r < 0) Fail(r, "rbd_snap_list");
  for (size_t i = 0; r == 0 && i < snaps.size(); ++i) {
    std::vector<ChildInfo> children;
    if ((r = rbd_snap_set_by_id(image, snaps[i].id)) < 0) {
      Fail(r, "rbd_snap_set_by_id");
    } else if ((r = ListChildren(image, &children)) < 0) {
      Fail(r, "rbd_list_children3");
    } else if (!children.empty()) {
      failure_.snapshot = snaps[i].name;
      Fail(r = -ECHILD, "rbd_list_children3");
    }
  }
  if (r == 0 && (r = rbd_snap_set(image, nullptr)) < 0) Fail(r, "rbd_snap_set");
  for (size_t i = 0; r == 0 && i < snaps.size(); ++i) {
    r = rbd_snap_remove2(image, snaps[i].name.c_str(), RBD_SNAP_REMOVE_UNPROTECT, NoProgress, nullptr);
    if (r < 0) {
      failure_.snapshot = snaps[i].name;
      Fail(r, "rbd_snap_remove2");
    }
  }
  rbd_close(image);
  return r;
}

}  // namespace rbdfn
