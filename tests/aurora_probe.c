/* aurora_probe: drives aurora_api and tmanager from the command line, for
 * the integration tests (tests/test_aurora_api.py).
 *
 *   aurora_probe CONF_DIR CLUSTER tasks ROLE ENV NAME [repeat N]
 *                [threads T] [latest]
 *       every task, one line each:
 *       "instance status host task_id ancestor failure_count n_events"
 *       ("-" for none), then with latest "latest instance status task_id"
 *       for each instance's newest task, then "requests N". T threads
 *       (default 1) start together and each reads the job N times (default
 *       1); the first thread's last answer is printed.
 *   aurora_probe CONF_DIR CLUSTER health
 *       the health line; exit 1 unless it says ok.
 *   aurora_probe tmanager HOST PORT VERB ID [TIMEOUT_MS]
 *       "ok", or the error; TIMEOUT_MS defaults to 5000.
 *
 * CONF_DIR is a Heron cluster conf directory (heronfs.aurora.* keys in its
 * heronfs.yaml). Errors go to stderr as "aurora_probe: <code>: <reason>"
 * with exit status 1; usage errors exit 2. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <zookeeper/zookeeper.h>

#include "aurora_api.h"
#include "heron_conf.h"
#include "tmanager.h"

static int usage(void)
{
	fputs("usage: aurora_probe CONF_DIR CLUSTER tasks ROLE ENV NAME "
	      "[repeat N] [threads T] [latest]\n"
	      "       aurora_probe CONF_DIR CLUSTER health\n"
	      "       aurora_probe tmanager HOST PORT VERB ID [TIMEOUT_MS]\n",
	      stderr);
	return 2;
}

static int fail(const struct hf_error *err)
{
	fprintf(stderr, "aurora_probe: %s: %s\n", hf_rc_name(err->rc),
		err->msg);
	return 1;
}

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static void print_job(const struct container_set *job)
{
	for (size_t i = 0; i < job->n_tasks; i++) {
		const struct container_task *t = &job->tasks[i];
		printf("%d %s %s %s %s %d %zu\n", t->instance, t->status,
		       or_dash(t->host), t->task_id, or_dash(t->ancestor_id),
		       t->failure_count, t->n_events);
	}
}

struct reads {
	pthread_barrier_t *start;
	struct aurora_api *api;
	const char *role, *environ, *name;
	long repeat;
	struct container_set *job;    /* the last answer */
	struct hf_error err;
	hf_rc rc;
};

static void *read_job(void *arg)
{
	struct reads *r = arg;

	pthread_barrier_wait(r->start);
	for (long i = 0; i < r->repeat && r->rc == HF_OK; i++) {
		container_set_free(r->job);
		r->job = NULL;
		r->rc = aurora_api_tasks(r->api, r->role, r->environ, r->name,
					 &r->job, &r->err);
	}
	return NULL;
}

static void print_latest(const struct container_set *job)
{
	const struct container_task **latest;
	size_t n = container_set_latest(job, &latest);

	for (size_t i = 0; i < n; i++)
		printf("latest %d %s %s\n", latest[i]->instance,
		       latest[i]->status, latest[i]->task_id);
	free(latest);
}

/* Options after NAME: repeat N, threads T (each thread reads N times, all
 * at once), latest (also print container_set_latest). */
static bool parse_options(int argc, char **argv, long *repeat, long *threads,
			  bool *latest)
{
	for (int i = 7; i < argc; i++) {
		if (strcmp(argv[i], "latest") == 0)
			*latest = true;
		else if (i + 1 < argc && strcmp(argv[i], "repeat") == 0)
			*repeat = strtol(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "threads") == 0)
			*threads = strtol(argv[++i], NULL, 10);
		else
			return false;
	}
	return *repeat >= 1 && *threads >= 1 && *threads <= 64;
}

static int run_tasks(struct aurora_api *a, char **argv, int argc)
{
	long repeat = 1, threads = 1;
	bool latest = false;
	pthread_barrier_t start;
	struct reads r[64];
	pthread_t tid[64];
	int status = 0;

	if (argc < 7 || !parse_options(argc, argv, &repeat, &threads, &latest))
		return usage();
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (long i = 0; i < threads; i++) {
		r[i] = (struct reads){&start, a, argv[4], argv[5], argv[6],
				      repeat, NULL, {0}, HF_OK};
		if (pthread_create(&tid[i], NULL, read_job, &r[i]) != 0) {
			perror("aurora_probe: pthread_create");
			exit(1);
		}
	}
	for (long i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	for (long i = 0; i < threads; i++)
		if (r[i].rc != HF_OK && status == 0)
			status = fail(&r[i].err);
	if (status == 0) {
		print_job(r[0].job);
		if (latest)
			print_latest(r[0].job);
	}
	for (long i = 0; i < threads; i++)
		container_set_free(r[i].job);
	printf("requests %lu\n", aurora_api_request_count(a));
	return status;
}

static int run_health(struct aurora_api *a)
{
	struct buf line = {0};
	int status;

	aurora_api_health(a, &line);
	printf("%s\n", line.data ? line.data : "");
	status = line.data && strncmp(line.data, "scheduler: ok ", 14) == 0
			 ? 0 : 1;
	buf_free(&line);
	return status;
}

static int run_cluster(int argc, char **argv)
{
	struct heron_conf *conf = NULL;
	struct aurora_api *a = NULL;
	struct hf_error err = {0};
	int status;

	if (argc < 4)
		return usage();
	if (heron_conf_load(argv[1], NULL, NULL, NULL, &conf, &err) != HF_OK)
		return fail(&err);
	if (aurora_api_open(conf, argv[2], &a, &err) != HF_OK) {
		heron_conf_free(conf);
		return fail(&err);
	}
	if (strcmp(argv[3], "tasks") == 0)
		status = run_tasks(a, argv, argc);
	else if (strcmp(argv[3], "health") == 0 && argc == 4)
		status = run_health(a);
	else
		status = usage();
	aurora_api_close(a);
	heron_conf_free(conf);
	return status;
}

static int run_tmanager(int argc, char **argv)
{
	struct hf_error err = {0};
	long timeout_ms = argc == 7 ? strtol(argv[6], NULL, 10) : 5000;

	if (argc != 6 && argc != 7)
		return usage();
	if (tmanager_request(argv[2], atoi(argv[3]), argv[4], argv[5],
			     timeout_ms, &err) != HF_OK)
		return fail(&err);
	puts("ok");
	return 0;
}

int main(int argc, char **argv)
{
	int status;

	/* Before any thread, as libcurl asks of programs. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if (argc >= 2 && strcmp(argv[1], "tmanager") == 0)
		status = run_tmanager(argc, argv);
	else
		status = run_cluster(argc, argv);
	curl_global_cleanup();
	return status;
}
