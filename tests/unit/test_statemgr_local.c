/* Unit tests for backend/statemgr with the local-files back end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "heron_conf.h"
#include "statemgr.h"

/* cmocka's test signature takes a state some tests do not use. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define LOCAL_CLASS \
	"org.apache.heron.statemgr.localfs.LocalFileSystemStateManager"
#define EVENT_WAIT_MS 3000   /* the missing-root poll is once a second */
#define MAX_EVENTS 256

struct event {
	enum sm_dir dir;
	char name[64];   /* "" for a listing change */
};

struct fixture {
	char dir[64];        /* temporary directory holding everything */
	char conf_dir[96];
	char root[96];       /* heron.statemgr.root.path */
	struct heron_conf *conf;
	struct statemgr *sm;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct event events[MAX_EVENTS];
	int nevents;
};

/* ---- helpers ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void make_dir(const char *fmt, const char *a, const char *b)
{
	char path[256];
	char *p = path;

	snprintf(path, sizeof(path), fmt, a, b);
	while ((p = strchr(p + 1, '/'))) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", path, strerror(errno));
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void on_change(void *arg, enum sm_dir dir, const char *name)
{
	struct fixture *fx = arg;

	pthread_mutex_lock(&fx->lock);
	if (fx->nevents < MAX_EVENTS) {
		struct event *e = &fx->events[fx->nevents++];
		e->dir = dir;
		snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	}
	pthread_cond_broadcast(&fx->cond);
	pthread_mutex_unlock(&fx->lock);
}

static bool seen(struct fixture *fx, enum sm_dir dir, const char *name)
{
	for (int i = 0; i < fx->nevents; i++)
		if (fx->events[i].dir == dir &&
		    strcmp(fx->events[i].name, name ? name : "") == 0)
			return true;
	return false;
}

static void forget_events(struct fixture *fx)
{
	pthread_mutex_lock(&fx->lock);
	fx->nevents = 0;
	pthread_mutex_unlock(&fx->lock);
}

/* Waits for the change callback to report (dir, name); name NULL is a
 * listing change. */
static void wait_event(struct fixture *fx, enum sm_dir dir, const char *name)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += EVENT_WAIT_MS / 1000;
	pthread_mutex_lock(&fx->lock);
	while (!seen(fx, dir, name))
		if (pthread_cond_timedwait(&fx->cond, &fx->lock, &dl) != 0)
			break;
	bool ok = seen(fx, dir, name);
	pthread_mutex_unlock(&fx->lock);
	if (!ok)
		fail_msg("no change reported for dir %d name %s within %d ms",
			 (int)dir, name ? name : "(listing)", EVENT_WAIT_MS);
}

/* Writes the cluster conf: statemgr.yaml, plus heronfs.yaml if given. */
static void write_conf(struct fixture *fx, const char *statemgr,
		       const char *heronfs)
{
	char path[160];

	mkdir(fx->conf_dir, 0755);
	snprintf(path, sizeof(path), "%s/statemgr.yaml", fx->conf_dir);
	write_file(path, statemgr);
	snprintf(path, sizeof(path), "%s/heronfs.yaml", fx->conf_dir);
	if (heronfs)
		write_file(path, heronfs);
	else
		unlink(path);
}

static hf_rc open_conf(struct fixture *fx, struct hf_error *err)
{
	struct hf_error cerr = {0};

	heron_conf_free(fx->conf);
	fx->conf = NULL;
	if (heron_conf_load(fx->conf_dir, NULL, NULL, NULL, &fx->conf,
			    &cerr) != HF_OK)
		fail_msg("conf: %s", cerr.msg);
	return statemgr_open(fx->conf, on_change, fx, &fx->sm, err);
}

/* Opens the local back end on fx->root, with heronfs.yaml text if given. */
static void open_local(struct fixture *fx, const char *heronfs)
{
	char yaml[512];
	struct hf_error err = {0};

	snprintf(yaml, sizeof(yaml),
		 "heron.class.state.manager: %s\n"
		 "heron.statemgr.connection.string: LOCALMODE\n"
		 "heron.statemgr.root.path: %s\n", LOCAL_CLASS, fx->root);
	write_conf(fx, yaml, heronfs);
	if (open_conf(fx, &err) != HF_OK)
		fail_msg("statemgr_open: %s", err.msg);
}

static void close_sm(struct fixture *fx)
{
	statemgr_close(fx->sm);
	fx->sm = NULL;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/heronfs-smtest-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->conf_dir, sizeof(fx->conf_dir), "%s/conf", fx->dir);
	snprintf(fx->root, sizeof(fx->root), "%s/state/c1", fx->dir);
	pthread_mutex_init(&fx->lock, NULL);
	pthread_cond_init(&fx->cond, NULL);
	*state = fx;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	statemgr_close(fx->sm);
	heron_conf_free(fx->conf);
	nftw(fx->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	pthread_cond_destroy(&fx->cond);
	pthread_mutex_destroy(&fx->lock);
	free(fx);
	return 0;
}

static void create_ok(struct fixture *fx, enum sm_dir dir, const char *name,
		      const char *data, bool ephemeral)
{
	struct hf_error err = {0};

	if (sm_create(fx->sm, dir, name, data, strlen(data), ephemeral,
		      &err) != HF_OK)
		fail_msg("sm_create %s: %s", name, err.msg);
}

static void assert_get(struct fixture *fx, enum sm_dir dir, const char *name,
		       const char *want)
{
	struct buf b = {0};
	struct hf_error err = {0};
	hf_rc rc = sm_get(fx->sm, dir, name, &b, &err);

	if (rc != HF_OK)
		fail_msg("sm_get %s: %s", name, err.msg);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void assert_absent(struct fixture *fx, enum sm_dir dir,
			  const char *name)
{
	struct buf b = {0};
	struct hf_error err = {0};

	assert_int_equal(sm_get(fx->sm, dir, name, &b, &err),
			 HF_ERR_NOTFOUND);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(err.msg, name));
	buf_free(&b);
}

/* Compares the listing with want, a space-separated sorted list. */
static void assert_list(struct fixture *fx, enum sm_dir dir,
			const char *want)
{
	char **names = NULL;
	struct hf_error err = {0};
	struct buf got = {0};

	if (sm_list(fx->sm, dir, &names, &err) != HF_OK)
		fail_msg("sm_list: %s", err.msg);
	for (char **p = names; *p; p++)
		buf_printf(&got, "%s%s", p == names ? "" : " ", *p);
	if (strcmp(got.data ? got.data : "", want))
		fail_msg("listing \"%s\", want \"%s\"",
			 got.data ? got.data : "", want);
	buf_free(&got);
	strv_free(names);
}

/* ---- open ---- */

static void assert_open_fails(struct fixture *fx, const char *statemgr,
			      const char *heronfs, const char *want)
{
	struct hf_error err = {0};

	write_conf(fx, statemgr, heronfs);
	assert_int_equal(open_conf(fx, &err), HF_ERR_INVALID);
	assert_null(fx->sm);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err.msg, want);
}

static void test_open_refuses_bad_conf(void **state)
{
	struct fixture *fx = *state;

	assert_open_fails(fx, "heron.statemgr.root.path: /x\n", NULL,
			  "heron.class.state.manager is not set");
	assert_open_fails(fx,
		"heron.class.state.manager: org.apache.heron.statemgr.Foo\n"
		"heron.statemgr.root.path: /x\n", NULL, "statemgr.Foo");
	assert_open_fails(fx,
		"heron.class.state.manager: " LOCAL_CLASS "\n", NULL,
		"heron.statemgr.root.path is not set");
	assert_open_fails(fx,
		"heron.class.state.manager: " LOCAL_CLASS "\n"
		"heron.statemgr.root.path: relative/state\n", NULL,
		"not an absolute path");
	assert_open_fails(fx,
		"heron.class.state.manager: " LOCAL_CLASS "\n"
		"heron.statemgr.root.path: /x\n",
		"heronfs.tmanager.directory: tmanager\n", "'tmanager'");
	assert_open_fails(fx,
		"heron.class.state.manager: com.twitter.heron.statemgr."
		"zookeeper.curator.CuratorStateManager\n"
		"heron.statemgr.connection.string: LOCALMODE\n"
		"heron.statemgr.root.path: /heron\n", NULL, "'LOCALMODE'");
}

static void test_missing_root(void **state)
{
	struct fixture *fx = *state;
	struct buf health = {0};

	open_local(fx, NULL);
	assert_list(fx, SM_TOPOLOGIES, "");
	assert_absent(fx, SM_TOPOLOGIES, "t");
	assert_true(sm_connected(fx->sm));
	sm_health(fx->sm, &health);
	assert_non_null(strstr(health.data, "not created yet"));
	assert_non_null(strstr(health.data, fx->root));
	buf_free(&health);
}

/* ---- create, get, list, delete ---- */

static void test_create_get_list_delete(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	struct hf_error err = {0};

	open_local(fx, NULL);
	create_ok(fx, SM_TOPOLOGIES, "b", "topology b", false);
	create_ok(fx, SM_TOPOLOGIES, "a", "topology a", false);
	assert_get(fx, SM_TOPOLOGIES, "a", "topology a");
	assert_list(fx, SM_TOPOLOGIES, "a b");
	snprintf(path, sizeof(path), "%s/topologies/b", fx->root);
	assert_true(file_exists(path));

	assert_int_equal(sm_delete(fx->sm, SM_TOPOLOGIES, "a", &err), HF_OK);
	assert_absent(fx, SM_TOPOLOGIES, "a");
	assert_int_equal(sm_delete(fx->sm, SM_TOPOLOGIES, "a", &err), HF_OK);
	assert_list(fx, SM_TOPOLOGIES, "b");
	assert_list(fx, SM_PPLANS, "");
}

static void test_binary_data(void **state)
{
	struct fixture *fx = *state;
	static const char data[] = { 0x0a, 0x00, 0x12, (char)0xff, 0x00 };
	struct buf b = {0};
	struct hf_error err = {0};

	open_local(fx, NULL);
	assert_int_equal(sm_create(fx->sm, SM_EXECUTIONSTATE, "t", data,
				   sizeof(data), false, &err), HF_OK);
	buf_puts(&b, "stale content that must be replaced");
	assert_int_equal(sm_get(fx->sm, SM_EXECUTIONSTATE, "t", &b, &err),
			 HF_OK);
	assert_int_equal(b.len, sizeof(data));
	assert_memory_equal(b.data, data, sizeof(data));
	buf_free(&b);
}

static void test_no_temporary_files_left(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	struct hf_error err = {0};
	struct dirent *de;

	open_local(fx, NULL);
	create_ok(fx, SM_TOPOLOGIES, "t", "x", false);
	create_ok(fx, SM_PACKINGPLANS, "t", "x", false);
	assert_int_equal(sm_create(fx->sm, SM_TOPOLOGIES, "t", "y", 1, false,
				   &err), HF_ERR_EXISTS);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->root,
			 i ? "packingplans" : "topologies");
		DIR *d = opendir(path);
		assert_non_null(d);
		while ((de = readdir(d)))
			if (de->d_name[0] == '.' && strcmp(de->d_name, ".") &&
			    strcmp(de->d_name, ".."))
				fail_msg("left behind: %s/%s", path,
					 de->d_name);
		closedir(d);
	}
}

/* Heron's writers create the file before filling it: empty is absent. */
static void test_empty_file_is_absent(void **state)
{
	struct fixture *fx = *state;
	char path[160];
	struct hf_error err = {0};

	open_local(fx, NULL);
	make_dir("%s/%s", fx->root, "topologies");
	snprintf(path, sizeof(path), "%s/topologies/empty", fx->root);
	write_file(path, "");
	assert_absent(fx, SM_TOPOLOGIES, "empty");
	assert_list(fx, SM_TOPOLOGIES, "");
	/* Heron's create-new refuses an existing file even when empty. */
	assert_int_equal(sm_create(fx->sm, SM_TOPOLOGIES, "empty", "x", 1,
				   false, &err), HF_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "empty"));
}

static void test_exists_and_overwrite(void **state)
{
	struct fixture *fx = *state;
	struct hf_error err = {0};

	open_local(fx, NULL);
	create_ok(fx, SM_TOPOLOGIES, "t", "first", false);
	assert_int_equal(sm_create(fx->sm, SM_TOPOLOGIES, "t", "second", 6,
				   false, &err), HF_ERR_EXISTS);
	assert_int_equal(err.rc, HF_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "topologies/t already exists"));
	assert_get(fx, SM_TOPOLOGIES, "t", "first");

	/* Where Heron overwrites (packing plans, schedulers, ...), so does
	 * the local back end. */
	create_ok(fx, SM_PACKINGPLANS, "t", "plan 1", false);
	create_ok(fx, SM_PACKINGPLANS, "t", "plan 2", false);
	assert_get(fx, SM_PACKINGPLANS, "t", "plan 2");
	create_ok(fx, SM_EXECUTIONSTATE, "t", "state", false);
	assert_int_equal(sm_create(fx->sm, SM_EXECUTIONSTATE, "t", "s", 1,
				   false, &err), HF_ERR_EXISTS);
	create_ok(fx, SM_PPLANS, "t", "pplan", false);
	assert_int_equal(sm_create(fx->sm, SM_PPLANS, "t", "p", 1, false,
				   &err), HF_ERR_EXISTS);
}

static void test_locks(void **state)
{
	struct fixture *fx = *state;
	char path[200];
	struct hf_error err = {0};

	open_local(fx, NULL);
	create_ok(fx, SM_LOCKS, "t__updateTopology", "me", false);
	assert_int_equal(sm_create(fx->sm, SM_LOCKS, "t__updateTopology", "x",
				   1, false, &err), HF_ERR_EXISTS);
	assert_int_equal(sm_delete(fx->sm, SM_LOCKS, "t__updateTopology",
				   &err), HF_OK);
	assert_list(fx, SM_LOCKS, "");

	/* A lock left by Curator is a tree: deleted with its children. */
	make_dir("%s/locks/%s/leases", fx->root, "u__updateTopology");
	make_dir("%s/locks/%s/locks", fx->root, "u__updateTopology");
	snprintf(path, sizeof(path),
		 "%s/locks/u__updateTopology/leases/_c_1-lease-0001",
		 fx->root);
	write_file(path, "lease");
	assert_list(fx, SM_LOCKS, "u__updateTopology");
	assert_int_equal(sm_delete(fx->sm, SM_LOCKS, "u__updateTopology",
				   &err), HF_OK);
	assert_list(fx, SM_LOCKS, "");

	/* Outside locks a directory is not deleted recursively. */
	make_dir("%s/topologies/%s", fx->root, "d");
	assert_int_equal(sm_delete(fx->sm, SM_TOPOLOGIES, "d", &err),
			 HF_ERR_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "topologies/d"));
}

static void test_invalid_arguments(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", ".", "..", "a/b", "../x",
					   "tab\there" };
	struct buf b = {0};
	struct hf_error err = {0};
	char **names = NULL;

	open_local(fx, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sm_get(fx->sm, SM_TOPOLOGIES, bad[i], &b,
					&err), HF_ERR_INVALID);
		assert_int_equal(sm_create(fx->sm, SM_TOPOLOGIES, bad[i], "x",
					   1, false, &err), HF_ERR_INVALID);
		assert_int_equal(sm_delete(fx->sm, SM_TOPOLOGIES, bad[i],
					   &err), HF_ERR_INVALID);
	}
	assert_int_equal(sm_list(fx->sm, SM_NDIRS, &names, &err),
			 HF_ERR_INVALID);
	assert_null(names);
	assert_null(statemgr_dirname(fx->sm, SM_NDIRS));
	assert_false(file_exists(fx->root));
	buf_free(&b);
}

static void test_request_count(void **state)
{
	struct fixture *fx = *state;
	struct buf b = {0};
	char **names;

	open_local(fx, NULL);
	create_ok(fx, SM_TOPOLOGIES, "t", "x", false);
	unsigned long before = sm_request_count(fx->sm);
	assert_int_equal(sm_get(fx->sm, SM_TOPOLOGIES, "t", &b, NULL), HF_OK);
	assert_int_equal(sm_list(fx->sm, SM_TOPOLOGIES, &names, NULL), HF_OK);
	assert_int_equal(sm_request_count(fx->sm), before + 2);
	strv_free(names);
	buf_free(&b);
}

/* ---- ephemeral ---- */

static void test_ephemeral_removed_at_close(void **state)
{
	struct fixture *fx = *state;
	char mine[160], theirs[160];

	open_local(fx, NULL);
	create_ok(fx, SM_TMANAGERS, "t", "location", true);
	create_ok(fx, SM_METRICSCACHES, "u", "location", true);
	create_ok(fx, SM_SCHEDULERS, "t", "persistent", false);
	snprintf(mine, sizeof(mine), "%s/tmanagers/t", fx->root);
	snprintf(theirs, sizeof(theirs), "%s/metricscaches/u", fx->root);
	assert_true(file_exists(mine));
	/* Someone else replaced this one: it is theirs now. */
	unlink(theirs);
	write_file(theirs, "another process");

	close_sm(fx);
	assert_false(file_exists(mine));
	assert_true(file_exists(theirs));
	snprintf(mine, sizeof(mine), "%s/schedulers/t", fx->root);
	assert_true(file_exists(mine));
}

/* ---- tmasters / tmanagers ---- */

static void test_tmanagers_auto(void **state)
{
	struct fixture *fx = *state;
	char path[160];

	make_dir("%s/%s", fx->root, "tmasters");
	snprintf(path, sizeof(path), "%s/tmasters/old", fx->root);
	write_file(path, "location");
	open_local(fx, NULL);
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmasters");
	assert_list(fx, SM_TMANAGERS, "old");
	assert_get(fx, SM_TMANAGERS, "old", "location");
	/* The choice is kept until the root listing changes. */
	unsigned long before = sm_request_count(fx->sm);
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmasters");
	assert_int_equal(sm_request_count(fx->sm), before);

	forget_events(fx);
	make_dir("%s/%s", fx->root, "tmanagers");
	wait_event(fx, SM_TMANAGERS, NULL);
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmanagers");
	assert_list(fx, SM_TMANAGERS, "");
}

static void test_tmanagers_default_and_fixed(void **state)
{
	struct fixture *fx = *state;

	open_local(fx, NULL);
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmanagers");
	close_sm(fx);

	open_local(fx, "heronfs.tmanager.directory: tmasters\n");
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmasters");
	create_ok(fx, SM_TMANAGERS, "t", "x", false);
	char path[160];
	snprintf(path, sizeof(path), "%s/tmasters/t", fx->root);
	assert_true(file_exists(path));
	close_sm(fx);

	make_dir("%s/%s", fx->root, "tmasters");
	open_local(fx, "heronfs.tmanager.directory: tmanagers\n");
	assert_string_equal(statemgr_dirname(fx->sm, SM_TMANAGERS),
			    "tmanagers");
	assert_string_equal(statemgr_dirname(fx->sm, SM_PPLANS), "pplans");
}

/* ---- change notification ---- */

static void test_change_reported(void **state)
{
	struct fixture *fx = *state;
	char path[160], tmp[160];

	make_dir("%s/%s", fx->root, "pplans");
	open_local(fx, NULL);
	forget_events(fx);

	/* Another writer, replacing the file the way Heron's Java does. */
	snprintf(path, sizeof(path), "%s/pplans/t", fx->root);
	write_file(path, "plan");
	wait_event(fx, SM_PPLANS, "t");
	wait_event(fx, SM_PPLANS, NULL);

	/* A directory created later is watched too. */
	forget_events(fx);
	make_dir("%s/%s", fx->root, "schedulers");
	wait_event(fx, SM_SCHEDULERS, NULL);
	snprintf(tmp, sizeof(tmp), "%s/schedulers/.new", fx->root);
	snprintf(path, sizeof(path), "%s/schedulers/t", fx->root);
	write_file(tmp, "location");
	assert_int_equal(rename(tmp, path), 0);
	wait_event(fx, SM_SCHEDULERS, "t");

	/* Our own writes are reported as well. */
	forget_events(fx);
	create_ok(fx, SM_PPLANS, "u", "plan", false);
	wait_event(fx, SM_PPLANS, "u");
	unlink(path);
	wait_event(fx, SM_SCHEDULERS, "t");
}

static void test_root_appears_later(void **state)
{
	struct fixture *fx = *state;
	char path[160];

	open_local(fx, NULL);
	forget_events(fx);
	make_dir("%s/%s", fx->root, "topologies");
	wait_event(fx, SM_NDIRS, NULL);
	snprintf(path, sizeof(path), "%s/topologies/t", fx->root);
	write_file(path, "topology");
	wait_event(fx, SM_TOPOLOGIES, "t");
	assert_list(fx, SM_TOPOLOGIES, "t");

	/* Removed and created again. */
	forget_events(fx);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	assert_int_equal(system(cmd), 0);
	wait_event(fx, SM_NDIRS, NULL);
	forget_events(fx);
	make_dir("%s/%s", fx->root, "pplans");
	wait_event(fx, SM_NDIRS, NULL);
	snprintf(path, sizeof(path), "%s/pplans/t", fx->root);
	write_file(path, "plan");
	wait_event(fx, SM_PPLANS, "t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_open_refuses_bad_conf),
		T(test_missing_root),
		T(test_create_get_list_delete),
		T(test_binary_data),
		T(test_no_temporary_files_left),
		T(test_empty_file_is_absent),
		T(test_exists_and_overwrite),
		T(test_locks),
		T(test_invalid_arguments),
		T(test_request_count),
		T(test_ephemeral_removed_at_close),
		T(test_tmanagers_auto),
		T(test_tmanagers_default_and_fixed),
		T(test_change_reported),
		T(test_root_appears_later),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
