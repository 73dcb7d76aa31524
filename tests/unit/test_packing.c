/* RoundRobinPacking: plans and numbers checked against Heron's algorithm
 * worked by hand (RoundRobinPacking.java, ByteAmount, CPUShare), and the
 * component orders against java.util.HashMap run on a JVM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "fixtures.h"
#include "heron_conf.h"
#include "packing.h"

#define MIB (1024LL * 1024)
#define GIB (1024LL * MIB)

#define TOPO_ID   "ExclamationTopology0c4b2f7e"
#define TOPO_NAME "ExclamationTopology"

/* ---- building topologies ------------------------------------------------ */

static void topo_set(Heron__Proto__Api__Topology *t, const char *key,
		     const char *value)
{
	config_put(t->topology_config, key, value);
}

static void topo_free(Heron__Proto__Api__Topology *t)
{
	heron__proto__api__topology__free_unpacked(t, NULL);
}

/* word p1 + exclaim1 p1 + exclaim2 p1 style topologies: spouts then bolts. */
static Heron__Proto__Api__Topology *exclamation(int word, int exclaim1,
						int exclaim2,
						const char *stmgrs)
{
	Heron__Proto__Api__Topology *t = topology_new(TOPO_ID, TOPO_NAME);

	add_spout(t, "word", word);
	add_bolt(t, "exclaim1", exclaim1);
	if (exclaim2)
		add_bolt(t, "exclaim2", exclaim2);
	topo_set(t, "topology.stmgrs", stmgrs);
	return t;
}

/* ---- checking plans ----------------------------------------------------- */

struct want {
	const char *comp;
	int task_id;
	int index;
	double cpu;
	long long ram;
};

static void check_container(const Heron__Proto__System__ContainerPlan *c,
			    int id, const struct want *w, size_t n,
			    double cpu, long long ram, long long disk)
{
	assert_int_equal(c->id, id);
	assert_int_equal(c->n_instance_plans, n);
	for (size_t i = 0; i < n; i++) {
		const Heron__Proto__System__InstancePlan *ip =
			c->instance_plans[i];

		assert_string_equal(ip->component_name, w[i].comp);
		assert_int_equal(ip->task_id, w[i].task_id);
		assert_int_equal(ip->component_index, w[i].index);
		assert_true(ip->resource->cpu == w[i].cpu);
		assert_int_equal(ip->resource->ram, w[i].ram);
		assert_int_equal(ip->resource->disk, GIB);
	}
	assert_true(c->requiredresource->cpu == cpu);
	assert_int_equal(c->requiredresource->ram, ram);
	assert_int_equal(c->requiredresource->disk, disk);
	assert_null(c->scheduledresource);
}

static Heron__Proto__System__PackingPlan *pack_ok(
	const Heron__Proto__Api__Topology *t)
{
	Heron__Proto__System__PackingPlan *plan = NULL;
	struct hf_error err = {0};

	if (packing_round_robin(t, NULL, &plan, &err) != HF_OK)
		fail_msg("packing failed: %s", err.msg);
	assert_string_equal(plan->id, t->id);
	return plan;
}

static void pack_fails(Heron__Proto__Api__Topology *t, const char *needle)
{
	Heron__Proto__System__PackingPlan *plan = NULL;
	struct hf_error err = {0};

	assert_int_equal(packing_round_robin(t, NULL, &plan, &err),
			 HF_ERR_INVALID);
	assert_null(plan);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	topo_free(t);
}

static void plan_free(Heron__Proto__System__PackingPlan *plan)
{
	heron__proto__system__packing_plan__free_unpacked(plan, NULL);
}

/* ---- tests -------------------------------------------------------------- */

/* reference/heron.md §8: 2 components x 1, one stmgr. Java's HashMap
 * iterates {word, exclaim1} as [exclaim1, word]. */
static void test_worked_example(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "1");
	Heron__Proto__System__PackingPlan *plan = pack_ok(t);
	const struct want c1[] = {
		{"exclaim1", 1, 0, 1.0, GIB}, {"word", 2, 0, 1.0, GIB},
	};
	double cpu;
	long long ram, disk;
	char s[32];

	(void)state;
	assert_int_equal(plan->n_container_plans, 1);
	check_container(plan->container_plans[0], 1, c1, 2, 3.0, 4 * GIB,
			14 * GIB);
	packing_max_resource(plan, &cpu, &ram, &disk);
	java_double_string(cpu, s, sizeof(s));
	assert_string_equal(s, "3.0");
	assert_int_equal(ram, 4294967296LL);
	assert_int_equal(disk, 15032385536LL);
	/* NUM_CONTAINERS is the plan's containers plus the TManager's. */
	assert_int_equal(plan->n_container_plans + 1, 2);

	packing_set_scheduled(plan);
	assert_non_null(plan->container_plans[0]->scheduledresource);
	assert_true(plan->container_plans[0]->scheduledresource->cpu == 3.0);
	assert_int_equal(plan->container_plans[0]->scheduledresource->ram,
			 4 * GIB);
	plan_free(plan);
	topo_free(t);
}

/* 7 instances over 2 containers: dealt [exclaim2, exclaim1, word] (Java's
 * HashMap order), container 1 gets 4, container 2 gets 3. Without hints
 * every container's budget is sized for the largest (4 x 1 GiB + 2 GiB
 * padding, 4 + 1 CPU), so container 2's three instances share 4 GiB and
 * 4 CPUs: 4 GiB / 3 rounds to 1431655765 bytes. */
static void test_three_components_two_containers(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(3, 3, 1, "2");
	Heron__Proto__System__PackingPlan *plan = pack_ok(t);
	const long long third = 1431655765;
	const struct want c1[] = {
		{"exclaim2", 1, 0, 1.0, GIB}, {"exclaim1", 3, 1, 1.0, GIB},
		{"word", 5, 0, 1.0, GIB}, {"word", 7, 2, 1.0, GIB},
	};
	const struct want c2[] = {
		{"exclaim1", 2, 0, 4.0 / 3, third},
		{"exclaim1", 4, 2, 4.0 / 3, third},
		{"word", 6, 1, 4.0 / 3, third},
	};
	double cpu;
	long long ram, disk;
	char *map;

	(void)state;
	assert_int_equal(plan->n_container_plans, 2);
	check_container(plan->container_plans[0], 1, c1, 4, 5.0, 6 * GIB,
			16 * GIB);
	check_container(plan->container_plans[1], 2, c2, 3,
			4.0 / 3 + 4.0 / 3 + 4.0 / 3 + 1.0, 3 * third + 2 * GIB,
			16 * GIB);
	packing_max_resource(plan, &cpu, &ram, &disk);
	assert_true(cpu == 5.0);
	assert_int_equal(ram, 6 * GIB);
	assert_int_equal(disk, 16 * GIB);

	/* The smallest instance of each component, in HashMap order. */
	map = packing_component_ram_map(plan);
	assert_string_equal(map, "exclaim2:1073741824,exclaim1:1073741824,"
			    "word:1073741824");
	free(map);
	plan_free(plan);
	topo_free(t);
}

/* The same topology over 3 containers: sizes 3, 2, 2; the two-instance
 * containers split 3 GiB and 3 CPUs in halves. */
static void test_three_components_three_containers(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(3, 3, 1, "3");
	Heron__Proto__System__PackingPlan *plan = pack_ok(t);
	const long long half = 3 * GIB / 2;
	const struct want c1[] = {
		{"exclaim2", 1, 0, 1.0, GIB}, {"exclaim1", 4, 2, 1.0, GIB},
		{"word", 7, 2, 1.0, GIB},
	};
	const struct want c2[] = {
		{"exclaim1", 2, 0, 1.5, half}, {"word", 5, 0, 1.5, half},
	};
	const struct want c3[] = {
		{"exclaim1", 3, 1, 1.5, half}, {"word", 6, 1, 1.5, half},
	};
	char *map;

	(void)state;
	assert_int_equal(plan->n_container_plans, 3);
	check_container(plan->container_plans[0], 1, c1, 3, 4.0, 5 * GIB,
			15 * GIB);
	check_container(plan->container_plans[1], 2, c2, 2, 4.0, 5 * GIB,
			15 * GIB);
	check_container(plan->container_plans[2], 3, c3, 2, 4.0, 5 * GIB,
			15 * GIB);
	map = packing_component_ram_map(plan);
	assert_string_equal(map, "exclaim2:1073741824,exclaim1:1073741824,"
			    "word:1073741824");
	free(map);
	plan_free(plan);
	topo_free(t);
}

/* rammap puts exclaim1 (512 MiB) before word (unset = 0) although the
 * HashMap alone would also; cpumap gives word 0.5. Per container the
 * budget is 2 x 1 GiB + 2 GiB and round(2 x 1.0 + 1.0) = 3 CPUs; word gets
 * what exclaim1 leaves of the RAM, exclaim1 what word leaves of the CPU. */
static void test_rammap_cpumap(void **state)
{
	Heron__Proto__Api__Topology *t = topology_new(TOPO_ID, TOPO_NAME);
	Heron__Proto__System__PackingPlan *plan;
	const struct want c1[] = {
		{"exclaim1", 1, 0, 1.5, 512 * MIB},
		{"word", 3, 0, 0.5, 1536 * MIB},
	};
	const struct want c2[] = {
		{"exclaim1", 2, 1, 1.5, 512 * MIB},
		{"word", 4, 1, 0.5, 1536 * MIB},
	};
	char *map;

	(void)state;
	add_spout(t, "word", 2);
	add_bolt(t, "exclaim1", 2);
	topo_set(t, "topology.stmgrs", "2");
	topo_set(t, "topology.component.rammap", "exclaim1:536870912");
	topo_set(t, "topology.component.cpumap", "word:0.5,");
	plan = pack_ok(t);
	check_container(plan->container_plans[0], 1, c1, 2, 3.0, 4 * GIB,
			14 * GIB);
	check_container(plan->container_plans[1], 2, c2, 2, 3.0, 4 * GIB,
			14 * GIB);
	map = packing_component_ram_map(plan);
	assert_string_equal(map, "exclaim1:536870912,word:1610612736");
	free(map);
	plan_free(plan);
	topo_free(t);
}

/* The RAM order beats the HashMap order ([exclaim1, word]) and the
 * sort is stable for the components left at 0. */
static void test_rammap_orders_components(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 1, "1");
	Heron__Proto__System__PackingPlan *plan;
	const Heron__Proto__System__ContainerPlan *c;

	(void)state;
	topo_set(t, "topology.component.rammap", "word:2147483648");
	plan = pack_ok(t);
	c = plan->container_plans[0];
	assert_string_equal(c->instance_plans[0]->component_name, "word");
	assert_string_equal(c->instance_plans[1]->component_name, "exclaim2");
	assert_string_equal(c->instance_plans[2]->component_name, "exclaim1");
	/* Budget 3 x 1 GiB + 2 GiB; word takes 2 GiB, the others split 1. */
	assert_int_equal(c->instance_plans[0]->resource->ram, 2 * GIB);
	assert_int_equal(c->instance_plans[1]->resource->ram, GIB / 2);
	assert_int_equal(c->requiredresource->ram, 5 * GIB);
	plan_free(plan);
	topo_free(t);
}

/* Heron's testContainerRequestedResources: 4 + 3 instances in 2
 * containers of 10 GiB, 20 GiB disk, 30 CPUs. The instances share the
 * hint minus the padding; container 2's sum overshoots by rounding and is
 * capped at the hint. */
static void test_container_overrides(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(4, 3, 0, "2");
	Heron__Proto__System__PackingPlan *plan;
	const long long third = 2863311531; /* round(8 GiB / 3) */
	const struct want c1[] = {
		{"exclaim1", 1, 0, 7.25, 2 * GIB},
		{"exclaim1", 3, 2, 7.25, 2 * GIB},
		{"word", 5, 1, 7.25, 2 * GIB}, {"word", 7, 3, 7.25, 2 * GIB},
	};
	const struct want c2[] = {
		{"exclaim1", 2, 1, 29.0 / 3, third},
		{"word", 4, 0, 29.0 / 3, third},
		{"word", 6, 2, 29.0 / 3, third},
	};
	double cpu;
	long long ram, disk;

	(void)state;
	topo_set(t, "topology.container.ram", "10737418240");
	topo_set(t, "topology.container.disk", "21474836480");
	topo_set(t, "topology.container.cpu", "30.0");
	plan = pack_ok(t);
	check_container(plan->container_plans[0], 1, c1, 4, 30.0, 10 * GIB,
			20 * GIB);
	check_container(plan->container_plans[1], 2, c2, 3, 30.0, 10 * GIB,
			20 * GIB);
	packing_max_resource(plan, &cpu, &ram, &disk);
	assert_true(cpu == 30.0);
	assert_int_equal(ram, 10 * GIB);
	assert_int_equal(disk, 20 * GIB);
	plan_free(plan);
	topo_free(t);
}

/* topology.container.ram.padding replaces the daemons' 2 GiB; a stateful
 * topology without it pads for the checkpoint manager too. */
static void test_ram_padding(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "1");
	Heron__Proto__System__PackingPlan *plan;

	(void)state;
	topo_set(t, "topology.container.ram.padding", "536870912");
	plan = pack_ok(t);
	assert_int_equal(plan->container_plans[0]->requiredresource->ram,
			 2 * GIB + 512 * MIB);
	plan_free(plan);
	topo_free(t);

	t = exclamation(1, 1, 0, "1");
	topo_set(t, "topology.reliability.mode", "EFFECTIVELY_ONCE");
	topo_set(t, "topology.stmgr.ram", "2147483648");
	plan = pack_ok(t);
	assert_int_equal(plan->container_plans[0]->requiredresource->ram,
			 2 * GIB + 2 * GIB + GIB + GIB);
	plan_free(plan);
	topo_free(t);
}

/* Explicit values that eat into the padding (1.5 GiB of a 3 GiB container
 * with 2 GiB padding): Heron warns and lets the other instances share what
 * the explicit ones leave of the whole container, padding included. */
static void test_padding_throttled(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "1");
	Heron__Proto__System__PackingPlan *plan;
	const struct want c1[] = {
		{"word", 1, 0, 1.0, 1536 * MIB},
		{"exclaim1", 2, 0, 1.0, 1536 * MIB},
	};

	(void)state;
	topo_set(t, "topology.container.ram", "3221225472");
	topo_set(t, "topology.component.rammap", "word:1610612736");
	plan = pack_ok(t);
	check_container(plan->container_plans[0], 1, c1, 2, 3.0, 3 * GIB,
			14 * GIB);
	plan_free(plan);
	topo_free(t);
}

/* heron.resources.instance.* from the cluster conf. The default CPU
 * budget is rounded to whole cores: round(2 x 0.75 + 1) = 3, so the two
 * instances get 1.0 each, not 0.75. */
static void test_instance_defaults_from_conf(void **state)
{
	char dir[] = "/tmp/heronfs-packing-XXXXXX";
	char *yaml;
	FILE *f;
	struct conf_tokens tokens = {0};
	struct heron_conf *conf = NULL;
	struct hf_error err = {0};
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "1");
	Heron__Proto__System__PackingPlan *plan = NULL;
	const Heron__Proto__System__ContainerPlan *c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	yaml = xasprintf("%s/packing.yaml", dir);
	f = fopen(yaml, "w");
	assert_non_null(f);
	fputs("heron.resources.instance.ram: 536870912\n"
	      "heron.resources.instance.cpu: 0.75\n"
	      "heron.resources.instance.disk: 2147483648\n", f);
	fclose(f);
	if (heron_conf_load(dir, NULL, NULL, &tokens, &conf, &err) != HF_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(packing_round_robin(t, conf, &plan, &err), HF_OK);
	c = plan->container_plans[0];
	for (size_t i = 0; i < 2; i++) {
		const Heron__Proto__System__Resource *r =
			c->instance_plans[i]->resource;

		assert_int_equal(r->ram, 512 * MIB);
		assert_int_equal(r->disk, 2 * GIB);
		assert_true(r->cpu == 1.0);
	}
	assert_true(c->requiredresource->cpu == 3.0);
	assert_int_equal(c->requiredresource->ram, 3 * GIB);
	assert_int_equal(c->requiredresource->disk, 16 * GIB);
	plan_free(plan);
	topo_free(t);
	heron_conf_free(conf);
	unlink(yaml);
	rmdir(dir);
	free(yaml);
}

static void test_ram_too_small(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "1");

	(void)state;
	/* 2 GiB padding + 2 x 10 MiB: each instance gets 10 MiB. */
	topo_set(t, "topology.container.ram", "2168455168");
	pack_fails(t, "at least 16 MiB");

	t = exclamation(1, 1, 0, "1");
	topo_set(t, "topology.component.rammap", "word:1000000");
	pack_fails(t, "component 'word' would get 1000000 bytes");

	/* Heron's testCheckFailure: a 0-byte container leaves nothing. */
	t = exclamation(4, 3, 0, "2");
	topo_set(t, "topology.container.ram", "0");
	pack_fails(t, "no RAM left");

	/* Explicit values beyond the container hint. */
	t = exclamation(1, 1, 0, "1");
	topo_set(t, "topology.container.ram", "4294967296");
	topo_set(t, "topology.component.rammap",
		 "word:3221225472,exclaim1:3221225472");
	pack_fails(t, "more than topology.container.ram");
}

static void test_bad_counts(void **state)
{
	(void)state;
	pack_fails(exclamation(1, 2, 0, "4"),
		   "topology.stmgrs is 4 but the topology has only 3 "
		   "instances");
	pack_fails(exclamation(1, 1, 0, "0"), "at least one container");
	pack_fails(exclamation(1, 1, 0, "two"), "topology.stmgrs='two'");
	pack_fails(exclamation(1, 0, 0, "1"), "parallelism is 0");

	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, " 1 ");
	Heron__Proto__System__PackingPlan *plan = pack_ok(t); /* trimmed */
	plan_free(plan);
	topo_free(t);

	t = exclamation(1, 1, 0, "1");
	add_bolt(t, "word", 1);
	pack_fails(t, "two components are named 'word'");
}

static void test_bad_maps(void **state)
{
	static const char *const cases[][2] = {
		{"word", "malformed entry 'word'"},
		{"word:1:2", "malformed entry 'word:1:2'"},
		{"nosuch:1073741824", "'nosuch', which is not a component"},
		{"word:1GB", "'1GB' for component 'word' is not a whole"},
		{" word:1073741824", "' word', which is not a component"},
	};
	Heron__Proto__Api__Topology *t;
	Heron__Proto__System__PackingPlan *plan;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = exclamation(1, 1, 0, "1");
		topo_set(t, "topology.component.rammap", cases[i][0]);
		pack_fails(t, cases[i][1]);
	}
	t = exclamation(1, 1, 0, "1");
	topo_set(t, "topology.component.cpumap", "word:lots");
	pack_fails(t, "'lots' for component 'word' is not a number");

	/* Java's split drops trailing empty pieces: "word:1:" is fine, and
	 * Double.parseDouble trims and takes a type suffix. */
	t = exclamation(1, 1, 0, "1");
	topo_set(t, "topology.component.rammap", "word:1073741824:");
	topo_set(t, "topology.component.cpumap", "word: 0.5f");
	plan = pack_ok(t);
	assert_string_equal(
		plan->container_plans[0]->instance_plans[0]->component_name,
		"word");
	assert_true(plan->container_plans[0]->instance_plans[0]->resource->cpu
		    == 0.5);
	plan_free(plan);
	topo_free(t);
}

static Heron__Proto__Api__Topology *many(const char *const *names, size_t n)
{
	Heron__Proto__Api__Topology *t = topology_new(TOPO_ID, TOPO_NAME);

	for (size_t i = 0; i < n; i++)
		add_bolt(t, names[i], 1);
	topo_set(t, "topology.stmgrs", "1");
	return t;
}

static void check_order(const char *const *names, size_t n,
			const char *const *want)
{
	Heron__Proto__Api__Topology *t = many(names, n);
	Heron__Proto__System__PackingPlan *plan = pack_ok(t);

	const Heron__Proto__System__ContainerPlan *c = plan->container_plans[0];

	for (size_t i = 0; i < n; i++)
		assert_string_equal(c->instance_plans[i]->component_name,
				    want[i]);
	plan_free(plan);
	topo_free(t);
}

/* Ties keep java.util.HashMap's order, as printed by a JVM: the table
 * grows at 13 keys, and early when a bin of a small table passes 8. */
static void test_hashmap_tie_order(void **state)
{
	static const char *const grow[] = {
		"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9",
		"c10", "c11", "c12",
	};
	static const char *const grow_java[] = {
		"c11", "c10", "c12", "c0", "c1", "c2", "c3", "c4", "c5", "c6",
		"c7", "c8", "c9",
	};
	static const char *const bin[] = {
		"c3", "c709", "c808", "c819", "c907",
		"c20", "c31", "c42", "c53",
	};
	static const char *const bin_java[] = {
		"c20", "c31", "c42", "c53",
		"c3", "c709", "c808", "c819", "c907",
	};
	static const char *const utf8[] = {"é", "ü", "日本", "𝄞x", "a"};
	static const char *const utf8_java[] = {
		"a", "𝄞x", "é", "日本", "ü",
	};

	(void)state;
	check_order(grow, 13, grow_java);
	check_order(bin, 9, bin_java);
	check_order(bin, 8, bin);   /* one key fewer: no early growth */
	check_order(utf8, 5, utf8_java);
}

static void test_java_double_string(void **state)
{
	static const struct {
		double v;
		const char *s;
	} cases[] = {
		{3.0, "3.0"}, {0.5, "0.5"}, {2.25, "2.25"}, {1.0e7, "1.0E7"},
		{12345678.9, "1.23456789E7"}, {9999999.0, "9999999.0"},
		{0.001, "0.001"}, {1.0e-4, "1.0E-4"}, {2.5e-4, "2.5E-4"},
		{0.1 + 0.2, "0.30000000000000004"}, {-1.5, "-1.5"},
		{100.0, "100.0"}, {0.0, "0.0"}, {1.0e21, "1.0E21"},
		{123456.789, "123456.789"}, {29.0 / 3, "9.666666666666666"},
		{1.7976931348623157e308, "1.7976931348623157E308"},
	};
	char s[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		java_double_string(cases[i].v, s, sizeof(s));
		assert_string_equal(s, cases[i].s);
	}
}

static void test_topo_config_get(void **state)
{
	Heron__Proto__Api__Topology *t = exclamation(1, 1, 0, "3");

	(void)state;
	topo_set(t, "topology.stmgrs", "5");  /* Heron reads the first */
	assert_string_equal(topo_config_get(t->topology_config,
					    "topology.stmgrs"), "3");
	assert_null(topo_config_get(t->topology_config, "topology.name"));
	assert_null(topo_config_get(NULL, "topology.stmgrs"));
	topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_three_components_two_containers),
		cmocka_unit_test(test_three_components_three_containers),
		cmocka_unit_test(test_rammap_cpumap),
		cmocka_unit_test(test_rammap_orders_components),
		cmocka_unit_test(test_container_overrides),
		cmocka_unit_test(test_ram_padding),
		cmocka_unit_test(test_padding_throttled),
		cmocka_unit_test(test_instance_defaults_from_conf),
		cmocka_unit_test(test_ram_too_small),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_bad_maps),
		cmocka_unit_test(test_hashmap_tie_order),
		cmocka_unit_test(test_java_double_string),
		cmocka_unit_test(test_topo_config_get),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
