/* Unit tests for the local scheduler. The heron-core is a directory made
 * here whose bin/heron-executor is a shell script: it records its argv
 * (argv-<shard>) and pid (pids-<shard>, one line per run) in its working
 * directory, writes a line to stdout and one to stderr, then becomes
 * `sleep`. The topology package is a gzip tar built here. Processes are
 * counted by their working directory, so only this test's count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "containers.h"
#include "fixtures.h"
#include "heron_conf.h"
#include "packing.h"
#include "scheduler.h"

#define CLUSTER "devcluster"
#define ROLE    "ads"
#define ENVIRON "devel"
#define NAME    "WordCount"
#define ID      "WordCount0f0e8a52-7c1d-4d38-9a4b-2f1e0c9d8b7a"
#define NSHARDS 3

/* The stand-in executor; %s is what it does before recording itself. */
static const char executor_script[] =
	"#!/bin/sh\n"
	"for a; do case $a in --shard=*) shard=${a#--shard=};; esac; done\n"
	"%s"
	"printf '%%s\\n' \"$0\" \"$@\" > \"argv-$shard\"\n"
	"echo $$ >> \"pids-$shard\"\n"
	"echo \"executor $shard up\"\n"
	"echo \"executor $shard complains\" >&2\n"
	"exec sleep 1000\n";

/* Late enough for the others to record themselves, within the check. */
static const char fail_shard_2[] =
	"if [ \"$shard\" = 2 ]; then\n"
	"  sleep 0.2; echo 'boom: no JVM here' >&2; exit 3\n"
	"fi\n";

struct fx {
	char root[40];
	char *dir;          /* the cluster conf directory */
	char *core;         /* heron.package.core.directory */
	char *workdir;
	char *reg_file;     /* the job's registry file */
	char *pkg_uri;
	struct heron_conf *conf, *local_conf, *cluster_conf;
	struct scheduler *sched;
	Heron__Proto__Api__Topology *topo;
	Heron__Proto__System__PackingPlan *plan;
	struct launch_spec spec;
	struct job_key key;
};

/* ---- files --------------------------------------------------------------- */

static void write_file(const char *path, const char *text, mode_t mode)
{
	write_text(path, text);
	assert_int_equal(chmod(path, mode), 0);
}

static void make_dir(const char *path)
{
	assert_int_equal(mkdir(path, 0755), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = {0};
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A gzip tar of the {name, content} pairs; a name ending in '/' is a
 * directory, content "x:..." an executable file. */
static void make_tar(const char *path, const char *const (*entries)[2],
		     size_t n)
{
	struct archive *a = archive_write_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const char *name = entries[i][0], *body = entries[i][1];
		bool dir = name[strlen(name) - 1] == '/';
		bool exe = strncmp(body, "x:", 2) == 0;

		body += exe ? 2 : 0;
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, dir || exe ? 0755 : 0644);
		archive_entry_set_size(e, dir ? 0 : (la_int64_t)strlen(body));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (!dir)
			assert_int_equal(archive_write_data(a, body,
							    strlen(body)),
					 (la_ssize_t)strlen(body));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void make_package(struct fx *f, const char *extra_entry)
{
	const char *const entries[][2] = {
		{NAME ".defn", "not parsed here"},
		{"heron-examples.jar", "PK"},
		{"heron-conf/", ""},
		{"heron-conf/statemgr.yaml", "heron.statemgr.connection.string: LOCALMODE\n"},
		{extra_entry ? extra_entry : "heron-conf/override.yaml", ""},
	};
	char *path = xasprintf("%s/" NAME ".tar.gz", f->root);

	make_tar(path, entries, sizeof(entries) / sizeof(*entries));
	free(f->pkg_uri);
	f->pkg_uri = xasprintf("file://%s", path);
	f->spec.package_uri = f->pkg_uri;
	free(path);
}

/* <root>/<name>/bin/heron-executor doing pre before recording itself. */
static char *make_core(struct fx *f, const char *name, const char *pre)
{
	char *core = xasprintf("%s/%s", f->root, name);
	char *bin = xasprintf("%s/bin", core);
	char *exe = xasprintf("%s/heron-executor", bin);
	char *script = xasprintf(executor_script, pre ? pre : "");

	make_dir(core);
	make_dir(bin);
	write_file(exe, script, 0755);
	free(script);
	free(exe);
	free(bin);
	return core;
}

/* ---- the topology and the confs ------------------------------------------ */

/* text with every @ROOT@ replaced by the fixture's root. */
static char *with_root(const struct fx *f, const char *text)
{
	struct buf b = {0};
	const char *hit;

	while ((hit = strstr(text, "@ROOT@"))) {
		buf_append(&b, text, (size_t)(hit - text));
		buf_puts(&b, f->root);
		text = hit + strlen("@ROOT@");
	}
	buf_puts(&b, text);
	return buf_steal(&b);
}

static void write_confs(struct fx *f, const char *heronfs_yaml)
{
	char *path, *text, *extra = with_root(f, heronfs_yaml);

	f->dir = xasprintf("%s/" CLUSTER, f->root);
	make_dir(f->dir);
	path = xasprintf("%s/scheduler.yaml", f->dir);
	text = xasprintf(
		"heron.class.scheduler: org.apache.heron.scheduler.local.LocalScheduler\n"
		"heron.class.launcher: org.apache.heron.scheduler.local.LocalLauncher\n"
		"heron.scheduler.local.working.directory: %s/work/${CLUSTER}/${ROLE}/${TOPOLOGY}\n"
		"heron.package.use_core_uri: false\n"
		"heron.package.core.directory: %s\n",
		f->root, f->core);
	write_file(path, text, 0644);
	free(text);
	free(path);
	path = xasprintf("%s/statemgr.yaml", f->dir);
	write_file(path,
		   "heron.class.state.manager: org.apache.heron.statemgr.localfs.LocalFileSystemStateManager\n"
		   "heron.statemgr.connection.string: LOCALMODE\n"
		   "heron.statemgr.root.path: /tmp/unused-state\n",
		   0644);
	free(path);
	path = xasprintf("%s/heronfs.yaml", f->dir);
	text = xasprintf("heronfs.local.registry.directory: %s/registry\n%s",
			 f->root, extra);
	write_file(path, text, 0644);
	free(text);
	free(extra);
	free(path);
}

/* The conf as mounted, the topology's local-mode one, the cluster-mode
 * one. */
static void load_confs(struct fx *f)
{
	char *home = xasprintf("%s/heron", f->root);
	const struct conf_tokens mount = {
		.heron_home = home, .heron_conf = f->dir, .cluster = CLUSTER,
	};
	const struct conf_tokens local = {
		.heron_home = home, .heron_conf = f->dir, .cluster = CLUSTER,
		.role = ROLE, .environ = ENVIRON, .topology_name = NAME,
		.topology_id = ID, .submit_user = ROLE,
	};
	const struct conf_tokens cluster = {
		.heron_home = "./heron-core", .heron_conf = "./heron-conf",
		.cluster = CLUSTER, .role = ROLE, .environ = ENVIRON,
		.topology_name = NAME, .topology_id = ID, .submit_user = ROLE,
	};

	f->conf = conf_load(f->dir, &mount);
	f->local_conf = conf_load(f->dir, &local);
	f->cluster_conf = conf_load(f->dir, &cluster);
	free(home);
}

static void sched_open(struct fx *f)
{
	struct hf_error err = {0};

	if (scheduler_open(f->conf, &f->sched, &err) != HF_OK)
		fail_msg("scheduler_open: %s", err.msg);
}

/* core_pre: what the stand-in executor does first (NULL: nothing);
 * heronfs_yaml: more settings, which override the others (@ROOT@ stands
 * for the fixture's directory). */
static void fx_open(struct fx *f, const char *core_pre,
		    const char *heronfs_yaml)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->root, "/tmp/heronfs-local-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	f->core = make_core(f, "core", core_pre);
	write_confs(f, heronfs_yaml ? heronfs_yaml : "");
	load_confs(f);
	f->workdir = xasprintf("%s/work/" CLUSTER "/" ROLE "/" NAME, f->root);
	f->reg_file = xasprintf("%s/registry/" CLUSTER "." ROLE "." ENVIRON
				"." NAME ".json", f->root);
	f->topo = word_count_topology(ID, NAME);
	f->plan = scheduled_plan(f->topo, f->cluster_conf);
	assert_int_equal(f->plan->n_container_plans, NSHARDS - 1);
	f->key = (struct job_key){CLUSTER, ROLE, ENVIRON, NAME};
	f->spec = (struct launch_spec){
		.key = f->key,
		.topology_id = ID,
		.defn_file = NAME ".defn",
		.topology_binary = "heron-examples.jar",
		.pkg_type = "jar",
		.topology = f->topo,
		.plan = f->plan,
		.cluster_conf = f->cluster_conf,
		.local_conf = f->local_conf,
		.spelling = SPELL_TMANAGER,
	};
	make_package(f, NULL);
	sched_open(f);
}

/* Also after a failed test (cmocka's teardown): stops whatever it left
 * running, adopting it first when the scheduler was closed. */
static void fx_close(struct fx *f)
{
	struct hf_error err = {0};

	if (!f->root[0])
		return;
	if (!f->sched)
		scheduler_open(f->conf, &f->sched, &err);
	if (f->sched)
		scheduler_kill(f->sched, &f->key, &err);
	scheduler_close(f->sched);
	heron__proto__api__topology__free_unpacked(f->topo, NULL);
	heron__proto__system__packing_plan__free_unpacked(f->plan, NULL);
	heron_conf_free(f->conf);
	heron_conf_free(f->local_conf);
	heron_conf_free(f->cluster_conf);
	remove_tree(f->root);
	free(f->dir);
	free(f->core);
	free(f->workdir);
	free(f->reg_file);
	free(f->pkg_uri);
	memset(f, 0, sizeof(*f));
}

static int setup(void **state)
{
	*state = xcalloc(1, sizeof(struct fx));
	return 0;
}

static int teardown(void **state)
{
	fx_close(*state);
	free(*state);
	return 0;
}

#define TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

/* ---- processes and status ------------------------------------------------ */

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

/* Live processes (zombies have no cwd) running in the working dir. */
static int count_executors(const struct fx *f)
{
	char real[PATH_MAX], path[300], cwd[PATH_MAX];
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!realpath(f->workdir, real))
		return 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		ssize_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cwd", de->d_name);
		len = readlink(path, cwd, sizeof(cwd) - 1);
		if (len < 0)
			continue;
		cwd[len] = '\0';
		n += strcmp(cwd, real) == 0;
	}
	closedir(d);
	return n;
}

static char *work_file(const struct fx *f, const char *fmt, int shard)
{
	char *name = xasprintf(fmt, shard);
	char *path = xasprintf("%s/%s", f->workdir, name);
	char *text = slurp(path);

	free(path);
	free(name);
	return text;
}

/* How many times the executor of shard started, and its last pid. */
static int runs(const struct fx *f, int shard, pid_t *last)
{
	char *text = work_file(f, "pids-%d", shard), *save = NULL;
	int n = 0;

	for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save), n++)
		*last = (pid_t)atoi(l);
	free(text);
	return n;
}

/* Waits up to 5 s for the executor of shard to have started n times
 * (the script records itself a moment after its exec); its last pid. */
static pid_t wait_runs(const struct fx *f, int shard, int n)
{
	pid_t pid = 0;
	int got = 0;

	for (int i = 0; i < 100 && (got = runs(f, shard, &pid)) < n; i++)
		sleep_ms(50);
	assert_int_equal(got, n);
	return pid;
}

/* The pid of the executor of shard, which ran once. */
static pid_t pid_of(const struct fx *f, int shard)
{
	return wait_runs(f, shard, 1);
}

static bool gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* Waits up to 5 s for pid to be a zombie: dead, not reaped. */
static void wait_zombie(pid_t pid)
{
	char path[64], *stat = NULL;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 100; i++) {
		free(stat);
		stat = slurp(path);
		if (stat && strstr(stat, ") Z "))
			break;
		sleep_ms(50);
	}
	assert_non_null(stat);
	assert_non_null(strstr(stat, ") Z "));
	free(stat);
}

static struct container_set *containers(struct fx *f)
{
	struct container_set *set = NULL;
	struct hf_error err = {0};

	if (scheduler_containers(f->sched, &f->key, &set, &err) != HF_OK)
		fail_msg("containers: %s", err.msg);
	return set;
}

static const struct container_task *find_task(const struct container_set *s,
					      const char *id)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (strcmp(s->tasks[i].task_id, id) == 0)
			return &s->tasks[i];
	return NULL;
}

/* The newest task of instance i, copied as "<task id> <status>". */
static char *latest(struct fx *f, int instance)
{
	struct container_set *set = containers(f);
	const struct container_task **v;
	size_t n = container_set_latest(set, &v);
	char *out = NULL;

	for (size_t i = 0; i < n; i++)
		if (v[i]->instance == instance)
			out = xasprintf("%s %s", v[i]->task_id, v[i]->status);
	free(v);
	container_set_free(set);
	return out ? out : xstrdup("");
}

/* Waits up to 10 s for instance's newest task to be want. */
static void wait_latest(struct fx *f, int instance, const char *want)
{
	long long end = now_ms() + 10000;
	char *got = NULL;

	do {
		free(got);
		got = latest(f, instance);
		if (strcmp(got, want) == 0)
			break;
		sleep_ms(50);
	} while (now_ms() < end);
	assert_string_equal(got, want);
	free(got);
}

static void launch_ok(struct fx *f)
{
	struct hf_error err = {0};

	if (scheduler_launch(f->sched, &f->spec, &err) != HF_OK)
		fail_msg("launch: %s", err.msg);
}

static void kill_ok(struct fx *f)
{
	struct hf_error err = {0};

	if (scheduler_kill(f->sched, &f->key, &err) != HF_OK)
		fail_msg("kill: %s", err.msg);
}

static void assert_health(struct fx *f, const char *want)
{
	struct buf b = {0};

	scheduler_health(f->sched, &b);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static char *last_message(const struct container_task *t)
{
	assert_true(t->n_events > 0);
	return t->events[t->n_events - 1].message;
}

/* ---- launch -------------------------------------------------------------- */

/* The argv of one executor: the topology's flags, --shard, nine ports. */
static void check_argv(struct fx *f, int shard, char *const *want_args,
		       int *ports)
{
	static const char *const flags[] = {
		"--server-port=", "--tmanager-controller-port=",
		"--tmanager-stats-port=", "--shell-port=",
		"--metrics-manager-port=", "--scheduler-port=",
		"--metricscache-manager-server-port=",
		"--metricscache-manager-stats-port=",
		"--checkpoint-manager-port=",
	};
	char *text = work_file(f, "argv-%d", shard), *save = NULL;
	char *exe = xasprintf("%s/heron-core/bin/heron-executor", f->workdir);
	char *want_shard = xasprintf("--shard=%d", shard);
	char *l = strtok_r(text, "\n", &save);
	size_t k = 0;

	assert_non_null(l);
	assert_string_equal(l, exe);
	for (; want_args[k]; k++)
		assert_string_equal(strtok_r(NULL, "\n", &save), want_args[k]);
	assert_string_equal(strtok_r(NULL, "\n", &save), want_shard);
	for (int i = 0; i < 9; i++) {
		l = strtok_r(NULL, "\n", &save);
		assert_non_null(l);
		assert_int_equal(strncmp(l, flags[i], strlen(flags[i])), 0);
		ports[i] = atoi(l + strlen(flags[i]));
		assert_in_range(ports[i], 1, 65535);
	}
	assert_null(strtok_r(NULL, "\n", &save));
	free(want_shard);
	free(exe);
	free(text);
}

static char **split(const char *s)
{
	char **v = xcalloc(strlen(s) + 2, sizeof(*v)), *copy = xstrdup(s);
	char *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(copy, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		v[n++] = xstrdup(t);
	free(copy);
	return v;
}

static void check_status(struct fx *f, char host[])
{
	struct container_set *set = containers(f);

	assert_int_equal(set->n_tasks, NSHARDS);
	for (int i = 0; i < NSHARDS; i++) {
		const struct container_task *t = &set->tasks[i];
		char *id = xasprintf(NAME "-%d-0", i);
		char *started = xasprintf("started pid %d", (int)pid_of(f, i));

		assert_int_equal(t->instance, i);
		assert_string_equal(t->task_id, id);
		assert_string_equal(t->status, "running");
		assert_string_equal(t->host, host);
		assert_null(t->ancestor_id);
		assert_int_equal(t->n_events, 2);
		assert_string_equal(t->events[0].status, "pending");
		assert_string_equal(t->events[1].status, "running");
		assert_string_equal(t->events[1].message, started);
		assert_true(t->events[0].time_ms <= t->events[1].time_ms);
		free(started);
		free(id);
	}
	container_set_free(set);
}

/* The registry file names the running pids. */
static void check_registry(struct fx *f)
{
	json_t *doc = json_load_file(f->reg_file, 0, NULL), *c;
	size_t i;

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "workdir")),
			    f->workdir);
	assert_int_equal(json_array_size(json_object_get(doc, "containers")),
			 NSHARDS);
	json_array_foreach(json_object_get(doc, "containers"), i, c) {
		assert_int_equal(json_integer_value(json_object_get(c, "shard")),
				 i);
		assert_int_equal(json_integer_value(json_object_get(c, "pid")),
				 pid_of(f, (int)i));
	}
	json_decref(doc);
}

static void test_launch_runs_executors(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	char *args, **want, host[256], *path, *text;
	int ports[NSHARDS][9];

	fx_open(f, NULL, NULL);
	launch_ok(f);
	assert_int_equal(count_executors(f), NSHARDS);
	args = executor_topology_arguments(&f->spec);
	assert_non_null(strstr(args, "--state-manager-connection=LOCALMODE"));
	want = split(args);
	for (int i = 0; i < NSHARDS; i++) {
		char *log = work_file(f, "heron-executor-%d.stderr", i);
		char *up = xasprintf("executor %d up\n", i);
		char *complains = xasprintf("executor %d complains\n", i);

		check_argv(f, i, want, ports[i]);
		assert_non_null(log);
		assert_non_null(strstr(log, up));
		assert_non_null(strstr(log, complains));
		free(complains);
		free(up);
		free(log);
	}
	/* 27 ports, all different. */
	for (int a = 0; a < NSHARDS * 9; a++)
		for (int b = a + 1; b < NSHARDS * 9; b++)
			assert_int_not_equal(ports[a / 9][a % 9],
					     ports[b / 9][b % 9]);
	/* The package's files, heron-core linked in. */
	path = xasprintf("%s/heron-conf/statemgr.yaml", f->workdir);
	text = slurp(path);
	assert_string_equal(text, "heron.statemgr.connection.string: LOCALMODE\n");
	free(text);
	free(path);
	path = xasprintf("%s/heron-core", f->workdir);
	text = xmalloc(PATH_MAX);
	assert_int_equal(readlink(path, text, PATH_MAX), strlen(f->core));
	assert_memory_equal(text, f->core, strlen(f->core));
	free(text);
	free(path);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	check_status(f, host);
	check_registry(f);
	assert_health(f, "scheduler: ok local (3 executors running)");
	/* The same job twice: refused, the first one untouched. */
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_EXISTS);
	assert_int_equal(count_executors(f), NSHARDS);
	strv_free(want);
	free(args);
}

static void test_kill_stops_all_and_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct container_set *set;
	pid_t pids[NSHARDS];
	char *log;

	fx_open(f, NULL, NULL);
	launch_ok(f);
	for (int i = 0; i < NSHARDS; i++)
		pids[i] = pid_of(f, i);
	kill_ok(f);
	for (int i = 0; i < NSHARDS; i++)
		assert_true(gone(pids[i]));     /* reaped, not a zombie */
	assert_int_equal(count_executors(f), 0);
	assert_false(exists(f->reg_file));
	set = containers(f);
	assert_int_equal(set->n_tasks, 0);
	container_set_free(set);
	assert_health(f, "scheduler: ok local (0 executors running)");
	/* As Heron, the working directory and the logs stay. */
	log = work_file(f, "heron-executor-%d.stderr", 1);
	assert_non_null(log);
	free(log);
	kill_ok(f);
	/* A job never launched. */
	f->key.name = "NoSuchTopology";
	kill_ok(f);
	f->key.name = NAME;
}

/* ---- restarts ------------------------------------------------------------ */

static void test_dead_executor_is_restarted(void **state)
{
	struct fx *f = *state;
	struct container_set *set;
	const struct container_task *old, *neu;
	pid_t before, after = 0;

	fx_open(f, NULL, NULL);
	launch_ok(f);
	before = pid_of(f, 2);
	assert_int_equal(kill(before, SIGKILL), 0);
	wait_latest(f, 2, NAME "-2-1 running");
	after = wait_runs(f, 2, 2);
	assert_int_not_equal(after, before);
	assert_true(gone(before));
	assert_int_equal(count_executors(f), NSHARDS);
	set = containers(f);
	old = find_task(set, NAME "-2-0");
	neu = find_task(set, NAME "-2-1");
	assert_non_null(old);
	assert_non_null(neu);
	assert_string_equal(old->status, "failed");
	assert_string_equal(last_message(old), "killed by signal 9 (SIGKILL)");
	assert_string_equal(neu->ancestor_id, NAME "-2-0");
	assert_int_equal(neu->failure_count, 1);
	/* It died young: a back-off before the new start. */
	assert_string_equal(neu->events[0].status, "pending");
	assert_string_equal(neu->events[0].message, "restarting in 1 s");
	assert_true(neu->events[1].time_ms - neu->events[0].time_ms >= 900);
	/* The others were left alone. */
	assert_string_equal(find_task(set, NAME "-0-0")->status, "running");
	assert_string_equal(find_task(set, NAME "-1-0")->status, "running");
	container_set_free(set);
	kill_ok(f);
	assert_int_equal(count_executors(f), 0);
}

static void test_restart_one_container(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	struct container_set *set;
	const struct container_task *old, *neu;
	pid_t pids[NSHARDS], pid;

	fx_open(f, NULL, NULL);
	launch_ok(f);
	for (int i = 0; i < NSHARDS; i++)
		pids[i] = pid_of(f, i);
	if (scheduler_restart(f->sched, &f->key, 1, &err) != HF_OK)
		fail_msg("restart: %s", err.msg);
	set = containers(f);
	old = find_task(set, NAME "-1-0");
	neu = find_task(set, NAME "-1-1");
	assert_non_null(neu);
	assert_string_equal(old->status, "killed");
	assert_string_equal(last_message(old), "restarted");
	assert_string_equal(neu->status, "running");
	assert_string_equal(neu->ancestor_id, NAME "-1-0");
	assert_int_equal(neu->failure_count, 0);
	assert_int_equal(set->n_tasks, NSHARDS + 1);
	container_set_free(set);
	assert_true(gone(pids[1]));
	wait_runs(f, 1, 2);
	for (int i = 0; i < NSHARDS; i += 2) {
		char *want = xasprintf(NAME "-%d-0 running", i);
		char *got = latest(f, i);

		assert_string_equal(got, want);
		assert_int_equal(runs(f, i, &pid), 1);
		assert_int_equal(pid, pids[i]);
		free(got);
		free(want);
	}
	assert_int_equal(count_executors(f), NSHARDS);
	assert_int_equal(scheduler_restart(f->sched, &f->key, 7, &err),
			 HF_ERR_NOTFOUND);
	/* All of them. */
	if (scheduler_restart(f->sched, &f->key, -1, &err) != HF_OK)
		fail_msg("restart: %s", err.msg);
	wait_latest(f, 0, NAME "-0-1 running");
	wait_latest(f, 1, NAME "-1-2 running");
	wait_latest(f, 2, NAME "-2-1 running");
	assert_int_equal(count_executors(f), NSHARDS);
	kill_ok(f);
	assert_int_equal(count_executors(f), 0);
	f->key.name = "NoSuchTopology";
	assert_int_equal(scheduler_restart(f->sched, &f->key, -1, &err),
			 HF_ERR_NOTFOUND);
	f->key.name = NAME;
}

/* ---- a heronfs restart --------------------------------------------------- */

static void test_reopen_adopts_executors(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	struct scheduler *second = NULL;
	struct container_set *set;
	pid_t pids[NSHARDS], pid;

	fx_open(f, NULL, NULL);
	launch_ok(f);
	for (int i = 0; i < NSHARDS; i++)
		pids[i] = pid_of(f, i);
	/* One heronfs at a time watches a registry. */
	assert_int_equal(scheduler_open(f->conf, &second, &err), HF_ERR_BUSY);
	assert_null(second);
	scheduler_close(f->sched);
	f->sched = NULL;
	assert_int_equal(count_executors(f), NSHARDS);
	/* Dies while no heronfs watches: a zombie of this process. */
	assert_int_equal(kill(pids[2], SIGKILL), 0);
	wait_zombie(pids[2]);
	sched_open(f);
	wait_latest(f, 2, NAME "-2-1 running");
	set = containers(f);
	for (int i = 0; i < 2; i++) {
		char *id = xasprintf(NAME "-%d-0", i);
		char *msg = xasprintf("adopted pid %d, started before heronfs "
				      "restarted", (int)pids[i]);
		const struct container_task *t = find_task(set, id);

		assert_non_null(t);
		assert_string_equal(t->status, "running");
		assert_string_equal(last_message(t), msg);
		free(msg);
		free(id);
	}
	assert_string_equal(find_task(set, NAME "-2-0")->status, "lost");
	assert_string_equal(find_task(set, NAME "-2-1")->ancestor_id,
			    NAME "-2-0");
	container_set_free(set);
	assert_true(gone(pids[2]));             /* the zombie was reaped */
	/* Long enough for a duplicate to show. */
	sleep_ms(1500);
	assert_int_equal(count_executors(f), NSHARDS);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(runs(f, i, &pid), 1);
		assert_int_equal(pid, pids[i]);
	}
	pid = wait_runs(f, 2, 2);
	assert_health(f, "scheduler: ok local (3 executors running)");
	kill_ok(f);
	assert_int_equal(count_executors(f), 0);
	for (int i = 0; i < 2; i++)
		assert_true(gone(pids[i]));
	assert_true(gone(pid));
}

/* ---- failures ------------------------------------------------------------ */

static void assert_nothing_runs(struct fx *f)
{
	struct container_set *set = containers(f);

	assert_int_equal(set->n_tasks, 0);
	container_set_free(set);
	assert_int_equal(count_executors(f), 0);
	assert_false(exists(f->reg_file));
	assert_health(f, "scheduler: ok local (0 executors running)");
}

static void test_broken_core_directory(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	char *want, *empty;

	/* heron.package.core.directory does not exist. */
	fx_open(f, NULL, "heron.package.core.directory: @ROOT@/no-core\n");
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_UNAVAILABLE);
	want = xasprintf("heron.package.core.directory %s/no-core: No such "
			 "file or directory", f->root);
	assert_non_null(strstr(err.msg, want));
	assert_nothing_runs(f);
	free(want);
	fx_close(f);

	/* It exists, without a heron-executor. */
	fx_open(f, NULL, "heron.package.core.directory: @ROOT@/empty-core\n");
	empty = xasprintf("%s/empty-core", f->root);
	make_dir(empty);
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "no heron-executor to run at"));
	assert_nothing_runs(f);
	free(empty);
}

static void test_executor_dying_at_start(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	pid_t pids[2];

	fx_open(f, fail_shard_2, NULL);
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "container 2: heron-executor exited "
				     "with status 3 within 500 ms"));
	assert_non_null(strstr(err.msg, "boom: no JVM here"));
	/* The others were started, then stopped. */
	for (int i = 0; i < 2; i++) {
		pids[i] = pid_of(f, i);
		assert_true(gone(pids[i]));
	}
	assert_nothing_runs(f);
}

/* heron-core from heron.package.core.uri, the tmaster spelling, and the
 * packages a local launch refuses. */
static void test_core_uri_and_refusals(void **state)
{
	struct fx *f = *state;
	struct hf_error err = {0};
	struct stat st;
	char *tar, *script, *exe, *path, *argv;

	fx_open(f, NULL, "heron.package.use_core_uri: true\n"
		"heron.package.core.uri: file://@ROOT@/heron-core.tar.gz\n");
	/* The core tarball holds the same stand-in executor. */
	tar = xasprintf("%s/heron-core.tar.gz", f->root);
	script = xasprintf(executor_script, "");
	exe = xasprintf("x:%s", script);
	{
		const char *const entries[][2] = {
			{"heron-core/", ""}, {"heron-core/bin/", ""},
			{"heron-core/bin/heron-executor", exe},
		};

		make_tar(tar, entries, 3);
	}
	f->spec.spelling = SPELL_TMASTER;
	launch_ok(f);
	assert_int_equal(count_executors(f), NSHARDS);
	path = xasprintf("%s/heron-core", f->workdir);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	argv = work_file(f, "argv-%d", 0);
	assert_non_null(strstr(argv, "\n--master-port="));
	assert_non_null(strstr(argv, "\n--tmaster-controller-port="));
	assert_non_null(strstr(argv, "\n--metricscache-manager-master-port="));
	assert_non_null(strstr(argv, "\n--tmaster-binary="));
	kill_ok(f);
	assert_int_equal(count_executors(f), 0);

	/* Only file:// URIs. */
	f->spec.package_uri = "hdfs://namenode/topologies/" NAME ".tar.gz";
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_INVALID);
	assert_non_null(strstr(err.msg, "file://"));
	assert_nothing_runs(f);

	/* An entry reaching out of the working directory. */
	make_package(f, "../escaped");
	assert_int_equal(scheduler_launch(f->sched, &f->spec, &err),
			 HF_ERR_INVALID);
	free(path);
	path = xasprintf("%s/work/" CLUSTER "/" ROLE "/escaped", f->root);
	assert_false(exists(path));
	assert_nothing_runs(f);

	free(argv);
	free(path);
	free(exe);
	free(script);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_launch_runs_executors),
		TEST(test_kill_stops_all_and_is_idempotent),
		TEST(test_dead_executor_is_restarted),
		TEST(test_restart_one_container),
		TEST(test_reopen_adopts_executors),
		TEST(test_broken_core_directory),
		TEST(test_executor_dying_at_start),
		TEST(test_core_uri_and_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
