/* local_exec: the local scheduler's processes (see scheduler_local.c):
 * fork/exec of heron-executors with their ports and logs, following and
 * stopping them (pidfds, /proc), the working directory and its package
 * extraction, and the monitor thread that restarts executors that die.
 */
#include "scheduler_local_impl.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

#define CORE_LINK        "heron-core"
#define STOP_GRACE_MS    5000    /* from SIGTERM to SIGKILL */
#define KILL_WAIT_MS     5000    /* for SIGKILL to take */
#define QUICK_RUN_MS     10000   /* a shorter run calls for a back-off */
#define EXIT_TICK_MS     100     /* exit polling, only without pidfds */
#define CLEAN_DEPTH      64

/* ---- logs ---------------------------------------------------------------- */

/* Removes everything in the directory dfd without following symlinks. */
static int clean_dir(int dfd, int depth)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int rc = 0;

	if (!d) {
		local_close_fd(&fd);
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
		local_close_fd(&sub);
		if (rc == 0)
			rc = unlinkat(dfd, n, AT_REMOVEDIR);
	}
	closedir(d);
	return rc;
}

/* "heron-executor-<shard>.stderr", ShellUtils' name for the log. */
char *local_log_name(const char *executor, int shard)
{
	return xasprintf("%s-%d.stderr", sched_base_name(executor), shard);
}

/* ---- processes ----------------------------------------------------------- */

int local_pidfd_open(pid_t pid)
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
bool local_read_stat(pid_t pid, char *state, pid_t *pgrp,
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

	return local_read_stat(p->pid, &state, &pgrp, &start) &&
	       start == p->start && state != 'Z' && state != 'X';
}

/* Whether p has exited (it is not reaped here). */
bool local_proc_exited(const struct proc *p)
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

/* Reaps our child pid: its wait status; -1 when it is not ours to reap
 * (ECHILD); NOT_YET when it has not exited and block is false. */
int local_reap(pid_t pid, bool block)
{
	int st;
	pid_t r;

	while ((r = waitpid(pid, &st, block ? 0 : WNOHANG)) < 0 &&
	       errno == EINTR)
		;
	return r == pid ? st : r == 0 ? NOT_YET : -1;
}

void local_describe_exit(int st, char *out, size_t n)
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
hf_rc local_free_ports(int *ports, size_t n, struct hf_error *err)
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
		local_close_fd(&fds[i]);
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
char **local_executor_argv(const struct job *j, int shard, const int *ports)
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
	local_close_fd(&sp->dir);
	local_close_fd(&sp->devnull);
	local_close_fd(&sp->log);
	local_close_fd(&sp->status[0]);
	local_close_fd(&sp->status[1]);
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
		return local_sys_fail(err, "cannot enter", workdir);
	sp->log = openat(sp->dir, log,
			 O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (sp->log < 0)
		return local_sys_fail(err, "cannot open the log", log);
	sp->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sp->devnull < 0 || pipe2(sp->status, O_CLOEXEC) < 0)
		return local_sys_fail(err, "cannot start", sp->argv[0]);
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
	*out = (struct proc){.pid = pid, .pidfd = local_pidfd_open(pid),
			     .child = true, .group = true};
	if ((out->pidfd >= 0 || errno == ENOSYS) &&
	    local_read_stat(pid, &state, &pgrp, &out->start))
		return HF_OK;
	hf_fail(err, HF_ERR_UNAVAILABLE, "cannot follow %s (pid %d): %s",
		what, (int)pid, strerror(errno));
	kill(-pid, SIGKILL);
	local_reap(pid, true);
	local_close_fd(&out->pidfd);
	out->pid = 0;
	return HF_ERR_UNAVAILABLE;
}

hf_rc local_spawn(const struct sched_backend *be, const struct job *j,
	    int shard, char **argv, struct proc *out,
	    struct hf_error *err)
{
	char *log = local_log_name(j->executor, shard);
	struct spawn sp = {.argv = argv, .envp = be->envp, .dir = -1,
			   .devnull = -1, .log = -1, .status = {-1, -1}};
	hf_rc rc = spawn_prepare(&sp, j->workdir, log, err);
	pid_t pid = -1;
	int e;

	*out = (struct proc){.pidfd = -1};
	if (rc == HF_OK && (pid = fork()) < 0)
		rc = local_sys_fail(err, "cannot start", argv[0]);
	if (pid == 0)
		spawn_child(&sp);
	if (rc == HF_OK) {
		local_close_fd(&sp.status[1]);
		e = exec_status(sp.status[0]);
		if (e) {
			local_reap(pid, true);
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
int local_wait_exit(const struct proc *p, bool *gone, size_t n, int ms)
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
		if (gone[i] || !local_proc_exited(&p[i]))
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
	long long end = local_mono_ms() + ms, left;

	for (;;) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			k += !gone[i];
		if (k == 0 || (left = end - local_mono_ms()) <= 0)
			break;
		local_wait_exit(p, gone, n, (int)left);
	}
}

/* Stops the processes: SIGTERM to their groups, up to STOP_GRACE_MS for
 * the leaders to exit, then SIGKILL to what is left. Reaps the children
 * and closes the pidfds. */
void local_stop_procs(struct proc *p, size_t n)
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
			local_reap(p[i].pid, gone[i]);
		local_close_fd(&p[i].pidfd);
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
			return local_sys_fail(err, "cannot write", name);
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
		x->rc = local_sys_fail(&x->err, "cannot extract into", x->dir);
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
		return local_sys_fail(err, "cannot link", CORE_LINK);
	return HF_OK;
}

/* LocalLauncher.setupWorkingDirectoryAndExtractPackages. */
hf_rc local_prepare_workdir(const struct setup *su, const char *workdir,
		      struct hf_error *err)
{
	const char *archives[2];
	size_t n = 0;
	hf_rc rc = HF_OK;
	int dfd;

	if (local_mkdir_p(workdir, 0777) < 0)
		return local_sys_fail(err, "cannot create", workdir);
	dfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return local_sys_fail(err, "cannot open", workdir);
	/* Emptied, as Heron's createOrCleanDirectory does: what an earlier
	 * run left (the heron-core link above all) would be in the way. */
	if (clean_dir(dfd, 0) < 0)
		rc = local_sys_fail(err, "cannot empty", workdir);
	else if (su->use_core_uri)
		archives[n++] = su->core;
	else
		rc = link_core(dfd, su->core, err);
	close(dfd);
	archives[n++] = su->package;
	return rc == HF_OK ? extract_all(workdir, archives, n, err) : rc;
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
	long long now = local_mono_ms(), next = LLONG_MAX;

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
	struct job *j = local_find_id(be, w->job);
	struct slot *s = j ? &j->slots[w->slot] : NULL;
	char how[96];
	int st = -1;

	if (!s || j->killing || s->claimed || s->gen != w->gen || !s->p.pid ||
	    !local_proc_exited(&s->p))
		return;
	if (s->p.child && (st = local_reap(s->p.pid, false)) == NOT_YET)
		return;
	local_describe_exit(st, how, sizeof(how));
	LOG_I("local scheduler: %s container %d: pid %d %s", j->name,
	      s->shard, (int)s->p.pid, how);
	local_close_fd(&s->p.pidfd);
	local_take_proc(s);
	if (st != 0)
		s->failures++;
	local_event(s, st == 0 ? "finished" : "failed", "%s", how);
	s->backoff_ms = s->started && local_mono_ms() - s->started < QUICK_RUN_MS
				? local_next_backoff(s->backoff_ms)
				: 0;
	local_schedule_start(s);
}

/* Starts claimed slot s of j again with new ports, be->lock not held. On
 * failure the slot waits for another try, with back-off. */
hf_rc local_start_slot(struct sched_backend *be, struct job *j,
		 struct slot *s, struct hf_error *err)
{
	struct hf_error e = {0};
	int ports[NPORTS];
	char **argv = NULL;
	struct proc p;
	hf_rc rc = local_free_ports(ports, NPORTS, &e);

	if (rc == HF_OK) {
		argv = local_executor_argv(j, s->shard, ports);
		rc = local_spawn(be, j, s->shard, argv, &p, &e);
	}
	pthread_mutex_lock(&be->lock);
	if (rc == HF_OK) {
		local_install(s, &p, argv);
	} else {
		strv_free(argv);
		s->failures++;
		local_event(s, "failed", "%s", e.msg);
		s->backoff_ms = local_next_backoff(s->backoff_ms);
		local_schedule_start(s);
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
	long long now = local_mono_ms();

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
		if (local_start_slot(be, j, &j->slots[i], &e) != HF_OK)
			LOG_W("local scheduler: %s %s", j->name, e.msg);
		pthread_mutex_lock(&be->lock);
		local_release(be, j, (int)i);
		pthread_mutex_unlock(&be->lock);
		if (local_registry_save(be, id, &e) != HF_OK)
			LOG_W("local scheduler: %s", e.msg);
		pthread_mutex_lock(&be->lock);
	}
}

void *local_monitor_main(void *arg)
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
