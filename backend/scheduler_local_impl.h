/* scheduler_local_impl: what the local scheduler's files share.
 *
 * scheduler_local.c describes the back end (launch, the registry, the
 * threads and their locks) and holds the ops table, jobs, tasks and events;
 * local_exec.c runs executors (fork/exec, ports, stopping, the working
 * directory and its extraction, the monitor thread); local_registry.c
 * reads and writes the registry files. "be->lock held" below means the
 * caller holds it; see scheduler_local.c for the lock order.
 *
 * Private to scheduler_local.c, local_exec.c and local_registry.c.
 */
#ifndef HERONFS_SCHEDULER_LOCAL_IMPL_H
#define HERONFS_SCHEDULER_LOCAL_IMPL_H

#include "scheduler_impl.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CORE_DIR_KEY     "heron.package.core.directory"
#define CORE_DIR_DEFAULT "${HERON_DIST}/heron-core"
#define NPORTS           9       /* port flags per executor */
#define NOT_YET          (-2)    /* local_reap(): not exited yet */

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

/* What LocalLauncher.launch needs besides the job. */
struct setup {
	char *package;          /* the topology package's path */
	char *core;             /* the heron-core tarball or directory */
	bool use_core_uri;
};

/* ---- scheduler_local.c --------------------------------------------------- */

long long local_mono_ms(void);
void local_close_fd(int *fd);
/* The errno of a failed call on path: HF_ERR_NOSPACE or UNAVAILABLE. */
hf_rc local_sys_fail(struct hf_error *err, const char *what, const char *path);
/* Creates path and its missing parents. */
int local_mkdir_p(const char *path, mode_t mode);
/* HF_ERR_INVALID unless path is absolute and free of "${". */
hf_rc local_check_local_path(const char *what, const char *path,
		       struct hf_error *err);

/* Tasks and events, be->lock held. current: the slot's current task.
 * event: records an event on it, which takes its status. task_new: a new
 * current task replacing serial ancestor. schedule_start: a new pending
 * task that the monitor starts after s->backoff_ms. */
struct task *local_current(struct slot *s);
void local_event(struct slot *s, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void local_task_new(struct slot *s, long ancestor);
int local_next_backoff(int ms);
void local_schedule_start(struct slot *s);

/* Jobs. job_new: shards are n container indexes, or NULL to set them
 * later. The rest with be->lock held: release ends a claim of slot idx
 * (-1: all); take_proc takes the process out of a claimed slot; install
 * makes p (and argv, taken) the new run of a claimed slot. */
struct job *local_job_new(const struct job_key *k, const int *shards, size_t n);
void local_job_free(struct job *j);
struct job *local_find_key(struct sched_backend *be, const struct job_key *k);
struct job *local_find_id(struct sched_backend *be, uint64_t id);
void local_job_add(struct sched_backend *be, struct job *j);
void local_release(struct sched_backend *be, struct job *j, int idx);
struct proc local_take_proc(struct slot *s);
void local_install(struct slot *s, struct proc *p, char **argv);

/* ---- local_exec.c -------------------------------------------------------- */

/* "heron-executor-<shard>.stderr", ShellUtils' name for the log. */
char *local_log_name(const char *executor, int shard);
int local_pidfd_open(pid_t pid);
/* Fields 3, 5 and 22 of /proc/<pid>/stat; false: no such process. */
bool local_read_stat(pid_t pid, char *state, pid_t *pgrp,
	       unsigned long long *start);
/* Whether p has exited (it is not reaped here). */
bool local_proc_exited(const struct proc *p);
/* Our child's wait status; -1: not ours to reap; NOT_YET. */
int local_reap(pid_t pid, bool block);
void local_describe_exit(int st, char *out, size_t n);
/* n different ports, each free when it was picked. */
hf_rc local_free_ports(int *ports, size_t n, struct hf_error *err);
/* The executor's argv with NPORTS ports (malloc'd). */
char **local_executor_argv(const struct job *j, int shard, const int *ports);
/* Starts argv[0] for shard of j in its working directory. */
hf_rc local_spawn(const struct sched_backend *be, const struct job *j,
	    int shard, char **argv, struct proc *out,
	    struct hf_error *err);
/* The first of the processes not gone to exit within ms, -1 if none. */
int local_wait_exit(const struct proc *p, bool *gone, size_t n, int ms);
/* SIGTERM, then SIGKILL; reaps the children, closes the pidfds. */
void local_stop_procs(struct proc *p, size_t n);
/* Creates or empties workdir and puts heron-core and the package in. */
hf_rc local_prepare_workdir(const struct setup *su, const char *workdir,
		      struct hf_error *err);
/* Starts claimed slot s again with new ports, be->lock not held. */
hf_rc local_start_slot(struct sched_backend *be, struct job *j,
		 struct slot *s, struct hf_error *err);
/* The monitor thread; arg is the back end. */
void *local_monitor_main(void *arg);

/* ---- local_registry.c ---------------------------------------------------- */

/* <cluster>.<role>.<environ>.<name>.json, each part escaped. */
char *local_key_file(const char *const parts[4]);
/* Creates and locks the registry directory. */
hf_rc local_registry_open(struct sched_backend *be, const struct heron_conf *conf,
		    struct hf_error *err);
/* Adopts or restarts the recorded jobs (at open). */
void local_registry_load(struct sched_backend *be);
/* Writes job id's file if it changed; be->lock not held. */
hf_rc local_registry_save(struct sched_backend *be, uint64_t id,
		    struct hf_error *err);
hf_rc local_registry_remove(struct sched_backend *be, const char *file,
		      struct hf_error *err);

#endif
