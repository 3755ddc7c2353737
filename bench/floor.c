/*
 * The floor: each function's Ceph work done by plain C over librados/librbd,
 * making the same library calls as the addon (native/src: connect.cc,
 * pools.cc, images.cc, describe.cc, snapshots.cc), on ONE cluster connection
 * that every thread shares (as a function process shares its CephClient),
 * one ioctx per pool. bench/main.ts runs it in every scenario that has a floor.
 *
 *   floor latency    CONF OP N [ARGS]
 *   floor throughput CONF OP CONCURRENCY SECONDS [ARGS]
 *   floor clones     CONF POOL PREFIX COUNT
 *
 * OP [ARGS]: connect (create, conf, connect, shutdown); list_pools (mon
 * command "osd pool ls detail", its JSON not parsed); list_images POOL
 * (rbd_list2, hint grown on ERANGE); list_images_detail POOL [LIMIT] (list,
 * sort, stat the first LIMIT, 16 at a time); stat POOL PREFIX [CYCLE]
 * (StatImageWorker on PREFIX-(i mod CYCLE)); create POOL PREFIX [COUNT]
 * (rbd_create4, 1 GiB, format 2); create_describe (create, then
 * DescribeNewImage's reads); delete (rbd_remove); trash_move (delay 0);
 * resize, snap_create, clone, flatten POOL PREFIX (the lifecycle functions,
 * call for call).
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
 * Stats of list_images_detail run on FLOOR_STAT_THREADS (16) helper threads
 * that all callers share, as one function process's libuv pool.
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
#define MAX_POOLS 16
#define NAME_MAX_LEN 256

static const char *conf_path;
static rados_t cluster;

static void die(const char *what, int r) {
  fprintf(stderr, "floor: %s failed: %s (%d)\n", what, strerror(-r), r);
  exit(1);
}

static void *xmalloc(size_t size) {
  void *p = malloc(size ? size : 1);
  if (p == NULL) die("malloc", -ENOMEM);
  return p;
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

/* Discard the first N/20 runs, at least 5, at most 25 (bench/lib.ts: the addon's the same). */
static int warmup_for(int n) {
  int w = n / 20;
  return w < 5 ? 5 : w > 25 ? 25 : w;
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

/* ---- ioctx cache: native/src/cluster_state.cc GetIoctx, one per pool ---- */

struct pool {
  char name[NAME_MAX_LEN];
  rados_ioctx_t io;
  atomic_size_t list_hint; /* Ioctx::list_hint: last image count seen */
};

static struct pool pools[MAX_POOLS];
static int n_pools;

/* Called before any op thread starts, so it needs no lock; the threads then
 * share the ioctx, as the addon's libuv threads share its cached one. */
static int get_pool(const char *name, struct pool **out) {
  for (int i = 0; i < n_pools; i++) {
    if (strcmp(pools[i].name, name) == 0) return *out = &pools[i], 0;
  }
  if (n_pools == MAX_POOLS) return -ENOSPC;
  struct pool *p = &pools[n_pools];
  int r = rados_ioctx_create(cluster, name, &p->io);
  if (r < 0) return r;
  rados_ioctx_set_namespace(p->io, "");
  snprintf(p->name, sizeof(p->name), "%s", name);
  atomic_init(&p->list_hint, 0);
  n_pools++;
  *out = p;
  return 0;
}

static void drop_pools(void) {
  for (int i = 0; i < n_pools; i++) rados_ioctx_destroy(pools[i].io);
  n_pools = 0;
}

/* ---- list: native/src/images.cc ListImagesWorker::Run ---- */

/* On success *specs holds *count entries; free with free_specs. */
static int list_specs(struct pool *p, rbd_image_spec_t **specs, size_t *count) {
  size_t hint = atomic_load(&p->list_hint);
  size_t max = hint + 64 > 256 ? hint + 64 : 256;
  rbd_image_spec_t *s = NULL;
  int r;
  for (;;) {
    s = xrealloc(s, sizeof(*s) * max);
    r = rbd_list2(p->io, s, &max); /* -ERANGE sets max to what it needs */
    if (r != -ERANGE) break;
  }
  if (r < 0) {
    free(s);
    return r;
  }
  atomic_store(&p->list_hint, max);
  *specs = s;
  *count = max;
  return 0;
}

static void free_specs(rbd_image_spec_t *specs, size_t count) {
  rbd_image_spec_list_cleanup(specs, count);
  free(specs);
}

/* ---- stat: native/src/images.cc StatImageWorker::Run + Collect ---- */

static int collect(rbd_image_t image, const char **what);

static int stat_image(rados_ioctx_t io, const char *name, const char **what) {
  rbd_image_t image;
  int r = rbd_open_read_only(io, name, &image, NULL);
  if (r < 0) return *what = "rbd_open_read_only", r;
  r = collect(image, what);
  rbd_close(image);
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

  int max_snaps = 16;
  rbd_snap_info_t *snaps = xmalloc(sizeof(*snaps) * max_snaps);
  while ((r = rbd_snap_list(image, snaps, &max_snaps)) == -ERANGE) snaps = xrealloc(snaps, sizeof(*snaps) * max_snaps);
  if (r >= 0) rbd_snap_list_end(snaps);
  free(snaps);
  if (r < 0) return *what = "rbd_snap_list", r;

  size_t max_watchers = 8;
  rbd_image_watcher_t *watchers = xmalloc(sizeof(*watchers) * max_watchers);
  while ((r = rbd_watchers_list(image, watchers, &max_watchers)) == -ERANGE)
    watchers = xrealloc(watchers, sizeof(*watchers) * max_watchers);
  if (r >= 0) rbd_watchers_list_cleanup(watchers, max_watchers);
  free(watchers);
  return r < 0 ? (*what = "rbd_watchers_list", r) : 0;
}

/* ---- stat helpers for list_images_detail ----
 * A request hands its sorted page to a stat pool as one batch and waits; the
 * pool's threads take the batch's names in order, so at most n_threads stats
 * run at once, like the handler's 16 workers on libuv's 16 threads. */

struct batch {
  rados_ioctx_t io;
  char **names;
  int n, next, finished, stated, errors, first_error;
  const char *first_what;
  pthread_cond_t done;
  struct batch *later;
};

struct stat_pool {
  pthread_mutex_t mu;
  pthread_cond_t work;
  struct batch *head, *tail; /* batches with names not yet taken */
  bool stop;
  int n_threads;
  pthread_t *threads;
};

static void *stat_worker(void *arg) {
  struct stat_pool *sp = arg;
  pthread_mutex_lock(&sp->mu);
  for (;;) {
    while (!sp->stop && sp->head == NULL) pthread_cond_wait(&sp->work, &sp->mu);
    if (sp->head == NULL) break; /* stop, and nothing left */
    struct batch *b = sp->head;
    int i = b->next++;
    if (b->next == b->n && (sp->head = b->later) == NULL) sp->tail = NULL;
    pthread_mutex_unlock(&sp->mu);

    const char *what = NULL;
    int r = stat_image(b->io, b->names[i], &what);

    pthread_mutex_lock(&sp->mu);
    if (r == 0) {
      b->stated++;
    } else if (r != -ENOENT) { /* deleted meanwhile: drops out, as in the handler */
      if (b->errors++ == 0) b->first_error = r, b->first_what = what;
    }
    if (++b->finished == b->n) pthread_cond_signal(&b->done);
  }
  pthread_mutex_unlock(&sp->mu);
  return NULL;
}

static struct stat_pool *stat_pool_start(int n_threads) {
  struct stat_pool *sp = xmalloc(sizeof(*sp));
  memset(sp, 0, sizeof(*sp));
  pthread_mutex_init(&sp->mu, NULL);
  pthread_cond_init(&sp->work, NULL);
  sp->n_threads = n_threads;
  sp->threads = xmalloc(sizeof(pthread_t) * n_threads);
  for (int i = 0; i < n_threads; i++) {
    int r = pthread_create(&sp->threads[i], NULL, stat_worker, sp);
    if (r != 0) die("pthread_create", -r);
  }
  return sp;
}

static void stat_pool_stop(struct stat_pool *sp) {
  pthread_mutex_lock(&sp->mu);
  sp->stop = true;
  pthread_cond_broadcast(&sp->work);
  pthread_mutex_unlock(&sp->mu);
  for (int i = 0; i < sp->n_threads; i++) pthread_join(sp->threads[i], NULL);
  free(sp->threads);
  free(sp);
}

/* Stats names[0..n-1] on the pool; returns the number stated or -errno. */
static int stat_all(struct stat_pool *sp, rados_ioctx_t io, char **names, int n, const char **what) {
  if (n == 0) return 0;
  struct batch b = {.io = io, .names = names, .n = n};
  pthread_cond_init(&b.done, NULL);
  pthread_mutex_lock(&sp->mu);
  if (sp->tail)
    sp->tail->later = &b;
  else
    sp->head = &b;
  sp->tail = &b;
  pthread_cond_broadcast(&sp->work);
  while (b.finished < b.n) pthread_cond_wait(&b.done, &sp->mu);
  pthread_mutex_unlock(&sp->mu);
  pthread_cond_destroy(&b.done);
  if (b.errors) return *what = b.first_what, b.first_error;
  return b.stated;
}

/* ---- the ops ----
 * Each returns 0 or -errno (naming the failed call in *what). index picks the
 * image for create/delete: PREFIX-<index>, or the warm-up name PREFIX-w<j> for
 * index -1-j. */

struct caller {
  struct stat_pool *stats; /* list_images_detail only */
};

static const char *op_pool_name, *prefix = "floor";
static struct pool *op_pool;
static int detail_limit = 100;

static long stat_cycle = 200;

static void image_name(char *out, size_t size, long index) {
  if (index >= 0)
    snprintf(out, size, "%s-%ld", prefix, index);
  else
    snprintf(out, size, "%s-w%ld", prefix, -1 - index);
}

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

/* native/src/pools.cc ListPoolsWorker::Run. The addon hands the JSON to JS to
 * parse, which is not the floor's part. */
static int op_list_pools(struct caller *c, const char *name, const char **what) {
  (void)c, (void)name;
  struct mon_reply pools;
  int r = mon_command("{\"prefix\": \"osd pool ls\", \"detail\": \"detail\", \"format\": \"json\"}", &pools);
  rados_buffer_free(pools.out);
  if (r < 0) *what = "rados_mon_command";
  return r < 0 ? r : 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* native/src/images.cc ListImagesWorker::Run (list-images); with stat_first,
 * functions/list-images/handler.ts with detail=true and no token: list, sort
 * by name, stat the first stat_first. */
static int list_images(struct caller *c, int stat_first, const char **what) {
  rbd_image_spec_t *specs;
  size_t count;
  int r = list_specs(op_pool, &specs, &count);
  if (r < 0) return *what = "rbd_list2", r;
  if (stat_first > 0) {
    char **names = xmalloc(sizeof(char *) * count);
    for (size_t i = 0; i < count; i++) names[i] = specs[i].name;
    qsort(names, count, sizeof(char *), cmp_name);
    r = stat_all(c->stats, op_pool->io, names, count < (size_t)stat_first ? (int)count : stat_first, what);
    free(names);
  }
  free_specs(specs, count);
  return r < 0 ? r : 0;
}

static int op_list_images(struct caller *c, const char *name, const char **what) {
  (void)name;
  return list_images(c, 0, what);
}

static int op_list_images_detail(struct caller *c, const char *name, const char **what) {
  (void)name;
  return list_images(c, detail_limit, what);
}

/* native/src/images.cc CreateImageWorker::Run with the function's defaults:
 * only the format is set, so features, order and striping come from the
 * cluster's rbd_default_* settings. */
static int create_image(const char *name, const char **what) {
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r < 0) {
    rbd_image_options_destroy(opts);
    return *what = "rbd_image_options_set", r;
  }
  r = rbd_create4(op_pool->io, name, IMAGE_SIZE, opts);
  rbd_image_options_destroy(opts);
  if (r < 0) *what = "rbd_create4";
  return r;
}

static int remove_image(const char *name, const char **what) {
  int r = rbd_remove(op_pool->io, name);
  if (r < 0) *what = "rbd_remove";
  return r;
}

static int op_create(struct caller *c, const char *name, const char **what) {
  (void)c;
  return create_image(name, what);
}

/* native/src/describe.cc DescribeNewImage, which create-image now
 * calls instead of a stat: read the id from rbd_id.<name>, then the header's
 * omap keys in one read op. The values are not decoded: that is CPU work of a
 * few hundred ns, and the floor only needs the round trips. */
static int describe_new(const char *name, const char **what);

static int op_create_describe(struct caller *c, const char *name, const char **what) {
  (void)c;
  int r = create_image(name, what);
  return r < 0 ? r : describe_new(name, what);
}

/* native/src/describe.cc DescribeNewImage (create-image, clone-image). */
static int describe_new(const char *name, const char **what) {
  char object[NAME_MAX_LEN + 16], buf[132];
  int r;
  snprintf(object, sizeof(object), "rbd_id.%s", name);
  if ((r = rados_read(op_pool->io, object, buf, sizeof(buf), 0)) < 0) return *what = "rados_read", r;
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
  r = rados_read_op_operate(op, op_pool->io, object, 0);
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

static int op_delete(struct caller *c, const char *name, const char **what) {
  (void)c;
  return remove_image(name, what);
}

static int op_trash_move(struct caller *c, const char *name, const char **what) {
  (void)c;
  int r = rbd_trash_move(op_pool->io, name, 0);
  if (r < 0) *what = "rbd_trash_move";
  return r;
}

/* ConnectWorker and CloseWorker: a connection of its own, made and shut down. */
static int op_connect(struct caller *c, const char *name, const char **what) {
  (void)c, (void)name, (void)what;
  rados_shutdown(do_connect());
  return 0;
}

/* statImage of an existing image (name_for: PREFIX-(i mod CYCLE)). */
static int op_stat(struct caller *c, const char *name, const char **what) {
  (void)c;
  return stat_image(op_pool->io, name, what);
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
  int r = rbd_open(op_pool->io, name, image, NULL);
  if (r < 0) *what = "rbd_open";
  return r;
}

/* native/src/snapshots.cc ListSnapshotsWorker: user snapshots with their
 * timestamps, protection and children. */
static int list_snapshots(const char *name, const char **what) {
  rbd_image_t image;
  int r = rbd_open_read_only(op_pool->io, name, &image, NULL);
  if (r < 0) return *what = "rbd_open_read_only", r;
  int max = 16;
  rbd_snap_info_t *snaps = xmalloc(sizeof(*snaps) * max);
  while ((r = rbd_snap_list(image, snaps, &max)) == -ERANGE) snaps = xrealloc(snaps, sizeof(*snaps) * max);
  if (r < 0) *what = "rbd_snap_list";
  for (int i = 0; r >= 0 && i < max && snaps[i].name; i++) {
    rbd_snap_namespace_type_t type;
    struct timespec ts;
    int is_protected;
    if ((r = rbd_snap_get_namespace_type(image, snaps[i].id, &type)) < 0) *what = "rbd_snap_get_namespace_type";
    if (r >= 0 && type != RBD_SNAP_NAMESPACE_TYPE_USER) continue;
    size_t n_children = 8;
    rbd_linked_image_spec_t *children = xmalloc(sizeof(*children) * n_children);
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
  if (max > 0 && r != -ERANGE) rbd_snap_list_end(snaps);
  free(snaps);
  rbd_close(image);
  return r < 0 ? r : 0;
}

/* rbd_clone3 of PREFIX-parent@gold as name, default features, in clone format (1 or 2). */
static int clone_parent(const char *name, int clone_format) {
  char parent[NAME_MAX_LEN];
  snprintf(parent, sizeof(parent), "%s-parent", prefix);
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r == 0) r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, clone_format);
  if (r == 0) r = rbd_clone3(op_pool->io, parent, "gold", op_pool->io, name, opts);
  rbd_image_options_destroy(opts);
  return r;
}

static int op_resize(struct caller *c, const char *name, const char **what) {
  (void)c;
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

static int op_snap_create(struct caller *c, const char *name, const char **what) {
  (void)c;
  rbd_image_t image;
  int r = open_rw(name, &image, what);
  if (r < 0) return r;
  r = rbd_snap_create2(image, "s", 0, no_progress, NULL);
  rbd_close(image);
  if (r < 0) return *what = "rbd_snap_create2", r;
  return list_snapshots(name, what);
}

static int op_clone(struct caller *c, const char *name, const char **what) {
  (void)c;
  struct mon_reply release;
  int r = mon_command("{\"prefix\": \"osd get-require-min-compat-client\"}", &release);
  /* v2 from mimic on: any release the monitors name but luminous (Pacific's lowest). */
  bool v2 = r >= 0 && release.len > 0 && !(release.len >= 8 && strncmp(release.out, "luminous", 8) == 0);
  rados_buffer_free(release.out);
  if (r < 0) return *what = "rados_mon_command (osd get-require-min-compat-client)", r;
  if (!v2) return *what = "clone v1 (set require_min_compat_client mimic)", -EINVAL;
  if ((r = clone_parent(name, 2)) < 0) return *what = "rbd_clone3", r;
  return describe_new(name, what);
}

static int op_flatten(struct caller *c, const char *name, const char **what) {
  (void)c;
  rbd_image_t image;
  int r = open_rw(name, &image, what);
  if (r < 0) return r;
  r = rbd_flatten_with_progress(image, no_progress, NULL);
  rbd_close(image);
  if (r < 0) return *what = "rbd_flatten_with_progress", r;
  return stat_image(op_pool->io, name, what);
}

/* `clones`: the parent, then COUNT clones of it, over the one connection. */
static void run_clones(long count) {
  char parent[NAME_MAX_LEN], name[NAME_MAX_LEN];
  const char *what = "rbd_create4";
  snprintf(parent, sizeof(parent), "%s-parent", prefix);
  rbd_image_t image;
  int r = rbd_create(op_pool->io, parent, 64 << 20, &(int){22});
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
  if (r < 0) die(what, r);
  double t0 = now_us();
  for (long i = 0; i < count; i++) {
    image_name(name, sizeof(name), i);
    if ((r = clone_parent(name, 2)) < 0) die("rbd_clone3", r);
  }
  printf("{\"op\":\"clones\",\"count\":%ld,\"seconds\":%.3f}\n", count, (now_us() - t0) / 1e6);
}

enum images { USES_NONE, MAKES_IMAGE, TAKES_IMAGE, TAKES_CLONE, READS_IMAGE };

static const struct op {
  const char *name;
  int (*run)(struct caller *, const char *name, const char **);
  int pool_args, extra_args; /* POOL [PREFIX], then optional LIMIT or COUNT */
  enum images images;
} ops[] = {
    {"connect", op_connect, 0, 0, USES_NONE},
    {"list_pools", op_list_pools, 0, 0, USES_NONE},
    {"list_images", op_list_images, 1, 0, USES_NONE},
    {"list_images_detail", op_list_images_detail, 1, 1, USES_NONE},
    {"create", op_create, 2, 1, MAKES_IMAGE},
    {"create_describe", op_create_describe, 2, 1, MAKES_IMAGE},
    {"delete", op_delete, 2, 1, TAKES_IMAGE},
    {"trash_move", op_trash_move, 2, 0, TAKES_IMAGE},
    {"stat", op_stat, 2, 1, READS_IMAGE},
    {"resize", op_resize, 2, 0, TAKES_IMAGE},
    {"snap_create", op_snap_create, 2, 0, TAKES_IMAGE},
    {"clone", op_clone, 2, 0, MAKES_IMAGE},
    {"flatten", op_flatten, 2, 0, TAKES_CLONE},
};

/* The image the index-th call acts on: PREFIX-<index>, the warm-up name
 * PREFIX-w<j> for index -1-j; an op reading existing images cycles through
 * PREFIX-0 .. PREFIX-(CYCLE-1), warm-ups included. */
static void name_for(const struct op *op, long index, char *out) {
  if (op->images == READS_IMAGE) index = (index < 0 ? -1 - index : index) % stat_cycle;
  image_name(out, NAME_MAX_LEN, index);
}

/* A warm-up run of op on the warm-up name for j: images it needs are made
 * before it and images it makes are removed after it, both untimed. Returns
 * the op's duration. */
static double warm_up(const struct op *op, struct caller *c, int j) {
  const char *what = NULL;
  char name[NAME_MAX_LEN];
  name_for(op, -1 - j, name);
  int r;
  if (op->images == TAKES_IMAGE && (r = create_image(name, &what)) < 0) die(what, r);
  if (op->images == TAKES_CLONE && (r = clone_parent(name, 2)) < 0) die("rbd_clone3", r);
  double t0 = now_us();
  if ((r = op->run(c, name, &what)) < 0) die(what, r);
  double took = now_us() - t0;
  if (op->images == MAKES_IMAGE && (r = remove_image(name, &what)) < 0) die(what, r);
  /* The lifecycle ops' warm-up images stay: the bench pool is thrown away. */
  return took;
}

/* ---- latency ---- */

/* FLOOR_HANDOFF=1: each timed call runs on a second thread, woken by a
 * condition variable and waking the caller back the same way, as the addon's
 * calls run on the libuv pool: the cost of the two hand-offs, in C. */
struct handoff {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  const struct op *op;
  struct caller *c;
  const char *name;
  int pending, done, r, quit;
  const char *what;
};

static void *handoff_main(void *arg) {
  struct handoff *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->pending && !h->quit) pthread_cond_wait(&h->cv, &h->mu);
    if (h->quit) break;
    h->pending = 0;
    pthread_mutex_unlock(&h->mu);
    int r = h->op->run(h->c, h->name, &h->what);
    pthread_mutex_lock(&h->mu);
    h->r = r, h->done = 1;
    pthread_cond_broadcast(&h->cv);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

static int handoff_run(struct handoff *h, const char *name, const char **what) {
  pthread_mutex_lock(&h->mu);
  h->name = name, h->pending = 1, h->done = 0;
  pthread_cond_broadcast(&h->cv);
  while (!h->done) pthread_cond_wait(&h->cv, &h->mu);
  int r = h->r;
  *what = h->what;
  pthread_mutex_unlock(&h->mu);
  return r;
}

static void run_latency(const struct op *op, int n, int stat_threads) {
  struct caller c = {0};
  if (op->run == op_list_images_detail) c.stats = stat_pool_start(stat_threads);
  int w = warmup_for(n);
  double first = 0;
  for (int j = 0; j < w; j++) {
    double took = warm_up(op, &c, j);
    if (j == 0) first = took;
  }
  double *samples = xmalloc(sizeof(double) * n);
  const char *what = NULL;
  /* FLOOR_GAP_US: an untimed pause before each call, as a function sits idle
   * between requests at concurrency 1 (librados's threads go to sleep). */
  const long gap_us = atol(env_or("FLOOR_GAP_US", "0"));
  struct handoff h = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .op = op, .c = &c};
  pthread_t worker;
  const bool handoff = strcmp(env_or("FLOOR_HANDOFF", "0"), "1") == 0;
  if (handoff) pthread_create(&worker, NULL, handoff_main, &h);
  for (int i = 0; i < n; i++) {
    if (gap_us > 0) usleep((useconds_t)gap_us);
    char name[NAME_MAX_LEN];
    name_for(op, i, name);
    double t0 = now_us();
    int r = handoff ? handoff_run(&h, name, &what) : op->run(&c, name, &what);
    samples[i] = now_us() - t0;
    if (r < 0) die(what, r);
  }
  if (handoff) {
    pthread_mutex_lock(&h.mu);
    h.quit = 1;
    pthread_cond_broadcast(&h.cv);
    pthread_mutex_unlock(&h.mu);
    pthread_join(worker, NULL);
  }
  if (c.stats) stat_pool_stop(c.stats);

  printf("{\"op\":\"%s\",\"mode\":\"latency\",\"n\":%d,\"warmup\":%d,\"first_us\":%.1f", op->name, n, w, first);
  printf(",\"samples_us\":[");
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
static atomic_bool tp_exhausted;
static pthread_barrier_t tp_start;
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

/* The first error of each kind goes to stderr; a flood would only slow us. */
static void report_error(const char *what, int r) {
  static struct {
    const char *what;
    int r;
  } seen[16];
  static int n_seen;
  pthread_mutex_lock(&err_mu);
  bool known = false;
  for (int i = 0; i < n_seen; i++) known |= seen[i].r == r && strcmp(seen[i].what, what) == 0;
  if (!known && n_seen < 16) {
    seen[n_seen].what = what, seen[n_seen++].r = r;
    fprintf(stderr, "floor: %s failed: %s (%d) (further ones counted only)\n", what, strerror(-r), r);
  }
  pthread_mutex_unlock(&err_mu);
}

static void *tp_thread(void *arg) {
  struct caller *c = arg;
  pthread_barrier_wait(&tp_start);
  long ops_done = 0, errors = 0;
  while (tp_deadline == 0 || now_us() < tp_deadline) {
    long index = 0;
    if (tp_op->images != USES_NONE) {
      index = atomic_fetch_add(&tp_next, 1);
      if (tp_limit >= 0 && index >= tp_limit) {
        atomic_store(&tp_exhausted, true);
        break;
      }
    }
    const char *what = NULL;
    char name[NAME_MAX_LEN];
    name_for(tp_op, index, name);
    int r = tp_op->run(c, name, &what);
    if (r < 0) {
      errors++;
      report_error(what, r);
    } else {
      ops_done++;
    }
  }
  atomic_fetch_add(&tp_ops, ops_done);
  atomic_fetch_add(&tp_errors, errors);
  /* Return the end time: seconds runs to the last thread's end. */
  double *end = xmalloc(sizeof(double));
  *end = now_us();
  return end;
}

static void run_throughput(const struct op *op, int concurrency, double seconds, int stat_threads) {
  struct caller *callers = xmalloc(sizeof(struct caller) * concurrency);
  memset(callers, 0, sizeof(struct caller) * concurrency);
  /* All callers share one set of stat threads, as one function process's libuv pool. */
  struct stat_pool *shared = op->run == op_list_images_detail ? stat_pool_start(stat_threads) : NULL;
  for (int i = 0; i < concurrency; i++) callers[i].stats = shared;
  (void)warm_up(op, &callers[0], 0);

  tp_op = op;
  pthread_t *threads = xmalloc(sizeof(pthread_t) * concurrency);
  int r = pthread_barrier_init(&tp_start, NULL, concurrency + 1);
  if (r != 0) die("pthread_barrier_init", -r);
  for (int i = 0; i < concurrency; i++) {
    if ((r = pthread_create(&threads[i], NULL, tp_thread, &callers[i])) != 0) die("pthread_create", -r);
  }
  double start = now_us();
  tp_deadline = seconds > 0 ? start + seconds * 1e6 : 0; /* 0: until COUNT is done */
  pthread_barrier_wait(&tp_start);                       /* the deadline is set before any thread reads it */
  double end = start;
  for (int i = 0; i < concurrency; i++) {
    void *ret;
    pthread_join(threads[i], &ret);
    if (*(double *)ret > end) end = *(double *)ret;
    free(ret);
  }
  pthread_barrier_destroy(&tp_start);

  if (shared) stat_pool_stop(shared);

  double elapsed = (end - start) / 1e6;
  long ops_done = atomic_load(&tp_ops);
  printf(
      "{\"op\":\"%s\",\"mode\":\"throughput\",\"concurrency\":%d,\"ops\":%ld,\"seconds\":%.3f,"
      "\"per_second\":%.1f,\"errors\":%ld,\"target_seconds\":%g",
      op->name, concurrency, ops_done, elapsed, elapsed > 0 ? ops_done / elapsed : 0, atomic_load(&tp_errors), seconds);
  if (op->images != USES_NONE) {
    long next = atomic_load(&tp_next);
    if (tp_limit >= 0 && next > tp_limit) next = tp_limit;
    printf(",\"next_index\":%ld", next);
  }
  if (tp_limit >= 0) printf(",\"exhausted\":%s", atomic_load(&tp_exhausted) ? "true" : "false");
  printf("}\n");
  free(threads);
  free(callers);
}

/* ---- main ---- */

static void usage(void) {
  fprintf(stderr,
          "usage: floor latency CONF OP N [ARGS] | throughput CONF OP CONCURRENCY SECONDS [ARGS]\n"
          "     | clones CONF POOL PREFIX COUNT (ops and env: the comment atop bench/floor.c)\n");
  exit(2);
}

static long positive(const char *text, const char *what) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < 1) {
    fprintf(stderr, "floor: %s must be a positive integer, not \"%s\"\n", what, text);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  if (argc < 4) usage();
  const char *mode = argv[1];
  conf_path = argv[2];
  int stat_threads = (int)positive(env_or("FLOOR_STAT_THREADS", "16"), "FLOOR_STAT_THREADS");
  bool latency = strcmp(mode, "latency") == 0, throughput = strcmp(mode, "throughput") == 0;
  const struct op *op = NULL;
  if (!latency && !throughput) { /* clones CONF POOL PREFIX COUNT */
    if (argc < 5) usage();
    op_pool_name = argv[3], prefix = argv[4];
  } else {
    int first_arg = latency ? 5 : 6; /* after N, or after CONCURRENCY SECONDS */
    if (argc < first_arg) usage();
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
      if (strcmp(ops[i].name, argv[3]) == 0) op = &ops[i];
    int given = argc - first_arg;
    if (op == NULL || given < op->pool_args || given > op->pool_args + op->extra_args) usage();
    char **args = argv + first_arg;
    if (op->pool_args >= 1) op_pool_name = args[0];
    if (op->pool_args >= 2) prefix = args[1];
    if (op->run == op_list_images_detail && given > 1) detail_limit = (int)positive(args[1], "LIMIT");
    if (op->run == op_stat && given > 2) stat_cycle = positive(args[2], "CYCLE");
    if (op->images != USES_NONE && op->images != READS_IMAGE && given > 2 && throughput)
      tp_limit = positive(args[2], "COUNT");
  }

  cluster = do_connect();
  if (op_pool_name) {
    int r = get_pool(op_pool_name, &op_pool);
    if (r < 0) die("rados_ioctx_create", r);
  }
  if (latency) {
    run_latency(op, (int)positive(argv[4], "N"), stat_threads);
  } else if (throughput) {
    char *end;
    double seconds = strtod(argv[5], &end);
    /* SECONDS 0 runs until COUNT names are used; delete always needs COUNT. */
    if (*end != '\0' || !(seconds >= 0) || (tp_limit < 0 && (seconds == 0 || op->run == op_delete))) usage();
    run_throughput(op, (int)positive(argv[4], "CONCURRENCY"), seconds, stat_threads);
  } else if (strcmp(mode, "clones") == 0 && argc == 6) {
    run_clones(strcmp(argv[5], "0") == 0 ? 0 : positive(argv[5], "COUNT")); /* 0: the parent alone, for `clone` */
  } else {
    usage();
  }
  fflush(stdout);
  drop_pools();
  rados_shutdown(cluster);
  return 0;
}
