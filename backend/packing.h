/* packing: Heron's RoundRobinPacking (the client's packing algorithm for
 * Aurora clusters), giving the same packing plan, numbers included, and
 * the Aurora sizing derived from it. */
#ifndef HERONFS_PACKING_H
#define HERONFS_PACKING_H

#include "hferr.h"
#include "packing_plan.pb-c.h"
#include "topology.pb-c.h"

struct heron_conf;

/* Packs t into topology.stmgrs containers with ids 1..N. conf supplies
 * heron.resources.instance.{ram,cpu,disk} defaults (may be NULL: Heron's
 * built-in 1 GiB / 1.0 / 1 GiB). The plan's id is the topology id;
 * containers come in id order and their instances in task id order (Heron
 * keeps both in hash sets and serializes them in hash order).
 * HF_ERR_INVALID (with the reason) for a topology Heron would refuse:
 * bad parallelism or container count, an instance below 16 MiB RAM, a
 * malformed map or config value, instances asking for more than the
 * container hint. Also refused, though Heron would go on: parallelism
 * below 1, two components of one name, a component name that is not
 * UTF-8, more than 100000 instances. Free the plan with
 * heron__proto__system__packing_plan__free_unpacked(plan, NULL). */
hf_rc packing_round_robin(const Heron__Proto__Api__Topology *t,
			  const struct heron_conf *conf,
			  Heron__Proto__System__PackingPlan **out,
			  struct hf_error *err);

/* The homogeneous size Aurora gives every container: the maximum CPU, RAM
 * and disk over all containers, of the scheduled resource where there is
 * one, else the required (PackingPlan.getMaxContainerResources). */
void packing_max_resource(const Heron__Proto__System__PackingPlan *plan,
			  double *cpu, long long *ram, long long *disk);

/* Sets every container's scheduledResource to the maximum above, as
 * AuroraScheduler does before it replaces packingplans/<name>. */
void packing_set_scheduled(Heron__Proto__System__PackingPlan *plan);

/* "comp:bytes,comp:bytes": per component the smallest instance RAM, in
 * the iteration order of the java.util.HashMap Heron builds it in (Heron's
 * --component-ram-map). "" for a plan without instances. Returns a
 * malloc'd string. */
char *packing_component_ram_map(const Heron__Proto__System__PackingPlan *plan);

/* Java's Double.toString for the values Heron prints (e.g. "3.0", "0.5",
 * "2.25", "1.0E7"): the shortest decimal that reads back the same, with at
 * least one digit after the point, in scientific notation outside
 * [1e-3, 1e7). (JDKs before 19 print a longer form for a few values far
 * from any CPU count, e.g. 1.0E23.) Writes into out (size >= 32). */
void java_double_string(double v, char *out, size_t size);

/* The value of key in a Config: the first one, as Heron reads it; "" for a
 * key without a string value; NULL if absent or c is NULL. */
const char *topo_config_get(const Heron__Proto__Api__Config *c,
			    const char *key);

#endif
