#include "notify.h"

#include <fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"

struct pending {
	struct pending *next;
	char *path;
};

struct notifier {
	struct fuse *fuse;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pending *head, *tail;
	bool stop;
};

static void *run(void *arg)
{
	struct notifier *n = arg;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		while (!n->head && !n->stop)
			pthread_cond_wait(&n->cond, &n->lock);
		if (n->stop)
			break;
		struct pending *p = n->head;

		n->head = p->next;
		if (!n->head)
			n->tail = NULL;
		pthread_mutex_unlock(&n->lock);
		/* ENOENT only means the kernel holds nothing for it. */
		fuse_invalidate_path(n->fuse, p->path);
		LOG_D("invalidated %s", p->path);
		free(p->path);
		free(p);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

struct notifier *notifier_start(struct fuse *f)
{
	struct notifier *n = xcalloc(1, sizeof(*n));

	n->fuse = f;
	pthread_mutex_init(&n->lock, NULL);
	pthread_cond_init(&n->cond, NULL);
	if (pthread_create(&n->thread, NULL, run, n) != 0) {
		LOG_E("cannot start the invalidation thread");
		pthread_cond_destroy(&n->cond);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	return n;
}

void notifier_push(struct notifier *n, const char *path)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	for (struct pending *p = n->head; p; p = p->next)
		if (strcmp(p->path, path) == 0) {
			pthread_mutex_unlock(&n->lock);
			return;
		}
	struct pending *p = xcalloc(1, sizeof(*p));

	p->path = xstrdup(path);
	if (n->tail)
		n->tail->next = p;
	else
		n->head = p;
	n->tail = p;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_cond_signal(&n->cond);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	while (n->head) {
		struct pending *p = n->head;

		n->head = p->next;
		free(p->path);
		free(p);
	}
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
	free(n);
}
