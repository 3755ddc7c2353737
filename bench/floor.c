/*
 * The floor: each function's Ceph work done by plain C over librados/librbd,
 * making the same library calls as the addon (native/src: connect.cc,
 * pools.cc, images.cc, describe.cc, snapshots.cc), on ONE cluster connection
 * that every thread shares (as a function process shares its CephClient),
 * with one ioctx for the one pool it uses. bench/lib.ts runs it.
 *
 *   floor latency    CONF OP N [POOL [PREFIX]]
 *   floor throughput CONF OP CONCURRENCY SECONDS [POOL [PREFIX [COUNT]]]
 *   floor clones     CONF POOL PREFIX COUNT
 *
 * OP (the tables of ops say which take POOL and PREFIX): connect (create, conf,
 * connect, shutdown); list_pools (mon command "osd pool ls detail", its JSON
 * not parsed); list_images (rbd_list2, hint grown on ERANGE);
 * list_images_detail (list, sort, stat the first 100, 16 at a time); stat
 * (StatImageWorker on PREFIX-(i mod 200)); create (rbd_create4, 1 GiB,
 * format 2); create_describe (create, then DescribeNewImage's reads); delete
 * (rbd_remove); trash_move (delay 0); resize, snap_create, clone, flatten (the
 * lifecycle functions, call for call).
 *
 * latency: N timed calls one at a time after max(5, min(25, N/20)) untimed
 * warm-ups, each one's time printed (samples_us). FLOOR_GAP_US pauses
 * (untimed) before each call, as a function sits idle between requests;
 * FLOOR_HANDOFF=1 runs each on a second thread, as the addon's calls run on
 * the libuv pool.
 * throughput: CONCURRENCY threads loop OP until SECONDS have passed, or with
 * SECONDS 0 until COUNT image names are used up (so `throughput create 16 0
 * POOL PREFIX COUNT` fills a pool, and `delete` the same way empties it).
 * Image names are PREFIX-<i> from 0; warm-ups use PREFIX-w<j> and clean up
 * after themselves. clones makes PREFIX-parent (8 MiB written, snapshot gold)
 * and COUNT v2 clones of it.
 *
 * Connection settings mirror shared/config.ts: CEPH_ID (admin), CEPH_KEYRING,
 * CEPH_MON_HOST, CEPH_KEY, CEPH_TIMEOUT_SECONDS (10). Output: one JSON line
 * on stdout (samples_us, per_second, ...); errors on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IMAGE_SIZE (1ULL << 30) /* 1 GiB */
#define NAME_MAX_LEN 256
#define DETAIL_LIMIT 100 /* list-images' detail page */
#define STAT_THREADS 16  /* a function process's libuv pool */
#define STAT_CYCLE 200   /* stat's images: the addon scenario's pool holds img-0 .. img-199 */

static const char *conf_path, *prefix = "floor";
static rados_t cluster;
/* native/src/cluster_state.cc GetIoctx: made before any op thread starts and
 * then shared, as the addon's libuv threads share its cached one. */
static rados_ioctx_t io;
static atomic_size_t list_hint; /* Ioctx::list_hint: last image count seen */

static void die(const char *what, int r) {
  fprintf(stderr, "floor: %s failed: %s (%d)\n", what, strerror(-r), r);
  exit(1);
}

static void *xrealloc(void *p, size_t size) {
  p = realloc(p, size ? size : 1);
  if (p == NULL) die("realloc", -ENOMEM);
  return p;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

/* ---- connect: native/src/connect.cc ConnectWorker ---- */

static rados_t do_connect(void) {
  char user[160], timeout[32];
  snprintf(user, sizeof(user), "client.%s", env_or("CEPH_ID", "admin"));
  snprintf(timeout, sizeof(timeout), "%g", atof(env_or("CEPH_TIMEOUT_SECONDS", "10")));
  rados_t c;
  int r = rados_create2(&c, "ceph", user, 0);
  if (r < 0) die("rados_create2", r);
  if ((r = rados_conf_read_file(c, conf_path)) < 0) die("rados_conf_read_file", r);
  const char *settings[][2] = {
      {"keyring", env_or("CEPH_KEYRING", "")},
      {"mon_host", env_or("CEPH_MON_HOST", "")},
      {"key", env_or("CEPH_KEY", "")},
      {"rados_mon_op_timeout", timeout},
      {"rados_osd_op_timeout", timeout},
      {"client_mount_timeout", timeout},
      {"log_to_stderr", "false"},
      {"err_to_stderr", "false"},
  };
  for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
    if (!*settings[i][1]) continue;
    if ((r = rados_conf_set(c, settings[i][0], settings[i][1])) < 0) die("rados_conf_set", r);
  }
  if ((r = rados_connect(c)) < 0) die("rados_connect", r);
  return c;
}

/* ---- stat: native/src/images.cc StatImageWorker::Run + Collect ---- */

/* rbd_snap_list, grown on ERANGE; on success the caller ends *snaps with
 * rbd_snap_list_end, and frees it either way. */
static int list_snaps(rbd_image_t image, rbd_snap_info_t **snaps, int *max) {
  int r;
  *max = 16;
  *snaps = NULL;
  do {
    *snaps = xrealloc(*snaps, sizeof(**snaps) * *max);
  } while ((r = rbd_snap_list(image, *snaps, max)) == -ERANGE);
  return r;
}

/* StatImageWorker::Collect: what statImage reads from an open image. */
static int collect(rbd_image_t image, const char **what) {
  rbd_image_info_t info;
  uint64_t features, stripe_unit, stripe_count;
  char id[128];
  struct timespec created;
  rbd_linked_image_spec_t parent;
  rbd_snap_spec_t parent_snap;
  int r;
  /* Each call runs only if the ones before succeeded; *what names the first that failed. */
  if ((r = rbd_stat(image, &info, sizeof(info))) < 0)
    *what = "rbd_stat";
  else if ((r = rbd_get_features(image, &features)) < 0)
    *what = "rbd_get_features";
  else if ((r = rbd_get_stripe_unit(image, &stripe_unit)) < 0)
    *what = "rbd_get_stripe_unit";
  else if ((r = rbd_get_stripe_count(image, &stripe_count)) < 0)
    *what = "rbd_get_stripe_count";
  if (r < 0) return r;
  (void)rbd_get_data_pool_id(image);
  if ((r = rbd_get_parent(image, &parent, &parent_snap)) == 0) {
    rbd_linked_image_spec_cleanup(&parent);
    rbd_snap_spec_cleanup(&parent_snap);
  } else if (r != -ENOENT) { /* ENOENT: no parent */
    return *what = "rbd_get_parent", r;
  }
  if ((r = rbd_get_id(image, id, sizeof(id))) < 0) return *what = "rbd_get_id", r;
  if ((r = rbd_get_create_timestamp(image, &created)) < 0) return *what = "rbd_get_create_timestamp", r;

  int max_snaps;
  rbd_snap_info_t *snaps;
  if ((r = list_snaps(image, &snaps, &max_snaps)) >= 0) rbd_snap_list_end(snaps);
  free(snaps);
  if (r < 0) return *what = "rbd_snap_list", r;

  size_t max_watchers = 8;
  rbd_image_watcher_t *watchers = NULL;
  do {
    watchers = xrealloc(watchers, sizeof(*watchers) * max_watchers);
  } while ((r = rbd_watchers_list(image, watchers, &max_watchers)) == -ERANGE);
  if (r >= 0) rbd_watchers_list_cleanup(watchers, max_watchers);
  free(watchers);
  return r < 0 ? (*what = "rbd_watchers_list", r) : 0;
}

static int stat_image(const char *name, const char **what) {
  rbd_image_t image;
  int r = rbd_open_read_only(io, name, &image, NULL);
  if (r < 0) return *what = "rbd_open_read_only", r;
  r = collect(image, what);
  rbd_close(image);
  return r;
}

/* ---- worker threads ----
 * A caller hands a batch of jobs to a set of workers and waits; the workers
 * take the batch's jobs in order, so at most n_threads run at once. The stats
 * of list_images_detail run on STAT_THREADS that every caller shares, like
 * the handler's 16 workers on libuv's 16 threads; FLOOR_HANDOFF runs each
 * timed call on a set of one, as the addon's calls hop to the libuv pool. */

struct batch {
  int (*job)(void *arg, int i, const char **what);
  void *arg;
  int n, next, finished, error;
  const char *what;
  pthread_cond_t done;
  struct batch *later;
};

struct workers {
  pthread_mutex_t mu;
  pthread_cond_t work;
  struct batch *head, *tail; /* batches with jobs not yet taken */
  bool stop;
  int n_threads;
  pthread_t threads[STAT_THREADS];
};

static void *worker_main(void *arg) {
  struct workers *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && w->head == NULL) pthread_cond_wait(&w->work, &w->mu);
    if (w->head == NULL) break; /* stop, and nothing left */
    struct batch *b = w->head;
    int i = b->next++;
    if (b->next == b->n && (w->head = b->later) == NULL) w->tail = NULL;
    pthread_mutex_unlock(&w->mu);

    const char *what = NULL;
    int r = b->job(b->arg, i, &what);

    pthread_mutex_lock(&w->mu);
    if (r < 0 && b->error == 0) b->error = r, b->what = what;
    if (++b->finished == b->n) pthread_cond_signal(&b->done);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void workers_start(struct workers *w, int n_threads) {
  *w = (struct workers){.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER, .n_threads = n_threads};
  for (int i = 0; i < n_threads; i++) {
    int r = pthread_create(&w->threads[i], NULL, worker_main, w);
    if (r != 0) die("pthread_create", -r);
  }
}

static void workers_stop(struct workers *w) {
  pthread_mutex_lock(&w->mu);
  w->stop = true;
  pthread_cond_broadcast(&w->work);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < w->n_threads; i++) pthread_join(w->threads[i], NULL);
  w->n_threads = 0;
}

/* Runs job(arg, 0 .. n-1) on the workers; returns 0 or the first -errno. */
static int run_batch(struct workers *w, int (*job)(void *, int, const char **), void *arg, int n, const char **what) {
  if (n == 0) return 0;
  struct batch b = {.job = job, .arg = arg, .n = n, .done = PTHREAD_COND_INITIALIZER};
  pthread_mutex_lock(&w->mu);
  if (w->tail)
    w->tail->later = &b;
  else
    w->head = &b;
  w->tail = &b;
  pthread_cond_broadcast(&w->work);
  while (b.finished < b.n) pthread_cond_wait(&b.done, &w->mu);
  pthread_mutex_unlock(&w->mu);
  pthread_cond_destroy(&b.done);
  if (b.error) *what = b.what;
  return b.error;
}

static struct workers stat_workers, handoff_worker;

/* ---- the ops ----
 * Each acts on the image `name` (where it takes one) and returns 0 or -errno,
 * naming the failed call in *what. */

/* One mon command; the caller frees reply->out with rados_buffer_free. */
struct mon_reply {
  char *out;
  size_t len;
};
static int mon_command(const char *json, struct mon_reply *reply) {
  const char *cmd[] = {json};
  char *status = NULL;
  size_t status_len = 0;
  *reply = (struct mon_reply){0};
  int r = rados_mon_command(cluster, cmd, 1, "", 0, &reply->out, &reply->len, &status, &status_len);
  rados_buffer_free(status);
  return r;
}

/* ConnectWorker and CloseWorker: a connection of its own, made and shut down. */
static int op_connect(const char *name, const char **what) {
  (void)name, (void)what;
  rados_shutdown(do_connect());
  return 0;
}

/* native/src/pools.cc ListPoolsWorker::Run. The addon hands the JSON to JS to
 * parse, which is not the floor's part. */
static int op_list_pools(const char *name, const char **what) {
  (void)name;
  struct mon_reply pools;
  int r = mon_command("{\"prefix\": \"osd pool ls\", \"detail\": \"detail\", \"format\": \"json\"}", &pools);
  rados_buffer_free(pools.out);
  if (r < 0) *what = "rados_mon_command";
  return r < 0 ? r : 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int stat_listed(void *names, int i, const char **what) {
  int r = stat_image(((char **)names)[i], what);
  return r == -ENOENT ? 0 : r; /* deleted meanwhile: drops out, as in the handler */
}

/* native/src/images.cc ListImagesWorker::Run (list-images); with stat_first,
 * functions/list-images/handler.ts with detail=true and no token: list, sort
 * by name, stat the first stat_first. */
static int list_images(size_t stat_first, const char **what) {
  size_t hint = atomic_load(&list_hint), count = hint + 64 > 256 ? hint + 64 : 256;
  rbd_image_spec_t *specs = NULL;
  int r;
  do { /* -ERANGE sets count to what it needs */
    specs = xrealloc(specs, sizeof(*specs) * count);
  } while ((r = rbd_list2(io, specs, &count)) == -ERANGE);
  if (r < 0) {
    free(specs);
    return *what = "rbd_list2", r;
  }
  atomic_store(&list_hint, count);
  if (stat_first > 0) {
    char **names = xrealloc(NULL, sizeof(char *) * count);
    for (size_t i = 0; i < count; i++) names[i] = specs[i].name;
    qsort(names, count, sizeof(char *), cmp_name);
    r = run_batch(&stat_workers, stat_listed, names, (int)(count < stat_first ? count : stat_first), what);
    free(names);
  }
  rbd_image_spec_list_cleanup(specs, count);
  free(specs);
  return r < 0 ? r : 0;
}

static int op_list_images(const char *name, const char **what) {
  (void)name;
  return list_images(0, what);
}

static int op_list_images_detail(const char *name, const char **what) {
  (void)name;
  return list_images(DETAIL_LIMIT, what);
}

/* native/src/images.cc CreateImageWorker::Run with the function's defaults:
 * only the format is set, so features, order and striping come from the
 * cluster's rbd_default_* settings. */
static int create_image(const char *name, const char **what) {
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r < 0) *what = "rbd_image_options_set";
  if (r == 0 && (r = rbd_create4(io, name, IMAGE_SIZE, opts)) < 0) *what = "rbd_create4";
  rbd_image_options_destroy(opts);
  return r;
}

/* native/src/describe.cc DescribeNewImage (create-image, clone-image): read
 * the id from rbd_id.<name>, then the header's omap keys in one read op. The
 * values are not decoded: that is CPU work of a few hundred ns, and the floor
 * only needs the round trips. */
static int describe_new(const char *name, const char **what) {
  char object[NAME_MAX_LEN + 16], buf[132];
  int r;
  snprintf(object, sizeof(object), "rbd_id.%s", name);
  if ((r = rados_read(io, object, buf, sizeof(buf), 0)) < 0) return *what = "rados_read", r;
  /* cls_rbd's string encoding: a little-endian u32 length, then the id. */
  uint32_t id_len = (uint32_t)(unsigned char)buf[0] | (uint32_t)(unsigned char)buf[1] << 8 |
                    (uint32_t)(unsigned char)buf[2] << 16 | (uint32_t)(unsigned char)buf[3] << 24;
  if (r < 4 || id_len == 0 || id_len != (uint32_t)r - 4) return *what = "rbd_id decode", -EIO;
  snprintf(object, sizeof(object), "rbd_header.%.*s", (int)id_len, buf + 4);

  static const char *keys[] = {"size",        "order",        "features",    "create_timestamp",
                               "stripe_unit", "stripe_count", "data_pool_id"};
  rados_read_op_t op = rados_create_read_op();
  rados_omap_iter_t iter = NULL;
  int prval = 0;
  rados_read_op_omap_get_vals_by_keys(op, keys, sizeof(keys) / sizeof(keys[0]), &iter, &prval);
  r = rados_read_op_operate(op, io, object, 0);
  rados_release_read_op(op);
  if (r == 0) r = prval;
  if (r == 0) {
    char *key, *val;
    size_t len;
    int found = 0;
    while (rados_omap_get_next(iter, &key, &val, &len) == 0 && key) found++;
    if (found < 4) r = -EIO; /* size, order, features, create_timestamp at least */
  }
  rados_omap_get_end(iter); /* allocated when the op was built, run or not */
  if (r < 0) *what = "rados_read_op_operate (header omap)";
  return r;
}

/* create-image: CreateImageWorker, then DescribeNewImage instead of a stat. */
static int op_create_describe(const char *name, const char **what) {
  int r = create_image(name, what);
  return r < 0 ? r : describe_new(name, what);
}

static int remove_image(const char *name, const char **what) {
  int r = rbd_remove(io, name);
  if (r < 0) *what = "rbd_remove";
  return r;
}

static int op_trash_move(const char *name, const char **what) {
  int r = rbd_trash_move(io, name, 0);
  if (r < 0) *what = "rbd_trash_move";
  return r;
}

/* ---- the lifecycle functions (functions/<name>/handler.ts, call for call) ----
 * resize: resize-image's rbd_open, rbd_get_size, rbd_resize2 to 2 GiB and
 *   the stat read from the same handle (ResizeImageWorker).
 * snap_create: create-snapshot's rbd_open + rbd_snap_create2 "s", then its
 *   answer read as list-snapshots reads it (native/src/snapshots.cc).
 * clone: clone-image's mon command for require_min_compat_client, rbd_clone3 of
 *   PREFIX-parent@gold (clone v2, as the bench cluster requires mimic
 *   clients), and the clone read back from its id and header objects.
 * flatten: flatten-image's rbd_open + rbd_flatten_with_progress, then stat.
 * Their images come from a create throughput (resize, snap_create) or `clones`, which
 * makes PREFIX-parent (64 MiB, 8 MiB written, snapshot gold) and PREFIX-0 ..
 * PREFIX-(COUNT-1) cloned from it. */

static int no_progress(uint64_t done, uint64_t total, void *arg) {
  (void)done, (void)total, (void)arg;
  return 0;
}

static int open_rw(const char *name, rbd_image_t *image, const char **what) {
  int r = rbd_open(io, name, image, NULL);
  if (r < 0) *what = "rbd_open";
  return r;
}

/* native/src/snapshots.cc ListSnapshotsWorker: user snapshots with their
 * timestamps, protection and children. */
static int list_snapshots(const char *name, const char **what) {
  rbd_image_t image;
  int r = rbd_open_read_only(io, name, &image, NULL);
  if (r < 0) return *what = "rbd_open_read_only", r;
  int max;
  rbd_snap_info_t *snaps;
  if ((r = list_snaps(image, &snaps, &max)) < 0) *what = "rbd_snap_list";
  bool listed = r >= 0;
  for (int i = 0; r >= 0 && i < max && snaps[i].name; i++) {
    rbd_snap_namespace_type_t type;
    struct timespec ts;
    int is_protected;
    if ((r = rbd_snap_get_namespace_type(image, snaps[i].id, &type)) < 0) *what = "rbd_snap_get_namespace_type";
    if (r >= 0 && type != RBD_SNAP_NAMESPACE_TYPE_USER) continue;
    size_t n_children = 8;
    rbd_linked_image_spec_t *children = xrealloc(NULL, sizeof(*children) * n_children);
    if (r >= 0 && (r = rbd_snap_get_timestamp(image, snaps[i].id, &ts)) < 0) *what = "rbd_snap_get_timestamp";
    if (r >= 0 && (r = rbd_snap_is_protected(image, snaps[i].name, &is_protected)) < 0) *what = "rbd_snap_is_protected";
    if (r >= 0 && (r = rbd_snap_set_by_id(image, snaps[i].id)) < 0) *what = "rbd_snap_set_by_id";
    while (r >= 0 && (r = rbd_list_children3(image, children, &n_children)) == -ERANGE)
      children = xrealloc(children, sizeof(*children) * n_children), r = 0;
    if (r < 0)
      *what = "rbd_list_children3";
    else
      rbd_linked_image_spec_list_cleanup(children, n_children);
    free(children);
  }
  if (listed) rbd_snap_list_end(snaps);
  free(snaps);
  rbd_close(image);
  return r < 0 ? r : 0;
}

/* rbd_clone3 of PREFIX-parent@gold as name, default features, clone format 2. */
static int clone_parent(const char *name, const char **what) {
  char parent[NAME_MAX_LEN];
  snprintf(parent, sizeof(parent), "%s-parent", prefix);
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r == 0) r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, 2);
  if (r == 0) r = rbd_clone3(io, parent, "gold", io, name, opts);
  rbd_image_options_destroy(opts);
  if (r < 0) *what = "rbd_clone3";
  return r;
}

static int op_resize(const char *name, const char **what) {
  rbd_image_t image;
  uint64_t previous;
  int r = open_rw(name, &image, what);
  if (r < 0) return r;
  if ((r = rbd_get_size(image, &previous)) < 0)
    *what = "rbd_get_size";
  else if ((r = rbd_resize2(image, 2 * IMAGE_SIZE, false, no_progress, NULL)) < 0)
    *what = "rbd_resize2";
  else
    r = collect(image, what);
  rbd_close(image);
  return r;
}

static int op_snap_create(const char *name, const char **what) {
  rbd_image_t image;
  int r = open_rw(name, &image, what);
  if (r < 0) return r;
  r = rbd_snap_create2(image, "s", 0, no_progress, NULL);
  rbd_close(image);
  if (r < 0) return *what = "rbd_snap_create2", r;
  return list_snapshots(name, what);
}

static int op_clone(const char *name, const char **what) {
  struct mon_reply release;
  int r = mon_command("{\"prefix\": \"osd get-require-min-compat-client\"}", &release);
  /* v2 from mimic on: any release the monitors name but luminous (Pacific's lowest). */
  bool v2 = r >= 0 && release.len > 0 && !(release.len >= 8 && strncmp(release.out, "luminous", 8) == 0);
  rados_buffer_free(release.out);
  if (r < 0) return *what = "rados_mon_command (osd get-require-min-compat-client)", r;
  if (!v2) return *what = "clone v1 (set require_min_compat_client mimic)", -EINVAL;
  if ((r = clone_parent(name, what)) < 0) return r;
  return describe_new(name, what);
}

static int op_flatten(const char *name, const char **what) {
  rbd_image_t image;
  int r = open_rw(name, &image, what);
  if (r < 0) return r;
  r = rbd_flatten_with_progress(image, no_progress, NULL);
  rbd_close(image);
  if (r < 0) return *what = "rbd_flatten_with_progress", r;
  return stat_image(name, what);
}

static void image_name(char *out, long index) {
  if (index >= 0)
    snprintf(out, NAME_MAX_LEN, "%s-%ld", prefix, index);
  else
    snprintf(out, NAME_MAX_LEN, "%s-w%ld", prefix, -1 - index);
}

/* `clones`: the parent, then COUNT clones of it, over the one connection. */
static void run_clones(long count) {
  char parent[NAME_MAX_LEN], name[NAME_MAX_LEN];
  const char *what = "rbd_create";
  snprintf(parent, sizeof(parent), "%s-parent", prefix);
  rbd_image_t image;
  int r = rbd_create(io, parent, 64 << 20, &(int){22});
  if (r == 0 && (r = open_rw(parent, &image, &what)) == 0) {
    static char data[1 << 20];
    memset(data, 0x5a, sizeof(data));
    for (int mib = 0; r >= 0 && mib < 8; mib++) {
      ssize_t w = rbd_write(image, (uint64_t)mib << 20, sizeof(data), data);
      if (w < 0) r = (int)w, what = "rbd_write";
    }
    if (r >= 0 && (r = rbd_snap_create2(image, "gold", 0, no_progress, NULL)) < 0) what = "rbd_snap_create2";
    rbd_close(image);
  }
  double t0 = now_us();
  for (long i = 0; r >= 0 && i < count; i++) {
    image_name(name, i);
    r = clone_parent(name, &what);
  }
  if (r < 0) die(what, r);
  printf("{\"op\":\"clones\",\"count\":%ld,\"seconds\":%.3f}\n", count, (now_us() - t0) / 1e6);
}

/* What an op's calls act on, and so which arguments it takes. */
enum images { NO_POOL, LISTS_POOL, READS_IMAGE, MAKES_IMAGE, TAKES_IMAGE, TAKES_CLONE };

struct op {
  const char *name;
  int (*run)(const char *name, const char **what);
  enum images images;
};

/* Ops on the cluster, or on a pool's listing (POOL). */
static const struct op listing_ops[] = {
    {"connect", op_connect, NO_POOL},
    {"list_pools", op_list_pools, NO_POOL},
    {"list_images", op_list_images, LISTS_POOL},
    {"list_images_detail", op_list_images_detail, LISTS_POOL},
};

/* Ops on images (POOL PREFIX): stat reads existing ones; the others use each
 * name once (COUNT in throughput), making the image or acting on one made
 * before (a clone, for flatten). */
static const struct op image_ops[] = {
    {"stat", stat_image, READS_IMAGE},
    {"create", create_image, MAKES_IMAGE},
    {"create_describe", op_create_describe, MAKES_IMAGE},
    {"clone", op_clone, MAKES_IMAGE},
    {"delete", remove_image, TAKES_IMAGE},
    {"trash_move", op_trash_move, TAKES_IMAGE},
    {"resize", op_resize, TAKES_IMAGE},
    {"snap_create", op_snap_create, TAKES_IMAGE},
    {"flatten", op_flatten, TAKES_CLONE},
};

static const struct op *find_op(const char *name) {
  for (size_t i = 0; i < sizeof(listing_ops) / sizeof(listing_ops[0]); i++)
    if (strcmp(listing_ops[i].name, name) == 0) return &listing_ops[i];
  for (size_t i = 0; i < sizeof(image_ops) / sizeof(image_ops[0]); i++)
    if (strcmp(image_ops[i].name, name) == 0) return &image_ops[i];
  return NULL;
}

/* The image the index-th call acts on: PREFIX-<index>, the warm-up name
 * PREFIX-w<j> for index -1-j; stat cycles through PREFIX-0 ..
 * PREFIX-(STAT_CYCLE-1), warm-ups included. */
static void name_for(const struct op *op, long index, char *out) {
  if (op->images == READS_IMAGE) index = (index < 0 ? -1 - index : index) % STAT_CYCLE;
  image_name(out, index);
}

/* A warm-up run of op on the warm-up name for j: images it needs are made
 * before it and images it makes are removed after it, both untimed. */
static void warm_up(const struct op *op, int j) {
  const char *what = NULL;
  char name[NAME_MAX_LEN];
  name_for(op, -1 - j, name);
  int r = 0;
  if (op->images == TAKES_IMAGE) r = create_image(name, &what);
  if (op->images == TAKES_CLONE) r = clone_parent(name, &what);
  if (r < 0 || (r = op->run(name, &what)) < 0) die(what, r);
  if (op->images == MAKES_IMAGE && (r = remove_image(name, &what)) < 0) die(what, r);
  /* The lifecycle ops' warm-up images stay: the bench pool is thrown away. */
}

/* ---- latency ---- */

struct call {
  const struct op *op;
  const char *name;
};

static int run_call(void *arg, int i, const char **what) {
  const struct call *call = arg;
  (void)i;
  return call->op->run(call->name, what);
}

static void run_latency(const struct op *op, int n) {
  int w = n / 20 < 5 ? 5 : n / 20 > 25 ? 25 : n / 20; /* bench/lib.ts warmupFor: the addon's the same */
  for (int j = 0; j < w; j++) warm_up(op, j);
  double *samples = xrealloc(NULL, sizeof(double) * n);
  const char *what = NULL;
  /* FLOOR_GAP_US: an untimed pause before each call, as a function sits idle
   * between requests at concurrency 1 (librados's threads go to sleep). */
  const long gap_us = atol(env_or("FLOOR_GAP_US", "0"));
  const bool handoff = strcmp(env_or("FLOOR_HANDOFF", "0"), "1") == 0;
  if (handoff) workers_start(&handoff_worker, 1);
  for (int i = 0; i < n; i++) {
    if (gap_us > 0) usleep((useconds_t)gap_us);
    char name[NAME_MAX_LEN];
    name_for(op, i, name);
    struct call call = {op, name};
    double t0 = now_us();
    int r = handoff ? run_batch(&handoff_worker, run_call, &call, 1, &what) : op->run(name, &what);
    samples[i] = now_us() - t0;
    if (r < 0) die(what, r);
  }
  if (handoff) workers_stop(&handoff_worker);

  printf("{\"op\":\"%s\",\"mode\":\"latency\",\"n\":%d,\"warmup\":%d,\"samples_us\":[", op->name, n, w);
  for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", samples[i]);
  printf("]}\n");
  free(samples);
}

/* ---- throughput ---- */

static const struct op *tp_op;
static double tp_deadline;
static long tp_limit = -1;  /* COUNT: names PREFIX-0 .. PREFIX-(limit-1) */
static atomic_long tp_next; /* next image index to take */
static atomic_long tp_ops, tp_errors;
static atomic_flag tp_error_reported = ATOMIC_FLAG_INIT;
static pthread_barrier_t tp_start;

static void *tp_thread(void *arg) {
  (void)arg;
  pthread_barrier_wait(&tp_start);
  long ops_done = 0, errors = 0;
  while (tp_deadline == 0 || now_us() < tp_deadline) {
    long index = 0;
    if (tp_op->images >= READS_IMAGE) {
      index = atomic_fetch_add(&tp_next, 1);
      if (tp_limit >= 0 && index >= tp_limit) break;
    }
    const char *what = NULL;
    char name[NAME_MAX_LEN];
    name_for(tp_op, index, name);
    int r = tp_op->run(name, &what);
    if (r >= 0) {
      ops_done++;
    } else if (errors++ == 0 && !atomic_flag_test_and_set(&tp_error_reported)) {
      /* The first error only: a flood would only slow the run. */
      fprintf(stderr, "floor: %s failed: %s (%d) (further errors counted only)\n", what, strerror(-r), r);
    }
  }
  atomic_fetch_add(&tp_ops, ops_done);
  atomic_fetch_add(&tp_errors, errors);
  return NULL;
}

static void run_throughput(const struct op *op, int concurrency, double seconds) {
  warm_up(op, 0);
  tp_op = op;
  pthread_t *threads = xrealloc(NULL, sizeof(pthread_t) * concurrency);
  int r = pthread_barrier_init(&tp_start, NULL, concurrency + 1);
  if (r != 0) die("pthread_barrier_init", -r);
  for (int i = 0; i < concurrency; i++) {
    if ((r = pthread_create(&threads[i], NULL, tp_thread, NULL)) != 0) die("pthread_create", -r);
  }
  double start = now_us();
  tp_deadline = seconds > 0 ? start + seconds * 1e6 : 0; /* 0: until COUNT is done */
  pthread_barrier_wait(&tp_start);                       /* the deadline is set before any thread reads it */
  for (int i = 0; i < concurrency; i++) pthread_join(threads[i], NULL);
  double elapsed = (now_us() - start) / 1e6; /* to the last thread's end */
  pthread_barrier_destroy(&tp_start);

  long ops_done = atomic_load(&tp_ops);
  printf(
      "{\"op\":\"%s\",\"mode\":\"throughput\",\"concurrency\":%d,\"ops\":%ld,\"seconds\":%.3f,"
      "\"per_second\":%.1f,\"errors\":%ld}\n",
      op->name, concurrency, ops_done, elapsed, elapsed > 0 ? ops_done / elapsed : 0, atomic_load(&tp_errors));
  free(threads);
}

/* ---- main ---- */

static void usage(void) {
  fprintf(stderr,
          "usage: floor latency CONF OP N [POOL [PREFIX]]\n"
          "     | throughput CONF OP CONCURRENCY SECONDS [POOL [PREFIX [COUNT]]]\n"
          "     | clones CONF POOL PREFIX COUNT (ops and env: the comment atop bench/floor.c)\n");
  exit(2);
}

static long count_arg(const char *text, const char *what, long least) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < least) {
    fprintf(stderr, "floor: %s must be an integer of at least %ld, not \"%s\"\n", what, least, text);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  const char *mode = argv[1];
  conf_path = argv[2];
  bool latency = strcmp(mode, "latency") == 0, throughput = strcmp(mode, "throughput") == 0;
  const struct op *op = latency || throughput ? find_op(argv[3]) : NULL;
  char **args = argv + 3; /* POOL PREFIX [COUNT] */
  int given = argc - 3;
  if (latency || throughput) {
    args += latency ? 2 : 3, given -= latency ? 2 : 3; /* past OP N, or OP CONCURRENCY SECONDS */
    int wanted = op == NULL ? 0 : op->images < READS_IMAGE ? (int)op->images : 2;
    bool counted = throughput && op != NULL && op->images >= MAKES_IMAGE;
    if (op == NULL || given < wanted || given > wanted + counted) usage();
  } else if (strcmp(mode, "clones") != 0 || given != 3) {
    usage();
  }
  if (given > 1) prefix = args[1];
  if (given > 2) tp_limit = count_arg(args[2], "COUNT", 0); /* clones 0: the parent alone, for `clone` */

  cluster = do_connect();
  int r;
  if (given > 0 && (r = rados_ioctx_create(cluster, args[0], &io)) < 0) die("rados_ioctx_create", r);
  if (given > 0) rados_ioctx_set_namespace(io, "");
  if (op && op->run == op_list_images_detail) workers_start(&stat_workers, STAT_THREADS);
  if (latency) {
    run_latency(op, (int)count_arg(argv[4], "N", 1));
  } else if (throughput) {
    char *end;
    double seconds = strtod(argv[5], &end);
    /* SECONDS 0 runs until COUNT names are used; delete always needs COUNT. */
    if (*end != '\0' || !(seconds >= 0) || (tp_limit < 0 && (seconds == 0 || op->run == remove_image))) usage();
    run_throughput(op, (int)count_arg(argv[4], "CONCURRENCY", 1), seconds);
  } else {
    run_clones(tp_limit);
  }
  fflush(stdout);
  if (stat_workers.n_threads) workers_stop(&stat_workers);
  if (given > 0) rados_ioctx_destroy(io);
  rados_shutdown(cluster);
  return 0;
}
