/* fixtures: what several unit tests build the same way (Heron topology
 * messages, confs, packing plans, scratch files), kept in one place so
 * that a test's own file holds only what it checks.
 *
 * Linked into every unit test; include <cmocka.h> first. A helper that
 * can fail fails the running cmocka test (fail_msg, assert_*) rather
 * than returning an error; memory comes from buf.h's x* helpers, which
 * abort when it runs out. */
#ifndef HERONFS_TEST_FIXTURES_H
#define HERONFS_TEST_FIXTURES_H

#include "heron_conf.h"
#include "packing.h"

/* ---- topologies ---------------------------------------------------------- */

/* An empty topology or component config. */
Heron__Proto__Api__Config *config_new(void);

/* Appends key: value to c, even when c has key already. */
void config_put(Heron__Proto__Api__Config *c, const char *key,
		const char *value);

/* A RUNNING topology with an empty config and no spouts or bolts. Free it
 * with heron__proto__api__topology__free_unpacked. */
Heron__Proto__Api__Topology *topology_new(const char *id, const char *name);

/* Appends a spout or a bolt whose config holds only
 * topology.component.parallelism. */
void add_spout(Heron__Proto__Api__Topology *t, const char *name,
	       int parallelism);
void add_bolt(Heron__Proto__Api__Topology *t, const char *name,
	      int parallelism);

/* The schedulers' topology: a "word" spout and a "count" bolt, two of
 * each, in two containers (topology.stmgrs 2). */
Heron__Proto__Api__Topology *word_count_topology(const char *id,
						 const char *name);

/* packing_round_robin's plan for t under conf, marked scheduled
 * (packing_set_scheduled) as a launch sees it. */
Heron__Proto__System__PackingPlan *scheduled_plan(
	const Heron__Proto__Api__Topology *t, const struct heron_conf *conf);

/* ---- confs and files ----------------------------------------------------- */

/* heron_conf_load of dir with tokens t, no override. */
struct heron_conf *conf_load(const char *dir, const struct conf_tokens *t);

/* Creates or truncates path and writes text to it. */
void write_text(const char *path, const char *text);

/* rm -rf dir: a test's scratch directory, also after a failed test. */
void remove_tree(const char *dir);

/* CLOCK_MONOTONIC in milliseconds. */
long long now_ms(void);

#endif
