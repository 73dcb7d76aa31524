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
#include "scheduler_impl.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
#define CORE_DIR_KEY     "heron.package.core.directory"
#define CORE_DIR_DEFAULT "${HERON_DIST}/heron-core"
#define EXECUTOR_KEY     "heron.binaries.executor"
#define EXECUTOR_DEFAULT "${HERON_BIN}/heron-executor"
#define REGISTRY_KEY     "heronfs.local.registry.directory"
#define REGISTRY_DEFAULT "${HOME}/.herondata/heronfs/${CLUSTER}"
#define REGISTRY_FORMAT  1
#define FILE_SCHEME      "file://"
#define CORE_LINK        "heron-core"

#define NPORTS           9
#define START_CHECK_MS   500     /* an executor must live this long */
#define STOP_GRACE_MS    5000    /* from SIGTERM to SIGKILL */
#define KILL_WAIT_MS     5000    /* for SIGKILL to take */
#define QUICK_RUN_MS     10000   /* a shorter run calls for a back-off */
#define BACKOFF_MIN_MS   1000
#define BACKOFF_MAX_MS   30000
#define EXIT_TICK_MS     100     /* exit polling, only without pidfds */
#define MAX_TASKS        16      /* per container, oldest dropped */
#define MAX_EVENTS       32      /* per task, the first one kept */
#define TAIL_BYTES       2048    /* of a log, for error messages */
#define TAIL_LINES       3
#define CLEAN_DEPTH      64

extern char **environ;

/* One run of an executor, as containers() shows it. */
struct task {
	unsigned serial;
	long ancestor;          /* serial of the task it replaced; -1: none */
	int failures;           /* failed runs of the container before it */
	const char *status;     /* Aurora's word, a literal */
	bool placed;            /* has run, so the host applies */
	struct container_event *events;
	size_t n_events;
};

/* A running executor. */
struct proc {
	pid_t pid;              /* 0: none */
	int pidfd;              /* -1 without pidfds (Linux < 5.3) */
	unsigned long long start;   /* /proc/<pid>/stat field 22 */
	bool child;             /* ours to reap */
	bool group;             /* leads its own process group */
};

struct slot {
	int shard;
	char **argv;            /* of the current or last run */
	struct proc p;
	unsigned gen;           /* changes with p: stale poll results */
	bool claimed;
	long long started;      /* monotonic ms; 0 for an adopted process */
	bool waiting;           /* to start again at restart_at */
	long long restart_at;   /* monotonic ms */
	int backoff_ms;
	int failures;
	unsigned next_serial;
	long long last_task_ms; /* keeps task start times increasing */
	struct task *tasks;     /* oldest first; the last is the current */
	size_t n_tasks;
};

struct job {
	struct job *next;
	uint64_t id;            /* names the job across unlocked work */
	char *cluster, *role, *environ, *name;
	char *file;             /* in the registry */
	char *workdir;
	char *executor;
	char **topo_args;
	enum heron_spelling spelling;
	struct slot *slots;     /* by shard */
	size_t n_slots;
	bool killing;
	unsigned long version, saved;   /* of the registry file */
};

struct sched_backend {
	pthread_mutex_t lock;
	pthread_cond_t released;        /* a slot claim ended */
	pthread_mutex_t reg_lock;
	struct job *jobs;
	uint64_t next_id;
	char *registry;
	int lock_fd;
	char *boot_id;
	char *host;
	char **envp;                    /* environ at open */
	int wake_fd;                    /* eventfd: the monitor looks again */
	bool stop;
	bool monitor_running;
	pthread_t monitor;
};

/* ---- small helpers ------------------------------------------------------- */

static long long clock_ms(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static long long mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static hf_rc sys_fail(struct hf_error *err, const char *what,
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
static int mkdir_p(const char *path, mode_t mode)
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

/* Removes everything in the directory dfd without following symlinks. */
static int clean_dir(int dfd, int depth)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close_fd(&fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d))) {
		const char *n = de->d_name;
		int sub;

		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    unlinkat(dfd, n, 0) == 0)
			continue;
		if (errno != EISDIR || depth >= CLEAN_DEPTH) {
			rc = -1;
			break;
		}
		sub = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
		rc = sub < 0 ? -1 : clean_dir(sub, depth + 1);
		close_fd(&sub);
		if (rc == 0)
			rc = unlinkat(dfd, n, AT_REMOVEDIR);
	}
	closedir(d);
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

/* "heron-executor-<shard>.stderr", ShellUtils' name for the log. */
static char *log_name(const char *executor, int shard)
{
	return xasprintf("%s-%d.stderr", sched_base_name(executor), shard);
}

/* ---- tasks and events ---------------------------------------------------- */

static struct task *current(struct slot *s)
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

static void event(struct slot *s, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records an event on the current task, which takes its status. */
static void event(struct slot *s, const char *status, const char *fmt, ...)
{
	struct task *t = current(s);
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
static void task_new(struct slot *s, long ancestor)
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

static int next_backoff(int ms)
{
	return ms <= 0 ? BACKOFF_MIN_MS
		       : ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS : 2 * ms;
}

/* A new pending task that the monitor starts after the back-off. */
static void schedule_start(struct slot *s)
{
	task_new(s, (long)current(s)->serial);
	if (s->backoff_ms)
		event(s, "pending", "restarting in %d s",
		      (s->backoff_ms + 999) / 1000);
	else
		event(s, "pending", "restarting");
	s->waiting = true;
	s->restart_at = mono_ms() + s->backoff_ms;
}

/* ---- processes ----------------------------------------------------------- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Fields 3 (state), 5 (process group) and 22 (start time, in clock
 * ticks after boot) of /proc/<pid>/stat; false when there is no such
 * process. */
static bool read_stat(pid_t pid, char *state, pid_t *pgrp,
		      unsigned long long *start)
{
	char path[64], buf[1024], *p, *save = NULL;
	int fd, field = 2;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* Field 2 is the name in parentheses, which may hold both. */
	p = strrchr(buf, ')');
	if (!p)
		return false;
	for (char *f = strtok_r(p + 1, " ", &save); f;
	     f = strtok_r(NULL, " ", &save)) {
		if (++field == 3)
			*state = f[0];
		if (field == 5)
			*pgrp = (pid_t)strtol(f, NULL, 10);
		if (field == 22) {
			*start = strtoull(f, NULL, 10);
			return true;
		}
	}
	return false;
}

/* Whether p is still the process it was when recorded, and alive. */
static bool same_process(const struct proc *p)
{
	unsigned long long start;
	pid_t pgrp;
	char state;

	return read_stat(p->pid, &state, &pgrp, &start) &&
	       start == p->start && state != 'Z' && state != 'X';
}

/* Whether p has exited (it is not reaped here). */
static bool proc_exited(const struct proc *p)
{
	if (p->pidfd >= 0) {
		struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};

		return poll(&pf, 1, 0) > 0;
	}
	if (p->child) {
		siginfo_t si = {.si_pid = 0};

		return waitid(P_PID, (id_t)p->pid, &si,
			      WEXITED | WNOHANG | WNOWAIT) < 0 ||
		       si.si_pid == p->pid;
	}
	return !same_process(p);
}

#define NOT_YET (-2)

/* Reaps our child pid: its wait status; -1 when it is not ours to reap
 * (ECHILD); NOT_YET when it has not exited and block is false. */
static int reap(pid_t pid, bool block)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, block ? 0 : WNOHANG)) < 0 &&
	       errno == EINTR)
		;
	return r == pid ? st : r == 0 ? NOT_YET : -1;
}

static void describe_exit(int st, char *out, size_t n)
{
	if (st < 0)
		snprintf(out, n, "exited (status unknown: it was started by "
			 "an earlier heronfs)");
	else if (WIFEXITED(st))
		snprintf(out, n, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, n, "killed by signal %d (SIG%s)", WTERMSIG(st),
			 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st))
						    : "?");
	else
		snprintf(out, n, "ended with wait status %#x", st);
}

/* n different ports, each free when it was picked (bound to port 0 of
 * the wildcard address, as Heron's SysUtils.getFreePort does); every
 * socket stays open until all are picked, so none comes twice. */
static hf_rc free_ports(int *ports, size_t n, struct hf_error *err)
{
	int *fds = xmalloc(n * sizeof(*fds));
	hf_rc rc = HF_OK;
	size_t i;

	for (i = 0; i < n && rc == HF_OK; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t len = sizeof(a);

		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &len) < 0)
			rc = hf_fail(err, HF_ERR_UNAVAILABLE,
				     "cannot find a free port: %s",
				     strerror(errno));
		else
			ports[i] = ntohs(a.sin_port);
	}
	while (i-- > 0)
		close_fd(&fds[i]);
	free(fds);
	return rc;
}

static const char *const port_flags[][NPORTS] = {
	[SPELL_TMANAGER] = {
		"--server-port", "--tmanager-controller-port",
		"--tmanager-stats-port", "--shell-port",
		"--metrics-manager-port", "--scheduler-port",
		"--metricscache-manager-server-port",
		"--metricscache-manager-stats-port",
		"--checkpoint-manager-port",
	},
	[SPELL_TMASTER] = {
		"--master-port", "--tmaster-controller-port",
		"--tmaster-stats-port", "--shell-port",
		"--metrics-manager-port", "--scheduler-port",
		"--metricscache-manager-master-port",
		"--metricscache-manager-stats-port",
		"--checkpoint-manager-port",
	},
};

/* SchedulerUtils.executorCommandArgs: the topology's flags, then the
 * container's. */
static char **executor_argv(const struct job *j, int shard, const int *ports)
{
	size_t na = strv_len(j->topo_args), k = 0;
	char **v = xcalloc(na + NPORTS + 3, sizeof(*v));

	v[k++] = xstrdup(j->executor);
	for (size_t i = 0; i < na; i++)
		v[k++] = xstrdup(j->topo_args[i]);
	v[k++] = xasprintf("--shard=%d", shard);
	for (int i = 0; i < NPORTS; i++)
		v[k++] = xasprintf("%s=%d", port_flags[j->spelling][i],
				   ports[i]);
	v[k] = NULL;
	return v;
}

/* Everything the child uses, made before fork: the daemon has threads,
 * so until execve the child makes async-signal-safe calls only. */
struct spawn {
	char *const *argv;
	char *const *envp;
	int dir, devnull, log;
	int status[2];          /* exec errno; EOF once the exec succeeded */
	int maxfd;              /* for the close-on-exec fallback */
	sigset_t nomask;
};

static void __attribute__((noreturn)) spawn_child(const struct spawn *sp)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int nul, log, e;

	/* Ignored signals and the blocked mask would survive the exec. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &sp->nomask, NULL);
	/* Copies above 2 first, in case the daemon runs with 0-2 closed. */
	nul = fcntl(sp->devnull, F_DUPFD, 3);
	log = fcntl(sp->log, F_DUPFD, 3);
	if (setsid() >= 0 && fchdir(sp->dir) == 0 && nul >= 0 && log >= 0 &&
	    dup2(nul, 0) == 0 && dup2(log, 1) == 1 && dup2(log, 2) == 2) {
		/* No descriptor of the daemon (the registry lock above all)
		 * may reach the executor. */
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
			for (int fd = 3; fd < sp->maxfd; fd++)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
		execve(sp->argv[0], sp->argv, sp->envp);
	}
	e = errno;
	if (write(sp->status[1], &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static void spawn_release(struct spawn *sp)
{
	close_fd(&sp->dir);
	close_fd(&sp->devnull);
	close_fd(&sp->log);
	close_fd(&sp->status[0]);
	close_fd(&sp->status[1]);
}

static hf_rc spawn_prepare(struct spawn *sp, const char *workdir,
			   const char *log, struct hf_error *err)
{
	struct rlimit rl;

	sp->maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
				    rl.rlim_cur < (rlim_t)INT_MAX
			    ? (int)rl.rlim_cur
			    : INT_MAX;
	sigemptyset(&sp->nomask);
	sp->dir = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dir < 0)
		return sys_fail(err, "cannot enter", workdir);
	sp->log = openat(sp->dir, log,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (sp->log < 0)
		return sys_fail(err, "cannot open the log", log);
	sp->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sp->devnull < 0 || pipe2(sp->status, O_CLOEXEC) < 0)
		return sys_fail(err, "cannot start", sp->argv[0]);
	return HF_OK;
}

/* The child's exec errno, 0 when the exec succeeded. */
static int exec_status(int fd)
{
	int e = 0;
	ssize_t n;

	while ((n = read(fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(e) ? e : 0;
}

/* Follows a child that has exec'd: its pidfd and start time. */
static hf_rc spawn_follow(pid_t pid, const char *what, struct proc *out,
			  struct hf_error *err)
{
	pid_t pgrp;
	char state;

	/* The pid stays ours until reaped, so neither can name another. */
	*out = (struct proc){.pid = pid, .pidfd = pidfd_open_(pid),
			     .child = true, .group = true};
	if ((out->pidfd >= 0 || errno == ENOSYS) &&
	    read_stat(pid, &state, &pgrp, &out->start))
		return HF_OK;
	hf_fail(err, HF_ERR_UNAVAILABLE, "cannot follow %s (pid %d): %s",
		what, (int)pid, strerror(errno));
	kill(-pid, SIGKILL);
	reap(pid, true);
	close_fd(&out->pidfd);
	out->pid = 0;
	return HF_ERR_UNAVAILABLE;
}

static hf_rc spawn(const struct sched_backend *be, const struct job *j,
		   int shard, char **argv, struct proc *out,
		   struct hf_error *err)
{
	char *log = log_name(j->executor, shard);
	struct spawn sp = {.argv = argv, .envp = be->envp, .dir = -1,
			   .devnull = -1, .log = -1, .status = {-1, -1}};
	hf_rc rc = spawn_prepare(&sp, j->workdir, log, err);
	pid_t pid = -1;
	int e;

	*out = (struct proc){.pidfd = -1};
	if (rc == HF_OK && (pid = fork()) < 0)
		rc = sys_fail(err, "cannot start", argv[0]);
	if (pid == 0)
		spawn_child(&sp);
	if (rc == HF_OK) {
		close_fd(&sp.status[1]);
		e = exec_status(sp.status[0]);
		if (e) {
			reap(pid, true);
			rc = hf_fail(err, HF_ERR_UNAVAILABLE,
				     "cannot run %s: %s", argv[0],
				     strerror(e));
		} else {
			rc = spawn_follow(pid, argv[0], out, err);
		}
	}
	spawn_release(&sp);
	free(log);
	return rc;
}

/* The leader through its pidfd, which cannot name a reused pid (else
 * after a check of its start time); the group while its id cannot have
 * been reused: the leader lives, or is our unreaped child. */
static void signal_proc(const struct proc *p, int sig, bool leader_gone)
{
	if (!leader_gone && p->pidfd >= 0)
		pidfd_signal(p->pidfd, sig);
	else if (!leader_gone && (p->child || same_process(p)))
		kill(p->pid, sig);
	if (p->group && (p->child || !leader_gone))
		kill(-p->pid, sig);
}

/* Sleeps until one of the processes not gone may have exited, or ms
 * pass, and marks those that have. Returns the first of them, -1 if
 * none. */
static int wait_exit(const struct proc *p, bool *gone, size_t n, int ms)
{
	struct pollfd *pfd = xcalloc(n, sizeof(*pfd));
	bool tick = false;
	int first = -1;

	for (size_t i = 0; i < n; i++) {
		pfd[i] = (struct pollfd){.fd = gone[i] ? -1 : p[i].pidfd,
					 .events = POLLIN};
		tick = tick || (!gone[i] && p[i].pidfd < 0);
	}
	poll(pfd, n, tick && ms > EXIT_TICK_MS ? EXIT_TICK_MS : ms);
	for (size_t i = 0; i < n; i++) {
		if (gone[i] || !proc_exited(&p[i]))
			continue;
		gone[i] = true;
		first = first < 0 ? (int)i : first;
	}
	free(pfd);
	return first;
}

/* Waits up to ms for the processes not yet gone to exit. */
static void wait_gone(const struct proc *p, bool *gone, size_t n, int ms)
{
	long long end = mono_ms() + ms, left;

	for (;;) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			k += !gone[i];
		if (k == 0 || (left = end - mono_ms()) <= 0)
			break;
		wait_exit(p, gone, n, (int)left);
	}
}

/* Stops the processes: SIGTERM to their groups, up to STOP_GRACE_MS for
 * the leaders to exit, then SIGKILL to what is left. Reaps the children
 * and closes the pidfds. */
static void stop_procs(struct proc *p, size_t n)
{
	bool *gone = xcalloc(n, sizeof(*gone));

	for (size_t i = 0; i < n; i++) {
		gone[i] = p[i].pid == 0;
		if (!gone[i])
			signal_proc(&p[i], SIGTERM, false);
	}
	wait_gone(p, gone, n, STOP_GRACE_MS);
	for (size_t i = 0; i < n; i++)
		if (p[i].pid)
			signal_proc(&p[i], SIGKILL, gone[i]);
	wait_gone(p, gone, n, KILL_WAIT_MS);
	for (size_t i = 0; i < n; i++) {
		if (!p[i].pid)
			continue;
		/* Not reaped then: a zombie until heronfs exits. */
		if (!gone[i])
			LOG_W("local scheduler: pid %d survived SIGKILL for "
			      "%d ms", (int)p[i].pid, KILL_WAIT_MS);
		if (p[i].child)
			reap(p[i].pid, gone[i]);
		close_fd(&p[i].pidfd);
		p[i].pid = 0;
	}
	free(gone);
}

/* ---- working directory --------------------------------------------------- */

struct extract {
	const char *dir;
	const char *const *archives;
	size_t n;
	hf_rc rc;
	struct hf_error err;
};

#define EXTRACT_FLAGS \
	(ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT | \
	 ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | \
	 ARCHIVE_EXTRACT_SECURE_SYMLINKS)

static hf_rc copy_entry(struct archive *in, struct archive *out,
			struct archive_entry *e, const char *path,
			struct hf_error *err)
{
	const char *name = archive_entry_pathname(e);
	const void *data;
	size_t size;
	la_int64_t off;
	int r;

	if (archive_write_header(out, e) < ARCHIVE_WARN)
		return hf_fail(err, HF_ERR_INVALID, "%s: %s: %s", path, name,
			       archive_error_string(out));
	while ((r = archive_read_data_block(in, &data, &size, &off)) ==
	       ARCHIVE_OK) {
		if (archive_write_data_block(out, data, size, off) <
		    ARCHIVE_WARN) {
			errno = archive_errno(out) ? archive_errno(out) : EIO;
			return sys_fail(err, "cannot write", name);
		}
	}
	if (r != ARCHIVE_EOF)
		return hf_fail(err, HF_ERR_INVALID, "%s: %s: %s", path, name,
			       archive_error_string(in));
	if (archive_write_finish_entry(out) < ARCHIVE_WARN)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "%s: %s: %s", path,
			       name, archive_error_string(out));
	return HF_OK;
}

/* Extracts the (gzip) tar at path into the current directory. */
static hf_rc extract_one(const char *path, struct hf_error *err)
{
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	struct archive_entry *e;
	hf_rc rc = HF_OK;
	int r = ARCHIVE_OK;

	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, EXTRACT_FLAGS);
	if (archive_read_open_filename(in, path, 65536) != ARCHIVE_OK)
		rc = hf_fail(err, HF_ERR_UNAVAILABLE, "cannot read %s: %s",
			     path, archive_error_string(in));
	while (rc == HF_OK &&
	       (r = archive_read_next_header(in, &e)) == ARCHIVE_OK)
		rc = copy_entry(in, out, e, path, err);
	if (rc == HF_OK && r != ARCHIVE_EOF)
		rc = hf_fail(err, HF_ERR_INVALID, "%s: %s", path,
			     archive_error_string(in));
	if (archive_write_close(out) != ARCHIVE_OK && rc == HF_OK)
		rc = hf_fail(err, HF_ERR_UNAVAILABLE, "%s: %s", path,
			     archive_error_string(out));
	archive_read_free(in);
	archive_write_free(out);
	return rc;
}

/* archive_write_disk resolves entries against the working directory,
 * which every thread of the daemon shares; this thread gets one of its
 * own (unshare(CLONE_FS)) and lives only for the extraction. */
static void *extract_main(void *arg)
{
	struct extract *x = arg;

	if (unshare(CLONE_FS) < 0 || chdir(x->dir) < 0) {
		x->rc = sys_fail(&x->err, "cannot extract into", x->dir);
		return NULL;
	}
	for (size_t i = 0; i < x->n && x->rc == HF_OK; i++)
		x->rc = extract_one(x->archives[i], &x->err);
	return NULL;
}

static hf_rc extract_all(const char *dir, const char *const *archives,
			 size_t n, struct hf_error *err)
{
	struct extract x = {.dir = dir, .archives = archives, .n = n};
	pthread_t t;
	int e = pthread_create(&t, NULL, extract_main, &x);

	if (e)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "cannot start an extraction: %s", strerror(e));
	pthread_join(t, NULL);
	if (x.rc != HF_OK)
		hf_fail(err, x.rc, "%s", x.err.msg);
	return x.rc;
}

/* What LocalLauncher.launch needs besides the job. */
struct setup {
	char *package;          /* the topology package's path */
	char *core;             /* the heron-core tarball or directory */
	bool use_core_uri;
};

static void setup_free(struct setup *su)
{
	free(su->package);
	free(su->core);
}

static hf_rc link_core(int dfd, const char *core, struct hf_error *err)
{
	struct stat st;

	if (stat(core, &st) < 0)
		return hf_fail(err, HF_ERR_UNAVAILABLE, CORE_DIR_KEY " %s: %s",
			       core, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       CORE_DIR_KEY " %s is not a directory", core);
	if (symlinkat(core, dfd, CORE_LINK) < 0)
		return sys_fail(err, "cannot link", CORE_LINK);
	return HF_OK;
}

/* LocalLauncher.setupWorkingDirectoryAndExtractPackages. */
static hf_rc prepare_workdir(const struct setup *su, const char *workdir,
			     struct hf_error *err)
{
	const char *archives[2];
	size_t n = 0;
	hf_rc rc = HF_OK;
	int dfd;

	if (mkdir_p(workdir, 0777) < 0)
		return sys_fail(err, "cannot create", workdir);
	dfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sys_fail(err, "cannot open", workdir);
	/* Emptied, as Heron's createOrCleanDirectory does: what an earlier
	 * run left (the heron-core link above all) would be in the way. */
	if (clean_dir(dfd, 0) < 0)
		rc = sys_fail(err, "cannot empty", workdir);
	else if (su->use_core_uri)
		archives[n++] = su->core;
	else
		rc = link_core(dfd, su->core, err);
	close(dfd);
	archives[n++] = su->package;
	return rc == HF_OK ? extract_all(workdir, archives, n, err) : rc;
}

/* ---- jobs ---------------------------------------------------------------- */

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
static char *key_file(const char *const parts[4])
{
	struct buf b = {0};

	for (int i = 0; i < 4; i++) {
		put_escaped(&b, parts[i]);
		buf_puts(&b, i < 3 ? "." : ".json");
	}
	return buf_steal(&b);
}

/* shards: n container indexes, or NULL to set them later. */
static struct job *job_new(const struct job_key *k, const int *shards,
			   size_t n)
{
	struct job *j = xcalloc(1, sizeof(*j));
	const char *parts[4] = {k->cluster, k->role, k->environ, k->name};

	j->cluster = xstrdup(k->cluster);
	j->role = xstrdup(k->role);
	j->environ = xstrdup(k->environ);
	j->name = xstrdup(k->name);
	j->file = key_file(parts);
	j->slots = xcalloc(n, sizeof(*j->slots));
	j->n_slots = n;
	for (size_t i = 0; i < n; i++) {
		j->slots[i].shard = shards ? shards[i] : 0;
		j->slots[i].p.pidfd = -1;
	}
	return j;
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_slots; i++) {
		struct slot *s = &j->slots[i];

		for (size_t t = 0; t < s->n_tasks; t++)
			task_free(&s->tasks[t]);
		free(s->tasks);
		strv_free(s->argv);
		close_fd(&s->p.pidfd);
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

static struct job *find_key(struct sched_backend *be, const struct job_key *k)
{
	for (struct job *j = be->jobs; j; j = j->next)
		if (key_is(j, k))
			return j;
	return NULL;
}

static struct job *find_id(struct sched_backend *be, uint64_t id)
{
	for (struct job *j = be->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void job_add(struct sched_backend *be, struct job *j)
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
		struct job *j = find_id(be, id);
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
static void release(struct sched_backend *be, struct job *j, int idx)
{
	for (size_t i = 0; i < j->n_slots; i++)
		if (idx < 0 || (size_t)idx == i)
			j->slots[i].claimed = false;
	pthread_cond_broadcast(&be->released);
	wake_monitor(be);
}

/* Takes the process out of a claimed slot (be->lock held). */
static struct proc take_proc(struct slot *s)
{
	struct proc p = s->p;

	s->p = (struct proc){.pidfd = -1};
	s->gen++;
	s->waiting = false;
	return p;
}

/* The new run of a claimed slot (be->lock held). */
static void install(struct slot *s, struct proc *p, char **argv)
{
	strv_free(s->argv);
	s->argv = argv;
	s->p = *p;
	s->gen++;
	s->started = mono_ms();
	s->waiting = false;
	current(s)->placed = true;
	event(s, "running", "started pid %d", (int)p->pid);
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
		rc = sys_fail(err, "cannot create", tmp);
	while (rc == HF_OK && done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0 && errno != EINTR)
			rc = sys_fail(err, "cannot write", tmp);
		done += n > 0 ? (size_t)n : 0;
	}
	if (rc == HF_OK && fsync(fd) < 0)
		rc = sys_fail(err, "cannot write", tmp);
	if (fd >= 0 && close(fd) < 0 && rc == HF_OK)
		rc = sys_fail(err, "cannot write", tmp);
	if (rc == HF_OK && rename(tmp, path) < 0)
		rc = sys_fail(err, "cannot replace", path);
	if (rc != HF_OK)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

/* Writes job id's file if it changed since it was last written. */
static hf_rc registry_save(struct sched_backend *be, uint64_t id,
			   struct hf_error *err)
{
	struct job *j;
	char *text = NULL, *file = NULL;
	unsigned long version = 0;
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&be->reg_lock);
	pthread_mutex_lock(&be->lock);
	j = find_id(be, id);
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
	if (text && rc == HF_OK && (j = find_id(be, id)))
		j->saved = version;
	pthread_mutex_unlock(&be->lock);
	pthread_mutex_unlock(&be->reg_lock);
	free(text);
	free(file);
	return rc;
}

static hf_rc registry_remove(struct sched_backend *be, const char *file,
			     struct hf_error *err)
{
	char *path = xasprintf("%s/%s", be->registry, file);
	hf_rc rc = HF_OK;

	pthread_mutex_lock(&be->reg_lock);
	if (unlink(path) < 0 && errno != ENOENT)
		rc = sys_fail(err, "cannot remove", path);
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
	task_new(s, ancestor);
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
	j = job_new(&key, NULL, n);
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
	job_free(j);
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
		p.pidfd = pidfd_open_(pid);
	if ((p.pidfd >= 0 || (pid > 0 && boot_ok && errno == ENOSYS)) &&
	    read_stat(pid, &state, &pgrp, &now_start) && now_start == start) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		/* Still our child when this process started it. */
		p.child = r >= 0;
		alive = r == 0 || (r < 0 && !proc_exited(&p));
	}
	if (alive) {
		p.group = pgrp == pid;
		s->p = p;
		s->started = 0;
		current(s)->placed = true;
		event(s, "running", "adopted pid %d, started before heronfs "
		      "restarted", (int)pid);
		return;
	}
	close_fd(&p.pidfd);
	if (pid > 0 && !boot_ok)
		event(s, "lost", "pid %d ended with the machine's restart",
		      (int)pid);
	else if (pid > 0)
		event(s, "lost", "pid %d ended while heronfs was not "
		      "running", (int)pid);
	else
		event(s, "lost", "was waiting to start when heronfs stopped");
	schedule_start(s);
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
		   find_key(be, &(struct job_key){j->cluster, j->role,
						  j->environ, j->name})) {
		LOG_W("local scheduler: ignoring %s: not named after its job "
		      "key, or a copy", path);
		job_free(j);
	} else {
		for (size_t i = 0; i < j->n_slots; i++)
			adopt(&j->slots[i], pids[i], starts[i],
			      strcmp(boot, be->boot_id) == 0);
		job_add(be, j);
		LOG_I("local scheduler: found %s/%s/%s/%s in %s", j->cluster,
		      j->role, j->environ, j->name, path);
	}
	free(pids);
	free(starts);
	json_decref(doc);
	free(path);
}

static void registry_load(struct sched_backend *be)
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

/* ---- the monitor --------------------------------------------------------- */

struct watch {
	uint64_t job;
	size_t slot;
	unsigned gen;
};

struct watch_set {
	struct pollfd *pfd;     /* [0] is the wake-up eventfd */
	struct watch *w;        /* w[i] goes with pfd[i + 1] */
	size_t n, cap;
	bool tick;              /* a watched process has no pidfd */
};

/* Room for n watches and the eventfd. */
static void watch_reserve(struct watch_set *ws, size_t n)
{
	if (n + 1 <= ws->cap)
		return;
	ws->cap = 2 * (n + 1);
	ws->pfd = xrealloc(ws->pfd, ws->cap * sizeof(*ws->pfd));
	ws->w = xrealloc(ws->w, ws->cap * sizeof(*ws->w));
}

static void watch_add(struct watch_set *ws, int fd, struct watch w)
{
	watch_reserve(ws, ws->n + 1);
	ws->pfd[ws->n + 1] = (struct pollfd){.fd = fd, .events = POLLIN};
	ws->w[ws->n++] = w;
}

/* The pidfds to watch and the ms until the next restart (-1: none);
 * be->lock held. Claimed slots are their claimer's to watch. */
static int watch_list(struct sched_backend *be, struct watch_set *ws)
{
	long long now = mono_ms(), next = LLONG_MAX;

	ws->n = 0;
	ws->tick = false;
	watch_reserve(ws, 0);
	ws->pfd[0] = (struct pollfd){.fd = be->wake_fd, .events = POLLIN};
	for (struct job *j = be->jobs; j; j = j->next) {
		for (size_t i = 0; i < j->n_slots && !j->killing; i++) {
			struct slot *s = &j->slots[i];

			if (s->claimed)
				continue;
			if (s->p.pid) {
				watch_add(ws, s->p.pidfd, (struct watch){
					.job = j->id, .slot = i,
					.gen = s->gen});
				ws->tick = ws->tick || s->p.pidfd < 0;
			} else if (s->waiting && s->restart_at - now < next) {
				next = s->restart_at - now;
			}
		}
	}
	if (ws->tick && next > EXIT_TICK_MS)
		next = EXIT_TICK_MS;
	if (next == LLONG_MAX)
		return -1;
	return next <= 0 ? 0 : next > INT_MAX ? INT_MAX : (int)next;
}

/* A watched executor ended (be->lock held): record it and schedule its
 * restart, as LocalScheduler's monitor does for any exit. */
static void on_exit_event(struct sched_backend *be, const struct watch *w)
{
	struct job *j = find_id(be, w->job);
	struct slot *s = j ? &j->slots[w->slot] : NULL;
	char how[96];
	int st = -1;

	if (!s || j->killing || s->claimed || s->gen != w->gen || !s->p.pid ||
	    !proc_exited(&s->p))
		return;
	if (s->p.child && (st = reap(s->p.pid, false)) == NOT_YET)
		return;
	describe_exit(st, how, sizeof(how));
	LOG_I("local scheduler: %s container %d: pid %d %s", j->name,
	      s->shard, (int)s->p.pid, how);
	close_fd(&s->p.pidfd);
	take_proc(s);
	if (st != 0)
		s->failures++;
	event(s, st == 0 ? "finished" : "failed", "%s", how);
	s->backoff_ms = s->started && mono_ms() - s->started < QUICK_RUN_MS
				? next_backoff(s->backoff_ms)
				: 0;
	schedule_start(s);
}

/* Starts claimed slot s of j again with new ports, be->lock not held. On
 * failure the slot waits for another try, with back-off. */
static hf_rc start_slot(struct sched_backend *be, struct job *j,
			struct slot *s, struct hf_error *err)
{
	struct hf_error e = {0};
	int ports[NPORTS];
	char **argv = NULL;
	struct proc p;
	hf_rc rc = free_ports(ports, NPORTS, &e);

	if (rc == HF_OK) {
		argv = executor_argv(j, s->shard, ports);
		rc = spawn(be, j, s->shard, argv, &p, &e);
	}
	pthread_mutex_lock(&be->lock);
	if (rc == HF_OK) {
		install(s, &p, argv);
	} else {
		strv_free(argv);
		s->failures++;
		event(s, "failed", "%s", e.msg);
		s->backoff_ms = next_backoff(s->backoff_ms);
		schedule_start(s);
	}
	j->version++;
	pthread_mutex_unlock(&be->lock);
	if (rc != HF_OK)
		hf_fail(err, rc, "container %d: %s", s->shard, e.msg);
	return rc;
}

/* A slot whose restart is due (be->lock held). */
static bool find_due(struct sched_backend *be, struct job **jp, size_t *ip)
{
	long long now = mono_ms();

	for (struct job *j = be->jobs; j; j = j->next) {
		for (size_t i = 0; i < j->n_slots && !j->killing; i++) {
			struct slot *s = &j->slots[i];

			if (!s->claimed && !s->p.pid && s->waiting &&
			    s->restart_at <= now) {
				*jp = j;
				*ip = i;
				return true;
			}
		}
	}
	return false;
}

/* Starts every due restart; be->lock held, dropped while starting. */
static void start_due(struct sched_backend *be)
{
	struct job *j;
	size_t i;

	while (!be->stop && find_due(be, &j, &i)) {
		struct hf_error e = {0};
		uint64_t id = j->id;

		j->slots[i].claimed = true;
		pthread_mutex_unlock(&be->lock);
		if (start_slot(be, j, &j->slots[i], &e) != HF_OK)
			LOG_W("local scheduler: %s %s", j->name, e.msg);
		pthread_mutex_lock(&be->lock);
		release(be, j, (int)i);
		pthread_mutex_unlock(&be->lock);
		if (registry_save(be, id, &e) != HF_OK)
			LOG_W("local scheduler: %s", e.msg);
		pthread_mutex_lock(&be->lock);
	}
}

static void *monitor_main(void *arg)
{
	struct sched_backend *be = arg;
	struct watch_set ws = {0};

	pthread_mutex_lock(&be->lock);
	while (!be->stop) {
		int timeout = watch_list(be, &ws);
		uint64_t count;

		pthread_mutex_unlock(&be->lock);
		if (poll(ws.pfd, ws.n + 1, timeout) > 0 && ws.pfd[0].revents &&
		    read(be->wake_fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			LOG_W("local scheduler: monitor: %s", strerror(errno));
		pthread_mutex_lock(&be->lock);
		for (size_t i = 0; i < ws.n; i++)
			if (ws.pfd[i + 1].revents || ws.pfd[i + 1].fd < 0)
				on_exit_event(be, &ws.w[i]);
		start_due(be);
	}
	pthread_mutex_unlock(&be->lock);
	free(ws.pfd);
	free(ws.w);
	return NULL;
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

static hf_rc check_local_path(const char *what, const char *path,
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

static hf_rc read_core(const struct launch_spec *spec, struct setup *su,
		       struct hf_error *err)
{
	char *uri;

	su->use_core_uri = heron_conf_get_bool(spec->local_conf,
					       USE_CORE_URI_KEY, true);
	if (!su->use_core_uri) {
		su->core = local_value(spec, CORE_DIR_KEY, CORE_DIR_DEFAULT);
		return check_local_path(CORE_DIR_KEY, su->core, err);
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
	if ((rc = check_local_path(WORKDIR_KEY, workdir, err)) ||
	    (rc = read_core(spec, su, err)) ||
	    (rc = plan_shards(spec->plan, &shards, &n, err)) ||
	    (rc = executor_args_build(spec, &args, err))) {
		free(workdir);
		free(shards);
		return rc;
	}
	*out = job_new(&spec->key, shards, n);
	(*out)->workdir = workdir;
	(*out)->executor = executor_path(spec, workdir);
	(*out)->topo_args = split_args(args);
	(*out)->spelling = spec->spelling;
	for (size_t i = 0; i < n; i++) {
		(*out)->slots[i].claimed = true;
		task_new(&(*out)->slots[i], -1);
		event(&(*out)->slots[i], "pending", "launching");
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
	old = find_key(be, &k);
	if (old && old->killing)
		rc = hf_fail(err, HF_ERR_BUSY, "it is being killed");
	else if (old)
		rc = hf_fail(err, HF_ERR_EXISTS, "it already runs in %s",
			     old->workdir);
	else
		job_add(be, j);
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
		p[i] = take_proc(&j->slots[i]);
	pthread_mutex_unlock(&be->lock);
	stop_procs(p, j->n_slots);
	/* Only once they are stopped: a record left behind by a crash
	 * restarts a killed job, where one removed early would orphan
	 * its executors. */
	rc = registry_remove(be, j->file, err);
	pthread_mutex_lock(&be->lock);
	job_unlink(be, j);
	pthread_cond_broadcast(&be->released);
	pthread_mutex_unlock(&be->lock);
	job_free(j);
	free(p);
	return rc;
}

/* The first slot whose executor exits within ms; -1 if none does. The
 * caller holds the slots' claims. */
static int first_exit(const struct job *j, int ms)
{
	struct proc *p = xcalloc(j->n_slots, sizeof(*p));
	bool *gone = xcalloc(j->n_slots, sizeof(*gone));
	long long end = mono_ms() + ms, left;
	int found = -1;

	for (size_t i = 0; i < j->n_slots; i++)
		p[i] = j->slots[i].p;
	while (found < 0 && (left = end - mono_ms()) > 0)
		found = wait_exit(p, gone, j->n_slots, (int)left);
	free(gone);
	free(p);
	return found;
}

/* The reason an executor died during the launch check. */
static hf_rc early_exit(struct sched_backend *be, struct job *j,
			struct slot *s, struct hf_error *err)
{
	int st = s->p.child ? reap(s->p.pid, true) : -1;
	char how[96], *log = log_name(j->executor, s->shard);
	char *tail = log_tail(j->workdir, log);
	hf_rc rc;

	describe_exit(st, how, sizeof(how));
	pthread_mutex_lock(&be->lock);
	close_fd(&s->p.pidfd);
	take_proc(s);
	event(s, "failed", "%s", how);
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
	hf_rc rc = free_ports(ports, j->n_slots * NPORTS, err);
	int dead;

	for (size_t i = 0; i < j->n_slots && rc == HF_OK; i++) {
		struct slot *s = &j->slots[i];
		char **argv = executor_argv(j, s->shard, ports + i * NPORTS);
		struct proc p;

		rc = spawn(be, j, s->shard, argv, &p, err);
		if (rc != HF_OK) {
			hf_error_prefix(err, "container %d", s->shard);
			strv_free(argv);
			break;
		}
		pthread_mutex_lock(&be->lock);
		install(s, &p, argv);
		j->version++;
		pthread_mutex_unlock(&be->lock);
	}
	free(ports);
	if (rc == HF_OK)
		rc = registry_save(be, j->id, err);
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
		job_free(j);
		j = NULL;
	}
	if (rc == HF_OK)
		rc = prepare_workdir(&su, j->workdir, err);
	if (rc == HF_OK)
		rc = check_executor(j, err);
	if (rc == HF_OK)
		rc = start_all(be, j, err);
	if (rc == HF_OK) {
		LOG_I("local scheduler: %s runs %zu executors in %s",
		      spec->key.name, j->n_slots, j->workdir);
		/* From here on a kill may take j away. */
		pthread_mutex_lock(&be->lock);
		release(be, j, -1);
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
	j = find_key(be, key);
	if (j) {
		j->killing = true;
		j = claim(be, j->id, -1);
	}
	pthread_mutex_unlock(&be->lock);
	if (j)
		return drop_job(be, j, err);
	/* A record a failed removal left behind must not outlive a kill. */
	file = key_file(parts);
	rc = registry_remove(be, file, err);
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
	struct job *j = find_key(be, key);
	hf_rc rc;

	if (!j)
		return hf_fail(err, HF_ERR_NOTFOUND, "the local scheduler "
			       "runs no %s/%s/%s/%s", key->cluster,
			       key->role, key->environ, key->name);
	if ((rc = find_slot(j, container, idx, err)) != HF_OK)
		return rc;
	if (!j->killing && (j = claim(be, j->id, *idx)) && j->killing) {
		release(be, j, *idx);
		j = NULL;
	}
	if (!j || j->killing)
		return hf_fail(err, HF_ERR_BUSY, "%s is being killed",
			       key->name);
	*procs = xcalloc(j->n_slots, sizeof(**procs));
	for (size_t i = 0; i < j->n_slots; i++) {
		if (*idx >= 0 && (size_t)*idx != i)
			continue;
		event(&j->slots[i], "killing", "restart requested");
		(*procs)[i] = take_proc(&j->slots[i]);
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
	event(s, "killed", "restarted");
	task_new(s, (long)current(s)->serial);
	event(s, "pending", "restarting");
	s->backoff_ms = 0;
	killing = j->killing;
	pthread_mutex_unlock(&be->lock);
	if (killing)
		return hf_fail(err, HF_ERR_BUSY, "%s was killed meanwhile",
			       j->name);
	return start_slot(be, j, s, err);
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
	stop_procs(p, j->n_slots);
	for (size_t i = 0; i < j->n_slots; i++) {
		hf_rc r;

		if (idx >= 0 && (size_t)idx != i)
			continue;
		r = restart_slot(be, j, &j->slots[i], rc == HF_OK ? err : NULL);
		rc = rc == HF_OK ? r : rc;
	}
	/* From here on a kill may take j away. */
	pthread_mutex_lock(&be->lock);
	release(be, j, idx);
	pthread_mutex_unlock(&be->lock);
	if (rc == HF_OK)
		rc = registry_save(be, id, err);
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
	if ((j = find_key(be, key))) {
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

/* The directory, and the lock that makes its executors ours to watch. */
static hf_rc registry_open(struct sched_backend *be,
			   const struct heron_conf *conf,
			   struct hf_error *err)
{
	char *lock;
	hf_rc rc;

	be->registry = heron_conf_expand(
		conf, heron_conf_get_str(conf, REGISTRY_KEY, REGISTRY_DEFAULT),
		NULL);
	if ((rc = check_local_path(REGISTRY_KEY, be->registry, err)))
		return rc;
	if (mkdir_p(be->registry, 0700) < 0)
		return sys_fail(err, "cannot create", be->registry);
	lock = xasprintf("%s/.lock", be->registry);
	be->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (be->lock_fd < 0)
		rc = sys_fail(err, "cannot open", lock);
	else if (flock(be->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = errno == EWOULDBLOCK
			     ? hf_fail(err, HF_ERR_BUSY, "%s is in use by "
				       "another heronfs, which watches its "
				       "executors", be->registry)
			     : sys_fail(err, "cannot lock", lock);
	free(lock);
	return rc;
}

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
		job_free(j);
	}
	close_fd(&be->wake_fd);
	close_fd(&be->lock_fd);
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
	rc = be->wake_fd < 0 ? sys_fail(err, "cannot make", "an eventfd")
			     : registry_open(be, conf, err);
	if (rc == HF_OK) {
		registry_load(be);
		e = pthread_create(&be->monitor, NULL, monitor_main, be);
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
