/* proc: runs a command without a shell, bounded in time and output.
 *
 * The daemon is multithreaded, so between fork and execve the child may
 * only make async-signal-safe calls (another thread may hold malloc's
 * lock): the path, argv, environment and file descriptors are all
 * prepared before fork. An exec failure travels back as an errno over a
 * close-on-exec pipe, which reads as EOF once the exec succeeded.
 *
 * The child is not reaped until the end (waitid with WNOWAIT), so its pid,
 * which is also the process group id, cannot be reused while the group may
 * still be signalled.
 */
#include "proc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define KILL_GRACE_MS  2000   /* from SIGTERM to SIGKILL */
#define EXIT_TICK_MS   50     /* exit polling, only without pidfd */
#define READ_CHUNK     16384
/* Per read burst; also more than a pipe holds (pipe-max-size is 1 MiB),
 * so one burst after the child's exit takes all it wrote. */
#define DRAIN_BUDGET   (2 * 1024 * 1024)
#define DEFAULT_PATH   "/bin:/usr/bin"   /* what execvp uses */

extern char **environ;

/* Everything the child uses, made before fork. */
struct spawn {
	char *path;
	char *const *argv;
	char **envp;
	int devnull;
	int out[2];      /* stdout and stderr of the child */
	int status[2];   /* exec errno, or EOF when the exec succeeded */
	int maxfd;       /* bound for the close-on-exec fallback */
	sigset_t nomask;
};

/* ---- before fork -------------------------------------------------------- */

static bool is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/* name itself when it holds a '/', else the first executable match on
 * PATH (an empty PATH element is the current directory, as for execvp). */
static char *find_program(const char *name)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/'))
		return xstrdup(name);
	for (p = p ? p : DEFAULT_PATH;; p++) {
		const char *end = strchrnul(p, ':');
		int n = (int)(end - p);
		char *cand = xasprintf("%.*s%s%s", n, p, n ? "/" : "", name);

		if (is_executable(cand))
			return cand;
		free(cand);
		p = end;
		if (!*p)
			return NULL;
	}
}

static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");

	return strncmp(a, b, n) == 0 && (b[n] == '=' || b[n] == '\0');
}

/* extra first, then the daemon's entries that extra does not replace.
 * The strings are borrowed. */
static char **build_env(char *const extra[])
{
	size_t nextra = extra ? strv_len(extra) : 0, k = 0;
	char **v = xcalloc(nextra + strv_len(environ) + 1, sizeof(*v));

	for (size_t i = 0; i < nextra; i++)
		v[k++] = extra[i];
	for (char **e = environ; *e; e++) {
		bool replaced = false;

		for (size_t i = 0; i < nextra && !replaced; i++)
			replaced = same_name(extra[i], *e);
		if (!replaced)
			v[k++] = *e;
	}
	v[k] = NULL;
	return v;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void spawn_release(struct spawn *sp)
{
	close_fd(&sp->devnull);
	for (int i = 0; i < 2; i++) {
		close_fd(&sp->out[i]);
		close_fd(&sp->status[i]);
	}
	free(sp->envp);
	free(sp->path);
}

static hf_rc spawn_prepare(struct spawn *sp, char *const argv[],
			   char *const env[], struct hf_error *err)
{
	struct rlimit rl;

	sp->argv = argv;
	sp->envp = build_env(env);
	sp->maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
				    rl.rlim_cur < (rlim_t)INT_MAX
			    ? (int)rl.rlim_cur
			    : INT_MAX;
	sigemptyset(&sp->nomask);
	sp->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sp->devnull < 0 || pipe2(sp->out, O_CLOEXEC) < 0 ||
	    pipe2(sp->status, O_CLOEXEC) < 0)
		return hf_fail(err, HF_ERR_UNAVAILABLE, "cannot run %s: %s",
			       argv[0], strerror(errno));
	/* Only our end: the child must be able to block on a full pipe. */
	fcntl(sp->out[0], F_SETFL, O_NONBLOCK);
	return HF_OK;
}

/* ---- the child (async-signal-safe calls only) --------------------------- */

/* Marks every descriptor from lowfd on close-on-exec, so that none the
 * daemon's libraries left inheritable reaches the command. */
static void cloexec_from(int lowfd, int maxfd)
{
	if (close_range((unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = lowfd; fd < maxfd; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void __attribute__((noreturn)) child(const struct spawn *sp)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	int nul, out, e;

	/* Ignored signals and the blocked mask would survive the exec. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &sp->nomask, NULL);
	/* Copies above 2 first, in case the daemon runs with 0-2 closed. */
	nul = fcntl(sp->devnull, F_DUPFD, 3);
	out = fcntl(sp->out[1], F_DUPFD, 3);
	if (setpgid(0, 0) == 0 && nul >= 0 && out >= 0 && dup2(nul, 0) == 0 &&
	    dup2(out, 1) == 1 && dup2(out, 2) == 2) {
		cloexec_from(3, sp->maxfd);
		execve(sp->path, sp->argv, sp->envp);
	}
	e = errno;
	/* If even this fails, exit status 127 still tells. */
	ssize_t unused = write(sp->status[1], &e, sizeof(e));
	(void)unused;
	_exit(127);
}

/* ---- following the child ------------------------------------------------ */

struct watch {
	pid_t pid;
	int out;       /* read end of the output pipe; -1 after EOF */
	int pidfd;     /* readable when the child exits; -1 if unsupported */
	bool exited;   /* exited, not yet reaped */
	struct buf *output;
};

static void deadline_in(struct timespec *t, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000;
	if (t->tv_nsec >= 1000000000) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000;
	}
}

/* Milliseconds left, rounded up; -1 for no deadline. */
static int ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	if (!deadline)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec + 999999) / 1000000;
	return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Drops all but the last PROC_OUTPUT_MAX bytes. */
static void keep_tail(struct buf *b)
{
	size_t drop;

	if (b->len <= PROC_OUTPUT_MAX)
		return;
	drop = b->len - PROC_OUTPUT_MAX;
	memmove(b->data, b->data + drop, PROC_OUTPUT_MAX);
	b->len = PROC_OUTPUT_MAX;
	b->data[b->len] = '\0';
}

/* Reads what is available now, at most DRAIN_BUDGET bytes so that a
 * chatty command cannot keep us from the deadline; closes the pipe at
 * EOF. */
static void drain(struct watch *w)
{
	char chunk[READ_CHUNK];
	size_t budget = DRAIN_BUDGET;

	while (w->out >= 0 && budget) {
		ssize_t n = read(w->out, chunk, sizeof(chunk));

		if (n > 0) {
			budget -= (size_t)n < budget ? (size_t)n : budget;
			buf_append(w->output, chunk, (size_t)n);
			/* Trim in halves so that it costs O(1) per byte. */
			if (w->output->len >= 2 * PROC_OUTPUT_MAX)
				keep_tail(w->output);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			close_fd(&w->out);
		}
	}
}

static bool child_exited(struct watch *w)
{
	siginfo_t si;

	if (!w->exited) {
		si.si_pid = 0;
		w->exited = waitid(P_PID, (id_t)w->pid, &si,
				   WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == w->pid;
	}
	return w->exited;
}

/* Sleeps until output, the child's exit or ms pass (-1: no limit). */
static void wait_event(struct watch *w, int ms)
{
	struct pollfd p[2];
	nfds_t n = 0;

	if (w->out >= 0)
		p[n++] = (struct pollfd){.fd = w->out, .events = POLLIN};
	if (w->pidfd >= 0)
		p[n++] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
	else if (ms < 0 || ms > EXIT_TICK_MS)
		ms = EXIT_TICK_MS;
	if (poll(p, n, ms) > 0 && w->out >= 0 && p[0].revents)
		drain(w);
}

/* Follows the child until it exits, then takes the output it left in the
 * pipe without waiting for EOF (a background grandchild may hold the
 * pipe open). false when the deadline (NULL: none) passed first. */
static bool follow(struct watch *w, const struct timespec *deadline)
{
	while (!child_exited(w)) {
		int ms = ms_until(deadline);

		if (ms == 0)
			return false;
		wait_event(w, ms);
	}
	drain(w);
	return true;
}

static void reap(pid_t pid, struct proc_result *res)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFEXITED(st)) {
		res->exit_status = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		res->exit_status = -1;
		res->term_signal = WTERMSIG(st);
	}
}

/* Follows the child to its end, stopping its whole group at the
 * deadline: SIGTERM, then SIGKILL KILL_GRACE_MS later. */
static void supervise(pid_t pid, int *out, int timeout_ms,
		      struct proc_result *res)
{
	struct watch w = {.pid = pid, .out = *out, .output = &res->output};
	struct timespec deadline, grace;

	*out = -1;
	w.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (timeout_ms > 0)
		deadline_in(&deadline, timeout_ms);
	if (!follow(&w, timeout_ms > 0 ? &deadline : NULL)) {
		res->timed_out = true;
		kill(-pid, SIGTERM);
		deadline_in(&grace, KILL_GRACE_MS);
		follow(&w, &grace);
		/* Also for members that outlived the leader; the unreaped
		 * leader keeps the group id from being reused. */
		kill(-pid, SIGKILL);
	}
	reap(pid, res);
	drain(&w);
	keep_tail(&res->output);
	close_fd(&w.out);
	close_fd(&w.pidfd);
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

/* ---- the API ------------------------------------------------------------ */

hf_rc proc_run(char *const argv[], char *const env[], int timeout_ms,
	       struct proc_result *res, struct hf_error *err)
{
	struct spawn sp = {.devnull = -1, .out = {-1, -1}, .status = {-1, -1}};
	pid_t pid;
	hf_rc rc;
	int e;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (!argv || !argv[0] || !argv[0][0])
		return hf_fail(err, HF_ERR_UNAVAILABLE, "no command to run");
	sp.path = find_program(argv[0]);
	if (!sp.path)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "%s: command not found on PATH", argv[0]);
	rc = spawn_prepare(&sp, argv, env, err);
	if (rc != HF_OK)
		goto out;
	LOG_D("running %s", sp.path);
	pid = fork();
	if (pid < 0) {
		rc = hf_fail(err, HF_ERR_UNAVAILABLE, "cannot run %s: %s",
			     argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(&sp);
	/* Also here, so that the group exists before any kill(-pid). */
	setpgid(pid, pid);
	close_fd(&sp.out[1]);
	close_fd(&sp.status[1]);
	e = exec_status(sp.status[0]);
	if (e) {
		reap(pid, res);
		rc = hf_fail(err, HF_ERR_UNAVAILABLE, "cannot run %s: %s",
			     argv[0], strerror(e));
		goto out;
	}
	supervise(pid, &sp.out[0], timeout_ms, res);
	if (res->timed_out)
		rc = hf_fail(err, HF_ERR_TIMEOUT, "%s timed out after %d ms",
			     argv[0], timeout_ms);
out:
	spawn_release(&sp);
	return rc;
}

void proc_result_free(struct proc_result *res)
{
	buf_free(&res->output);
}

const char *proc_last_line(struct proc_result *res)
{
	struct buf *b = &res->output;
	const char *line;

	if (!b->data)
		return "";
	while (b->len && isspace((unsigned char)b->data[b->len - 1]))
		b->len--;
	b->data[b->len] = '\0';
	line = memrchr(b->data, '\n', b->len);
	line = line ? line + 1 : b->data;
	while (isspace((unsigned char)*line))
		line++;
	return line;
}
