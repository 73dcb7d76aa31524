#include "stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

struct entry {
	struct entry *next;
	struct staged *s;
};

struct stage {
	char *dir;
	pthread_mutex_t lock;  /* protects the list and refs */
	struct entry *entries;
};

static void destroy(struct staged *s)
{
	close(s->fd);
	if (unlink(s->spool_path) != 0)
		LOG_W("removing spool file %s: %s", s->spool_path,
		      strerror(errno));
	pthread_mutex_destroy(&s->lock);
	free(s->spool_path);
	free(s->name);
	free(s);
}

/* Packages pass through the spool between their check and their upload:
 * only this daemon's user may be able to write there. */
static int check_spool(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "heronfs: spool directory %s is not a "
			"directory\n", dir);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		fprintf(stderr, "heronfs: spool directory %s must belong to "
			"uid %u and be writable by it alone\n", dir,
			(unsigned)geteuid());
		return -1;
	}
	return 0;
}

/* Removes a directory of spool files. */
static void remove_spool(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	if (rmdir(path) == 0)
		LOG_I("removed the spool of a stopped heronfs: %s", path);
}

/* Each daemon spools in daemon-<pid>/, so daemons sharing a spool
 * directory never touch each other's copies; what a dead daemon left is
 * removed. */
static void sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid;

		if (strncmp(e->d_name, "daemon-", 7) != 0)
			continue;
		pid = strtol(e->d_name + 7, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;   /* its daemon still runs */
		char *path = xasprintf("%s/%s", dir, e->d_name);

		remove_spool(path);
		free(path);
	}
	closedir(d);
}

int stage_check(const char *spool_dir)
{
	if (mkdir(spool_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "heronfs: cannot create spool directory %s: "
			"%s\n", spool_dir, strerror(errno));
		return -1;
	}
	return check_spool(spool_dir);
}

struct stage *stage_new(const char *spool_dir)
{
	char *own = xasprintf("%s/daemon-%d", spool_dir, (int)getpid());

	sweep(spool_dir);
	if (mkdir(own, 0700) != 0 && errno != EEXIST) {
		LOG_E("cannot create %s: %s", own, strerror(errno));
		free(own);
		return NULL;
	}
	struct stage *stg = xcalloc(1, sizeof(*stg));

	stg->dir = own;
	pthread_mutex_init(&stg->lock, NULL);
	return stg;
}

void stage_free(struct stage *st)
{
	if (!st)
		return;
	/* Handles are all released before the session ends; whatever a
	 * dying session left is removed here. */
	while (st->entries) {
		struct entry *e = st->entries;

		st->entries = e->next;
		destroy(e->s);
		free(e);
	}
	pthread_mutex_destroy(&st->lock);
	rmdir(st->dir);
	free(st->dir);
	free(st);
}

static struct entry **find(struct stage *st, struct cluster *c,
			   const char *name)
{
	for (struct entry **e = &st->entries; *e; e = &(*e)->next)
		if ((*e)->s->cluster == c && !(*e)->s->unlinked &&
		    strcmp((*e)->s->name, name) == 0)
			return e;
	return NULL;
}

int stage_create(struct stage *st, struct cluster *c, const char *name,
		 uid_t uid, gid_t gid, struct staged **out)
{
	char *path = xasprintf("%s/spool-XXXXXX", st->dir);
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		LOG_E("cannot create a spool file in %s: %s", st->dir,
		      strerror(e));
		free(path);
		return -e;
	}
	struct staged *s = xcalloc(1, sizeof(*s));

	s->cluster = c;
	s->name = xstrdup(name);
	s->spool_path = path;
	s->fd = fd;
	s->uid = uid;
	s->gid = gid;
	s->refs = 1;  /* the caller's handle */
	pthread_mutex_init(&s->lock, NULL);

	pthread_mutex_lock(&st->lock);
	if (find(st, c, name)) {
		pthread_mutex_unlock(&st->lock);
		destroy(s);
		return -EEXIST;
	}
	struct entry *e = xcalloc(1, sizeof(*e));

	e->s = s;
	e->next = st->entries;
	st->entries = e;
	pthread_mutex_unlock(&st->lock);
	*out = s;
	return 0;
}

struct staged *stage_find(struct stage *st, struct cluster *c,
			  const char *name)
{
	struct staged *s = NULL;

	pthread_mutex_lock(&st->lock);
	struct entry **e = find(st, c, name);

	if (e) {
		s = (*e)->s;
		s->refs++;
	}
	pthread_mutex_unlock(&st->lock);
	return s;
}

void stage_put(struct stage *st, struct staged *s)
{
	bool last;

	pthread_mutex_lock(&st->lock);
	last = --s->refs == 0;
	if (last) {
		for (struct entry **e = &st->entries; *e; e = &(*e)->next)
			if ((*e)->s == s) {
				struct entry *dead = *e;

				*e = dead->next;
				free(dead);
				break;
			}
	}
	pthread_mutex_unlock(&st->lock);
	if (last)
		destroy(s);
}

int stage_unlink(struct stage *st, struct cluster *c, const char *name)
{
	int r = -ENOENT;

	pthread_mutex_lock(&st->lock);
	struct entry **e = find(st, c, name);

	if (e) {
		(*e)->s->unlinked = true;
		r = 0;
	}
	pthread_mutex_unlock(&st->lock);
	return r;
}

void stage_list(struct stage *st, struct cluster *c,
		void (*fn)(void *arg, const char *name), void *arg)
{
	pthread_mutex_lock(&st->lock);
	for (struct entry *e = st->entries; e; e = e->next)
		if (e->s->cluster == c && !e->s->unlinked)
			fn(arg, e->s->name);
	pthread_mutex_unlock(&st->lock);
}

uint64_t stage_size(const struct staged *s)
{
	struct stat st;

	return fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}
