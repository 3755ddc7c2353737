#include "clones.h"

#include <rados/librados.h>

#include <string>

namespace rbdfn {

void CloneWorker::Run() {
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r == 0 && options_.features)
    r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, *options_.features);
  if (r == 0 && options_.clone_format) {
    r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, *options_.clone_format);
  }
  if (r < 0) {
    rbd_image_options_destroy(opts);
    return Fail(r, "rbd_image_options_set");
  }
  std::shared_ptr<Ioctx> child_io;
  r = state_->GetIoctx(child_pool_, child_ns_, &child_io);
  if (r < 0) {
    rbd_image_options_destroy(opts);
    return FailOnChild(r, "rados_ioctx_create");
  }
  r = WithIoctx([&](Ioctx* io) {
    return rbd_clone3(io->get(), failure_.image.c_str(), failure_.snapshot.c_str(), child_io->get(), child_.c_str(),
                      opts);
  });
  rbd_image_options_destroy(opts);
  if (r == -EEXIST) return FailOnChild(r, "rbd_clone3");
  if (r == -ENOENT) return Diagnose(r);
  if (r < 0) return Fail(r, "rbd_clone3");
  // Not a failure when it can't: the clone exists, and the caller stats it.
  created_ = DescribeNewImage(child_io->get(), child_);
}

Napi::Value CloneWorker::Result(Napi::Env env) { return created_ ? ImageDescriptionToJs(env, *created_) : env.Null(); }

void CloneWorker::FailOnChild(int err, const char* op) {
  failure_.pool = child_pool_;
  failure_.ns = child_ns_;
  failure_.image = child_;
  failure_.snapshot.clear();
  Fail(err, op);
}

// rbd_clone3's ENOENT does not say what is missing: the parent image, its
// snapshot, or the child's namespace. Looking costs an open, on this path only.
void CloneWorker::Diagnose(int err) {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, true)) return;
  int r = rbd_snap_set(image, failure_.snapshot.c_str());
  rbd_close(image);
  if (r < 0) return Fail(r, "rbd_snap_set");
  FailOnChild(err, "rbd_clone3");
}

void FlattenWorker::Run() {
  rbd_image_t image = nullptr;
  if (!OpenImage(&image, false)) return;
  int r = rbd_flatten_with_progress(image, Progress::Callback, &progress_);
  rbd_close(image);
  if (r < 0) Fail(r, "rbd_flatten_with_progress");
}

int GetParent(rbd_image_t image, std::optional<ParentInfo>* out) {
  rbd_linked_image_spec_t spec;
  rbd_snap_spec_t snap;
  int r = rbd_get_parent(image, &spec, &snap);
  if (r == -ENOENT) {
    out->reset();
    return 0;
  }
  if (r < 0) return r;
  *out = ParentInfo{spec.pool_name, spec.pool_namespace, spec.image_name, snap.name};
  rbd_linked_image_spec_cleanup(&spec);
  rbd_snap_spec_cleanup(&snap);
  return 0;
}

void MinCompatClientWorker::Run() {
  // Ceph's release names from luminous on, in order (CEPH_RELEASE_*).
  static const char* const kReleases[] = {"luminous", "mimic", "nautilus", "octopus", "pacific",
                                          "quincy",   "reef",  "squid",    "tentacle"};
  const char* cmd[] = {R"({"prefix": "osd get-require-min-compat-client"})"};
  char *out = nullptr, *status = nullptr;
  size_t out_len = 0, status_len = 0;
  int r = rados_mon_command(state_->cluster(), cmd, 1, "", 0, &out, &out_len, &status, &status_len);
  std::string release = r >= 0 ? std::string(out, out_len) : "";
  rados_buffer_free(out);
  rados_buffer_free(status);
  release.erase(release.find_last_not_of(" \n") + 1);
  for (size_t i = 0; i < sizeof(kReleases) / sizeof(kReleases[0]); ++i) {
    if (release == kReleases[i]) {
      required_ = static_cast<int8_t>(12 + i);
      return;
    }
  }
  int8_t min_compat = 0;
  r = rados_get_min_compatible_client(state_->cluster(), &min_compat, &required_);
  if (r < 0) Fail(r, "rados_get_min_compatible_client");
}

Napi::Value MinCompatClientWorker::Result(Napi::Env env) { return Napi::Number::New(env, required_); }

}  // namespace rbdfn
