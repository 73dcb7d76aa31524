/* heronfs: Apache Heron topologies as files.
 *
 * main: parse, load every cluster's conf (so a bad conf fails on the
 * terminal), mount, daemonize, connect, loop, unwind. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fuse.h>
#include <fuse_lowlevel.h>

#include "buf.h"
#include "cluster.h"
#include "heron_conf.h"
#include "heronfs.h"
#include "log.h"
#include "notify.h"
#include "ops.h"
#include "opts.h"
#include "stage.h"

#define HERONFS_VERSION "0.1.0"

static void route_fuse_log(enum fuse_log_level level, const char *fmt,
			   va_list ap)
{
	char line[1024];
	enum hf_log_level l = level <= FUSE_LOG_ERR	 ? HF_LOG_ERR
			      : level <= FUSE_LOG_WARNING ? HF_LOG_WARN
			      : level <= FUSE_LOG_INFO	 ? HF_LOG_INFO
							 : HF_LOG_DEBUG;

	if (l > hf_log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	hf_log_write(l, "%s", line);
}

static void on_change(void *arg, struct cluster *c, const char *topology)
{
	struct heronfs *fs = arg;
	char path[512];

	snprintf(path, sizeof(path), "/%s/topologies", cluster_name(c));
	heronfs_invalidate(fs, path);
	if (topology) {
		snprintf(path, sizeof(path), "/%s/topologies/%s",
			 cluster_name(c), topology);
		heronfs_invalidate(fs, path);
	}
}

void heronfs_invalidate(struct heronfs *fs, const char *path)
{
	/* Back-end threads may still call in while the notifier stops. */
	pthread_mutex_lock(&fs->notifier_lock);
	notifier_push(fs->notifier, path);
	pthread_mutex_unlock(&fs->notifier_lock);
}

static void stop_notifier(struct heronfs *fs)
{
	struct notifier *n;

	pthread_mutex_lock(&fs->notifier_lock);
	n = fs->notifier;
	fs->notifier = NULL;
	pthread_mutex_unlock(&fs->notifier_lock);
	notifier_stop(n);
}

static void close_clusters(struct heronfs *fs)
{
	for (size_t i = 0; i < fs->nclusters; i++)
		cluster_close(fs->clusters[i]);
	free(fs->clusters);
	fs->clusters = NULL;
	fs->nclusters = 0;
}

/* Loads every cluster under config_path; prints why on failure. */
static int open_clusters(struct heronfs *fs, const struct hfs_opts *o)
{
	struct hf_error err = {0};
	char **names;

	if (heron_conf_discover(o->config_path, &names, &err) != HF_OK) {
		fprintf(stderr, "heronfs: %s\n", err.msg);
		return -1;
	}
	if (!names[0]) {
		fprintf(stderr, "heronfs: no cluster in %s (a cluster is a "
			"directory holding scheduler.yaml)\n", o->config_path);
		strv_free(names);
		return -1;
	}
	struct cluster_opts copts = {
		.config_path = o->config_path,
		.heron_home = o->heron_home,
		.role = o->role,
		.environ = o->environ,
	};
	fs->clusters = xcalloc(strv_len(names) + 1, sizeof(*fs->clusters));
	for (char **p = names; *p; p++) {
		if (cluster_open(*p, &copts, &fs->clusters[fs->nclusters],
				 &err) != HF_OK) {
			fprintf(stderr, "heronfs: %s\n", err.msg);
			strv_free(names);
			close_clusters(fs);
			return -1;
		}
		fs->nclusters++;
	}
	strv_free(names);
	return 0;
}

static void start_clusters(struct heronfs *fs)
{
	for (size_t i = 0; i < fs->nclusters; i++) {
		struct hf_error err = {0};

		/* A cluster that cannot start still shows, with health
		 * saying why. */
		if (cluster_start(fs->clusters[i], on_change, fs, &err) !=
		    HF_OK)
			LOG_E("%s", err.msg);
	}
}

static int run(struct fuse_args *args, struct heronfs *fs,
	       const struct fuse_cmdline_opts *cl)
{
	struct fuse *f = fuse_new(args, &heronfs_ops, sizeof(heronfs_ops), fs);
	struct fuse_loop_config *loop;
	int r = 1;

	if (!f)
		return 1;
	if (fuse_mount(f, cl->mountpoint) != 0)
		goto out_destroy;
	if (fuse_set_signal_handlers(fuse_get_session(f)) != 0)
		goto out_unmount;
	if (fuse_daemonize(cl->foreground) != 0)
		goto out_signals;
	if (!cl->foreground)
		hf_log_to_syslog();

	/* Threads start only now: fuse_daemonize forks. */
	fs->notifier = notifier_start(f);
	fs->stage = stage_new(fs->spool_dir);
	start_clusters(fs);
	LOG_I("serving %zu cluster(s)", fs->nclusters);
	if (cl->singlethread) {
		r = fuse_loop(f) != 0;
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_stop;
		/* Submits and kills hold a worker for as long as Aurora
		 * takes: keep enough for ls and cat meanwhile. */
		fuse_loop_cfg_set_clone_fd(loop, (unsigned)cl->clone_fd);
		if (cl->max_idle_threads != UINT_MAX)  /* UINT_MAX: unset */
			fuse_loop_cfg_set_idle_threads(loop,
						       cl->max_idle_threads);
		fuse_loop_cfg_set_max_threads(loop, cl->max_threads);
		r = fuse_loop_mt(f, loop) != 0;
		fuse_loop_cfg_destroy(loop);
	}
out_stop:
	stop_notifier(fs);
out_signals:
	fuse_remove_signal_handlers(fuse_get_session(f));
out_unmount:
	fuse_unmount(f);
out_destroy:
	fuse_destroy(f);
	return r;
}

/* Without -o max_threads libfuse allows 10 workers, too few when
 * submits and kills each hold one for minutes. */
#define DEFAULT_MAX_THREADS 64

static int max_threads_given(const struct fuse_args *args)
{
	for (int i = 0; i < args->argc; i++)
		if (strstr(args->argv[i], "max_threads="))
			return 1;
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_args args0 = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cl = {0};
	struct heronfs fs = {0};
	struct hfs_opts o;
	int r = 1;

	fuse_set_log_func(route_fuse_log);
	if (hfs_opts_parse(&args, &o) != 0)
		goto out;
	if (o.show_help) {
		hfs_usage(argv[0]);
		r = 0;
		goto out;
	}
	if (o.show_version) {
		printf("heronfs %s (libfuse %s)\n", HERONFS_VERSION,
		       fuse_pkgversion());
		r = 0;
		goto out;
	}
	if (fuse_parse_cmdline(&args, &cl) != 0)
		goto out;
	if (!max_threads_given(&args0))
		cl.max_threads = DEFAULT_MAX_THREADS;
	if (!cl.mountpoint) {
		fprintf(stderr, "heronfs: no mount point (see %s --help)\n",
			argv[0]);
		goto out;
	}
	if (cl.debug)
		hf_log_level = HF_LOG_DEBUG;
	pthread_mutex_init(&fs.notifier_lock, NULL);
	fs.uid = getuid();
	fs.gid = getgid();
	fs.mounted_at = time(NULL);
	fs.cache_timeout = o.cache_timeout;
	if (open_clusters(&fs, &o) != 0)
		goto out;
	if (stage_check(o.spool_dir) != 0) {
		close_clusters(&fs);
		goto out;
	}
	fs.spool_dir = o.spool_dir;
	/* Generated files carry real permissions; let the kernel check
	 * them. */
	fuse_opt_add_arg(&args, "-odefault_permissions");
	fuse_opt_add_arg(&args, "-ofsname=heronfs");
	r = run(&args, &fs, &cl);
	close_clusters(&fs);
	stage_free(fs.stage);
out:
	free(cl.mountpoint);
	hfs_opts_free(&o);
	fuse_opt_free_args(&args);
	return r;
}
