#include "describe.h"

#include <string>

namespace rbdfn {

namespace {

// Ceph encodes integers little-endian whatever the host; a value of another
// length than T is not the format we know.
template <typename T>
bool DecodeLE(const char* bytes, size_t len, T* out) {
  if (len != sizeof(T)) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  }
  *out = static_cast<T>(v);
  return true;
}

}  // namespace

// Reads back what rbd_create4 (or rbd_clone3) just wrote, instead of opening
// the image: an open sets up a header watch and refreshes the image over
// several round trips, then unwatches on close, while these are two reads.
// Everything comes from the cluster, none from what we asked for: librbd fills
// in defaults from the client's config and the pool's overrides (`rbd config
// pool set`), adds striping and data-pool bits itself, and cls_rbd stamps the
// create time with the OSD's clock.
std::optional<ImageDescription> DescribeNewImage(rados_ioctx_t io, const std::string& name) {
  ImageDescription out;
  // rbd_id.<name> holds the id as cls_rbd's set_id encodes a string: a
  // little-endian u32 length, then the bytes, and nothing else.
  std::string id_object = "rbd_id." + name;
  char buf[132];
  int r = rados_read(io, id_object.c_str(), buf, sizeof(buf), 0);
  if (r < 0) return std::nullopt;
  uint32_t id_len = 0;
  if (r < 4 || !DecodeLE(buf, 4, &id_len) || id_len == 0 || id_len != static_cast<uint32_t>(r) - 4) {
    return std::nullopt;
  }
  out.id.assign(buf + 4, id_len);

  // rbd_header.<id>'s omap, as cls_rbd's create and set_stripe_unit_count
  // wrote it. One op fetches every key; missing ones are simply not returned.
  std::string header_object = "rbd_header." + out.id;
  const char* keys[] = {"size", "order", "features", "create_timestamp", "stripe_unit", "stripe_count", "data_pool_id"};
  rados_read_op_t op = rados_create_read_op();
  rados_omap_iter_t iter = nullptr;
  int prval = 0;
  rados_read_op_omap_get_vals_by_keys(op, keys, sizeof(keys) / sizeof(keys[0]), &iter, &prval);
  r = rados_read_op_operate(op, io, header_object.c_str(), 0);
  rados_release_read_op(op);
  if (r == 0) r = prval;
  if (r < 0) {
    rados_omap_get_end(iter);  // allocated when the op was built, run or not
    return std::nullopt;
  }

  // cls_rbd's create writes the first four; the striping keys come only with
  // fancy striping, data_pool_id only with a data pool.
  bool ok = true, has_size = false, has_order = false, has_features = false, has_created = false;
  uint8_t order = 0;
  uint32_t seconds = 0, nanoseconds = 0;
  char* key = nullptr;
  char* val = nullptr;
  size_t len = 0;
  while (ok && rados_omap_get_next(iter, &key, &val, &len) == 0 && key) {
    std::string k = key;
    if (k == "size") {
      ok = has_size = DecodeLE(val, len, &out.size);
    } else if (k == "order") {
      ok = has_order = DecodeLE(val, len, &order);
    } else if (k == "features") {
      ok = has_features = DecodeLE(val, len, &out.features);
    } else if (k == "create_timestamp") {  // utime_t: u32 seconds, then u32 nanoseconds
      ok = has_created = len == 8 && DecodeLE(val, 4, &seconds) && DecodeLE(val + 4, 4, &nanoseconds);
    } else if (k == "stripe_unit") {
      ok = DecodeLE(val, len, &out.stripe_unit);
    } else if (k == "stripe_count") {
      ok = DecodeLE(val, len, &out.stripe_count);
    } else if (k == "data_pool_id") {
      ok = DecodeLE(val, len, &out.data_pool_id);
    }
  }
  rados_omap_get_end(iter);
  if (!ok || !has_size || !has_order || !has_features || !has_created) return std::nullopt;
  // librbd makes objects of 4 KiB (order 12) to 32 MiB (25).
  if (order < 12 || order > 25) return std::nullopt;

  out.order = order;
  // Without the keys there is no fancy striping; librbd reports these then
  // (cls_rbd's get_stripe_unit_count has the same defaults).
  if (out.stripe_unit == 0) out.stripe_unit = uint64_t{1} << order;
  if (out.stripe_count == 0) out.stripe_count = 1;
  // The same arithmetic as StatImageWorker, so both give the same double.
  out.create_timestamp_ms = seconds * 1000.0 + nanoseconds / 1e6;
  return out;
}

Napi::Object ImageDescriptionToJs(Napi::Env env, const ImageDescription& image) {
  auto num = [&](double v) { return Napi::Number::New(env, v); };
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", image.id);
  out.Set("size", num(static_cast<double>(image.size)));
  out.Set("objectSize", num(static_cast<double>(uint64_t{1} << image.order)));
  out.Set("order", num(image.order));
  out.Set("features", num(static_cast<double>(image.features)));
  out.Set("stripeUnit", num(static_cast<double>(image.stripe_unit)));
  out.Set("stripeCount", num(static_cast<double>(image.stripe_count)));
  out.Set("dataPoolId", num(static_cast<double>(image.data_pool_id)));
  out.Set("createdAtMs", num(image.create_timestamp_ms));
  if (!image.opened) return out;

  const OpenedImage& opened = *image.opened;
  out.Set("snapshotCount", num(opened.snapshot_count));
  Napi::Array watchers = Napi::Array::New(env, opened.watchers.size());
  for (size_t i = 0; i < opened.watchers.size(); ++i) {
    Napi::Object w = Napi::Object::New(env);
    w.Set("address", opened.watchers[i].addr);
    w.Set("id", num(static_cast<double>(opened.watchers[i].id)));
    w.Set("cookie", std::to_string(opened.watchers[i].cookie));  // may exceed 2^53
    watchers.Set(i, w);
  }
  out.Set("watchers", watchers);
  if (opened.parent) {
    Napi::Object parent = Napi::Object::New(env);
    parent.Set("pool", opened.parent->pool);
    parent.Set("namespace", opened.parent->ns);
    parent.Set("image", opened.parent->image);
    parent.Set("snapshot", opened.parent->snapshot);
    out.Set("parent", parent);
  } else {
    out.Set("parent", env.Null());
  }
  out.Set("dataPool", opened.data_pool.empty() ? env.Null() : Napi::String::New(env, opened.data_pool));
  return out;
}

}  // namespace rbdfn
