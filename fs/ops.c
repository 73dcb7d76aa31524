#include "ops.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cluster.h"
#include "errmap.h"
#include "heronfs.h"
#include "log.h"
#include "stage.h"
#include "tree.h"

/* An open file: the text rendered at open, served at every offset, or a
 * package being copied in. */
struct handle {
	struct buf text;
	struct staged *staged;
	bool writer;    /* opened for writing: its close submits */
	bool dirty;     /* written to since the last flush */
	bool control;   /* a topology's control file */
};

static struct heronfs *fs_state(void)
{
	return fuse_get_context()->private_data;
}

/* Logs a backend failure met while serving path and returns -errno. */
static int fail(const char *path, const struct hf_error *err)
{
	if (err->rc == HF_ERR_NOTFOUND)
		LOG_D("%s: %s", path, err->msg);
	else
		LOG_W("%s: %s", path, err->msg);
	return -hf_errno(err->rc);
}

static void fill_common(struct stat *st)
{
	const struct heronfs *fs = fs_state();

	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_atime = st->st_mtime = st->st_ctime = fs->mounted_at;
}

static void fill_dir(struct stat *st)
{
	fill_common(st);
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
}

static void fill_file(struct stat *st, mode_t perm)
{
	fill_common(st);
	st->st_mode = S_IFREG | perm;
	st->st_nlink = 1;
	st->st_size = 0;   /* generated text: opened with direct_io */
}

static int container_exists(const char *path, const struct tnode *n)
{
	struct hf_error err = {0};
	size_t count;
	int *ids;
	bool found = false;

	if (cluster_containers(n->cluster, n->name, &ids, &count, &err) !=
	    HF_OK)
		return fail(path, &err);
	for (size_t i = 0; i < count; i++)
		found |= ids[i] == n->instance;
	free(ids);
	return found ? 0 : -ENOENT;
}

/* Resolves path and checks that what it names exists now. */
static int lookup(const char *path, struct tnode *n)
{
	struct hf_error err = {0};
	bool present[TF_NFILES];
	int r = tree_resolve(fs_state(), path, n);

	if (r != 0)
		return r;
	switch (n->kind) {
	case TN_TOPOLOGY:
	case TN_CONTROL:
	case TN_CONTAINERS:
		if (cluster_topology_exists(n->cluster, n->name, &err) != HF_OK)
			return fail(path, &err);
		return 0;
	case TN_CONTAINER:
	case TN_CONTAINER_FILE:
		return container_exists(path, n);
	case TN_TOPOLOGY_FILE:
		if (cluster_topology_files(n->cluster, n->name, present,
					   &err) != HF_OK)
			return fail(path, &err);
		return present[n->tfile] ? 0 : -ENOENT;
	default:
		return 0;
	}
}

/* The staged file path names, with a reference, or NULL. */
static struct staged *staged_at(const char *path)
{
	struct tnode n;

	if (!fs_state()->stage || tree_resolve(fs_state(), path, &n) != 0 ||
	    n.kind != TN_TOPOLOGY)
		return NULL;
	return stage_find(fs_state()->stage, n.cluster, n.name);
}

static void fill_staged(struct stat *st, struct staged *s)
{
	fill_file(st, 0600);
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_size = (off_t)stage_size(s);
}

static int hfs_getattr(const char *path, struct stat *st,
		       struct fuse_file_info *fi)
{
	struct staged *s = staged_at(path);
	struct tnode n;
	int r;

	(void)fi;
	if (s) {
		memset(st, 0, sizeof(*st));
		fill_staged(st, s);
		stage_put(fs_state()->stage, s);
		return 0;
	}
	r = lookup(path, &n);
	if (r != 0)
		return r;
	memset(st, 0, sizeof(*st));
	switch (n.kind) {
	case TN_ROOT:
	case TN_CLUSTER:
	case TN_TOPOLOGY:
	case TN_CONTAINERS:
	case TN_CONTAINER:
		fill_dir(st);
		break;
	case TN_TOPOLOGIES:
		/* Writable by its owner: a new file here is a submission. */
		fill_dir(st);
		st->st_mode = S_IFDIR | 0755;
		break;
	case TN_CLUSTER_FILE:
	case TN_TOPOLOGY_FILE:
	case TN_CONTAINER_FILE:
		fill_file(st, 0444);
		break;
	case TN_CONTROL:
		fill_file(st, 0200);
		break;
	}
	return 0;
}

struct filler_ctx {
	void *buf;
	fuse_fill_dir_t filler;
};

static void add_entry(void *arg, const char *name)
{
	struct filler_ctx *ctx = arg;

	ctx->filler(ctx->buf, name, NULL, 0, 0);
}

static int list_topologies(const char *path, struct cluster *c,
			   struct filler_ctx *ctx)
{
	struct hf_error err = {0};
	char **names;

	if (cluster_list(c, &names, &err) != HF_OK)
		return fail(path, &err);
	for (char **p = names; *p; p++)
		add_entry(ctx, *p);
	strv_free(names);
	return 0;
}

static int list_topology(const char *path, const struct tnode *n,
			 struct filler_ctx *ctx)
{
	struct hf_error err = {0};
	bool present[TF_NFILES];

	if (cluster_topology_files(n->cluster, n->name, present, &err) !=
	    HF_OK)
		return fail(path, &err);
	for (int f = 0; f < TF_NFILES; f++)
		if (present[f])
			add_entry(ctx, topo_file_name((enum topo_file)f));
	add_entry(ctx, "control");
	add_entry(ctx, "containers");
	return 0;
}

static int list_containers(const char *path, const struct tnode *n,
			   struct filler_ctx *ctx)
{
	struct hf_error err = {0};
	size_t count;
	int *ids;

	if (cluster_containers(n->cluster, n->name, &ids, &count, &err) !=
	    HF_OK)
		return fail(path, &err);
	for (size_t i = 0; i < count; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%d", ids[i]);
		add_entry(ctx, name);
	}
	free(ids);
	return 0;
}

static int hfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		       off_t offset, struct fuse_file_info *fi,
		       enum fuse_readdir_flags flags)
{
	struct filler_ctx ctx = {buf, filler};
	struct heronfs *fs = fs_state();
	struct tnode n;
	int r = lookup(path, &n);

	(void)offset;
	(void)fi;
	(void)flags;
	if (r != 0)
		return r;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n.kind) {
	case TN_ROOT:
		for (size_t i = 0; i < fs->nclusters; i++)
			add_entry(&ctx, cluster_name(fs->clusters[i]));
		return 0;
	case TN_CLUSTER:
		tree_fixed_children(&n, add_entry, &ctx);
		return 0;
	case TN_TOPOLOGIES:
		if (fs->stage)
			stage_list(fs->stage, n.cluster, add_entry, &ctx);
		return list_topologies(path, n.cluster, &ctx);
	case TN_TOPOLOGY:
		return list_topology(path, &n, &ctx);
	case TN_CONTAINERS:
		return list_containers(path, &n, &ctx);
	case TN_CONTAINER:
		for (int f = 0; f < CTF_NFILES; f++)
			add_entry(&ctx,
				  container_file_name((enum container_file)f));
		return 0;
	default:
		return -ENOTDIR;
	}
}

static int render(const char *path, const struct tnode *n, struct buf *out)
{
	struct hf_error err = {0};

	switch (n->kind) {
	case TN_CLUSTER_FILE:
		if (n->cfile == CF_LOG)
			cluster_render_log(n->cluster, out);
		else
			cluster_render_health(n->cluster, out);
		return 0;
	case TN_TOPOLOGY_FILE:
		if (cluster_render(n->cluster, n->name, n->tfile, out, &err) !=
		    HF_OK)
			return fail(path, &err);
		return 0;
	case TN_CONTAINER_FILE:
		if (cluster_render_container(n->cluster, n->name, n->instance,
					     n->ctfile, out, &err) != HF_OK)
			return fail(path, &err);
		return 0;
	default:
		return -EISDIR;
	}
}

/* control takes one command per write(2); nothing to read. */
static int open_control(struct fuse_file_info *fi)
{
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		return -EACCES;
	struct handle *h = xcalloc(1, sizeof(*h));

	h->control = true;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->nonseekable = 1;
	return 0;
}

static int hfs_create(const char *path, mode_t mode,
		      struct fuse_file_info *fi);

/* Truncating a package already being submitted would change what is
 * uploaded after it was checked. */
static int truncate_staged(struct staged *s, off_t size)
{
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->submitted)
		r = -EBUSY;
	else if (ftruncate(s->fd, size) != 0)
		r = -errno;
	pthread_mutex_unlock(&s->lock);
	return r;
}

static int hfs_open(const char *path, struct fuse_file_info *fi)
{
	struct staged *s = staged_at(path);
	struct tnode n;
	int r;

	if (s) {
		if (fi->flags & O_TRUNC) {
			r = truncate_staged(s, 0);
			if (r != 0) {
				stage_put(fs_state()->stage, s);
				return r;
			}
		}
		struct handle *h = xcalloc(1, sizeof(*h));

		h->staged = s;
		h->writer = (fi->flags & O_ACCMODE) != O_RDONLY;
		fi->fh = (uintptr_t)h;
		fi->direct_io = 1;
		return 0;
	}
	r = lookup(path, &n);
	/* The kernel may still hold the name of a staged file that is gone:
	 * an O_CREAT open of it is a new submission. */
	if (r == -ENOENT && (fi->flags & O_CREAT) &&
	    tree_resolve(fs_state(), path, &n) == 0 && n.kind == TN_TOPOLOGY)
		return hfs_create(path, 0600, fi);
	if (r != 0)
		return r;
	if (n.kind == TN_CONTROL)
		return open_control(fi);
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	struct handle *h = xcalloc(1, sizeof(*h));

	r = render(path, &n, &h->text);
	if (r != 0) {
		buf_free(&h->text);
		free(h);
		return r;
	}
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static int hfs_read(const char *path, char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	(void)path;
	if (h->staged) {
		ssize_t n = pread(h->staged->fd, buf, size, off);

		return n < 0 ? -errno : (int)n;
	}
	if (off < 0 || (size_t)off >= h->text.len)
		return 0;
	if (size > h->text.len - (size_t)off)
		size = h->text.len - (size_t)off;
	memcpy(buf, h->text.data + off, size);
	return (int)size;
}

static int hfs_release(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	if (h) {
		if (h->staged) {
			stage_put(fs_state()->stage, h->staged);
			/* The name may be gone now: the kernel must not keep
			 * it (a topology directory may take its place). An
			 * unlinked file has no path any more. */
			if (path)
				heronfs_invalidate(fs_state(), path);
		}
		buf_free(&h->text);
		free(h);
	}
	return 0;
}

/* Generated files have no owner, mode or times of their own to change.
 * A package being copied in accepts the attempt and ignores it, so that
 * `cp -p` and `install` work. */
static int staged_noop(const char *path)
{
	struct staged *s = staged_at(path);

	if (!s)
		return -EPERM;
	stage_put(fs_state()->stage, s);
	return 0;
}

static int hfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)mode;
	(void)fi;
	return staged_noop(path);
}

static int hfs_chown(const char *path, uid_t uid, gid_t gid,
		     struct fuse_file_info *fi)
{
	(void)uid;
	(void)gid;
	(void)fi;
	return staged_noop(path);
}

static int hfs_utimens(const char *path, const struct timespec tv[2],
		       struct fuse_file_info *fi)
{
	(void)tv;
	(void)fi;
	return staged_noop(path);
}

static int hfs_truncate(const char *path, off_t size,
			struct fuse_file_info *fi)
{
	struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
	struct staged *s = h && h->staged ? h->staged : staged_at(path);
	struct tnode n;
	int r;

	if (!s) {
		/* The O_TRUNC of `echo x > control` means nothing here. */
		if ((h && h->control) || (lookup(path, &n) == 0 &&
					  n.kind == TN_CONTROL))
			return 0;
		return -EPERM;
	}
	r = truncate_staged(s, size);
	if (!h || h->staged != s)
		stage_put(fs_state()->stage, s);
	return r;
}

/* ---- submission by copy ---- */

static int hfs_create(const char *path, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fuse_context *ctx = fuse_get_context();
	struct hf_error err = {0};
	struct staged *s;
	struct tnode n;
	int r = tree_resolve(fs_state(), path, &n);

	(void)mode;
	if (r != 0)
		return r;
	if (n.kind != TN_TOPOLOGY)
		return -EPERM;
	if (!fs_state()->stage)
		return -EIO;   /* the spool failed at start; logged then */
	if (cluster_topology_exists(n.cluster, n.name, &err) == HF_OK)
		return -EEXIST;
	r = stage_create(fs_state()->stage, n.cluster, n.name, ctx->uid,
			 ctx->gid, &s);
	if (r != 0)
		return r;
	struct handle *h = xcalloc(1, sizeof(*h));

	h->staged = s;
	h->writer = true;
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

static char *user_name(uid_t uid);

static int write_control(const char *path, const char *buf, size_t size)
{
	struct hf_error err = {0};
	enum control_verb verb;
	int container;
	struct tnode n;
	char *user;
	int r = tree_resolve(fs_state(), path, &n);

	if (r != 0)
		return r;
	if (size == 0)
		return 0;
	if (control_parse(buf, size, &verb, &container, &err) != HF_OK) {
		LOG_I("%s: %s", path, err.msg);
		cluster_note_error(n.cluster, n.name, &err);
		return -hf_errno(err.rc);
	}
	user = user_name(fuse_get_context()->uid);
	r = cluster_control(n.cluster, n.name, verb, container, user, &err);
	free(user);
	if (r != HF_OK)
		return fail(path, &err);
	return (int)size;
}

static int hfs_write(const char *path, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	ssize_t n;

	if (h->control)
		return write_control(path, buf, size);
	if (!h->staged)
		return -EBADF;
	pthread_mutex_lock(&h->staged->lock);
	n = h->staged->submitted ? -1 : pwrite(h->staged->fd, buf, size, off);
	if (h->staged->submitted)
		errno = EBADF;  /* the package is already being submitted */
	else if (n >= 0)
		h->dirty = true;
	pthread_mutex_unlock(&h->staged->lock);
	return n < 0 ? -errno : (int)n;
}

static char *user_name(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char scratch[4096];

	if (getpwuid_r(uid, &pw, scratch, sizeof(scratch), &res) == 0 && res)
		return xstrdup(res->pw_name);
	return xasprintf("uid%u", (unsigned)uid);
}

/* The submit runs in the first flush (the close of `cp`), so its errno
 * reaches close(2); later flushes of the same file repeat the result. */
static int submit_staged(const char *path, struct staged *s)
{
	struct hf_error err = {0};
	char *user = user_name(s->uid);
	char *name = NULL;
	struct submit_req req = {
		.spool_path = s->spool_path,
		.file_name = s->name,
		.user = user,
		.role = cluster_role_for(s->cluster, user),
	};

	if (fsync(s->fd) != 0 && errno == ENOSPC) {
		free(user);
		return -ENOSPC;
	}
	if (cluster_submit(s->cluster, &req, &name, &err) != HF_OK) {
		LOG_W("%s: %s", path, err.msg);
		free(user);
		return -hf_errno(err.rc);
	}
	LOG_I("%s: submitted topology %s", path, name);
	free(name);
	free(user);
	return 0;
}

static int hfs_flush(const char *path, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	struct staged *s = h ? h->staged : NULL;
	int r;

	/* FUSE_FLUSH carries no open flags: the handle remembers. A flush
	 * before any write is the close of a descriptor the shell made for
	 * a redirection (`cat pkg > topologies/x`), not the end of a copy;
	 * a deleted copy is abandoned. */
	if (!s || !h->writer)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (!s->submitted && h->dirty && !s->unlinked) {
		s->submitted = true;
		s->result = submit_staged(path ? path : s->name, s);
	}
	r = s->submitted ? s->result : 0;
	h->dirty = false;
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* rmdir topologies/<name> kills the topology, as configfs removes an
 * object with rmdir. */
static int hfs_rmdir(const char *path)
{
	struct hf_error err = {0};
	struct tnode n;
	char *user;
	int r = lookup(path, &n);

	if (r != 0)
		return r;
	if (n.kind != TN_TOPOLOGY)
		return n.kind == TN_TOPOLOGY_FILE || n.kind == TN_CONTROL ||
				       n.kind == TN_CLUSTER_FILE
			       ? -ENOTDIR
			       : -EPERM;
	user = user_name(fuse_get_context()->uid);
	r = cluster_control(n.cluster, n.name, CV_KILL, -1, user, &err);
	free(user);
	return r == HF_OK ? 0 : fail(path, &err);
}

/* A topology comes from copying its package in, not from mkdir. */
static int hfs_mkdir(const char *path, mode_t mode)
{
	(void)path;
	(void)mode;
	return -EPERM;
}

/* Names here are Heron's; mv falls back to copy and unlink on EXDEV. */
static int hfs_rename(const char *from, const char *to, unsigned int flags)
{
	(void)from;
	(void)to;
	(void)flags;
	return -EXDEV;
}

static int hfs_unlink(const char *path)
{
	struct tnode n;
	int r = tree_resolve(fs_state(), path, &n);

	if (r != 0)
		return r;
	if (n.kind == TN_TOPOLOGY && fs_state()->stage &&
	    stage_unlink(fs_state()->stage, n.cluster, n.name) == 0)
		return 0;
	return lookup(path, &n) == 0 ? -EPERM : -ENOENT;
}

static void *hfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct heronfs *fs = fuse_get_context()->private_data;

	(void)conn;
	cfg->entry_timeout = fs->cache_timeout;
	cfg->attr_timeout = fs->cache_timeout;
	cfg->negative_timeout = 0;
	cfg->hard_remove = 1;
	return fs;
}

const struct fuse_operations heronfs_ops = {
	.init = hfs_init,
	.getattr = hfs_getattr,
	.readdir = hfs_readdir,
	.open = hfs_open,
	.read = hfs_read,
	.release = hfs_release,
	.chmod = hfs_chmod,
	.chown = hfs_chown,
	.utimens = hfs_utimens,
	.truncate = hfs_truncate,
	.create = hfs_create,
	.write = hfs_write,
	.flush = hfs_flush,
	.unlink = hfs_unlink,
	.rmdir = hfs_rmdir,
	.mkdir = hfs_mkdir,
	.rename = hfs_rename,
};
