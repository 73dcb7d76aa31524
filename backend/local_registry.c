/* local_registry: the local scheduler's registry (see scheduler_local.c
 * for its format): one JSON file per job, written atomically, read back
 * at open, when recorded executors are adopted or started again.
 */
#include "scheduler_local_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heron_conf.h"
#include "log.h"

#define REGISTRY_KEY     "heronfs.local.registry.directory"
#define REGISTRY_DEFAULT "${HOME}/.herondata/heronfs/${CLUSTER}"
#define REGISTRY_FORMAT  1

/* ---- file names ---------------------------------------------------------- */

static void put_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-')
			buf_append(b, s, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* <cluster>.<role>.<environ>.<name>.json, each part escaped so that the
 * dots separate. */
char *local_key_file(const char *const parts[4])
{
	struct buf b = {0};

	for (int i = 0; i < 4; i++) {
		put_escaped(&b, parts[i]);
		buf_puts(&b, i < 3 ? "." : ".json");
	}
	return buf_steal(&b);
}

/* ---- the registry -------------------------------------------------------- */

/* A JSON string, or NULL (and *ok false) when s is not UTF-8. */
static json_t *jstr(const char *s, bool *ok)
{
	json_t *v = json_string(s);

	*ok = *ok && v;
	return v;
}

static json_t *jstrv(char *const *v, bool *ok)
{
	json_t *a = json_array();

	for (; v && *v; v++)
		json_array_append_new(a, jstr(*v, ok));
	return a;
}

static json_t *slot_json(const struct slot *s, bool *ok)
{
	const struct task *t = &s->tasks[s->n_tasks - 1];

	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:I, s:o}",
			 "shard", s->shard, "serial", (int)t->serial,
			 "ancestor", (int)t->ancestor, "failures", s->failures,
			 "pid", (int)s->p.pid, "start_time",
			 (json_int_t)s->p.start, "argv", jstrv(s->argv, ok));
}

/* The registry text of j (be->lock held); NULL when a path or argument
 * is not UTF-8, which JSON cannot hold. */
static char *job_json(const struct sched_backend *be, const struct job *j)
{
	json_t *conts = json_array(), *doc;
	bool ok = true;
	char *text = NULL;

	for (size_t i = 0; i < j->n_slots; i++)
		json_array_append_new(conts, slot_json(&j->slots[i], &ok));
	doc = json_pack(
		"{s:i, s:s, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:s, s:o, s:o}",
		"format", REGISTRY_FORMAT, "boot_id", be->boot_id, "key",
		"cluster", jstr(j->cluster, &ok), "role", jstr(j->role, &ok),
		"environ", jstr(j->environ, &ok), "name", jstr(j->name, &ok),
		"workdir", jstr(j->workdir, &ok), "executor",
		jstr(j->executor, &ok), "spelling",
		j->spelling == SPELL_TMASTER ? "tmaster" : "tmanager",
		"topology_args", jstrv(j->topo_args, &ok), "containers", conts);
	if (doc && ok)
		text = json_dumps(doc, JSON_INDENT(1));
	json_decref(doc);
	return text;
}

static hf_rc write_atomic(const char *dir, const char *name,
			  const char *text, struct hf_error *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s/.%s.tmp", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text), done = 0;
	hf_rc rc = HF_OK;

	if (fd < 0)
		rc = local_sys_fail(err, "cannot create", tmp);
	while (rc == HF_OK && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno != EINTR)
			rc = local_sys_fail(err, "cannot write", tmp);
		done += n > 0 ? (size_t)n : 0;
	}
	if (rc == HF_OK && fsync(fd) < 0)
		rc = local_sys_fail(err, "cannot write", tmp);
	if (fd >= 0 && close(fd) < 0 && rc == HF_OK)
		rc = local_sys_fail(err, "cannot write", tmp);
	if (rc == HF_OK && rename(tmp, path) < 0)
		rc = local_sys_fail(err, "cannot replace", path);
	if (rc != HF_OK)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

/* Writes job id's file if it changed since it was last written. */
hf_rc local_registry_save(struct sched_backend *be, uint64_t id,
		    struct hf_error *err)
{
	struct job *j;
	char *text = NULL, *file = NULL;
	unsigned long version = 0;
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&be->reg_lock);
	pthread_mutex_lock(&be->lock);
	j = local_find_id(be, id);
	if (j && j->saved != j->version) {
		text = job_json(be, j);
		file = xstrdup(j->file);
		version = j->version;
		if (!text)
			rc = hf_fail(err, HF_ERR_INVALID,
				     "%s: a path or argument is not UTF-8",
				     file);
	}
	pthread_mutex_unlock(&be->lock);
	if (text)
		rc = write_atomic(be->registry, file, text, err);
	pthread_mutex_lock(&be->lock);
	if (text && rc == HF_OK && (j = local_find_id(be, id)))
		j->saved = version;
	pthread_mutex_unlock(&be->lock);
	pthread_mutex_unlock(&be->reg_lock);
	free(text);
	free(file);
	return rc;
}

hf_rc local_registry_remove(struct sched_backend *be, const char *file,
		      struct hf_error *err)
{
	char *path = xasprintf("%s/%s", be->registry, file);
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&be->reg_lock);
	if (unlink(path) < 0 && errno != ENOENT)
		rc = local_sys_fail(err, "cannot remove", path);
	pthread_mutex_unlock(&be->reg_lock);
	free(path);
	return rc;
}

static char **strv_from_json(json_t *a)
{
	size_t i, n = json_array_size(a);
	char **v = xcalloc(n + 1, sizeof(*v));
	json_t *item;

	json_array_foreach(a, i, item) {
		if (!json_is_string(item)) {
			strv_free(v);
			return NULL;
		}
		v[i] = xstrdup(json_string_value(item));
	}
	return v;
}

/* The slot as recorded: its current task and its process. */
static bool slot_from_json(struct slot *s, json_t *c, pid_t *pid,
			   unsigned long long *start, json_error_t *je)
{
	int shard, serial, ancestor, failures, p;
	json_int_t st;
	json_t *argv;

	if (json_unpack_ex(c, je, 0, "{s:i, s:i, s:i, s:i, s:i, s:I, s:o}",
			   "shard", &shard, "serial", &serial, "ancestor",
			   &ancestor, "failures", &failures, "pid", &p,
			   "start_time", &st, "argv", &argv) < 0)
		return false;
	s->argv = strv_from_json(argv);
	if (shard < 0 || serial < 0 || p < 0 || !s->argv || !s->argv[0]) {
		snprintf(je->text, sizeof(je->text), "bad container record");
		return false;
	}
	s->shard = shard;
	s->failures = failures;
	s->next_serial = (unsigned)serial;
	local_task_new(s, ancestor);
	*pid = p;
	*start = (unsigned long long)st;
	return true;
}

/* A job as recorded, its slots unclaimed and without processes; the
 * recorded pids and start times go to pids[] and starts[]. */
static struct job *job_from_json(json_t *doc, const char **boot_id,
				 pid_t **pids, unsigned long long **starts,
				 json_error_t *je)
{
	const char *k[4], *wd, *ex, *sp;
	json_t *args, *conts, *c;
	struct job_key key;
	struct job *j;
	int format;
	size_t i, n;
	bool ok;

	if (json_unpack_ex(doc, je, 0,
			   "{s:i, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s,"
			   " s:o, s:o}",
			   "format", &format, "boot_id", boot_id, "key",
			   "cluster", &k[0], "role", &k[1], "environ", &k[2],
			   "name", &k[3], "workdir", &wd, "executor", &ex,
			   "spelling", &sp, "topology_args", &args,
			   "containers", &conts) < 0)
		return NULL;
	n = json_array_size(conts);
	if (format != REGISTRY_FORMAT || n == 0) {
		snprintf(je->text, sizeof(je->text), "format %d, %zu "
			 "containers", format, n);
		return NULL;
	}
	key = (struct job_key){k[0], k[1], k[2], k[3]};
	j = local_job_new(&key, NULL, n);
	*pids = xcalloc(n, sizeof(**pids));
	*starts = xcalloc(n, sizeof(**starts));
	j->workdir = xstrdup(wd);
	j->executor = xstrdup(ex);
	j->spelling = strcmp(sp, "tmaster") == 0 ? SPELL_TMASTER
						 : SPELL_TMANAGER;
	j->topo_args = strv_from_json(args);
	ok = j->topo_args != NULL;
	if (!ok)
		snprintf(je->text, sizeof(je->text), "bad topology_args");
	json_array_foreach(conts, i, c) {
		ok = ok && slot_from_json(&j->slots[i], c, &(*pids)[i],
					  &(*starts)[i], je);
		/* Written in shard order; a repeat would run twice. */
		if (ok && i > 0 && j->slots[i].shard <= j->slots[i - 1].shard) {
			snprintf(je->text, sizeof(je->text), "containers out "
				 "of order");
			ok = false;
		}
	}
	if (ok)
		return j;
	local_job_free(j);
	free(*pids);
	free(*starts);
	return NULL;
}

/* open(): the recorded process of s is still running (adopt it) or gone
 * (start it again). boot_ok: recorded since the machine last booted. */
static void adopt(struct slot *s, pid_t pid, unsigned long long start,
		  bool boot_ok)
{
	struct proc p = {.pid = pid, .pidfd = -1, .start = start};
	unsigned long long now_start = 0;
	pid_t pgrp = 0;
	int st = -1;
	char state;
	bool alive = false;

	/* The pidfd first: the process checked is then the one it names. */
	if (pid > 0 && boot_ok)
		p.pidfd = local_pidfd_open(pid);
	if ((p.pidfd >= 0 || (pid > 0 && boot_ok && errno == ENOSYS)) &&
	    local_read_stat(pid, &state, &pgrp, &now_start) && now_start == start) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		/* Still our child when this process started it. */
		p.child = r >= 0;
		alive = r == 0 || (r < 0 && !local_proc_exited(&p));
	}
	if (alive) {
		p.group = pgrp == pid;
		s->p = p;
		s->started = 0;
		local_current(s)->placed = true;
		local_event(s, "running", "adopted pid %d, started before heronfs "
		      "restarted", (int)pid);
		return;
	}
	local_close_fd(&p.pidfd);
	if (pid > 0 && !boot_ok)
		local_event(s, "lost", "pid %d ended with the machine's restart",
		      (int)pid);
	else if (pid > 0)
		local_event(s, "lost", "pid %d ended while heronfs was not "
		      "running", (int)pid);
	else
		local_event(s, "lost", "was waiting to start when heronfs stopped");
	local_schedule_start(s);
}

static void load_one(struct sched_backend *be, const char *name)
{
	char *path = xasprintf("%s/%s", be->registry, name);
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	pid_t *pids = NULL;
	unsigned long long *starts = NULL;
	const char *boot = NULL;
	struct job *j = doc ? job_from_json(doc, &boot, &pids, &starts, &je)
			    : NULL;

	if (!j) {
		LOG_W("local scheduler: ignoring %s: %s", path, je.text);
	} else if (strcmp(j->file, name) != 0 ||
		   local_find_key(be, &(struct job_key){j->cluster, j->role,
						  j->environ, j->name})) {
		LOG_W("local scheduler: ignoring %s: not named after its job "
		      "key, or a copy", path);
		local_job_free(j);
	} else {
		for (size_t i = 0; i < j->n_slots; i++)
			adopt(&j->slots[i], pids[i], starts[i],
			      strcmp(boot, be->boot_id) == 0);
		local_job_add(be, j);
		LOG_I("local scheduler: found %s/%s/%s/%s in %s", j->cluster,
		      j->role, j->environ, j->name, path);
	}
	free(pids);
	free(starts);
	json_decref(doc);
	free(path);
}

void local_registry_load(struct sched_backend *be)
{
	DIR *d = opendir(be->registry);
	struct dirent *de;

	if (!d) {
		LOG_W("local scheduler: cannot read %s: %s", be->registry,
		      strerror(errno));
		return;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    sched_ends_with(de->d_name, ".json"))
			load_one(be, de->d_name);
	closedir(d);
}

/* ---- open ---------------------------------------------------------------- */

/* The directory, and the lock that makes its executors ours to watch. */
hf_rc local_registry_open(struct sched_backend *be,
		    const struct heron_conf *conf,
		    struct hf_error *err)
{
	char *lock;
	hf_rc rc;

	be->registry = heron_conf_expand(
		conf, heron_conf_get_str(conf, REGISTRY_KEY, REGISTRY_DEFAULT),
		NULL);
	if ((rc = local_check_local_path(REGISTRY_KEY, be->registry, err)))
		return rc;
	if (local_mkdir_p(be->registry, 0700) < 0)
		return local_sys_fail(err, "cannot create", be->registry);
	lock = xasprintf("%s/.lock", be->registry);
	be->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (be->lock_fd < 0)
		rc = local_sys_fail(err, "cannot open", lock);
	else if (flock(be->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = errno == EWOULDBLOCK
			     ? hf_fail(err, HF_ERR_BUSY, "%s is in use by "
				       "another heronfs, which watches its "
				       "executors", be->registry)
			     : local_sys_fail(err, "cannot lock", lock);
	free(lock);
	return rc;
}
