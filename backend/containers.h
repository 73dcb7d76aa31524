/* containers: what a scheduler knows about a topology's containers, in
 * one shape for every scheduler (Aurora tasks, local processes). */
#ifndef HERONFS_CONTAINERS_H
#define HERONFS_CONTAINERS_H

#include <stddef.h>

struct container_event {
	long long time_ms;
	char *status;          /* lowercase word: "running", "killed" */
	char *message;         /* may be NULL */
};

struct container_task {
	int instance;          /* Heron container index; 0 = TManager's */
	char *task_id;
	char *status;          /* lowercase word, Aurora's ScheduleStatus
				* names: pending, starting, running, failed,
				* finished, killing, killed, lost, ... */
	char *host;            /* NULL while not placed */
	char *ancestor_id;     /* the task this one replaced, or NULL */
	int failure_count;
	struct container_event *events;   /* oldest first */
	size_t n_events;
};

struct container_set {
	struct container_task *tasks;     /* sorted by instance, then by
					   * first event time, newest last */
	size_t n_tasks;
};

void container_set_free(struct container_set *set);

/* The newest task of each instance, in instance order, pointing into
 * set. Returns how many; *out is malloc'd (free it, not its members). */
size_t container_set_latest(const struct container_set *set,
			    const struct container_task ***out);

/* Sorts set->tasks into the order documented above. */
void container_set_sort(struct container_set *set);

#endif
