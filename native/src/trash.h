// The trash of a pool's namespace: move an image there, list, restore, and
// remove for good.
#pragma once

#include <rbd/librbd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "images.h"
#include "worker.h"

namespace rbdfn {

class TrashMoveWorker : public ClusterWorker {
 public:
  TrashMoveWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                  std::string image, uint64_t delay_seconds)
      : ClusterWorker(env, "rbd_trash_move", std::move(state), std::move(pool), std::move(ns), std::move(image)),
        delay_seconds_(delay_seconds) {}

 protected:
  void Run() override;

 private:
  uint64_t delay_seconds_;
};

struct TrashEntry {
  std::string id;
  std::string name;
  int source = 0;  // rbd_trash_image_source_t
  double deleted_s = 0;
  double deferred_until_s = 0;
};

class ListTrashWorker : public ClusterWorker {
 public:
  ListTrashWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns)
      : ClusterWorker(env, "rbd_trash_list", std::move(state), std::move(pool), std::move(ns)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::vector<TrashEntry> entries_;
};

// Restores a trashed image under name or (name empty) its original one, and
// answers with it as statImage would, or, when librbd itself moved it there
// (a removal, a migration, mirroring: work librbd finishes or undoes), changes
// nothing and answers restored false with the entry's name and source.
// Errors carry the trash id as .id and image as the name restored to;
// ENOENT from rbd_trash_get: no such id.
class RestoreTrashWorker : public StatImageWorker {
 public:
  RestoreTrashWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                     std::string id, std::string name)
      : StatImageWorker(env, std::move(state), std::move(pool), std::move(ns), std::move(name), "rbd_trash_restore"),
        id_(std::move(id)) {
    failure_.extra.emplace_back("id", id_);
  }

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  std::string id_;
  bool restored_ = false;
  int source_ = 0;  // rbd_trash_image_source_t
};

// As `rbd trash rm` / purge: optionally removes the image's user snapshots
// first, then the image. Errors carry the trash id as .id, and the image's
// name once known.
class RemoveTrashWorker : public ClusterWorker {
 public:
  RemoveTrashWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                    std::string id, bool force, bool purge_snapshots, Napi::Value on_progress)
      : ClusterWorker(env, "rbd_trash_remove_with_progress", std::move(state), std::move(pool), std::move(ns)),
        id_(std::move(id)),
        force_(force),
        purge_snapshots_(purge_snapshots) {
    failure_.extra.emplace_back("id", id_);
    progress_.Start(env, on_progress);
  }

 protected:
  void Run() override;

 private:
  int PurgeSnapshots(rados_ioctx_t io);
  std::string id_;
  bool force_;
  bool purge_snapshots_;
};

}  // namespace rbdfn
