/* uploader_localfs: Heron's LocalFileSystemUploader.
 *
 * The package goes to <dir>/<topology>-<role>-tag-0.tar.gz, dir being
 * heron.uploader.localfs.file.system.directory (created as needed), and
 * replaces a package already there, as Heron's copy does. It is written to
 * a dot-named temporary file beside its place, synced and renamed, so a
 * container fetching it never sees half a package.
 *
 * The URI is file://<path>, fetched with `curl <URI>` inside a shell
 * command (heron.aurora). Heron does not escape it, and its URI parser
 * fails on most paths that would need escaping, so paths a URI or a shell
 * would read differently are refused rather than escaped.
 */
#include "uploader_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heron_conf.h"
#include "log.h"
#include "package.h"

#define DIR_KEY       "heron.uploader.localfs.file.system.directory"
/* LocalFileSystemContext's default (the shipped confs set the key). */
#define DIR_DEFAULT \
	"${HOME}/.herondata/repository/${CLUSTER}/${ROLE}/${TOPOLOGY}"
#define URI_SCHEME    "file://"
#define NAME_SUFFIX   "-tag-0.tar.gz"
#define PROGRESS_MS   200
#define TMP_ATTEMPTS  100

static atomic_uint tmp_seq;

static hf_rc sys_fail(struct hf_error *err, const char *what,
		      const char *path)
{
	int e = errno;
	hf_rc rc = e == ENOSPC || e == EDQUOT ? HF_ERR_NOSPACE
					      : HF_ERR_UNAVAILABLE;

	return hf_fail(err, rc, "%s %s: %s", what, path, strerror(e));
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- paths --------------------------------------------------------------- */

/* The configured directory, substituted, without repeated or trailing
 * '/' (Java's Paths.get drops them too). */
static char *configured_dir(const struct heron_conf *conf)
{
	const char *v = heron_conf_get(conf, DIR_KEY);
	char *dir = heron_conf_expand(conf, v ? v : DIR_DEFAULT, NULL);
	char *w = dir;

	for (const char *r = dir; *r; r++)
		if (*r != '/' || w == dir || w[-1] != '/')
			*w++ = *r;
	if (w - dir > 1 && w[-1] == '/')
		w--;
	*w = '\0';
	return dir;
}

/* Bytes that mean the same in a URI path and unquoted in a shell word. */
static bool path_byte_ok(unsigned char c)
{
	return isascii(c) && (isalnum(c) || (c && strchr("-._~/+,=:@", c)));
}

static hf_rc check_component(const char *c, size_t n, struct hf_error *err)
{
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
		return hf_fail(err, HF_ERR_INVALID, "a \"%.*s\" component "
			       "would be resolved by curl, not the kernel",
			       (int)n, c);
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)c[i];

		if (path_byte_ok(b))
			continue;
		if (isprint(b))
			return hf_fail(err, HF_ERR_INVALID, "'%c' cannot stand "
				       "unescaped in the file:// URI the "
				       "containers fetch", b);
		return hf_fail(err, HF_ERR_INVALID, "byte 0x%02x cannot stand "
			       "unescaped in the file:// URI the containers "
			       "fetch", b);
	}
	return HF_OK;
}

/* Checks that path can go into a file:// URI as it is. With
 * stop_at_token, checking ends at the first component holding "${": the
 * rest is per topology and is checked at put. */
static hf_rc check_path(const char *path, bool stop_at_token,
			struct hf_error *err)
{
	hf_rc rc;

	if (path[0] != '/')
		return hf_fail(err, HF_ERR_INVALID, "not an absolute path");
	for (const char *c = path + 1; *c;) {
		size_t n = strcspn(c, "/");

		if (memmem(c, n, "${", 2)) {
			if (stop_at_token)
				return HF_OK;
			return hf_fail(err, HF_ERR_INVALID, "\"%.*s\" holds a "
				       "token that nothing substitutes",
				       (int)n, c);
		}
		if ((rc = check_component(c, n, err)))
			return rc;
		c += n + (c[n] == '/');
	}
	return HF_OK;
}

/* The configured directory up to its first component holding a token:
 * what exists before any topology is submitted. */
static void cut_at_token(char *dir)
{
	char *t = strstr(dir, "${");
	char *slash;

	if (!t)
		return;
	*t = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	slash[slash == dir] = '\0';
}

/* ---- put ----------------------------------------------------------------- */

static hf_rc make_dir(const char *path, struct hf_error *err)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return HF_OK;
	return sys_fail(err, "cannot create directory", path);
}

/* mkdir -p: dir is absolute and normalized. A component that exists but
 * is not a directory makes the next step fail with ENOTDIR. */
static hf_rc make_dirs(char *dir, struct hf_error *err)
{
	struct stat st;
	hf_rc rc = HF_OK;

	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return HF_OK;
	for (char *s = dir + 1; !rc && (s = strchr(s, '/')); s++) {
		*s = '\0';
		rc = make_dir(dir, err);
		*s = '/';
	}
	return rc ? rc : make_dir(dir, err);
}

/* Creates <dir>/.<base>.<pid>.<n>. Not mkstemp: its 0600 would hide the
 * package from containers running as another user; mode 0666 less the
 * umask is what Heron's copy gives. O_EXCL keeps hosts sharing the
 * directory (NFS) from writing into each other's file. */
static hf_rc create_tmp(const char *dir, const char *base, int *fd,
			char **tmp, struct hf_error *err)
{
	hf_rc rc;

	*fd = -1;
	*tmp = NULL;
	for (int i = 0; *fd < 0 && i < TMP_ATTEMPTS; i++) {
		free(*tmp);
		*tmp = xasprintf("%s/.%s.%ld.%u", dir, base, (long)getpid(),
				 atomic_fetch_add(&tmp_seq, 1));
		*fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (*fd < 0 && errno != EEXIST)
			break;
	}
	if (*fd >= 0)
		return HF_OK;
	rc = sys_fail(err, "cannot create a file in", dir);
	free(*tmp);
	*tmp = NULL;
	return rc;
}

/* package_write_upload reports nothing until it returns, so a helper
 * thread reports the temporary file's size every PROGRESS_MS. The final
 * report, with the exact total, comes after the thread has stopped: the
 * callback never runs twice at once, nor after put returns. */
struct progress {
	const struct upload_req *req;
	int fd;                 /* the temporary file */
	int wake;               /* eventfd that stops the thread, or -1 */
	bool running;
	pthread_t thread;
	uint64_t reported;
};

static void progress_report(struct progress *p, uint64_t bytes)
{
	if (bytes == p->reported)
		return;
	p->reported = bytes;
	p->req->progress(p->req->progress_arg, bytes);
}

static void *progress_main(void *arg)
{
	struct progress *p = arg;
	struct pollfd pfd = {.fd = p->wake, .events = POLLIN};
	struct stat st;
	int r;

	while ((r = poll(&pfd, 1, PROGRESS_MS)) <= 0) {
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && fstat(p->fd, &st) == 0)
			progress_report(p, (uint64_t)st.st_size);
	}
	return NULL;
}

/* Without the thread (no callback, or no resources for one) only the
 * final report is made. */
static void progress_start(struct progress *p, const struct upload_req *req,
			   int fd)
{
	*p = (struct progress){.req = req, .fd = fd, .wake = -1};
	if (!req->progress)
		return;
	p->wake = eventfd(0, EFD_CLOEXEC);
	if (p->wake >= 0)
		p->running = pthread_create(&p->thread, NULL, progress_main,
					    p) == 0;
	if (!p->running)
		LOG_D("localfs uploader: no progress thread, reporting at "
		      "the end only");
}

static void progress_stop(struct progress *p, bool ok, uint64_t total)
{
	if (p->running) {
		uint64_t one = 1;

		while (write(p->wake, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		pthread_join(p->thread, NULL);
	}
	if (p->wake >= 0)
		close(p->wake);
	if (ok && p->req->progress)
		progress_report(p, total);
}

/* Writes and syncs the package into the open temporary file tmp, which
 * will become path. */
static hf_rc fill_tmp(const struct upload_req *req, int fd, const char *tmp,
		      const char *path, struct hf_error *err)
{
	struct progress p;
	uint64_t written = 0;
	hf_rc rc;

	progress_start(&p, req, fd);
	rc = package_write_upload(req->package_path, heron_conf_dir(req->conf),
				  req->release_yaml, req->override_yaml, fd,
				  &written, err);
	progress_stop(&p, rc == HF_OK, written);
	if (rc) {
		hf_error_prefix(err, "%s", path);
		return rc;
	}
	if (fsync(fd) < 0)
		return sys_fail(err, "cannot write", tmp);
	return HF_OK;
}

/* Makes the rename durable before the URI is recorded. Best effort: some
 * file systems cannot sync a directory, and the package is in place. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
		LOG_W("localfs uploader: cannot sync directory %s: %s", dir,
		      strerror(errno));
	if (fd >= 0)
		close(fd);
}

static hf_rc write_package(const struct upload_req *req, const char *dir,
			   const char *path, struct hf_error *err)
{
	char *tmp;
	int fd;
	hf_rc rc = create_tmp(dir, strrchr(path, '/') + 1, &fd, &tmp, err);

	if (rc)
		return rc;
	rc = fill_tmp(req, fd, tmp, path, err);
	/* close reports delayed write errors on network file systems. */
	if (close(fd) < 0 && !rc)
		rc = sys_fail(err, "cannot write", tmp);
	if (!rc && rename(tmp, path) < 0)
		rc = sys_fail(err, "cannot rename the temporary file to",
			      path);
	if (rc)
		unlink(tmp);
	else
		sync_dir(dir);
	free(tmp);
	return rc;
}

static hf_rc local_put(struct upl_backend *be, const struct upload_req *req,
		       char **uri, struct hf_error *err)
{
	char *dir = configured_dir(req->conf);
	char *path = xasprintf("%s/%s-%s" NAME_SUFFIX,
			       strcmp(dir, "/") ? dir : "", req->topology,
			       req->role);
	hf_rc rc = check_path(path, false, err);

	if (rc)
		hf_error_prefix(err, "package path %s", path);
	else if (!(rc = make_dirs(dir, err)) &&
		 !(rc = write_package(req, dir, path, err)))
		*uri = xasprintf(URI_SCHEME "%s", path);
	free(dir);
	free(path);
	return rc;
}

/* ---- undo, health, open -------------------------------------------------- */

static hf_rc local_undo(struct upl_backend *be, const char *uri,
			struct hf_error *err)
{
	const char *path;
	hf_rc rc;

	if (strncmp(uri, URI_SCHEME, strlen(URI_SCHEME)) != 0)
		return hf_fail(err, HF_ERR_INVALID, "%s is not a file:// URI",
			       uri);
	path = uri + strlen(URI_SCHEME);
	if ((rc = check_path(path, false, err))) {
		hf_error_prefix(err, "%s", uri);
		return rc;
	}
	if (!ends_with(path, NAME_SUFFIX))
		return hf_fail(err, HF_ERR_INVALID, "%s does not name a "
			       "package this uploader writes", uri);
	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
		return sys_fail(err, "cannot remove", path);
	return HF_OK;
}

/* Cuts the last component off the absolute path p; false at "/". */
static bool to_parent(char *p)
{
	char *s = strrchr(p, '/');

	if (!p[1])
		return false;
	s[s == p] = '\0';
	return true;
}

/* Why put could not create files in dir, or NULL if it could. */
static const char *unwritable(const char *dir, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return "not a directory";
	if (access(dir, W_OK | X_OK) < 0)
		return strerror(errno);
	return NULL;
}

/* Whether put could create files in dir (absolute): dir itself, or while
 * it does not exist its nearest existing ancestor, must be a directory we
 * may write to. On success *made_in is that ancestor (malloc'd), or NULL
 * when dir exists. */
static hf_rc check_writable(const char *dir, char **made_in,
			    struct hf_error *err)
{
	char *p = xstrdup(dir);
	const char *why;
	struct stat st;
	int r;

	*made_in = NULL;
	while ((r = stat(p, &st)) < 0 &&
	       (errno == ENOENT || errno == ENOTDIR) && to_parent(p))
		;
	why = r < 0 ? strerror(errno) : unwritable(p, &st);
	if (why) {
		bool same = strcmp(p, dir) == 0;

		hf_fail(err, HF_ERR_UNAVAILABLE, "%s%s%s", same ? "" : p,
			same ? "" : ": ", why);
	} else if (strcmp(p, dir) != 0) {
		*made_in = p;
		return HF_OK;
	}
	free(p);
	return why ? HF_ERR_UNAVAILABLE : HF_OK;
}

static void local_health(struct upl_backend *be, const struct heron_conf *conf,
			 struct buf *out)
{
	char *dir = configured_dir(conf), *made_in = NULL;
	struct hf_error err = {0};

	cut_at_token(dir);
	if (check_path(dir, true, &err) || check_writable(dir, &made_in, &err))
		buf_printf(out, "failing localfs %s (%s)", dir, err.msg);
	else if (made_in)
		buf_printf(out, "ok localfs %s (to be created; %s writable)",
			   dir, made_in);
	else
		buf_printf(out, "ok localfs %s (writable)", dir);
	free(made_in);
	free(dir);
}

/* Refuses at mount a directory no topology could use. */
static hf_rc local_open(const struct heron_conf *conf,
			struct upl_backend **out, struct hf_error *err)
{
	char *dir = configured_dir(conf);
	hf_rc rc = check_path(dir, true, err);

	if (rc)
		hf_error_prefix(err, "%s %s", DIR_KEY, dir);
	free(dir);
	*out = NULL;
	return rc;
}

static void local_close(struct upl_backend *be)
{
}

const struct upl_ops upl_localfs_ops = {
	.kind = "localfs",
	.class_name = "uploader.localfs.LocalFileSystemUploader",
	.open = local_open,
	.close = local_close,
	.put = local_put,
	.undo = local_undo,
	.health = local_health,
};
