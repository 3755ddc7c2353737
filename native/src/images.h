// RBD image operations: list, create, stat, resize, usage, remove.
#pragma once

#include <rbd/librbd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "describe.h"
#include "worker.h"

namespace rbdfn {

class ListImagesWorker : public ClusterWorker {
 public:
  ListImagesWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns)
      : ClusterWorker(env, "rbd_list2", std::move(state), std::move(pool), std::move(ns)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;
  // images_[begin, end) as flat [name, id, ...].
  Napi::Array FlatPairs(Napi::Env env, size_t begin, size_t end) const;

  std::vector<std::pair<std::string, std::string>> images_;  // (name, id)
};

struct PageOptions {
  // The page starts after this name (the last of the previous page), if set.
  std::optional<std::string> after;
  size_t limit = 1000;
  // The page's items as JSON ({pool, namespace, name, id} each), or else as
  // flat [name, id, ...] pairs.
  bool json = true;
};

// One page of a pool's images sorted by name, sorted and cut here rather than
// on the JS thread. Names sort by their bytes (UTF-8: code point order).
class ListImagesPageWorker : public ListImagesWorker {
 public:
  ListImagesPageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                       PageOptions options)
      : ListImagesWorker(env, std::move(state), std::move(pool), std::move(ns)), options_(std::move(options)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  PageOptions options_;
  size_t start_ = 0, end_ = 0;
  std::string json_;
};

struct CreateOptions {
  uint64_t size = 0;
  std::optional<uint64_t> features;
  std::optional<uint64_t> order;
  std::optional<uint64_t> stripe_unit;
  std::optional<uint64_t> stripe_count;
  std::string data_pool;
};

// Creates an image. With describe, answers with it as read back from the two
// objects rbd_create4 wrote (see Describe), or null when they could not be
// read: the image exists then, and the caller stats it the usual way.
class CreateImageWorker : public ClusterWorker {
 public:
  CreateImageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                    std::string image, CreateOptions options, bool describe)
      : ClusterWorker(env, "rbd_create4", std::move(state), std::move(pool), std::move(ns), std::move(image)),
        options_(std::move(options)),
        describe_(describe) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  CreateOptions options_;
  bool describe_;
  std::optional<ImageDescription> created_;
};

class StatImageWorker : public ClusterWorker {
 public:
  StatImageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                  std::string image, const char* op = "rbd_stat")
      : ClusterWorker(env, op, std::move(state), std::move(pool), std::move(ns), std::move(image)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;
  // Describes an open image into description_. An image opened read-write
  // carries our own header watch, which own_watch leaves out of the watchers.
  int Collect(rbd_image_t image, bool own_watch = false);
  // The image's watchers, as Collect reads them.
  int CollectWatchers(rbd_image_t image, bool own_watch, std::vector<Watcher>* out);
  ImageDescription description_;
};

class RemoveImageWorker : public ClusterWorker {
 public:
  RemoveImageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                    std::string image)
      : ClusterWorker(env, "rbd_remove", std::move(state), std::move(pool), std::move(ns), std::move(image)) {}

 protected:
  void Run() override;
};

// Resizes, and answers with the image as statImage would, plus the size it
// had before: read from the handle that resized it, since a second open would
// watch the header and refresh the image all over again.
class ResizeImageWorker : public StatImageWorker {
 public:
  ResizeImageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                    std::string image, uint64_t size, bool allow_shrink)
      : StatImageWorker(env, std::move(state), std::move(pool), std::move(ns), std::move(image), "rbd_resize2"),
        size_(size),
        allow_shrink_(allow_shrink) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  uint64_t size_;
  bool allow_shrink_;
  uint64_t previous_size_ = 0;
};

// Bytes in use, counted as `rbd du` counts them (tools/rbd/action/DiskUsage.cc).
class ImageUsageWorker : public ClusterWorker {
 public:
  ImageUsageWorker(Napi::Env env, std::shared_ptr<ClusterState> state, std::string pool, std::string ns,
                   std::string image)
      : ClusterWorker(env, "rbd_diff_iterate2", std::move(state), std::move(pool), std::move(ns), std::move(image)) {}

 protected:
  void Run() override;
  Napi::Value Result(Napi::Env env) override;

 private:
  int Count(rbd_image_t image);
  uint64_t used_ = 0;
};

}  // namespace rbdfn
