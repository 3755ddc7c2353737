// Describing a new image from the objects that made it, without opening it.
#pragma once

#include <napi.h>
#include <rados/librados.h>

#include <cstdint>
#include <string>

namespace rbdfn {

// A new image as its header object records it: the values rbd_stat,
// rbd_get_features, rbd_get_stripe_unit/count, rbd_get_data_pool_id,
// rbd_get_id and rbd_get_create_timestamp would give after opening it.
struct CreatedImage {
  std::string id;
  uint64_t size = 0;
  int order = 0;
  uint64_t features = 0;
  uint64_t stripe_unit = 0;
  uint64_t stripe_count = 0;
  int64_t data_pool_id = -1;  // -1: no separate data pool
  double create_timestamp_ms = 0;
};

// Reads back a new image (made by rbd_create4 or rbd_clone3) from the two
// objects that made it, instead of opening it: rbd_id.<name> for its id, then
// its header's omap. Returns 0, or a negative errno when a read fails or the
// objects are not in the format it knows (then the caller stats the image).
int DescribeNewImage(rados_ioctx_t io, const std::string& name, CreatedImage* out);

// The JS object of a described image: NativeImageDescription in shared/ceph/native.ts.
Napi::Object CreatedImageToJs(Napi::Env env, const CreatedImage& image);

}  // namespace rbdfn
