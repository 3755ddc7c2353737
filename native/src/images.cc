#include "images.h"

#include <rados/librados.h>
#include <rbd/features.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <string>

#include "clones.h"
#include "json.h"
#include "snapshots.h"

namespace rbdfn {

void ListImagesWorker::Run() {
  std::vector<rbd_image_spec_t> specs;
  size_t count = 0;
  int r = WithIoctx([&](Ioctx* io) {
    size_t max = std::max<size_t>(io->list_hint.load() + 64, 256);
    int rc;
    do {
      specs.resize(max);
      rc = rbd_list2(io->get(), specs.data(), &max);  // -ERANGE sets max to what it needs
    } while (rc == -ERANGE);
    if (rc >= 0) {
      count = max;
      io->list_hint.store(count);
    }
    return rc;
  });
  if (r < 0) return Fail(r, "rbd_list2");

  images_.reserve(count);
  for (size_t i = 0; i < count; ++i) images_.emplace_back(specs[i].name, specs[i].id);
  rbd_image_spec_list_cleanup(specs.data(), count);

  if (count == 0) CheckNamespace();
}

// A flat [name0, id0, name1, id1, ...]: building objects here costs a
// property-key lookup per field, while JS builds them with a fixed shape.
Napi::Array ListImagesWorker::FlatPairs(Napi::Env env, size_t begin, size_t end) const {
  Napi::Array out = Napi::Array::New(env, (end - begin) * 2);
  for (size_t i = begin; i < end; ++i) {
    out.Set(2 * (i - begin), Napi::String::New(env, images_[i].first));
    out.Set(2 * (i - begin) + 1, Napi::String::New(env, images_[i].second));
  }
  return out;
}

Napi::Value ListImagesWorker::Result(Napi::Env env) { return FlatPairs(env, 0, images_.size()); }

void ListImagesPageWorker::Run() {
  ListImagesWorker::Run();
  if (failure_.Failed()) return;
  std::sort(images_.begin(), images_.end());  // names are unique: ids never decide
  start_ = 0;
  if (options_.after) {
    start_ = std::upper_bound(images_.begin(), images_.end(), *options_.after,
                              [](const std::string& after, const auto& image) { return after < image.first; }) -
             images_.begin();
  }
  end_ = start_ + std::min(options_.limit, images_.size() - start_);
  if (!options_.json) return;

  std::string prefix = "{\"pool\":";
  AppendJsonString(&prefix, failure_.pool);
  prefix += ",\"namespace\":";
  AppendJsonString(&prefix, failure_.ns);
  prefix += ",\"name\":";
  json_.reserve(2 + (end_ - start_) * (prefix.size() + 64));
  json_.push_back('[');
  for (size_t i = start_; i < end_; ++i) {
    if (i > start_) json_.push_back(',');
    json_ += prefix;
    AppendJsonString(&json_, images_[i].first);
    json_ += ",\"id\":";
    AppendJsonString(&json_, images_[i].second);
    json_.push_back('}');
  }
  json_.push_back(']');
}

// {items: Buffer of JSON text | page: flat [name, id, ...], more, last}.
Napi::Value ListImagesPageWorker::Result(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  if (options_.json) {
    auto* text = new std::string(std::move(json_));
    out.Set("items",
            Napi::Buffer<char>::New(
                env, text->data(), text->size(), [](Napi::Env, char*, std::string* owned) { delete owned; }, text));
  } else {
    out.Set("page", FlatPairs(env, start_, end_));
  }
  out.Set("more", Napi::Boolean::New(env, end_ < images_.size()));
  out.Set("last", end_ > start_ ? Napi::String::New(env, images_[end_ - 1].first) : env.Null());
  return out;
}

void CreateImageWorker::Run() {
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = 0;
  auto set = [&](int option, const std::optional<uint64_t>& value) {
    if (r == 0 && value) r = rbd_image_options_set_uint64(opts, option, *value);
  };
  set(RBD_IMAGE_OPTION_FORMAT, 2);
  set(RBD_IMAGE_OPTION_FEATURES, options_.features);
  set(RBD_IMAGE_OPTION_ORDER, options_.order);
  set(RBD_IMAGE_OPTION_STRIPE_UNIT, options_.stripe_unit);
  set(RBD_IMAGE_OPTION_STRIPE_COUNT, options_.stripe_count);
  if (r == 0 && !options_.data_pool.empty()) {
    r = rbd_image_options_set_string(opts, RBD_IMAGE_OPTION_DATA_POOL, options_.data_pool.c_str());
  }
  if (r < 0) {
    rbd_image_options_destroy(opts);
    return Fail(r, "rbd_image_options_set");
  }
  r = WithIoctx([&](Ioctx* io) {
    int rc = rbd_create4(io->get(), failure_.image.c_str(), options_.size, opts);
    // Not part of the lambda's result: a failed read must not make WithIoctx
    // retry the create, and it does not undo it.
    if (rc == 0 && describe_) created_ = DescribeNewImage(io->get(), failure_.image);
    return rc;
  });
  rbd_image_options_destroy(opts);
  if (r < 0) Fail(r, "rbd_create4");
}

Napi::Value CreateImageWorker::Result(Napi::Env env) {
  if (!describe_) return env.Undefined();
  return created_ ? ImageDescriptionToJs(env, *created_) : env.Null();
}

void StatImageWorker::Run() {
  rbd_image_t image = nullptr;
  // Read-only: no exclusive lock and no header watch of our own in the result.
  int r = WithIoctx([&](Ioctx* io) { return rbd_open_read_only(io->get(), failure_.image.c_str(), &image, nullptr); });
  if (r < 0) return Fail(r, "rbd_open_read_only");
  r = Collect(image);
  rbd_close(image);
}

// Fills description_; on error calls Fail() and returns the negative errno.
int StatImageWorker::Collect(rbd_image_t image, bool own_watch) {
  ImageDescription& d = description_;
  rbd_image_info_t info;
  int r = rbd_stat(image, &info, sizeof(info));
  if (r < 0) return Fail(r, "rbd_stat"), r;
  d.size = info.size;
  d.order = info.order;

  if ((r = rbd_get_features(image, &d.features)) < 0) return Fail(r, "rbd_get_features"), r;
  if ((r = rbd_get_stripe_unit(image, &d.stripe_unit)) < 0) return Fail(r, "rbd_get_stripe_unit"), r;
  if ((r = rbd_get_stripe_count(image, &d.stripe_count)) < 0) return Fail(r, "rbd_get_stripe_count"), r;
  // rbd_get_data_pool_id answers the image's own pool without a data pool.
  d.data_pool_id = (d.features & RBD_FEATURE_DATA_POOL) != 0 ? rbd_get_data_pool_id(image) : -1;

  char id[128];
  if ((r = rbd_get_id(image, id, sizeof(id))) < 0) return Fail(r, "rbd_get_id"), r;
  d.id = id;

  struct timespec created;
  if ((r = rbd_get_create_timestamp(image, &created)) < 0) return Fail(r, "rbd_get_create_timestamp"), r;
  d.create_timestamp_ms = created.tv_sec * 1000.0 + created.tv_nsec / 1e6;

  OpenedImage& opened = d.opened.emplace();
  std::vector<rbd_snap_info_t> snaps(16);
  int max_snaps = static_cast<int>(snaps.size());
  while ((r = rbd_snap_list(image, snaps.data(), &max_snaps)) == -ERANGE) snaps.resize(max_snaps);
  if (r < 0) return Fail(r, "rbd_snap_list"), r;
  opened.snapshot_count = r;
  rbd_snap_list_end(snaps.data());

  if ((r = CollectWatchers(image, own_watch, &opened.watchers)) < 0) return r;

  if ((r = GetParent(image, &opened.parent)) < 0) return Fail(r, "rbd_get_parent"), r;
  if (d.data_pool_id >= 0) {
    char name[256];
    if ((r = rados_pool_reverse_lookup(state_->cluster(), d.data_pool_id, name, sizeof(name))) < 0) {
      return Fail(r, "rados_pool_reverse_lookup"), r;
    }
    opened.data_pool = name;
  }
  return 0;
}

Napi::Value StatImageWorker::Result(Napi::Env env) { return ImageDescriptionToJs(env, description_); }

void RemoveImageWorker::Run() {
  int r = WithIoctx([&](Ioctx* io) { return rbd_remove(io->get(), failure_.image.c_str()); });
  if (r < 0) Fail(r, "rbd_remove");
}

int StatImageWorker::CollectWatchers(rbd_image_t image, bool own_watch, std::vector<Watcher>* out) {
  std::vector<rbd_image_watcher_t> watchers(8);
  size_t max_watchers = watchers.size();
  int r;
  while ((r = rbd_watchers_list(image, watchers.data(), &max_watchers)) == -ERANGE) {
    watchers.resize(max_watchers);
  }
  if (r < 0) return Fail(r, "rbd_watchers_list"), r;
  // A watcher's id is its client's global id: ours, for the watch of our own open.
  const int64_t self = own_watch ? static_cast<int64_t>(rados_get_instance_id(state_->cluster())) : -1;
  bool skipped_self = false;
  for (size_t i = 0; i < max_watchers; ++i) {
    if (watchers[i].id == self && !skipped_self) {
      skipped_self = true;
      continue;
    }
    out->push_back({watchers[i].addr, watchers[i].id, watchers[i].cookie});
  }
  rbd_watchers_list_cleanup(watchers.data(), max_watchers);

  return 0;
}

void ResizeImageWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  int r = rbd_get_size(image, &previous_size_);
  if (r < 0) {
    Fail(r, "rbd_get_size");
  } else if ((r = rbd_resize2(image, size_, allow_shrink_, NoProgress, nullptr)) < 0) {
    Fail(r, "rbd_resize2");
  } else {
    Collect(image, true);
  }
  rbd_close(image);
}

Napi::Value ResizeImageWorker::Result(Napi::Env env) {
  Napi::Object out = ImageDescriptionToJs(env, description_);
  out.Set("previousSize", Napi::Number::New(env, static_cast<double>(previous_size_)));
  return out;
}

void ImageUsageWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, true)) return;
  Count(image);
  rbd_close(image);
}

namespace {

int AddUsed(uint64_t, size_t len, int exists, void* arg) {
  if (exists) *static_cast<uint64_t*>(arg) += len;
  return 0;
}

}  // namespace

// As rbd du: each user snapshot diffed from the one before it, then the head
// from the last snapshot; parent data not counted. whole_object is always
// set, as rbd du sets it without --exact: with fast-diff the object map
// answers, without it librbd lists each object's snapshots and still counts
// whole objects. On error calls Fail() and returns the negative errno.
int ImageUsageWorker::Count(rbd_image_t image) {
  uint64_t head_size = 0;
  int r = rbd_get_size(image, &head_size);
  if (r < 0) return Fail(r, "rbd_get_size"), r;
  std::vector<SnapshotInfo> snaps;
  if ((r = ListUserSnapshots(image, &snaps)) < 0) return Fail(r, "rbd_snap_list"), r;
  const char* from = nullptr;
  for (const auto& snap : snaps) {
    if ((r = rbd_snap_set_by_id(image, snap.id)) < 0) return Fail(r, "rbd_snap_set_by_id"), r;
    if ((r = rbd_diff_iterate2(image, from, 0, snap.size, 0, 1, AddUsed, &used_)) < 0) {
      return Fail(r, "rbd_diff_iterate2"), r;
    }
    from = snap.name.c_str();
  }
  if ((r = rbd_snap_set(image, nullptr)) < 0) return Fail(r, "rbd_snap_set"), r;
  if ((r = rbd_diff_iterate2(image, from, 0, head_size, 0, 1, AddUsed, &used_)) < 0) {
    return Fail(r, "rbd_diff_iterate2"), r;
  }
  return 0;
}

Napi::Value ImageUsageWorker::Result(Napi::Env env) { return Napi::Number::New(env, static_cast<double>(used_)); }

}  // namespace rbdfn
