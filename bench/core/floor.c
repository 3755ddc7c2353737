/*
 * The floor: each core operation done by plain C over librados/librbd, making
 * the same library calls as the addon's workers (native/src: connect.cc,
 * pools.cc, images.cc), so that bench/core/addon.ts measured against it shows
 * what the addon adds.
 *
 *   floor CONF POOL OPS ITERATIONS [LIST_POOL] [TAG]
 *
 * CONF        ceph.conf path
 * POOL        pool for create / remove / trash_move
 * OPS         comma-separated: connect,list_pools,list_images,stat,create,
 *             remove,trash_move ("all" = that order), or "prefill"
 * ITERATIONS  "op=N,op=N,..." (ops not listed use DEFAULT_ITERATIONS), or one
 *             number for every op
 * LIST_POOL   pool holding LIST_IMAGES images named list-000..list-199, for
 *             list_images and stat (default: bench-list); "prefill" creates them
 * TAG         image name prefix and "tool" field (default: floor); keep it the
 *             same length as the addon's ("addon") so names compare equal
 *
 * Connection settings mirror shared/config.ts + native/src/connect.cc:
 * CEPH_ID (default admin), CEPH_KEYRING, CEPH_MON_HOST, CEPH_KEY and
 * CEPH_TIMEOUT_SECONDS (default 10) are applied with rados_conf_set exactly as
 * the addon applies them. BENCH_ROUND is copied into the output.
 *
 * Output: one JSON line per op on stdout:
 *   {"tool":"floor","round":1,"op":"stat","iterations":500,"warmup":25,
 *    "p50_us":..,"p90_us":..,"p99_us":..,"mean_us":..,"samples_us":[...]}
 * The first "warmup" runs of each op are done but not recorded.
 *
 * Build: gcc -O2 -Wall -o floor floor.c -lrados -lrbd
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#define IMAGE_SIZE (1ULL << 30) /* 1 GiB, as in addon.ts */
#define LIST_IMAGES 200
#define MAX_POOLS 64

static const char *conf_path, *pool_name, *list_pool = "bench-list", *tag = "floor";
static int round_no = 0;

static void die(const char *what, int r) {
  fprintf(stderr, "floor: %s failed: %s (%d)\n", what, strerror(-r), r);
  exit(1);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Same rule as addon.ts: discard the first N/20 runs, at least 5, at most 25.
 * At least 5 because a fresh Node process spends its first ~100 ms on
 * background compilation, which slows the addon's first connects by ~30%. */
static int warmup_for(int n) {
  int w = n / 20;
  return w < 5 ? 5 : w > 25 ? 25 : w;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, as report.ts computes it. */
static double pct(const double *sorted, int n, double p) {
  int rank = (int)((p / 100.0) * n + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static void emit(const char *op, int warmup, const double *samples, int n) {
  double *sorted = malloc(sizeof(double) * (n ? n : 1));
  double sum = 0;
  for (int i = 0; i < n; i++) sum += sorted[i] = samples[i];
  qsort(sorted, n, sizeof(double), cmp_double);
  printf("{\"tool\":\"%s\",\"round\":%d,\"op\":\"%s\",\"iterations\":%d,\"warmup\":%d,"
         "\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"mean_us\":%.1f,\"samples_us\":[",
         tag, round_no, op, n, warmup, pct(sorted, n, 50), pct(sorted, n, 90), pct(sorted, n, 99),
         n ? sum / n : 0);
  for (int i = 0; i < n; i++) printf("%s%.1f", i ? "," : "", samples[i]);
  printf("]}\n");
  fflush(stdout);
  free(sorted);
}

/* ---- connect: native/src/connect.cc ConnectWorker::Execute + CloseWorker ---- */

static const char *env_or(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static void conf_get(rados_t c, const char *option) {
  char buf[4096];
  rados_conf_get(c, option, buf, sizeof(buf));
}

/* create + read conf + the addon's conf_set/conf_get calls + connect. */
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
  conf_get(c, "keyring");
  conf_get(c, "mon_host");
  if ((r = rados_connect(c)) < 0) die("rados_connect", r);
  char fsid[64] = {0};
  rados_cluster_fsid(c, fsid, sizeof(fsid) - 1);
  (void)rados_get_instance_id(c);
  return c;
}

/* ---- ioctx cache: native/src/cluster_state.cc ClusterState::GetIoctx ---- */

static struct {
  char name[256];
  rados_ioctx_t io;
} ioctxs[MAX_POOLS];
static int n_ioctxs;

static rados_ioctx_t get_ioctx(rados_t c, const char *pool) {
  for (int i = 0; i < n_ioctxs; i++)
    if (strcmp(ioctxs[i].name, pool) == 0) return ioctxs[i].io;
  if (n_ioctxs == MAX_POOLS) die("ioctx cache (too many pools)", -ENOSPC);
  rados_ioctx_t io;
  int r = rados_ioctx_create(c, pool, &io);
  if (r < 0) die("rados_ioctx_create", r);
  rados_ioctx_set_namespace(io, "");
  snprintf(ioctxs[n_ioctxs].name, sizeof(ioctxs[n_ioctxs].name), "%s", pool);
  ioctxs[n_ioctxs].io = io;
  return ioctxs[n_ioctxs++].io;
}

static void drop_ioctxs(void) {
  for (int i = 0; i < n_ioctxs; i++) rados_ioctx_destroy(ioctxs[i].io);
  n_ioctxs = 0;
}

/* ---- list_pools: native/src/pools.cc ListPoolsWorker::Run ---- */

static void list_pools(rados_t c) {
  const char *cmd[] = {"{\"prefix\": \"osd pool ls\", \"detail\": \"detail\", \"format\": \"json\"}"};
  char *out = NULL, *status = NULL;
  size_t out_len = 0, status_len = 0;
  int r = rados_mon_command(c, cmd, 1, "", 0, &out, &out_len, &status, &status_len);
  if (r < 0) die("rados_mon_command", r);
  /* The addon hands the JSON to JS, which parses it; parsing is not floor work. */
  rados_buffer_free(out);
  rados_buffer_free(status);
}

/* ---- list_images: native/src/images.cc ListImagesWorker::Run ---- */

static size_t list_hint; /* Ioctx::list_hint */

static size_t list_images(rados_t c) {
  rados_ioctx_t io = get_ioctx(c, list_pool);
  size_t max = list_hint + 64 > 256 ? list_hint + 64 : 256;
  rbd_image_spec_t *specs = NULL;
  int r;
  do {
    specs = realloc(specs, sizeof(*specs) * max);
    r = rbd_list2(io, specs, &max);
  } while (r == -ERANGE);
  if (r < 0) die("rbd_list2", r);
  list_hint = max;
  rbd_image_spec_list_cleanup(specs, max);
  free(specs);
  return max;
}

/* ---- stat: native/src/images.cc StatImageWorker::Run + Collect ---- */

static void stat_image(rados_t c, const char *name) {
  rados_ioctx_t io = get_ioctx(c, list_pool);
  rbd_image_t image;
  int r = rbd_open_read_only(io, name, &image, NULL);
  if (r < 0) die("rbd_open_read_only", r);
  rbd_image_info_t info;
  uint64_t features, stripe_unit, stripe_count;
  char id[128];
  struct timespec created;
  if ((r = rbd_stat(image, &info, sizeof(info))) < 0) die("rbd_stat", r);
  if ((r = rbd_get_features(image, &features)) < 0) die("rbd_get_features", r);
  if ((r = rbd_get_stripe_unit(image, &stripe_unit)) < 0) die("rbd_get_stripe_unit", r);
  if ((r = rbd_get_stripe_count(image, &stripe_count)) < 0) die("rbd_get_stripe_count", r);
  (void)rbd_get_data_pool_id(image);
  if ((r = rbd_get_id(image, id, sizeof(id))) < 0) die("rbd_get_id", r);
  if ((r = rbd_get_create_timestamp(image, &created)) < 0) die("rbd_get_create_timestamp", r);

  int max_snaps = 16;
  rbd_snap_info_t *snaps = malloc(sizeof(*snaps) * max_snaps);
  while ((r = rbd_snap_list(image, snaps, &max_snaps)) == -ERANGE)
    snaps = realloc(snaps, sizeof(*snaps) * max_snaps);
  if (r < 0) die("rbd_snap_list", r);
  rbd_snap_list_end(snaps);
  free(snaps);

  size_t max_watchers = 8;
  rbd_image_watcher_t *watchers = malloc(sizeof(*watchers) * max_watchers);
  while ((r = rbd_watchers_list(image, watchers, &max_watchers)) == -ERANGE)
    watchers = realloc(watchers, sizeof(*watchers) * max_watchers);
  if (r < 0) die("rbd_watchers_list", r);
  rbd_watchers_list_cleanup(watchers, max_watchers);
  free(watchers);
  rbd_close(image);
}

/* ---- create / remove / trash_move: CreateImageWorker, RemoveImageWorker, TrashMoveWorker ---- */

static void create_image(rados_t c, const char *pool, const char *name) {
  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  int r = rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2);
  if (r < 0) die("rbd_image_options_set", r);
  r = rbd_create4(get_ioctx(c, pool), name, IMAGE_SIZE, opts);
  rbd_image_options_destroy(opts);
  if (r < 0) die("rbd_create4", r);
}

static void remove_image(rados_t c, const char *name) {
  int r = rbd_remove(get_ioctx(c, pool_name), name);
  if (r < 0) die("rbd_remove", r);
}

static void trash_move(rados_t c, const char *name) {
  int r = rbd_trash_move(get_ioctx(c, pool_name), name, 0);
  if (r < 0) die("rbd_trash_move", r);
}

/* ---- driver ---- */

static char *iter_spec;

static int iterations_for(const char *op) {
  static const struct { const char *op; int n; } defaults[] = {
      {"connect", 10},  {"list_pools", 2000}, {"list_images", 500}, {"stat", 500},
      {"create", 200}, {"remove", 200},      {"trash_move", 100},
  };
  if (strchr(iter_spec, '=') == NULL) return atoi(iter_spec);
  size_t len = strlen(op);
  for (const char *p = iter_spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
    if (strncmp(p, op, len) == 0 && p[len] == '=') return atoi(p + len + 1);
  }
  for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
    if (strcmp(defaults[i].op, op) == 0) return defaults[i].n;
  return 0;
}

static char (*created)[64]; /* images made by "create", consumed by "remove" */
static int n_created;

static void image_name(char *out, size_t size, char kind, int i) {
  snprintf(out, size, "%s-r%d-%c-%06d", tag, round_no, kind, i);
}

static void run_op(rados_t *main_conn, const char *op) {
  int n = iterations_for(op), w = warmup_for(n), total = n + w;
  double *samples = malloc(sizeof(double) * (total ? total : 1));
  char name[64];
  rados_t c = *main_conn;

  if (strcmp(op, "connect") == 0) {
    for (int i = 0; i < total; i++) {
      double t0 = now_us();
      rados_t tmp = do_connect();
      rados_shutdown(tmp);
      samples[i] = now_us() - t0;
    }
  } else if (strcmp(op, "list_pools") == 0) {
    for (int i = 0; i < total; i++) {
      double t0 = now_us();
      list_pools(c);
      samples[i] = now_us() - t0;
    }
  } else if (strcmp(op, "list_images") == 0) {
    for (int i = 0; i < total; i++) {
      double t0 = now_us();
      size_t count = list_images(c);
      samples[i] = now_us() - t0;
      if (count != LIST_IMAGES) {
        fprintf(stderr, "floor: %s holds %zu images, expected %d\n", list_pool, count, LIST_IMAGES);
        exit(1);
      }
    }
  } else if (strcmp(op, "stat") == 0) {
    for (int i = 0; i < total; i++) {
      snprintf(name, sizeof(name), "list-%03d", i % LIST_IMAGES);
      double t0 = now_us();
      stat_image(c, name);
      samples[i] = now_us() - t0;
    }
  } else if (strcmp(op, "create") == 0) {
    created = realloc(created, sizeof(*created) * (n_created + total));
    for (int i = 0; i < total; i++) {
      image_name(name, sizeof(name), 'c', i);
      double t0 = now_us();
      create_image(c, pool_name, name);
      samples[i] = now_us() - t0;
      snprintf(created[n_created++], sizeof(created[0]), "%s", name);
    }
  } else if (strcmp(op, "remove") == 0) {
    /* Removes what "create" made; creates its own images (untimed) if short. */
    created = realloc(created, sizeof(*created) * (n_created + total));
    for (int i = n_created; i < total; i++) {
      image_name(created[i], sizeof(created[0]), 'r', i);
      create_image(c, pool_name, created[i]);
      n_created++;
    }
    for (int i = 0; i < total; i++) {
      double t0 = now_us();
      remove_image(c, created[i]);
      samples[i] = now_us() - t0;
    }
    memmove(created, created + total, sizeof(*created) * (n_created - total));
    n_created -= total;
  } else if (strcmp(op, "trash_move") == 0) {
    for (int i = 0; i < total; i++) {
      image_name(name, sizeof(name), 't', i);
      create_image(c, pool_name, name);
    }
    for (int i = 0; i < total; i++) {
      image_name(name, sizeof(name), 't', i);
      double t0 = now_us();
      trash_move(c, name);
      samples[i] = now_us() - t0;
    }
  } else {
    fprintf(stderr, "floor: unknown op %s\n", op);
    exit(2);
  }
  emit(op, w, samples + w, n);
  free(samples);
}

int main(int argc, char **argv) {
  if (argc < 5 || argc > 7) {
    fprintf(stderr, "usage: %s CONF POOL OPS ITERATIONS [LIST_POOL] [TAG]\n", argv[0]);
    return 2;
  }
  conf_path = argv[1];
  pool_name = argv[2];
  char *ops = strdup(argv[3]);
  iter_spec = argv[4];
  if (argc > 5) list_pool = argv[5];
  if (argc > 6) tag = argv[6];
  round_no = atoi(env_or("BENCH_ROUND", "0"));
  if (strcmp(ops, "all") == 0) ops = strdup("connect,list_pools,list_images,stat,create,remove,trash_move");

  if (strcmp(ops, "prefill") == 0) {
    rados_t c = do_connect();
    char name[64];
    for (int i = 0; i < LIST_IMAGES; i++) {
      snprintf(name, sizeof(name), "list-%03d", i);
      create_image(c, list_pool, name);
    }
    drop_ioctxs();
    rados_shutdown(c);
    return 0;
  }

  /* connect runs before the long-lived connection exists, as in addon.ts. */
  rados_t conn = NULL;
  for (char *save = NULL, *op = strtok_r(ops, ",", &save); op; op = strtok_r(NULL, ",", &save)) {
    if (strcmp(op, "connect") != 0 && conn == NULL) conn = do_connect();
    run_op(&conn, op);
  }
  if (n_created) fprintf(stderr, "floor: left %d created images in %s\n", n_created, pool_name);
  drop_ioctxs();
  if (conn) rados_shutdown(conn);
  return 0;
}
