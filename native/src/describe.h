// An image's description: what stat answers, what create and clone read back,
// and its one JS form.
#pragma once

#include <napi.h>
#include <rados/librados.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rbdfn {

struct Watcher {
  std::string addr;
  int64_t id;
  uint64_t cookie;
};

struct ParentInfo {
  std::string pool;
  std::string ns;
  std::string image;
  std::string snapshot;
};

// What only an open image tells about itself.
struct OpenedImage {
  int snapshot_count = 0;
  std::vector<Watcher> watchers;
  std::optional<ParentInfo> parent;
  std::string data_pool;  // the separate data pool's name, or ""
};

// An image as librbd describes it: rbd_stat, rbd_get_features,
// rbd_get_stripe_unit/count, rbd_get_data_pool_id, rbd_get_id and
// rbd_get_create_timestamp. The JS form is NativeImageDescription in
// shared/ceph/native.ts.
struct ImageDescription {
  std::string id;
  uint64_t size = 0;
  int order = 0;  // objects are 2^order bytes
  uint64_t features = 0;
  uint64_t stripe_unit = 0;
  uint64_t stripe_count = 0;
  int64_t data_pool_id = -1;  // -1: no separate data pool
  double create_timestamp_ms = 0;
  // Absent from a new image read back from its header objects (DescribeNewImage).
  std::optional<OpenedImage> opened;
};

// Reads back a new image (made by rbd_create4 or rbd_clone3) from the two
// objects that made it, instead of opening it: rbd_id.<name> for its id, then
// its header's omap. Nothing when a read fails or the objects are not in the
// format it knows: the image exists then, and the caller stats it.
std::optional<ImageDescription> DescribeNewImage(rados_ioctx_t io, const std::string& name);

Napi::Object ImageDescriptionToJs(Napi::Env env, const ImageDescription& image);

}  // namespace rbdfn
