/* statemgr_local: Heron's LocalFileSystemStateManager layout as plain files.
 *
 * <root>/<dir>/<name> holds the serialized message. An empty file reads as
 * absent, as in Heron, whose writers create a file before filling it.
 * heronfs writes a temporary file first and then publishes it whole: with
 * link() where Heron creates new (topologies, executionstate, pplans and
 * locks: fails if the name exists, like O_EXCL), with rename() where Heron
 * overwrites. Temporary names start with '.'; dot names are never listed.
 *
 * No cache: reading a small file is cheap. Changes are reported from an
 * inotify thread watching the root and its subdirectories; while the root
 * does not exist, that thread looks for it once a second.
 */
#include "statemgr_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define LOCAL_MAX_FILE  (64 * 1024 * 1024)  /* far above any Heron state */
#define ROOT_POLL_MS    1000
#define TMP_ATTEMPTS    100

#define ROOT_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define DIR_EVENTS  (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		     IN_CLOSE_WRITE | IN_ONLYDIR)

/* A file created as ephemeral, removed at close if it is still ours:
 * same inode and same ctime (inode numbers are reused at once). */
struct ephemeral {
	struct ephemeral *next;
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	char path[];
};

struct dir_watch {
	int wd;
	char *name;
};

struct sm_backend {
	struct statemgr *sm;
	char *root;                  /* "" for "/" */
	atomic_ulong requests;
	atomic_uint tmp_seq;

	pthread_mutex_t lock;        /* ephemerals */
	struct ephemeral *ephemerals;

	int ifd;                     /* inotify, or -1 */
	int wake;                    /* eventfd that stops the thread */
	bool threaded;
	pthread_t thread;
	/* Used by open, then only by the thread: */
	int root_wd;                 /* -1 while the root is not watched */
	struct dir_watch *dirs;
	size_t ndirs;
};

static const char *root_path(const struct sm_backend *lf)
{
	return lf->root[0] ? lf->root : "/";
}

static hf_rc errno_rc(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return HF_ERR_NOSPACE;
	case EACCES:
	case EPERM:
	case EROFS:
		return HF_ERR_PERM;
	default:
		return HF_ERR_UNAVAILABLE;
	}
}

static hf_rc sys_fail(struct hf_error *err, const char *what,
		      const char *path)
{
	int e = errno;

	return hf_fail(err, errno_rc(e), "%s %s: %s", what, path, strerror(e));
}

/* ---- reads --------------------------------------------------------------- */

static hf_rc read_fd(int fd, const char *path, struct buf *out,
		     struct hf_error *err)
{
	char chunk[16384];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys_fail(err, "cannot read", path);
		buf_append(out, chunk, (size_t)n);
		if (out->len > LOCAL_MAX_FILE)
			return hf_fail(err, HF_ERR_CORRUPT,
				       "%s is larger than %d bytes: not a Heron "
				       "state file", path, LOCAL_MAX_FILE);
	}
	return HF_OK;
}

static hf_rc local_get(struct sm_backend *lf, const char *dir,
		       const char *name, struct buf *out, struct hf_error *err)
{
	char *path = xasprintf("%s/%s/%s", lf->root, dir, name);
	hf_rc rc;

	atomic_fetch_add(&lf->requests, 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		rc = hf_fail(err, HF_ERR_NOTFOUND, "%s does not exist", path);
	else if (fd < 0)
		rc = sys_fail(err, "cannot open", path);
	else
		rc = read_fd(fd, path, out, err);
	if (fd >= 0)
		close(fd);
	if (rc == HF_OK && out->len == 0)
		rc = hf_fail(err, HF_ERR_NOTFOUND,
			     "%s is empty, which Heron reads as absent", path);
	if (rc != HF_OK)
		buf_reset(out);
	free(path);
	return rc;
}

/* Hidden: dot names (our temporary files) and empty files (absent). */
static bool listed(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_name[0] == '.')
		return false;
	if (de->d_type == DT_DIR)
		return true;
	if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;   /* gone meanwhile */
	return !S_ISREG(st.st_mode) || st.st_size > 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static hf_rc read_dir(DIR *d, const char *path, char ***names,
		      struct hf_error *err)
{
	size_t n = 0, cap = 16;
	char **v = xcalloc(cap, sizeof(*v));
	struct dirent *de;

	errno = 0;
	while ((de = readdir(d))) {
		if (!listed(dirfd(d), de))
			continue;
		if (n + 1 == cap)
			v = xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		errno = 0;
	}
	v[n] = NULL;
	if (errno) {
		hf_rc rc = sys_fail(err, "cannot list", path);
		strv_free(v);
		return rc;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	return HF_OK;
}

static hf_rc local_list(struct sm_backend *lf, const char *dir, char ***names,
			struct hf_error *err)
{
	char *path = dir ? xasprintf("%s/%s", lf->root, dir)
			 : xstrdup(root_path(lf));
	hf_rc rc;

	atomic_fetch_add(&lf->requests, 1);
	DIR *d = opendir(path);
	if (!d && (errno == ENOENT || errno == ENOTDIR)) {
		*names = xcalloc(1, sizeof(char *));
		rc = HF_OK;
	} else if (!d) {
		rc = sys_fail(err, "cannot list", path);
	} else {
		rc = read_dir(d, path, names, err);
		closedir(d);
	}
	free(path);
	return rc;
}

/* ---- writes -------------------------------------------------------------- */

static hf_rc make_dirs(const char *path, struct hf_error *err)
{
	char *p = xstrdup(path);
	hf_rc rc = HF_OK;

	for (char *s = p + 1; rc == HF_OK; s++) {
		bool last = !*s;
		if (*s != '/' && !last)
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			rc = sys_fail(err, "cannot create directory", p);
		if (last)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

static bool write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Writes data to a new temporary file in dir and syncs it, so that it can
 * be published whole. */
static hf_rc write_temp(struct sm_backend *lf, const char *dir,
			const void *data, size_t len, char **tmp,
			struct hf_error *err)
{
	int fd = -1;

	for (int i = 0; i < TMP_ATTEMPTS && fd < 0; i++) {
		*tmp = xasprintf("%s/.heronfs.%ld.%u.tmp", dir, (long)getpid(),
				 atomic_fetch_add(&lf->tmp_seq, 1));
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST) {
			free(*tmp);
			*tmp = NULL;
			continue;
		}
		if (fd < 0) {
			hf_rc rc = sys_fail(err, "cannot create a file in",
					    dir);
			free(*tmp);
			*tmp = NULL;
			return rc;
		}
	}
	if (fd < 0)
		return hf_fail(err, HF_ERR_UNAVAILABLE,
			       "cannot create a file in %s: stale temporary "
			       "files in the way", dir);
	if (!write_all(fd, data, len) || fsync(fd) < 0) {
		hf_rc rc = sys_fail(err, "cannot write", *tmp);
		close(fd);
		return rc;
	}
	if (close(fd) < 0)
		return sys_fail(err, "cannot write", *tmp);
	return HF_OK;
}

static bool creates_new(enum sm_dir id)
{
	return id == SM_TOPOLOGIES || id == SM_EXECUTIONSTATE ||
	       id == SM_PPLANS || id == SM_LOCKS;
}

/* link() fails with EEXIST whatever is there, as Heron's create-new does
 * for an existing file even when it is empty. */
static hf_rc publish_new(const char *tmp, const char *path,
			 struct hf_error *err)
{
	struct stat st;

	if (link(tmp, path) == 0)
		return HF_OK;
	if (errno != EEXIST)
		return sys_fail(err, "cannot create", path);
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		return hf_fail(err, HF_ERR_EXISTS,
			       "%s already exists (empty: being written, or "
			       "left behind by a crash)", path);
	return hf_fail(err, HF_ERR_EXISTS, "%s already exists", path);
}

static hf_rc publish_replace(const char *tmp, const char *path,
			     struct hf_error *err)
{
	if (rename(tmp, path) == 0)
		return HF_OK;
	return sys_fail(err, "cannot write", path);
}

static bool same_file(const struct ephemeral *e, const struct stat *st)
{
	return st->st_dev == e->dev && st->st_ino == e->ino &&
	       st->st_ctim.tv_sec == e->ctime.tv_sec &&
	       st->st_ctim.tv_nsec == e->ctime.tv_nsec;
}

static void remember(struct sm_backend *lf, const char *path)
{
	size_t n = strlen(path) + 1;
	struct stat st;

	if (lstat(path, &st) < 0) {
		LOG_W("ephemeral %s vanished at once: %s", path,
		      strerror(errno));
		return;
	}
	struct ephemeral *e = xmalloc(sizeof(*e) + n);
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->ctime = st.st_ctim;
	memcpy(e->path, path, n);
	pthread_mutex_lock(&lf->lock);
	e->next = lf->ephemerals;
	lf->ephemerals = e;
	pthread_mutex_unlock(&lf->lock);
}

static void forget(struct sm_backend *lf, const char *path)
{
	pthread_mutex_lock(&lf->lock);
	for (struct ephemeral **pp = &lf->ephemerals; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->path, path) == 0) {
			struct ephemeral *e = *pp;
			*pp = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&lf->lock);
}

static hf_rc local_create(struct sm_backend *lf, enum sm_dir id,
			  const char *dir, const char *name, const void *data,
			  size_t len, bool ephemeral, struct hf_error *err)
{
	char *dpath = xasprintf("%s/%s", lf->root, dir);
	char *path = xasprintf("%s/%s", dpath, name);
	char *tmp = NULL;
	hf_rc rc = make_dirs(dpath, err);

	if (rc == HF_OK)
		rc = write_temp(lf, dpath, data, len, &tmp, err);
	if (rc == HF_OK)
		rc = creates_new(id) ? publish_new(tmp, path, err)
				     : publish_replace(tmp, path, err);
	if (tmp)
		unlink(tmp);   /* after link(), or after a failure */
	if (rc == HF_OK && ephemeral)
		remember(lf, path);
	free(tmp);
	free(path);
	free(dpath);
	return rc;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

static hf_rc local_remove(struct sm_backend *lf, const char *dir,
			  const char *name, bool recursive,
			  struct hf_error *err)
{
	char *path = xasprintf("%s/%s/%s", lf->root, dir, name);
	hf_rc rc = HF_OK;

	if (unlink(path) < 0 && errno != ENOENT) {
		if (errno == EISDIR && recursive) {
			if (nftw(path, remove_entry, 16,
				 FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
				rc = sys_fail(err, "cannot delete", path);
		} else {
			rc = sys_fail(err, "cannot delete", path);
		}
	}
	if (rc == HF_OK)
		forget(lf, path);
	free(path);
	return rc;
}

/* ---- change notification ------------------------------------------------- */

static struct dir_watch *find_wd(struct sm_backend *lf, int wd)
{
	for (size_t i = 0; i < lf->ndirs; i++)
		if (lf->dirs[i].wd == wd)
			return &lf->dirs[i];
	return NULL;
}

static void drop_watch(struct sm_backend *lf, struct dir_watch *w)
{
	free(w->name);
	*w = lf->dirs[--lf->ndirs];
}

static void watch_dir(struct sm_backend *lf, const char *name)
{
	char *path = xasprintf("%s/%s", lf->root, name);
	int wd = inotify_add_watch(lf->ifd, path, DIR_EVENTS);

	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			LOG_W("cannot watch %s for changes: %s", path,
			      strerror(errno));
		free(path);
		return;
	}
	free(path);
	struct dir_watch *w = find_wd(lf, wd);
	if (w) {   /* the same directory again, maybe renamed */
		free(w->name);
		w->name = xstrdup(name);
		return;
	}
	lf->dirs = xrealloc(lf->dirs, (lf->ndirs + 1) * sizeof(*lf->dirs));
	lf->dirs[lf->ndirs].wd = wd;
	lf->dirs[lf->ndirs++].name = xstrdup(name);
}

static void unwatch_dir(struct sm_backend *lf, const char *name)
{
	for (size_t i = 0; i < lf->ndirs; i++) {
		if (strcmp(lf->dirs[i].name, name) == 0) {
			inotify_rm_watch(lf->ifd, lf->dirs[i].wd);
			drop_watch(lf, &lf->dirs[i]);
			return;
		}
	}
}

static void unwatch_all(struct sm_backend *lf)
{
	while (lf->ndirs > 0) {
		inotify_rm_watch(lf->ifd, lf->dirs[0].wd);
		drop_watch(lf, &lf->dirs[0]);
	}
	if (lf->root_wd >= 0)
		inotify_rm_watch(lf->ifd, lf->root_wd);
	lf->root_wd = -1;
}

static bool is_dir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Watches every subdirectory; those created before the root watch was in
 * place are found here. */
static void scan_root(struct sm_backend *lf)
{
	DIR *d = opendir(root_path(lf));
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && is_dir(dirfd(d), de))
			watch_dir(lf, de->d_name);
	closedir(d);
}

static bool watch_root(struct sm_backend *lf)
{
	lf->root_wd = inotify_add_watch(lf->ifd, root_path(lf), ROOT_EVENTS);
	if (lf->root_wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			LOG_W("cannot watch %s for changes: %s",
			      root_path(lf), strerror(errno));
		return false;
	}
	scan_root(lf);
	return true;
}

static void root_event(struct sm_backend *lf, const struct inotify_event *ev)
{
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		unwatch_all(lf);
		statemgr_changed_all(lf->sm);
		return;
	}
	if (!(ev->mask & IN_ISDIR) || !ev->len || ev->name[0] == '.')
		return;
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		watch_dir(lf, ev->name);
	else
		unwatch_dir(lf, ev->name);   /* a moved directory keeps its watch */
	statemgr_changed(lf->sm, NULL, NULL);
	statemgr_changed(lf->sm, ev->name, NULL);
}

static void handle_event(struct sm_backend *lf, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		if (lf->root_wd >= 0)
			scan_root(lf);
		statemgr_changed_all(lf->sm);
		return;
	}
	if (lf->root_wd >= 0 && ev->wd == lf->root_wd) {
		root_event(lf, ev);
		return;
	}
	struct dir_watch *w = find_wd(lf, ev->wd);
	if (!w)
		return;
	if (ev->mask & IN_IGNORED) {
		drop_watch(lf, w);
		return;
	}
	if (!ev->len || ev->name[0] == '.')
		return;
	/* The listing hides empty files, so a write can change it too. */
	statemgr_changed(lf->sm, w->name, ev->name);
	statemgr_changed(lf->sm, w->name, NULL);
}

static void read_events(struct sm_backend *lf)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(lf->ifd, buf, sizeof(buf));

	for (char *p = buf; n > 0 && p < buf + n;) {
		const struct inotify_event *ev = (const void *)p;
		handle_event(lf, ev);
		p += sizeof(*ev) + ev->len;
	}
}

static void *watch_loop(void *arg)
{
	struct sm_backend *lf = arg;

	for (;;) {
		if (lf->root_wd < 0 && watch_root(lf))
			statemgr_changed_all(lf->sm);   /* the root appeared */
		struct pollfd p[2] = {
			{ .fd = lf->ifd, .events = POLLIN },
			{ .fd = lf->wake, .events = POLLIN },
		};
		if (poll(p, 2, lf->root_wd < 0 ? ROOT_POLL_MS : -1) < 0) {
			if (errno == EINTR)
				continue;
			LOG_E("state directory watch stopped: poll: %s",
			      strerror(errno));
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			read_events(lf);
	}
	return NULL;
}

/* Without inotify the state manager still works; only changes made by
 * others reach the kernel's caches late. */
static void start_watching(struct sm_backend *lf)
{
	lf->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	lf->wake = lf->ifd < 0 ? -1 : eventfd(0, EFD_CLOEXEC);
	if (lf->ifd < 0 || lf->wake < 0) {
		LOG_W("cannot watch %s for changes: %s", root_path(lf),
		      strerror(errno));
		return;
	}
	watch_root(lf);   /* before any read, so no change is missed */
	int e = pthread_create(&lf->thread, NULL, watch_loop, lf);
	if (e)
		LOG_W("cannot watch %s for changes: %s", root_path(lf),
		      strerror(e));
	lf->threaded = e == 0;
}

static void stop_watching(struct sm_backend *lf)
{
	if (lf->threaded) {
		uint64_t one = 1;
		if (write(lf->wake, &one, sizeof(one)) != sizeof(one))
			LOG_E("cannot stop the state directory watch: %s",
			      strerror(errno));
		pthread_join(lf->thread, NULL);
	}
	while (lf->ndirs > 0)
		drop_watch(lf, &lf->dirs[0]);
	free(lf->dirs);
	if (lf->wake >= 0)
		close(lf->wake);
	if (lf->ifd >= 0)
		close(lf->ifd);
}

/* ---- open, close, status ------------------------------------------------- */

static hf_rc local_open(struct statemgr *sm, const struct heron_conf *conf,
			const char *root, struct sm_backend **out,
			struct hf_error *err)
{
	struct sm_backend *lf = xcalloc(1, sizeof(*lf));

	lf->sm = sm;
	lf->root = xstrdup(root);
	lf->root_wd = -1;
	pthread_mutex_init(&lf->lock, NULL);
	start_watching(lf);
	*out = lf;
	return HF_OK;
}

/* Removes the ephemeral files that still are the ones this process wrote. */
static void remove_ephemerals(struct sm_backend *lf)
{
	struct ephemeral *e, *next;
	struct stat st;

	for (e = lf->ephemerals; e; e = next) {
		next = e->next;
		if (lstat(e->path, &st) == 0 && same_file(e, &st) &&
		    unlink(e->path) < 0)
			LOG_W("cannot delete ephemeral %s: %s", e->path,
			      strerror(errno));
		free(e);
	}
	lf->ephemerals = NULL;
}

static void local_close(struct sm_backend *lf)
{
	stop_watching(lf);
	remove_ephemerals(lf);
	pthread_mutex_destroy(&lf->lock);
	free(lf->root);
	free(lf);
}

static void local_health(struct sm_backend *lf, struct buf *out)
{
	struct stat st;
	const char *root = root_path(lf);
	int r = stat(root, &st);

	if (r == 0 && S_ISDIR(st.st_mode))
		buf_printf(out, "statemgr: ok localfs %s", root);
	else if (r == 0)
		buf_printf(out, "statemgr: error localfs %s: not a directory",
			   root);
	else if (errno == ENOENT)
		buf_printf(out, "statemgr: ok localfs %s (not created yet)",
			   root);
	else
		buf_printf(out, "statemgr: error localfs %s: %s", root,
			   strerror(errno));
}

static bool local_connected(struct sm_backend *lf)
{
	struct stat st;

	return stat(root_path(lf), &st) == 0 ? S_ISDIR(st.st_mode)
					     : errno == ENOENT;
}

static unsigned long local_request_count(struct sm_backend *lf)
{
	return atomic_load(&lf->requests);
}

const struct sm_ops sm_local_ops = {
	.kind = "localfs",
	.open = local_open,
	.close = local_close,
	.get = local_get,
	.list = local_list,
	.create = local_create,
	.remove = local_remove,
	.health = local_health,
	.connected = local_connected,
	.request_count = local_request_count,
};
