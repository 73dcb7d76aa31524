#include "containers.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"

void container_set_free(struct container_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n_tasks; i++) {
		struct container_task *t = &set->tasks[i];

		for (size_t e = 0; e < t->n_events; e++) {
			free(t->events[e].status);
			free(t->events[e].message);
		}
		free(t->events);
		free(t->task_id);
		free(t->status);
		free(t->host);
		free(t->ancestor_id);
	}
	free(set->tasks);
	free(set);
}

static long long first_event(const struct container_task *t)
{
	return t->n_events ? t->events[0].time_ms : 0;
}

static int cmp_task(const void *a, const void *b)
{
	const struct container_task *x = a, *y = b;
	long long fx = first_event(x), fy = first_event(y);

	if (x->instance != y->instance)
		return x->instance < y->instance ? -1 : 1;
	if (fx != fy)
		return fx < fy ? -1 : 1;
	return strcmp(x->task_id ? x->task_id : "",
		      y->task_id ? y->task_id : "");
}

void container_set_sort(struct container_set *set)
{
	if (set->n_tasks > 1)
		qsort(set->tasks, set->n_tasks, sizeof(*set->tasks), cmp_task);
}

size_t container_set_latest(const struct container_set *set,
			    const struct container_task ***out)
{
	size_t n = 0;

	*out = xcalloc(set->n_tasks + 1, sizeof(**out));
	for (size_t i = 0; i < set->n_tasks; i++) {
		const struct container_task *t = &set->tasks[i];

		/* Sorted: the last task of an instance is its newest. */
		if (i + 1 < set->n_tasks && set->tasks[i + 1].instance ==
						    t->instance)
			continue;
		(*out)[n++] = t;
	}
	return n;
}
