// Snapshots of an image: create, list, remove, protect, list clones, roll back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "images.h"
#include "worker.h"

namespace rbdfn {

// A worker on pool/namespace/image@snapshot; errors name the snapshot too.
class SnapshotWorker : public ClusterWorker {
 public:
  SnapshotWorker(Napi::Env env, const char* op, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                 std::string image, std::string snapshot)
      : ClusterWorker(env, op, std::move(state), std::move(pool), std::move(ns), std::move(image)) {
    failure_.snapshot = std::move(snapshot);
  }
};

class CreateSnapshotWorker : public SnapshotWorker {
 public:
  CreateSnapshotWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                       std::string image, std::string snapshot)
      : SnapshotWorker(env, "rbd_snap_create2", std::move(state), std::move(pool), std::move(ns), std::move(image),
                       std::move(snapshot)) {}

 protected:
  void Run() override;
};

struct SnapshotInfo {
  std::string name;
  uint64_t id = 0;
  uint64_t size = 0;
  double created_ms = 0;
  bool is_protected = false;
  size_t children = 0;
};

// User snapshots (not group, trash or mirror ones) with their timestamps,
// protection and clone counts, in snapshot id order.
class ListSnapshotsWorker : public ClusterWorker {
 public:
  ListSnapshotsWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                      std::string image)
      : ClusterWorker(env, "rbd_snap_list", std::move(state), std::move(pool), std::move(ns), std::move(image)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  int Collect(rbd_image_t image);
  std::vector<SnapshotInfo> snapshots_;
};

class RemoveSnapshotWorker : public SnapshotWorker {
 public:
  RemoveSnapshotWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                       std::string image, std::string snapshot, bool unprotect)
      : SnapshotWorker(env, "rbd_snap_remove2", std::move(state), std::move(pool), std::move(ns), std::move(image),
                       std::move(snapshot)),
        unprotect_(unprotect) {}

 protected:
  void Run() override;

 private:
  bool unprotect_;
};

// rbd_snap_protect, or with protect false rbd_snap_unprotect.
class ProtectSnapshotWorker : public SnapshotWorker {
 public:
  ProtectSnapshotWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                        std::string image, std::string snapshot, bool protect)
      : SnapshotWorker(env, protect ? "rbd_snap_protect" : "rbd_snap_unprotect", std::move(state), std::move(pool),
                       std::move(ns), std::move(image), std::move(snapshot)),
        protect_(protect) {}

 protected:
  void Run() override;

 private:
  bool protect_;
};

struct ChildInfo {
  std::string pool;
  std::string ns;
  std::string name;
  std::string id;
  bool trash = false;
};

// Clones of image@snapshot, trashed ones included.
class ListChildrenWorker : public SnapshotWorker {
 public:
  ListChildrenWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                     std::string image, std::string snapshot)
      : SnapshotWorker(env, "rbd_list_children3", std::move(state), std::move(pool), std::move(ns), std::move(image),
                       std::move(snapshot)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::vector<ChildInfo> children_;
};

// Rolls the image back to a user snapshot and answers with it as restored,
// read from the same read-write handle (the dashboard opens once too; a stat
// and a snapshot lookup beforehand cost two more opens). When others watch
// the image (mapped, in use) it changes nothing and answers with the image as
// it is and rolledBack false: a filesystem must not have its blocks rewritten
// under it. ENOENT from rbd_snap_exists: no such snapshot.
class RollbackWorker : public StatImageWorker {
 public:
  RollbackWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                 std::string image, std::string snapshot, Napi::Value on_progress)
      : StatImageWorker(env, std::move(state), std::move(pool), std::move(ns), std::move(image),
                        "rbd_snap_rollback_with_progress") {
    failure_.snapshot = std::move(snapshot);
    progress_.Start(env, on_progress);
  }

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  bool rolled_back_ = false;
};

// The clones of the snapshot the image is set to (rbd_snap_set), trashed
// ones included. Returns 0 or a negative errno; frees what librbd allocated.
int ListChildren(rbd_image_t image, std::vector<ChildInfo>* out);

// The image's user snapshots as (id, name, size), in id order.
int ListUserSnapshots(rbd_image_t image, std::vector<SnapshotInfo>* out);

}  // namespace rbdfn
