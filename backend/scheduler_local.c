/* scheduler_local: Heron's LocalScheduler (with its LocalLauncher): the
 * topology's heron-executors run as processes of this machine.
 *
 * Launch does what LocalLauncher.launch and LocalScheduler.onSchedule do:
 *  - the working directory, heron.scheduler.local.working.directory of
 *    the local-mode conf (LocalKey's default
 *    ${HOME}/.herondata/topologies/${CLUSTER}/${ROLE}/${TOPOLOGY}), is
 *    created, or emptied when it exists (createOrCleanDirectory);
 *  - heron-core: with heron.package.use_core_uri (Key default true) the
 *    tarball at heron.package.core.uri is extracted there, else
 *    <workdir>/heron-core becomes a symlink to heron.package.core.directory;
 *    then the topology package is extracted. Heron fetches both with curl
 *    and untars them; heronfs takes file:// URIs only and extracts with
 *    libarchive, refusing absolute paths, ".." and writes through symlinks;
 *  - one heron-executor per container, 0 (the TManager's) first, then the
 *    packing plan's container ids. The argv is SchedulerUtils.
 *    getExecutorCommand's: the executor (heron.binaries.executor of the
 *    cluster-mode conf, so <workdir>/heron-core/bin/heron-executor), the
 *    TOPOLOGY_ARGUMENTS items, --shard=<i>, then the nine port flags with
 *    ports free at that moment. It runs in the working directory, stdin
 *    from /dev/null, stdout and stderr appended to one file there,
 *    <executor basename>-<i>.stderr (ShellUtils.runASyncProcess), in a
 *    session of its own so that it outlives the daemon.
 * Launch returns once every executor has run for START_CHECK_MS; when one
 * cannot start or dies by then, the others are stopped and the reason is
 * the end of its log.
 *
 * Like LocalScheduler's per-executor monitor, a dead executor is started
 * again, with new ports since Heron takes free ports at every start.
 * heronfs adds a back-off: one that dies within QUICK_RUN_MS waits 1 s,
 * doubling to 30 s, so a broken executor does not spin. Restart stops
 * executors and starts them again (Heron's onRestart destroys them and
 * lets the monitor do it). Kill stops them all; like Heron it leaves the
 * working directory and its logs in place (the next launch of the topology
 * empties it). A stop is SIGTERM to the executor's process group, then
 * SIGKILL after STOP_GRACE_MS (Heron's Process.destroy only sends SIGTERM
 * to the executor, which then stops its own children).
 *
 * The registry lets executors outlive heronfs and be found again, neither
 * orphaned nor started twice. heronfs.local.registry.directory (default
 * ${HOME}/.herondata/heronfs/${CLUSTER}) holds one JSON file per job,
 * <cluster>.<role>.<environ>.<name>.json (bytes outside [A-Za-z0-9_-]
 * written %XX):
 *   {"format": 1, "boot_id": "...",
 *    "key": {"cluster": .., "role": .., "environ": .., "name": ..},
 *    "workdir": .., "executor": .., "spelling": "tmanager" | "tmaster",
 *    "topology_args": [..],
 *    "containers": [{"shard": 0, "serial": 0, "ancestor": -1,
 *                    "failures": 0, "pid": 1234, "start_time": 5678,
 *                    "argv": [..]}, ..]}
 * start_time is field 22 of /proc/<pid>/stat: with the pid and the boot
 * it names one process for good. open() adopts an executor whose pid
 * still has that start time, and starts the others again; close() leaves
 * them running. While a back end is open it holds flock(<dir>/.lock), so
 * a second heronfs cannot adopt the same executors.
 *
 * Exits are seen through pidfds (which also serve processes that are not
 * our children), else by polling: waitid(WNOWAIT) for a child, /proc for
 * another process.
 *
 * Threads. be->lock guards the job list and everything in a job that
 * changes; it is never held across slow work. Whoever starts or stops an
 * executor first claims its slot (slot.claimed) under the lock, then works
 * without it; others wait on be->released until the claim ends. The
 * monitor thread polls the pidfds of unclaimed slots, reaps its children
 * with waitpid(pid, WNOHANG) (never -1: proc.c reaps its own), and starts
 * the restarts that are due. Registry writes are serialised by
 * be->reg_lock, which is taken before be->lock, never while holding it.
 */
#include "scheduler_local_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "heron_conf.h"
#include "log.h"

#define WORKDIR_KEY      "heron.scheduler.local.working.directory"
#define WORKDIR_DEFAULT \
	"${HOME}/.herondata/topologies/${CLUSTER}/${ROLE}/${TOPOLOGY}"
#define USE_CORE_URI_KEY "heron.package.use_core_uri"
#define CORE_URI_KEY     "heron.package.core.uri"
#define CORE_URI_DEFAULT "${HERON_DIST}/heron-core.tar.gz"
#define EXECUTOR_KEY     "heron.binaries.executor"
#define EXECUTOR_DEFAULT "${HERON_BIN}/heron-executor"
#define FILE_SCHEME      "file://"

#define START_CHECK_MS   500     /* an executor must live this long */
#define BACKOFF_MIN_MS   1000
#define BACKOFF_MAX_MS   30000
#define MAX_TASKS        16      /* per container, oldest dropped */
#define MAX_EVENTS       32      /* per task, the first one kept */
#define TAIL_BYTES       2048    /* of a log, for error messages */
#define TAIL_LINES       3

extern char **environ;

/* ---- small helpers ------------------------------------------------------- */

static long long clock_ms(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

long long local_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void local_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

hf_rc local_sys_fail(struct hf_error *err, const char *what,
	       const char *path)
{
	int e = errno;

	return hf_fail(err, e == ENOSPC || e == EDQUOT ? HF_ERR_NOSPACE
						       : HF_ERR_UNAVAILABLE,
		       "%s %s: %s", what, path, strerror(e));
}

/* The path of a file://<absolute path> URI; NULL for anything else. */
static char *file_uri_path(const char *uri)
{
	size_t n = strlen(FILE_SCHEME);

	if (strncmp(uri, FILE_SCHEME, n) != 0 || uri[n] != '/')
		return NULL;
	return xstrdup(uri + n);
}

/* Creates path and its missing parents. */
int local_mkdir_p(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	struct stat st;
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	if (rc == 0 && stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		rc = -1;
	}
	return rc;
}

/* The last lines of a log on one line, for an error message (malloc'd). */
static char *log_tail(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), chunk[TAIL_BYTES + 1];
	char *lines[TAIL_LINES], *save = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct buf b = {0};
	ssize_t n = 0;
	size_t k = 0;

	if (fd >= 0) {
		off_t size = lseek(fd, 0, SEEK_END);

		n = pread(fd, chunk, TAIL_BYTES,
			  size > TAIL_BYTES ? size - TAIL_BYTES : 0);
		close(fd);
	}
	free(path);
	chunk[n > 0 ? n : 0] = '\0';
	for (char *l = strtok_r(chunk, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		size_t len;

		l += strspn(l, " \t\r");
		len = strlen(l);
		while (len && strchr(" \t\r", l[len - 1]))
			l[--len] = '\0';
		if (!len)
			continue;
		if (k == TAIL_LINES)
			memmove(lines, lines + 1, --k * sizeof(*lines));
		lines[k++] = l;
	}
	for (size_t i = 0; i < k; i++)
		buf_printf(&b, "%s%s", i ? " | " : "", lines[i]);
	return k ? buf_steal(&b) : xstrdup("(nothing)");
}

/* ---- tasks and events ---------------------------------------------------- */

struct task *local_current(struct slot *s)
{
	return &s->tasks[s->n_tasks - 1];
}

static void task_free(struct task *t)
{
	for (size_t i = 0; i < t->n_events; i++) {
		free(t->events[i].status);
		free(t->events[i].message);
	}
	free(t->events);
}

/* Records an event on the current task, which takes its status. */
void local_event(struct slot *s, const char *status, const char *fmt, ...)
{
	struct task *t = local_current(s);
	struct container_event *e;
	long long now = clock_ms(CLOCK_REALTIME);
	struct buf b = {0};
	va_list ap;

	if (t->n_events == MAX_EVENTS) {
		free(t->events[1].status);
		free(t->events[1].message);
		memmove(&t->events[1], &t->events[2],
			(MAX_EVENTS - 2) * sizeof(*t->events));
		t->n_events--;
	}
	/* Tasks are ordered by their first event: never two in one ms. */
	if (t->n_events == 0) {
		if (now <= s->last_task_ms)
			now = s->last_task_ms + 1;
		s->last_task_ms = now;
	}
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	t->events = xrealloc(t->events,
			     (t->n_events + 1) * sizeof(*t->events));
	e = &t->events[t->n_events++];
	*e = (struct container_event){
		.time_ms = now, .status = xstrdup(status),
		.message = buf_steal(&b),
	};
	t->status = status;
}

/* Makes a new current task, replacing the one with serial ancestor. */
void local_task_new(struct slot *s, long ancestor)
{
	if (s->n_tasks == MAX_TASKS) {
		task_free(&s->tasks[0]);
		memmove(s->tasks, s->tasks + 1,
			--s->n_tasks * sizeof(*s->tasks));
	}
	s->tasks = xrealloc(s->tasks, (s->n_tasks + 1) * sizeof(*s->tasks));
	s->tasks[s->n_tasks++] = (struct task){
		.serial = s->next_serial++, .ancestor = ancestor,
		.failures = s->failures, .status = "pending",
	};
}

int local_next_backoff(int ms)
{
	return ms <= 0 ? BACKOFF_MIN_MS
		       : ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : 2 * ms;
}

/* A new pending task that the monitor starts after the back-off. */
void local_schedule_start(struct slot *s)
{
	local_task_new(s, (long)local_current(s)->serial);
	if (s->backoff_ms)
		local_event(s, "pending", "restarting in %d s",
		      (s->backoff_ms + 999) / 1000);
	else
		local_event(s, "pending", "restarting");
	s->waiting = true;
	s->restart_at = local_mono_ms() + s->backoff_ms;
}

/* ---- jobs ---------------------------------------------------------------- */

/* shards: n container indexes, or NULL to set them later. */
struct job *local_job_new(const struct job_key *k, const int *shards,
		    size_t n)
{
	struct job *j = xcalloc(1, sizeof(*j));
	const char *parts[4] = {k->cluster, k->role, k->environ, k->name};

	j->cluster = xstrdup(k->cluster);
	j->role = xstrdup(k->role);
	j->environ = xstrdup(k->environ);
	j->name = xstrdup(k->name);
	j->file = local_key_file(parts);
	j->slots = xcalloc(n, sizeof(*j->slots));
	j->n_slots = n;
	for (size_t i = 0; i < n; i++) {
		j->slots[i].shard = shards ? shards[i] : 0;
		j->slots[i].p.pidfd = -1;
	}
	return j;
}

void local_job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_slots; i++) {
		struct slot *s = &j->slots[i];

		for (size_t t = 0; t < s->n_tasks; t++)
			task_free(&s->tasks[t]);
		free(s->tasks);
		strv_free(s->argv);
		local_close_fd(&s->p.pidfd);
	}
	free(j->slots);
	strv_free(j->topo_args);
	free(j->executor);
	free(j->workdir);
	free(j->file);
	free(j->cluster);
	free(j->role);
	free(j->environ);
	free(j->name);
	free(j);
}

static bool key_is(const struct job *j, const struct job_key *k)
{
	return strcmp(j->cluster, k->cluster) == 0 &&
	       strcmp(j->role, k->role) == 0 &&
	       strcmp(j->environ, k->environ) == 0 &&
	       strcmp(j->name, k->name) == 0;
}

struct job *local_find_key(struct sched_backend *be, const struct job_key *k)
{
	for (struct job *j = be->jobs; j; j = j->next)
		if (key_is(j, k))
			return j;
	return NULL;
}

struct job *local_find_id(struct sched_backend *be, uint64_t id)
{
	for (struct job *j = be->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

void local_job_add(struct sched_backend *be, struct job *j)
{
	j->id = ++be->next_id;
	j->next = be->jobs;
	be->jobs = j;
}

static void job_unlink(struct sched_backend *be, struct job *j)
{
	for (struct job **pp = &be->jobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			return;
		}
	}
}

static void wake_monitor(struct sched_backend *be)
{
	uint64_t one = 1;

	if (write(be->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		LOG_W("local scheduler: waking the monitor: %s",
		      strerror(errno));
}

/* Waits (be->lock held) until slot idx (-1: every slot) of job id is
 * free, and claims it. NULL when the job went away meanwhile. */
static struct job *claim(struct sched_backend *be, uint64_t id, int idx)
{
	for (;;) {
		struct job *j = local_find_id(be, id);
		bool busy = false;

		if (!j)
			return NULL;
		for (size_t i = 0; i < j->n_slots; i++)
			if (idx < 0 || (size_t)idx == i)
				busy = busy || j->slots[i].claimed;
		if (!busy) {
			for (size_t i = 0; i < j->n_slots; i++)
				if (idx < 0 || (size_t)idx == i)
					j->slots[i].claimed = true;
			return j;
		}
		pthread_cond_wait(&be->released, &be->lock);
	}
}

/* Ends a claim (be->lock held). */
void local_release(struct sched_backend *be, struct job *j, int idx)
{
	for (size_t i = 0; i < j->n_slots; i++)
		if (idx < 0 || (size_t)idx == i)
			j->slots[i].claimed = false;
	pthread_cond_broadcast(&be->released);
	wake_monitor(be);
}

/* Takes the process out of a claimed slot (be->lock held). */
struct proc local_take_proc(struct slot *s)
{
	struct proc p = s->p;

	s->p = (struct proc){.pidfd = -1};
	s->gen++;
	s->waiting = false;
	return p;
}

/* The new run of a claimed slot (be->lock held). */
void local_install(struct slot *s, struct proc *p, char **argv)
{
	strv_free(s->argv);
	s->argv = argv;
	s->p = *p;
	s->gen++;
	s->started = local_mono_ms();
	s->waiting = false;
	local_current(s)->placed = true;
	local_event(s, "running", "started pid %d", (int)p->pid);
}

/* ---- launch -------------------------------------------------------------- */

/* A value of the local-mode conf with the topology's tokens. */
static char *local_value(const struct launch_spec *spec, const char *key,
			 const char *def)
{
	const struct conf_tokens extra = {
		.cluster = spec->key.cluster, .role = spec->key.role,
		.environ = spec->key.environ,
		.topology_name = spec->topology->name,
		.topology_id = spec->topology_id,
	};
	const char *v = heron_conf_get(spec->local_conf, key);

	return heron_conf_expand(spec->local_conf, v ? v : def, &extra);
}

hf_rc local_check_local_path(const char *what, const char *path,
		       struct hf_error *err)
{
	if (path[0] != '/')
		return hf_fail(err, HF_ERR_INVALID,
			       "%s %s is not an absolute path", what, path);
	if (strstr(path, "${"))
		return hf_fail(err, HF_ERR_INVALID, "%s %s holds a token "
			       "nothing substitutes", what, path);
	return HF_OK;
}

/* heron.binaries.executor of the cluster-mode conf, relative to the
 * working directory unless absolute. */
static char *executor_path(const struct launch_spec *spec,
			   const char *workdir)
{
	char *v = sched_conf_str(spec->cluster_conf, EXECUTOR_KEY,
				 EXECUTOR_DEFAULT);
	const char *rel = v;
	char *path;

	if (v[0] == '/')
		return v;
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2 + strspn(rel + 2, "/");
	path = xasprintf("%s/%s", workdir, rel);
	free(v);
	return path;
}

/* TOPOLOGY_ARGUMENTS split on single spaces, empty items dropped. */
static char **split_args(const char *s)
{
	size_t n = 0;
	char **v = xcalloc(strlen(s) / 2 + 2, sizeof(*v));

	for (const char *p = s; *p;) {
		size_t len = strcspn(p, " ");

		if (len)
			v[n++] = xstrndup(p, len);
		p += len + (p[len] == ' ');
	}
	return v;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* 0 (the TManager's container), then the plan's container ids, sorted. */
static hf_rc plan_shards(const Heron__Proto__System__PackingPlan *plan,
			 int **out, size_t *n, struct hf_error *err)
{
	int *v = xcalloc(plan->n_container_plans + 1, sizeof(*v));

	*n = plan->n_container_plans + 1;
	for (size_t i = 0; i < plan->n_container_plans; i++)
		v[i + 1] = plan->container_plans[i]->id;
	qsort(v, *n, sizeof(*v), cmp_int);
	for (size_t i = 1; i < *n; i++) {
		if (v[i] <= 0 || v[i] == v[i - 1]) {
			free(v);
			return hf_fail(err, HF_ERR_INVALID, "the packing plan "
				       "has container ids that are not "
				       "distinct and positive");
		}
	}
	*out = v;
	return HF_OK;
}

static void setup_free(struct setup *su)
{
	free(su->package);
	free(su->core);
}

static hf_rc read_core(const struct launch_spec *spec, struct setup *su,
		       struct hf_error *err)
{
	char *uri;

	su->use_core_uri = heron_conf_get_bool(spec->local_conf,
					       USE_CORE_URI_KEY, true);
	if (!su->use_core_uri) {
		su->core = local_value(spec, CORE_DIR_KEY, CORE_DIR_DEFAULT);
		return local_check_local_path(CORE_DIR_KEY, su->core, err);
	}
	uri = local_value(spec, CORE_URI_KEY, CORE_URI_DEFAULT);
	su->core = file_uri_path(uri);
	if (!su->core)
		hf_fail(err, HF_ERR_INVALID, CORE_URI_KEY " %s: the local "
			"scheduler fetches file:// URIs only", uri);
	free(uri);
	return su->core ? HF_OK : HF_ERR_INVALID;
}

/* Everything launch needs, before anything is done: the job (its slots
 * claimed, one pending task each) and the packages. */
static hf_rc read_launch(const struct launch_spec *spec, struct setup *su,
			 struct job **out, struct hf_error *err)
{
	char *workdir = NULL, *args = NULL;
	int *shards = NULL;
	size_t n = 0;
	hf_rc rc = HF_OK;

	*out = NULL;
	if (!spec->local_conf)
		return hf_fail(err, HF_ERR_INVALID, "no local conf given");
	su->package = file_uri_path(spec->package_uri);
	if (!su->package)
		return hf_fail(err, HF_ERR_INVALID, "package %s: the local "
			       "scheduler fetches file:// URIs only",
			       spec->package_uri);
	workdir = local_value(spec, WORKDIR_KEY, WORKDIR_DEFAULT);
	if ((rc = local_check_local_path(WORKDIR_KEY, workdir, err)) ||
	    (rc = read_core(spec, su, err)) ||
	    (rc = plan_shards(spec->plan, &shards, &n, err)) ||
	    (rc = executor_args_build(spec, &args, err))) {
		free(workdir);
		free(shards);
		return rc;
	}
	*out = local_job_new(&spec->key, shards, n);
	(*out)->workdir = workdir;
	(*out)->executor = executor_path(spec, workdir);
	(*out)->topo_args = split_args(args);
	(*out)->spelling = spec->spelling;
	for (size_t i = 0; i < n; i++) {
		(*out)->slots[i].claimed = true;
		local_task_new(&(*out)->slots[i], -1);
		local_event(&(*out)->slots[i], "pending", "launching");
	}
	free(shards);
	free(args);
	return HF_OK;
}

static hf_rc register_job(struct sched_backend *be, struct job *j,
			  struct hf_error *err)
{
	const struct job_key k = {j->cluster, j->role, j->environ, j->name};
	struct job *old;
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&be->lock);
	old = local_find_key(be, &k);
	if (old && old->killing)
		rc = hf_fail(err, HF_ERR_BUSY, "it is being killed");
	else if (old)
		rc = hf_fail(err, HF_ERR_EXISTS, "it already runs in %s",
			     old->workdir);
	else
		local_job_add(be, j);
	pthread_mutex_unlock(&be->lock);
	return rc;
}

/* Drops a job whose slots the caller claimed: stops its executors,
 * removes its record. */
static hf_rc drop_job(struct sched_backend *be, struct job *j,
		      struct hf_error *err)
{
	struct proc *p = xcalloc(j->n_slots, sizeof(*p));
	hf_rc rc;

	pthread_mutex_lock(&be->lock);
	j->killing = true;
	for (size_t i = 0; i < j->n_slots; i++)
		p[i] = local_take_proc(&j->slots[i]);
	pthread_mutex_unlock(&be->lock);
	local_stop_procs(p, j->n_slots);
	/* Only once they are stopped: a record left behind by a crash
	 * restarts a killed job, where one removed early would orphan
	 * its executors. */
	rc = local_registry_remove(be, j->file, err);
	pthread_mutex_lock(&be->lock);
	job_unlink(be, j);
	pthread_cond_broadcast(&be->released);
	pthread_mutex_unlock(&be->lock);
	local_job_free(j);
	free(p);
	return rc;
}

/* The first slot whose executor exits within ms; -1 if none does. The
 * caller holds the slots' claims. */
static int first_exit(const struct job *j, int ms)
{
	struct proc *p = xcalloc(j->n_slots, sizeof(*p));
	bool *gone = xcalloc(j->n_slots, sizeof(*gone));
	long long end = local_mono_ms() + ms, left;
	int found = -1;

	for (size_t i = 0; i < j->n_slots; i++)
		p[i] = j->slots[i].p;
	while (found < 0 && (left = end - local_mono_ms()) > 0)
		found = local_wait_exit(p, gone, j->n_slots, (int)left);
	free(gone);
	free(p);
	return found;
}

/* The reason an executor died during the launch check. */
static hf_rc early_exit(struct sched_backend *be, struct job *j,
			struct slot *s, struct hf_error *err)
{
	int st = s->p.child ? local_reap(s->p.pid, true) : -1;
	char how[96], *log = local_log_name(j->executor, s->shard);
	char *tail = log_tail(j->workdir, log);
	hf_rc rc;

	local_describe_exit(st, how, sizeof(how));
	pthread_mutex_lock(&be->lock);
	local_close_fd(&s->p.pidfd);
	local_take_proc(s);
	local_event(s, "failed", "%s", how);
	pthread_mutex_unlock(&be->lock);
	rc = hf_fail(err, HF_ERR_UNAVAILABLE, "container %d: %s %s within "
		     "%d ms; %s ends: %s", s->shard,
		     sched_base_name(j->executor), how, START_CHECK_MS, log,
		     tail);
	free(tail);
	free(log);
	return rc;
}

/* LocalScheduler.onSchedule: every executor, each with ports of its own,
 * recorded once started, then given START_CHECK_MS to fail. */
static hf_rc start_all(struct sched_backend *be, struct job *j,
		       struct hf_error *err)
{
	int *ports = xcalloc(j->n_slots * NPORTS, sizeof(*ports));
	hf_rc rc = local_free_ports(ports, j->n_slots * NPORTS, err);
	int dead;

	for (size_t i = 0; i < j->n_slots && rc == HF_OK; i++) {
		struct slot *s = &j->slots[i];
		char **argv = local_executor_argv(j, s->shard, ports + i * NPORTS);
		struct proc p;

		rc = local_spawn(be, j, s->shard, argv, &p, err);
		if (rc != HF_OK) {
			hf_error_prefix(err, "container %d", s->shard);
			strv_free(argv);
			break;
		}
		pthread_mutex_lock(&be->lock);
		local_install(s, &p, argv);
		j->version++;
		pthread_mutex_unlock(&be->lock);
	}
	free(ports);
	if (rc == HF_OK)
		rc = local_registry_save(be, j->id, err);
	if (rc == HF_OK && (dead = first_exit(j, START_CHECK_MS)) >= 0)
		rc = early_exit(be, j, &j->slots[dead], err);
	return rc;
}

static hf_rc check_executor(const struct job *j, struct hf_error *err)
{
	if (access(j->executor, X_OK) == 0)
		return HF_OK;
	return hf_fail(err, HF_ERR_UNAVAILABLE, "no heron-executor to run at "
		       "%s: %s", j->executor, strerror(errno));
}

static hf_rc local_launch(struct sched_backend *be,
			  const struct launch_spec *spec, struct hf_error *err)
{
	struct setup su = {0};
	struct job *j = NULL;
	hf_rc rc = read_launch(spec, &su, &j, err);

	if (rc == HF_OK && (rc = register_job(be, j, err)) != HF_OK) {
		local_job_free(j);
		j = NULL;
	}
	if (rc == HF_OK)
		rc = local_prepare_workdir(&su, j->workdir, err);
	if (rc == HF_OK)
		rc = check_executor(j, err);
	if (rc == HF_OK)
		rc = start_all(be, j, err);
	if (rc == HF_OK) {
		LOG_I("local scheduler: %s runs %zu executors in %s",
		      spec->key.name, j->n_slots, j->workdir);
		/* From here on a kill may take j away. */
		pthread_mutex_lock(&be->lock);
		local_release(be, j, -1);
		pthread_mutex_unlock(&be->lock);
	} else if (j) {
		drop_job(be, j, NULL);
	}
	if (rc != HF_OK)
		hf_error_prefix(err, "local launch of %s/%s/%s/%s",
				spec->key.cluster, spec->key.role,
				spec->key.environ, spec->key.name);
	setup_free(&su);
	return rc;
}

/* ---- kill and restart ---------------------------------------------------- */

/* LocalScheduler.onKill: a job it does not know is killed already. Heron
 * leaves the working directory, logs and all; so does heronfs. */
static hf_rc local_kill(struct sched_backend *be, const struct job_key *key,
			struct hf_error *err)
{
	const char *parts[4] = {key->cluster, key->role, key->environ,
				key->name};
	struct job *j;
	char *file;
	hf_rc rc;

	pthread_mutex_lock(&be->lock);
	j = local_find_key(be, key);
	if (j) {
		j->killing = true;
		j = claim(be, j->id, -1);
	}
	pthread_mutex_unlock(&be->lock);
	if (j)
		return drop_job(be, j, err);
	/* A record a failed removal left behind must not outlive a kill. */
	file = local_key_file(parts);
	rc = local_registry_remove(be, file, err);
	free(file);
	return rc;
}

/* The slot index of container, or -1 (all) for -1. */
static hf_rc find_slot(const struct job *j, int container, int *idx,
		       struct hf_error *err)
{
	*idx = -1;
	for (size_t i = 0; i < j->n_slots && container >= 0; i++)
		if (j->slots[i].shard == container)
			*idx = (int)i;
	if (container < 0 || *idx >= 0)
		return HF_OK;
	return hf_fail(err, HF_ERR_NOTFOUND, "%s has no container %d (it "
		       "has %d to %d)", j->name, container, j->slots[0].shard,
		       j->slots[j->n_slots - 1].shard);
}

/* Claims the slots to restart (be->lock held) and takes their processes
 * out, into *procs (one per slot, malloc'd). */
static hf_rc restart_begin(struct sched_backend *be,
			   const struct job_key *key, int container,
			   struct job **jp, int *idx, struct proc **procs,
			   struct hf_error *err)
{
	struct job *j = local_find_key(be, key);
	hf_rc rc;

	if (!j)
		return hf_fail(err, HF_ERR_NOTFOUND, "the local scheduler "
			       "runs no %s/%s/%s/%s", key->cluster,
			       key->role, key->environ, key->name);
	if ((rc = find_slot(j, container, idx, err)) != HF_OK)
		return rc;
	if (!j->killing && (j = claim(be, j->id, *idx)) && j->killing) {
		local_release(be, j, *idx);
		j = NULL;
	}
	if (!j || j->killing)
		return hf_fail(err, HF_ERR_BUSY, "%s is being killed",
			       key->name);
	*procs = xcalloc(j->n_slots, sizeof(**procs));
	for (size_t i = 0; i < j->n_slots; i++) {
		if (*idx >= 0 && (size_t)*idx != i)
			continue;
		local_event(&j->slots[i], "killing", "restart requested");
		(*procs)[i] = local_take_proc(&j->slots[i]);
	}
	*jp = j;
	return HF_OK;
}

/* The stopped executor of claimed slot s as a new task, started again. */
static hf_rc restart_slot(struct sched_backend *be, struct job *j,
			  struct slot *s, struct hf_error *err)
{
	bool killing;

	pthread_mutex_lock(&be->lock);
	local_event(s, "killed", "restarted");
	local_task_new(s, (long)local_current(s)->serial);
	local_event(s, "pending", "restarting");
	s->backoff_ms = 0;
	killing = j->killing;
	pthread_mutex_unlock(&be->lock);
	if (killing)
		return hf_fail(err, HF_ERR_BUSY, "%s was killed meanwhile",
			       j->name);
	return local_start_slot(be, j, s, err);
}

/* LocalScheduler.onRestart: stop, then start again as new tasks. */
static hf_rc local_restart(struct sched_backend *be,
			   const struct job_key *key, int container,
			   struct hf_error *err)
{
	struct job *j = NULL;
	struct proc *p = NULL;
	uint64_t id;
	int idx = -1;
	hf_rc rc;

	pthread_mutex_lock(&be->lock);
	rc = restart_begin(be, key, container, &j, &idx, &p, err);
	pthread_mutex_unlock(&be->lock);
	if (!j)
		return rc;      /* j is set on success only */
	id = j->id;
	local_stop_procs(p, j->n_slots);
	for (size_t i = 0; i < j->n_slots; i++) {
		hf_rc r;

		if (idx >= 0 && (size_t)idx != i)
			continue;
		r = restart_slot(be, j, &j->slots[i], rc == HF_OK ? err : NULL);
		rc = rc == HF_OK ? r : rc;
	}
	/* From here on a kill may take j away. */
	pthread_mutex_lock(&be->lock);
	local_release(be, j, idx);
	pthread_mutex_unlock(&be->lock);
	if (rc == HF_OK)
		rc = local_registry_save(be, id, err);
	free(p);
	return rc;
}

/* ---- status -------------------------------------------------------------- */

static void task_copy(const struct sched_backend *be, const struct job *j,
		      const struct slot *s, const struct task *t,
		      struct container_task *ct)
{
	ct->instance = s->shard;
	ct->task_id = xasprintf("%s-%d-%u", j->name, s->shard, t->serial);
	ct->status = xstrdup(t->status);
	ct->host = t->placed ? xstrdup(be->host) : NULL;
	ct->ancestor_id = t->ancestor >= 0 ? xasprintf("%s-%d-%ld", j->name,
						       s->shard, t->ancestor)
					   : NULL;
	ct->failure_count = t->failures;
	ct->events = xcalloc(t->n_events + 1, sizeof(*ct->events));
	ct->n_events = t->n_events;
	for (size_t e = 0; e < t->n_events; e++) {
		const struct container_event *ev = &t->events[e];

		ct->events[e] = (struct container_event){
			.time_ms = ev->time_ms, .status = xstrdup(ev->status),
			.message = ev->message ? xstrdup(ev->message) : NULL,
		};
	}
}

static hf_rc local_containers(struct sched_backend *be,
			      const struct job_key *key,
			      struct container_set **out, struct hf_error *err)
{
	struct container_set *set = xcalloc(1, sizeof(*set));
	struct job *j;
	size_t n = 0;

	pthread_mutex_lock(&be->lock);
	if ((j = local_find_key(be, key))) {
		for (size_t i = 0; i < j->n_slots; i++)
			n += j->slots[i].n_tasks;
		set->tasks = xcalloc(n, sizeof(*set->tasks));
		for (size_t i = 0; i < j->n_slots; i++) {
			const struct slot *s = &j->slots[i];

			for (size_t t = 0; t < s->n_tasks; t++)
				task_copy(be, j, s, &s->tasks[t],
					  &set->tasks[set->n_tasks++]);
		}
	}
	pthread_mutex_unlock(&be->lock);
	container_set_sort(set);
	*out = set;
	return HF_OK;
}

static void local_health(struct sched_backend *be, struct buf *out)
{
	size_t n = 0;

	pthread_mutex_lock(&be->lock);
	for (struct job *j = be->jobs; j; j = j->next)
		for (size_t i = 0; i < j->n_slots; i++)
			n += j->slots[i].p.pid != 0;
	pthread_mutex_unlock(&be->lock);
	buf_printf(out, "scheduler: ok local (%zu executor%s running)", n,
		   n == 1 ? "" : "s");
}

static hf_rc local_check_environ(struct sched_backend *be,
				 const char *environ_name,
				 struct hf_error *err)
{
	return HF_OK;
}

static char *local_job_link(struct sched_backend *be,
			    const struct heron_conf *topology_conf)
{
	return NULL;
}

/* ---- open and close ------------------------------------------------------ */

static char *read_boot_id(void)
{
	char buf[64] = "";
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

static char *host_name(void)
{
	char buf[HOST_NAME_MAX + 1];

	if (gethostname(buf, sizeof(buf)) < 0)
		return xstrdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	return xstrdup(buf);
}

/* environ as it is now: a setenv elsewhere must not race a spawn. */
static char **copy_environ(void)
{
	size_t n = strv_len(environ);
	char **v = xcalloc(n + 1, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(environ[i]);
	return v;
}

/* Stops the monitor; the executors keep running, for the next back end
 * to adopt. Those that are children of this process and exit before then
 * stay zombies until that back end reaps them, or heronfs exits. */
static void local_close(struct sched_backend *be)
{
	if (!be)
		return;
	if (be->monitor_running) {
		pthread_mutex_lock(&be->lock);
		be->stop = true;
		wake_monitor(be);
		pthread_mutex_unlock(&be->lock);
		pthread_join(be->monitor, NULL);
	}
	while (be->jobs) {
		struct job *j = be->jobs;

		be->jobs = j->next;
		local_job_free(j);
	}
	local_close_fd(&be->wake_fd);
	local_close_fd(&be->lock_fd);
	strv_free(be->envp);
	free(be->host);
	free(be->boot_id);
	free(be->registry);
	pthread_mutex_destroy(&be->reg_lock);
	pthread_cond_destroy(&be->released);
	pthread_mutex_destroy(&be->lock);
	free(be);
}

static hf_rc local_open(const struct heron_conf *conf,
			struct sched_backend **out, struct hf_error *err)
{
	struct sched_backend *be = xcalloc(1, sizeof(*be));
	hf_rc rc;
	int e;

	pthread_mutex_init(&be->lock, NULL);
	pthread_cond_init(&be->released, NULL);
	pthread_mutex_init(&be->reg_lock, NULL);
	be->lock_fd = -1;
	be->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	be->boot_id = read_boot_id();
	be->host = host_name();
	be->envp = copy_environ();
	rc = be->wake_fd < 0 ? local_sys_fail(err, "cannot make", "an eventfd")
			     : local_registry_open(be, conf, err);
	if (rc == HF_OK) {
		local_registry_load(be);
		e = pthread_create(&be->monitor, NULL, local_monitor_main, be);
		be->monitor_running = e == 0;
		if (e)
			rc = hf_fail(err, HF_ERR_UNAVAILABLE, "cannot start "
				     "the monitor thread: %s", strerror(e));
	}
	if (rc != HF_OK) {
		local_close(be);
		be = NULL;
	}
	*out = be;
	return rc;
}

const struct sched_ops sched_local_ops = {
	.kind = "local",
	.open = local_open,
	.close = local_close,
	.check_environ = local_check_environ,
	.launch = local_launch,
	.kill = local_kill,
	.restart = local_restart,
	.job_link = local_job_link,
	.containers = local_containers,
	.health = local_health,
};
