/* fixtures: shared building blocks of the unit tests (see fixtures.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "buf.h"
#include "fixtures.h"

/* ---- topologies ---------------------------------------------------------- */

Heron__Proto__Api__Config *config_new(void)
{
	Heron__Proto__Api__Config *c = xmalloc(sizeof(*c));

	heron__proto__api__config__init(c);
	return c;
}

void config_put(Heron__Proto__Api__Config *c, const char *key,
		const char *value)
{
	Heron__Proto__Api__Config__KeyValue *kv = xmalloc(sizeof(*kv));

	heron__proto__api__config__key_value__init(kv);
	kv->key = xstrdup(key);
	kv->value = xstrdup(value);
	c->kvs = xrealloc(c->kvs, (c->n_kvs + 1) * sizeof(*c->kvs));
	c->kvs[c->n_kvs++] = kv;
}

static Heron__Proto__Api__Component *component_new(const char *name,
						   int parallelism)
{
	Heron__Proto__Api__Component *c = xmalloc(sizeof(*c));
	char *p = xasprintf("%d", parallelism);

	heron__proto__api__component__init(c);
	c->name = xstrdup(name);
	c->config = config_new();
	config_put(c->config, "topology.component.parallelism", p);
	free(p);
	return c;
}

Heron__Proto__Api__Topology *topology_new(const char *id, const char *name)
{
	Heron__Proto__Api__Topology *t = xmalloc(sizeof(*t));

	heron__proto__api__topology__init(t);
	t->id = xstrdup(id);
	t->name = xstrdup(name);
	t->state = HERON__PROTO__API__TOPOLOGY_STATE__RUNNING;
	t->topology_config = config_new();
	return t;
}

void add_spout(Heron__Proto__Api__Topology *t, const char *name,
	       int parallelism)
{
	Heron__Proto__Api__Spout *s = xmalloc(sizeof(*s));

	heron__proto__api__spout__init(s);
	s->comp = component_new(name, parallelism);
	t->spouts = xrealloc(t->spouts, (t->n_spouts + 1) * sizeof(*t->spouts));
	t->spouts[t->n_spouts++] = s;
}

void add_bolt(Heron__Proto__Api__Topology *t, const char *name,
	      int parallelism)
{
	Heron__Proto__Api__Bolt *b = xmalloc(sizeof(*b));

	heron__proto__api__bolt__init(b);
	b->comp = component_new(name, parallelism);
	t->bolts = xrealloc(t->bolts, (t->n_bolts + 1) * sizeof(*t->bolts));
	t->bolts[t->n_bolts++] = b;
}

Heron__Proto__Api__Topology *word_count_topology(const char *id,
						 const char *name)
{
	Heron__Proto__Api__Topology *t = topology_new(id, name);

	config_put(t->topology_config, "topology.stmgrs", "2");
	add_spout(t, "word", 2);
	add_bolt(t, "count", 2);
	return t;
}

Heron__Proto__System__PackingPlan *scheduled_plan(
	const Heron__Proto__Api__Topology *t, const struct heron_conf *conf)
{
	Heron__Proto__System__PackingPlan *plan = NULL;
	struct hf_error err = {0};

	if (packing_round_robin(t, conf, &plan, &err) != HF_OK)
		fail_msg("packing: %s", err.msg);
	packing_set_scheduled(plan);
	return plan;
}

/* ---- confs and files ----------------------------------------------------- */

struct heron_conf *conf_load(const char *dir, const struct conf_tokens *t)
{
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};

	if (heron_conf_load(dir, NULL, NULL, t, &conf, &err) != HF_OK)
		fail_msg("loading %s: %s", dir, err.msg);
	return conf;
}

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
