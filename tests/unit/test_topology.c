/* Unit tests for pbjson and topology: JSON renderings of Heron's messages,
 * classification of a topology's nodes, the status files, and loading
 * through a statemgr.
 *
 * The statemgr here is a stub defined in this file (sm_get, sm_list and
 * statemgr_dirname, the only calls topology.c makes on an open statemgr),
 * so that the tests control every node byte and every failure. Because
 * those symbols are defined here, the linker never pulls the real statemgr
 * objects out of the backend library (only statemgr_names.c's). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hferr.h"
#include "pbjson.h"
#include "statemgr.h"
#include "topology.h"

#define NAME "WordCount"
#define ID "WordCount4f1c2b7e-9d0a-4c5e-8a11-2f3b4c5d6e7f"
#define SUBMITTED 1795943448   /* 2026-11-29T09:10:48Z */
#define GIB3 3221225472LL      /* does not fit in 32 bits */

/* ---- the stub statemgr ---- */

struct statemgr {
	struct buf node[SM_NDIRS];
	bool has[SM_NDIRS];
	hf_rc get_fails[SM_NDIRS];      /* HF_OK: answer normally */
	const char *children[SM_NDIRS][4];
	hf_rc list_fails[SM_NDIRS];
};

hf_rc sm_get(struct statemgr *sm, enum sm_dir dir, const char *name,
	     struct buf *out, struct hf_error *err)
{
	if (sm->get_fails[dir] != HF_OK)
		return hf_fail(err, sm->get_fails[dir], "no answer in 5000 ms");
	if (!sm->has[dir] || strcmp(name, NAME) != 0)
		return hf_fail(err, HF_ERR_NOTFOUND, "no node");
	buf_reset(out);
	buf_append(out, sm->node[dir].data, sm->node[dir].len);
	return HF_OK;
}

hf_rc sm_list(struct statemgr *sm, enum sm_dir dir, char ***names,
	      struct hf_error *err)
{
	size_t n = 0;

	if (sm->list_fails[dir] != HF_OK)
		return hf_fail(err, sm->list_fails[dir], "connection lost");
	while (n < 4 && sm->children[dir][n])
		n++;
	*names = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		(*names)[i] = xstrdup(sm->children[dir][i]);
	return HF_OK;
}

const char *statemgr_dirname(struct statemgr *sm, enum sm_dir dir)
{
	static const char *const names[SM_NDIRS] = {
		"topologies", "packingplans", "executionstate", "schedulers",
		"tmasters", "pplans", "metricscaches", "statefulcheckpoints",
		"locks",
	};
	return names[dir];
}

static void sm_clear(struct statemgr *sm)
{
	for (int d = 0; d < SM_NDIRS; d++)
		buf_free(&sm->node[d]);
	memset(sm, 0, sizeof(*sm));
}

/* ---- building Heron's messages ---- */

static void pack(const ProtobufCMessage *m, struct buf *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = xmalloc(n);

	protobuf_c_message_pack(m, p);
	buf_reset(out);
	buf_append(out, p, n);
	free(p);
}

/* A logical plan: spout "word" -> bolt "count" (fields grouping), as a
 * topology's main produces it. Its pointers point into itself. */
struct logical {
	Heron__Proto__Api__Topology topo;
	Heron__Proto__Api__Spout spout, *spouts[1];
	Heron__Proto__Api__Bolt bolt, *bolts[1];
	Heron__Proto__Api__Component spout_comp, bolt_comp;
	Heron__Proto__Api__Config spout_cfg, bolt_cfg, topo_cfg;
	Heron__Proto__Api__Config__KeyValue kv[4];
	Heron__Proto__Api__Config__KeyValue *spout_kvs[1], *bolt_kvs[1],
		*topo_kvs[2];
	Heron__Proto__Api__StreamId out_id, in_id;
	Heron__Proto__Api__StreamSchema schema, fields;
	Heron__Proto__Api__StreamSchema__KeyType key, *keys[1];
	Heron__Proto__Api__OutputStream out, *outs[1];
	Heron__Proto__Api__InputStream in, *ins[1];
};

static const uint8_t ser[] = {0x00, 0x01, 0xfe, 0xff};

static void logical_init(struct logical *l, const char *name, const char *id,
			 Heron__Proto__Api__TopologyState state)
{
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < 4; i++)
		heron__proto__api__config__key_value__init(&l->kv[i]);
	l->kv[0].key = (char *)"topology.component.parallelism";
	l->kv[0].value = (char *)"2";
	l->kv[0].has_type = 1;
	l->kv[0].type = HERON__PROTO__API__CONFIG_VALUE_TYPE__STRING_VALUE;
	l->kv[1].key = (char *)"topology.component.parallelism";
	l->kv[1].value = (char *)"1";
	l->kv[2].key = (char *)"topology.stmgrs";
	l->kv[2].value = (char *)"2";
	l->kv[3].key = (char *)"topology.serialized.thing";
	l->kv[3].has_serialized_value = 1;
	l->kv[3].serialized_value.data = (uint8_t *)ser;
	l->kv[3].serialized_value.len = sizeof(ser);
	l->kv[3].has_type = 1;
	l->kv[3].type =
		HERON__PROTO__API__CONFIG_VALUE_TYPE__JAVA_SERIALIZED_VALUE;

	heron__proto__api__config__init(&l->spout_cfg);
	l->spout_kvs[0] = &l->kv[0];
	l->spout_cfg.n_kvs = 1;
	l->spout_cfg.kvs = l->spout_kvs;
	heron__proto__api__config__init(&l->bolt_cfg);
	l->bolt_kvs[0] = &l->kv[1];
	l->bolt_cfg.n_kvs = 1;
	l->bolt_cfg.kvs = l->bolt_kvs;
	heron__proto__api__config__init(&l->topo_cfg);
	l->topo_kvs[0] = &l->kv[2];
	l->topo_kvs[1] = &l->kv[3];
	l->topo_cfg.n_kvs = 2;
	l->topo_cfg.kvs = l->topo_kvs;

	heron__proto__api__stream_schema__key_type__init(&l->key);
	l->key.key = (char *)"word";
	l->key.type = HERON__PROTO__API__TYPE__OBJECT;
	l->keys[0] = &l->key;
	heron__proto__api__stream_schema__init(&l->schema);
	l->schema.n_keys = 1;
	l->schema.keys = l->keys;
	heron__proto__api__stream_schema__init(&l->fields);
	l->fields.n_keys = 1;
	l->fields.keys = l->keys;

	heron__proto__api__stream_id__init(&l->out_id);
	l->out_id.id = (char *)"default";
	l->out_id.component_name = (char *)"word";
	l->in_id = l->out_id;
	heron__proto__api__output_stream__init(&l->out);
	l->out.stream = &l->out_id;
	l->out.schema = &l->schema;
	l->outs[0] = &l->out;
	heron__proto__api__input_stream__init(&l->in);
	l->in.stream = &l->in_id;
	l->in.gtype = HERON__PROTO__API__GROUPING__FIELDS;
	l->in.grouping_fields = &l->fields;
	l->ins[0] = &l->in;

	heron__proto__api__component__init(&l->spout_comp);
	l->spout_comp.name = (char *)"word";
	l->spout_comp.class_name = (char *)"org.example.WordSpout";
	l->spout_comp.config = &l->spout_cfg;
	l->spout_comp.has_spec = 1;
	l->spout_comp.spec =
		HERON__PROTO__API__COMPONENT_OBJECT_SPEC__JAVA_CLASS_NAME;
	heron__proto__api__component__init(&l->bolt_comp);
	l->bolt_comp.name = (char *)"count";
	l->bolt_comp.config = &l->bolt_cfg;

	heron__proto__api__spout__init(&l->spout);
	l->spout.comp = &l->spout_comp;
	l->spout.n_outputs = 1;
	l->spout.outputs = l->outs;
	l->spouts[0] = &l->spout;
	heron__proto__api__bolt__init(&l->bolt);
	l->bolt.comp = &l->bolt_comp;
	l->bolt.n_inputs = 1;
	l->bolt.inputs = l->ins;
	l->bolts[0] = &l->bolt;

	heron__proto__api__topology__init(&l->topo);
	l->topo.id = (char *)id;
	l->topo.name = (char *)name;
	l->topo.n_spouts = 1;
	l->topo.spouts = l->spouts;
	l->topo.n_bolts = 1;
	l->topo.bolts = l->bolts;
	l->topo.state = state;
	l->topo.topology_config = &l->topo_cfg;
}

static void pack_topology(struct buf *out, const char *name, const char *id,
			  Heron__Proto__Api__TopologyState state)
{
	struct logical l;

	logical_init(&l, name, id, state);
	pack(&l.topo.base, out);
}

/* Two containers: word x2 + count x1 in container 1, nothing in 2. */
static void pack_packing_plan(struct buf *out, const char *id)
{
	Heron__Proto__System__Resource res = HERON__PROTO__SYSTEM__RESOURCE__INIT;
	Heron__Proto__System__InstancePlan ip[3], *ips[3];
	Heron__Proto__System__ContainerPlan cp[2], *cps[2];
	Heron__Proto__System__PackingPlan pp =
		HERON__PROTO__SYSTEM__PACKING_PLAN__INIT;
	static const char *const comp[3] = {"word", "word", "count"};

	res.cpu = 0.1;
	res.ram = GIB3;
	res.disk = 0;
	for (int i = 0; i < 3; i++) {
		heron__proto__system__instance_plan__init(&ip[i]);
		ip[i].component_name = (char *)comp[i];
		ip[i].task_id = i + 1;
		ip[i].component_index = i < 2 ? i : 0;
		ip[i].resource = &res;
		ips[i] = &ip[i];
	}
	for (int i = 0; i < 2; i++) {
		heron__proto__system__container_plan__init(&cp[i]);
		cp[i].id = i + 1;
		cp[i].requiredresource = &res;
		cps[i] = &cp[i];
	}
	cp[0].n_instance_plans = 3;
	cp[0].instance_plans = ips;
	pp.id = (char *)id;
	pp.n_container_plans = 2;
	pp.container_plans = cps;
	pack(&pp.base, out);
}

static void pack_execution_state(struct buf *out, const char *name,
				 const char *id)
{
	Heron__Proto__System__HeronReleaseState rs =
		HERON__PROTO__SYSTEM__HERON_RELEASE_STATE__INIT;
	Heron__Proto__System__ExecutionState es =
		HERON__PROTO__SYSTEM__EXECUTION_STATE__INIT;

	rs.release_version = (char *)"0.20.5-incubating";
	rs.release_username = (char *)"builder";
	es.topology_name = (char *)name;
	es.topology_id = (char *)id;
	es.has_submission_time = 1;
	es.submission_time = SUBMITTED;
	es.submission_user = (char *)"alice";
	es.cluster = (char *)"devcluster";
	es.environ = (char *)"default";
	es.role = (char *)"alice";
	es.release_state = &rs;
	pack(&es.base, out);
}

static void pack_scheduler_location(struct buf *out, const char *name)
{
	Heron__Proto__Scheduler__SchedulerLocation sl =
		HERON__PROTO__SCHEDULER__SCHEDULER_LOCATION__INIT;
	char *links[] = {(char *)"http://aurora:8081/scheduler/alice/default/"
				 "WordCount",
			 (char *)"http://second"};

	sl.topology_name = (char *)name;
	sl.http_endpoint = (char *)"http://localhost:0";
	sl.n_job_page_link = 2;
	sl.job_page_link = links;
	pack(&sl.base, out);
}

static void pack_tmanager_location(struct buf *out, const char *name,
				   const char *id)
{
	Heron__Proto__Tmanager__TManagerLocation tm =
		HERON__PROTO__TMANAGER__TMANAGER_LOCATION__INIT;

	tm.topology_name = (char *)name;
	tm.topology_id = (char *)id;
	tm.host = (char *)"host1.example.com";
	tm.controller_port = 37000;
	tm.server_port = 37001;
	pack(&tm.base, out);
}

static void pack_physical_plan(struct buf *out, const char *name,
			       const char *id,
			       Heron__Proto__Api__TopologyState state)
{
	Heron__Proto__System__PhysicalPlan pp =
		HERON__PROTO__SYSTEM__PHYSICAL_PLAN__INIT;
	Heron__Proto__System__StMgr sm = HERON__PROTO__SYSTEM__ST_MGR__INIT;
	Heron__Proto__System__StMgr *sms[1] = {&sm};
	struct logical l;

	logical_init(&l, name, id, state);
	sm.id = (char *)"stmgr-1";
	sm.host_name = (char *)"host1.example.com";
	sm.data_port = 41000;
	sm.local_endpoint = (char *)"/unused";
	sm.has_pid = 1;
	sm.pid = 0;   /* set, though zero: must be rendered */
	pp.topology = &l.topo;
	pp.n_stmgrs = 1;
	pp.stmgrs = sms;
	pack(&pp.base, out);
}

/* Fills sm with a healthy running topology NAME. */
static void world(struct statemgr *sm)
{
	pack_topology(&sm->node[SM_TOPOLOGIES], NAME, ID,
		      HERON__PROTO__API__TOPOLOGY_STATE__RUNNING);
	pack_packing_plan(&sm->node[SM_PACKINGPLANS], ID);
	pack_execution_state(&sm->node[SM_EXECUTIONSTATE], NAME, ID);
	pack_scheduler_location(&sm->node[SM_SCHEDULERS], NAME);
	pack_tmanager_location(&sm->node[SM_TMANAGERS], NAME, ID);
	pack_physical_plan(&sm->node[SM_PPLANS], NAME, ID,
			   HERON__PROTO__API__TOPOLOGY_STATE__RUNNING);
	for (int d = 0; d <= SM_PPLANS; d++)
		sm->has[d] = true;
}

static struct topo *load_ok(struct statemgr *sm)
{
	struct hf_error err = {0};
	struct topo *t = NULL;

	assert_int_equal(topo_load(sm, NAME, &t, &err), HF_OK);
	assert_non_null(t);
	return t;
}

/* ---- a hand-made struct topo ---- */

static struct topo *topo_new(void)
{
	struct topo *t = xcalloc(1, sizeof(*t));

	t->name = xstrdup(NAME);
	return t;
}

/* Decodes bytes into the member for d, as topo_load would. */
static void topo_put(struct topo *t, enum sm_dir d, const struct buf *b)
{
	const uint8_t *p = (const uint8_t *)b->data;
	bool ok = false;

	t->present[d] = true;
	switch (d) {
	case SM_TOPOLOGIES:
		ok = (t->topology = heron__proto__api__topology__unpack(
			      NULL, b->len, p)) != NULL;
		break;
	case SM_PACKINGPLANS:
		ok = (t->packing_plan = heron__proto__system__packing_plan__unpack(
			      NULL, b->len, p)) != NULL;
		break;
	case SM_EXECUTIONSTATE:
		ok = (t->execution_state =
			      heron__proto__system__execution_state__unpack(
				      NULL, b->len, p)) != NULL;
		break;
	case SM_SCHEDULERS:
		ok = (t->scheduler_location =
			      heron__proto__scheduler__scheduler_location__unpack(
				      NULL, b->len, p)) != NULL;
		break;
	case SM_TMANAGERS:
		ok = (t->tmanager_location =
			      heron__proto__tmanager__tmanager_location__unpack(
				      NULL, b->len, p)) != NULL;
		break;
	case SM_PPLANS:
		ok = (t->physical_plan =
			      heron__proto__system__physical_plan__unpack(
				      NULL, b->len, p)) != NULL;
		break;
	default:
		fail();
	}
	t->corrupt[d] = !ok;
}

/* A hand-made topology holding the nodes of sm that sm->has. */
static struct topo *topo_from(const struct statemgr *sm)
{
	struct topo *t = topo_new();

	for (int d = 0; d <= SM_PPLANS; d++)
		if (sm->has[d])
			topo_put(t, (enum sm_dir)d, &sm->node[d]);
	topo_classify(t);
	return t;
}

/* ---- pbjson ---- */

static json_t *render_parse(const ProtobufCMessage *m, struct buf *text)
{
	json_error_t jerr;
	json_t *v;

	buf_reset(text);
	pbjson_render(m, text);
	assert_true(text->len > 0);
	assert_int_equal(text->data[text->len - 1], '\n');
	v = json_loads(text->data, 0, &jerr);
	if (!v)
		fail_msg("not JSON (%s): %s", jerr.text, text->data);
	return v;
}

static void assert_keys(json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	json_object_foreach(o, k, v) {
		assert_true(i < n);
		assert_string_equal(k, keys[i]);
		i++;
	}
	assert_int_equal(i, n);
}

static void test_pbjson_topology(void **state)
{
	static const char *const top_keys[] = {
		"id", "name", "spouts", "bolts", "state", "topology_config"};
	static const char *const comp_keys[] = {"name", "class_name", "config",
						"spec"};
	struct logical l;
	struct buf text = {0};
	json_t *v, *bolt, *kvs;

	logical_init(&l, NAME, ID, HERON__PROTO__API__TOPOLOGY_STATE__PAUSED);
	v = render_parse(&l.topo.base, &text);
	assert_non_null(strstr(text.data, "{\n  \"id\": \"" ID "\",\n"));
	assert_keys(v, top_keys, 6);
	assert_string_equal(json_string_value(json_object_get(v, "state")),
			    "PAUSED");

	json_t *spout = json_array_get(json_object_get(v, "spouts"), 0);
	json_t *comp = json_object_get(spout, "comp");
	assert_keys(comp, comp_keys, 4);
	assert_string_equal(json_string_value(json_object_get(comp, "spec")),
			    "JAVA_CLASS_NAME");
	json_t *key = json_array_get(
		json_object_get(json_object_get(json_array_get(
			json_object_get(spout, "outputs"), 0), "schema"),
			"keys"), 0);
	assert_string_equal(json_string_value(json_object_get(key, "type")),
			    "OBJECT");

	bolt = json_array_get(json_object_get(v, "bolts"), 0);
	comp = json_object_get(bolt, "comp");
	/* unset optionals are omitted, required ones kept */
	assert_null(json_object_get(comp, "class_name"));
	assert_null(json_object_get(comp, "spec"));
	assert_null(json_object_get(comp, "serialized_object"));
	assert_null(json_object_get(comp, "cpp_class_info"));
	assert_non_null(json_object_get(comp, "config"));
	json_t *in = json_array_get(json_object_get(bolt, "inputs"), 0);
	assert_string_equal(json_string_value(json_object_get(in, "gtype")),
			    "FIELDS");
	assert_null(json_object_get(in, "custom_grouping_object"));
	assert_null(json_object_get(in, "type"));
	/* an empty repeated field is an empty array */
	assert_int_equal(json_array_size(json_object_get(bolt, "outputs")), 0);

	kvs = json_object_get(json_object_get(v, "topology_config"), "kvs");
	assert_int_equal(json_array_size(kvs), 2);
	json_t *plain = json_array_get(kvs, 0), *blob = json_array_get(kvs, 1);
	assert_string_equal(json_string_value(json_object_get(plain, "value")),
			    "2");
	assert_null(json_object_get(plain, "serialized_value"));
	assert_null(json_object_get(plain, "type"));
	assert_null(json_object_get(blob, "value"));
	assert_string_equal(
		json_string_value(json_object_get(blob, "serialized_value")),
		"AAH+/w==");
	assert_string_equal(json_string_value(json_object_get(blob, "type")),
			    "JAVA_SERIALIZED_VALUE");
	json_decref(v);
	buf_free(&text);
}

static void test_pbjson_exact_numbers(void **state)
{
	Heron__Proto__System__Resource r = HERON__PROTO__SYSTEM__RESOURCE__INIT;
	struct buf out = {0};

	r.cpu = 0.1;
	r.ram = GIB3;
	r.disk = -1;
	pbjson_render(&r.base, &out);
	assert_string_equal(out.data, "{\n"
				      "  \"cpu\": 0.1,\n"
				      "  \"ram\": 3221225472,\n"
				      "  \"disk\": -1\n"
				      "}\n");
	buf_reset(&out);
	r.cpu = 2.0;
	r.ram = INT64_MAX;
	pbjson_render(&r.base, &out);
	assert_non_null(strstr(out.data, "\"cpu\": 2.0,"));
	assert_non_null(strstr(out.data, "\"ram\": 9223372036854775807,"));
	buf_free(&out);
}

/* A double that needs all 17 digits stays exact; the others stay short. */
static void test_pbjson_double_round_trip(void **state)
{
	Heron__Proto__System__Resource r = HERON__PROTO__SYSTEM__RESOURCE__INIT;
	struct buf out = {0};
	json_t *v;

	r.cpu = 0.1 + 0.2;
	v = render_parse(&r.base, &out);
	assert_true(json_real_value(json_object_get(v, "cpu")) == 0.1 + 0.2);
	json_decref(v);

	buf_reset(&out);
	r.cpu = 0.0 / 0.0;
	pbjson_render(&r.base, &out);
	assert_non_null(strstr(out.data, "\"cpu\": \"NaN\""));
	buf_reset(&out);
	r.cpu = -1.0 / 0.0;
	pbjson_render(&r.base, &out);
	assert_non_null(strstr(out.data, "\"cpu\": \"-Infinity\""));
	buf_free(&out);
}

static void test_pbjson_enum_without_name(void **state)
{
	Heron__Proto__Api__Topology t = HERON__PROTO__API__TOPOLOGY__INIT;
	struct buf out = {0};
	json_t *v;

	t.id = (char *)"i";
	t.name = (char *)"n";
	t.state = (Heron__Proto__Api__TopologyState)7;
	v = render_parse(&t.base, &out);
	assert_true(json_is_integer(json_object_get(v, "state")));
	assert_int_equal(json_integer_value(json_object_get(v, "state")), 7);
	assert_null(json_object_get(v, "topology_config"));
	json_decref(v);
	buf_free(&out);
}

static void test_pbjson_base64(void **state)
{
	static const char *const want[] = {"", "AA==", "AAE=", "AAH+",
					   "AAH+/w=="};
	Heron__Proto__Api__Config__KeyValue kv =
		HERON__PROTO__API__CONFIG__KEY_VALUE__INIT;
	struct buf out = {0};

	kv.key = (char *)"k";
	kv.has_serialized_value = 1;
	kv.serialized_value.data = (uint8_t *)ser;
	for (size_t n = 0; n <= 4; n++) {
		json_t *v;

		kv.serialized_value.len = n;
		v = render_parse(&kv.base, &out);
		assert_string_equal(json_string_value(json_object_get(
					    v, "serialized_value")),
				    want[n]);
		json_decref(v);
	}
	buf_free(&out);
}

static void test_pbjson_optional_scalars(void **state)
{
	Heron__Proto__System__StMgr sm = HERON__PROTO__SYSTEM__ST_MGR__INIT;
	struct buf out = {0};
	json_t *v;

	sm.id = (char *)"stmgr-1";
	sm.host_name = (char *)"h";
	sm.local_endpoint = (char *)"e";
	sm.has_shell_port = 1;   /* set to 0: present */
	v = render_parse(&sm.base, &out);
	assert_true(json_is_integer(json_object_get(v, "data_port")));
	assert_true(json_is_integer(json_object_get(v, "shell_port")));
	assert_null(json_object_get(v, "pid"));
	assert_null(json_object_get(v, "cwd"));
	assert_null(json_object_get(v, "local_data_port"));
	json_decref(v);
	buf_free(&out);
}

static void test_pbjson_invalid_utf8(void **state)
{
	Heron__Proto__Api__StreamId s = HERON__PROTO__API__STREAM_ID__INIT;
	struct buf out = {0};
	json_t *v;

#define BAD "\xEF\xBF\xBD"   /* U+FFFD */
	/* a stray byte, overlong forms, a surrogate, above U+10FFFF, a
	 * truncated sequence */
	s.id = (char *)"a\xff" "b\xc0\xaf" "c\xe0\x80\xaf" "d\xed\xa0\x80"
		       "e\xf4\x90\x80\x80" "f\xe2\x82";
	s.component_name = (char *)"caf\xc3\xa9 \xf0\x9f\x98\x80";
	v = render_parse(&s.base, &out);
	assert_string_equal(json_string_value(json_object_get(v, "id")),
			    "a" BAD "b" BAD BAD "c" BAD BAD BAD "d" BAD BAD BAD
			    "e" BAD BAD BAD BAD "f" BAD BAD);
#undef BAD
	assert_string_equal(
		json_string_value(json_object_get(v, "component_name")),
		"caf\xc3\xa9 \xf0\x9f\x98\x80");
	json_decref(v);
	buf_free(&out);
}

/* ---- classification ---- */

static void assert_orphaned(struct topo *t, const char *reason)
{
	assert_int_equal(t->state, TOPO_ORPHANED);
	assert_non_null(t->reason);
	if (!strstr(t->reason, reason))
		fail_msg("reason \"%s\" lacks \"%s\"", t->reason, reason);
	assert_null(strchr(t->reason, '\n'));
}

static void test_state_words(void **state)
{
	assert_string_equal(topo_state_word(TOPO_SUBMITTING), "submitting");
	assert_string_equal(topo_state_word(TOPO_STARTING), "starting");
	assert_string_equal(topo_state_word(TOPO_RUNNING), "running");
	assert_string_equal(topo_state_word(TOPO_PAUSED), "paused");
	assert_string_equal(topo_state_word(TOPO_KILLING), "killing");
	assert_string_equal(topo_state_word(TOPO_ORPHANED), "orphaned");
}

static void test_classify_running_paused_starting(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	t = topo_from(&sm);
	assert_int_equal(t->state, TOPO_RUNNING);
	assert_null(t->reason);
	topo_free(t);

	/* the physical plan decides, not topologies/<name> */
	pack_physical_plan(&sm.node[SM_PPLANS], NAME, ID,
			   HERON__PROTO__API__TOPOLOGY_STATE__PAUSED);
	t = topo_from(&sm);
	assert_int_equal(t->state, TOPO_PAUSED);
	topo_free(t);

	sm.has[SM_PPLANS] = false;
	sm.has[SM_TMANAGERS] = false;
	t = topo_from(&sm);
	assert_int_equal(t->state, TOPO_STARTING);
	assert_null(t->reason);
	topo_free(t);

	/* just submitted by another client: only topologies/<name> */
	memset(sm.has, 0, sizeof(sm.has));
	sm.has[SM_TOPOLOGIES] = true;
	t = topo_from(&sm);
	assert_int_equal(t->state, TOPO_STARTING);
	topo_free(t);
	sm_clear(&sm);
}

static void test_classify_missing_topology(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	sm.has[SM_TOPOLOGIES] = false;
	sm.has[SM_SCHEDULERS] = false;
	sm.has[SM_TMANAGERS] = false;
	t = topo_from(&sm);
	assert_orphaned(t, "topologies/WordCount is missing; found "
			   "packingplans/WordCount, executionstate/WordCount, "
			   "pplans/WordCount (left by an unfinished kill or "
			   "submit)");
	/* classifying again replaces the reason */
	topo_classify(t);
	assert_int_equal(t->state, TOPO_ORPHANED);
	topo_free(t);
	sm_clear(&sm);
}

static void test_classify_corrupt(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	buf_reset(&sm.node[SM_PACKINGPLANS]);
	buf_puts(&sm.node[SM_PACKINGPLANS], "\xff\xff\xff");
	sm.node[SM_PPLANS].len /= 2;
	t = topo_from(&sm);
	assert_true(t->corrupt[SM_PACKINGPLANS] && t->corrupt[SM_PPLANS]);
	assert_null(t->packing_plan);
	assert_orphaned(t, "packingplans/WordCount does not decode as "
			   "heron.proto.system.PackingPlan; pplans/WordCount "
			   "does not decode as heron.proto.system.PhysicalPlan");
	topo_free(t);
	sm_clear(&sm);
}

static void test_classify_mismatches(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	pack_topology(&sm.node[SM_TOPOLOGIES], "Other", ID,
		      HERON__PROTO__API__TOPOLOGY_STATE__RUNNING);
	t = topo_from(&sm);
	assert_orphaned(t, "topologies/WordCount names topology 'Other'");
	topo_free(t);
	sm_clear(&sm);

	world(&sm);
	pack_execution_state(&sm.node[SM_EXECUTIONSTATE], NAME, "old-id");
	t = topo_from(&sm);
	assert_orphaned(t, "executionstate/WordCount has topology id 'old-id' "
			   "but topologies/WordCount has '" ID "'");
	topo_free(t);
	sm_clear(&sm);

	world(&sm);
	pack_physical_plan(&sm.node[SM_PPLANS], NAME, "old-id",
			   HERON__PROTO__API__TOPOLOGY_STATE__RUNNING);
	t = topo_from(&sm);
	assert_orphaned(t, "pplans/WordCount has topology id 'old-id'");
	topo_free(t);
	sm_clear(&sm);

	world(&sm);
	pack_packing_plan(&sm.node[SM_PACKINGPLANS], "old-id");
	t = topo_from(&sm);
	assert_orphaned(t, "packingplans/WordCount has topology id 'old-id'");
	topo_free(t);
	sm_clear(&sm);

	world(&sm);
	pack_scheduler_location(&sm.node[SM_SCHEDULERS], "Other");
	t = topo_from(&sm);
	assert_orphaned(t, "schedulers/WordCount names topology 'Other'");
	topo_free(t);
	sm_clear(&sm);

	/* a stored newline does not break the one-line reason */
	world(&sm);
	pack_execution_state(&sm.node[SM_EXECUTIONSTATE], "Word\nCount", ID);
	t = topo_from(&sm);
	assert_orphaned(t, "names topology 'Word?Count'");
	topo_free(t);
	sm_clear(&sm);
}

static void test_classify_killed_plan(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	pack_physical_plan(&sm.node[SM_PPLANS], NAME, ID,
			   HERON__PROTO__API__TOPOLOGY_STATE__KILLED);
	t = topo_from(&sm);
	assert_orphaned(t, "pplans/WordCount says the topology is KILLED");
	topo_free(t);
	sm_clear(&sm);
}

/* A dead TManager's ephemeral node outlives a kill; after a new submit it
 * carries the old id and is not this topology's. */
static void test_classify_stale_tmanager(void **state)
{
	struct statemgr sm = {0};
	struct buf out = {0};
	struct topo *t;

	world(&sm);
	sm.has[SM_PPLANS] = false;
	pack_tmanager_location(&sm.node[SM_TMANAGERS], NAME, "old-id");
	t = topo_from(&sm);
	assert_int_equal(t->state, TOPO_STARTING);
	topo_render_status(t, NULL, &out);
	assert_non_null(strstr(out.data, "\ntmanager: none\n"));
	assert_non_null(strstr(out.data, "\nhas_tmanager_location: no\n"));
	topo_free(t);
	buf_free(&out);
	sm_clear(&sm);
}

/* ---- status ---- */

/* Every line is "key: value" with a non-empty value and ends in \n. */
static void assert_status_lines(const char *s)
{
	assert_true(*s);
	while (*s) {
		const char *nl = strchr(s, '\n');
		const char *colon = strstr(s, ": ");

		assert_non_null(nl);
		assert_true(colon && colon > s && colon + 2 < nl);
		s = nl + 1;
	}
}

static void test_status_running(void **state)
{
	struct topo_extra x = {.cluster = "devcluster"};
	struct statemgr sm = {0};
	struct buf out = {0};
	struct topo *t;

	world(&sm);
	t = load_ok(&sm);
	topo_render_status(t, &x, &out);
	assert_string_equal(out.data,
		"name: WordCount\n"
		"id: " ID "\n"
		"state: running\n"
		"cluster: devcluster\n"
		"role: alice\n"
		"environ: default\n"
		"submitted_by: alice\n"
		"submitted_at: 2026-11-29T09:10:48Z\n"
		"release: 0.20.5-incubating username=builder\n"
		"containers: 3\n"
		"instances: 3\n"
		"tmanager: host1.example.com:37000\n"
		"job_link: http://aurora:8081/scheduler/alice/default/WordCount\n"
		"has_physical_plan: yes\n"
		"has_packing_plan: yes\n"
		"has_tmanager_location: yes\n"
		"has_scheduler_location: yes\n");
	topo_free(t);
	buf_free(&out);
	sm_clear(&sm);
}

static void test_status_orphaned_minimal(void **state)
{
	struct topo_extra x = {.cluster = "devcluster"};
	struct statemgr sm = {0};
	struct buf out = {0};
	struct topo *t;

	world(&sm);
	memset(sm.has, 0, sizeof(sm.has));
	sm.has[SM_PPLANS] = true;
	t = topo_from(&sm);
	topo_render_status(t, &x, &out);
	assert_status_lines(out.data);
	assert_string_equal(out.data,
		"name: WordCount\n"
		"id: unknown\n"
		"state: orphaned\n"
		"cluster: devcluster\n"
		"role: unknown\n"
		"environ: unknown\n"
		"submitted_by: unknown\n"
		"submitted_at: unknown\n"
		"release: unknown\n"
		"containers: unknown\n"
		"instances: unknown\n"
		"tmanager: none\n"
		"job_link: none\n"
		"has_physical_plan: yes\n"
		"has_packing_plan: no\n"
		"has_tmanager_location: no\n"
		"has_scheduler_location: no\n"
		"reason: topologies/WordCount is missing; found "
		"pplans/WordCount (left by an unfinished kill or submit)\n");
	topo_free(t);
	buf_free(&out);

	/* no nodes at all, no cluster: still no empty value */
	t = topo_new();
	topo_render_status(t, NULL, &out);
	assert_status_lines(out.data);
	topo_free(t);
	buf_free(&out);
	sm_clear(&sm);
}

static void test_status_json(void **state)
{
	static const char *const keys[] = {
		"name", "id", "state", "reason", "cluster", "role", "environ",
		"submitted_by", "submitted_at", "submission_time", "release",
		"containers", "container_states", "instances", "stmgrs",
		"tmanager", "scheduler",
		"job_link", "has_topology", "has_execution_state",
		"has_physical_plan", "has_packing_plan",
		"has_tmanager_location", "has_scheduler_location", "corrupt"};
	struct topo_extra x = {.cluster = "devcluster"};
	struct statemgr sm = {0};
	struct buf out = {0};
	json_error_t jerr;
	struct topo *t;
	json_t *v;

	world(&sm);
	t = load_ok(&sm);
	topo_render_status_json(t, &x, &out);
	assert_int_equal(out.data[out.len - 1], '\n');
	v = json_loads(out.data, 0, &jerr);
	assert_non_null(v);
	assert_keys(v, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(json_string_value(json_object_get(v, "state")),
			    "running");
	assert_true(json_is_null(json_object_get(v, "reason")));
	assert_string_equal(
		json_string_value(json_object_get(v, "submitted_at")),
		"2026-11-29T09:10:48Z");
	assert_int_equal(
		json_integer_value(json_object_get(v, "submission_time")),
		SUBMITTED);
	assert_int_equal(json_integer_value(json_object_get(v, "containers")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(v, "instances")),
			 3);
	assert_true(json_is_true(json_object_get(v, "has_physical_plan")));
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(v, "tmanager"),
				 "controller_port")),
			 37000);
	assert_true(json_is_null(json_object_get(
		json_object_get(v, "tmanager"), "stats_port")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(v, "release"),
				    "release_version")),
			    "0.20.5-incubating");
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(v, "scheduler"),
				 "job_page_links")),
			 2);
	json_decref(v);
	topo_free(t);
	buf_free(&out);

	/* orphaned and corrupt: a reason, the corrupt list, nulls */
	buf_reset(&sm.node[SM_PACKINGPLANS]);
	sm.has[SM_EXECUTIONSTATE] = false;
	t = load_ok(&sm);
	topo_render_status_json(t, &x, &out);
	v = json_loads(out.data, 0, &jerr);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "state")),
			    "orphaned");
	assert_non_null(json_string_value(json_object_get(v, "reason")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(v, "corrupt"), 0)),
			    "packingplans");
	assert_true(json_is_null(json_object_get(v, "containers")));
	assert_true(json_is_null(json_object_get(v, "submitted_at")));
	assert_true(json_is_false(json_object_get(v, "has_packing_plan")));
	json_decref(v);
	topo_free(t);
	buf_free(&out);
	sm_clear(&sm);
}

/* ---- plan files ---- */

static void test_node_json(void **state)
{
	struct statemgr sm = {0};
	struct hf_error err = {0};
	struct buf out = {0}, want = {0};
	struct topo *t;

	world(&sm);
	sm.has[SM_PPLANS] = false;
	buf_reset(&sm.node[SM_PACKINGPLANS]);
	buf_puts(&sm.node[SM_PACKINGPLANS], "garbage");
	t = load_ok(&sm);

	assert_int_equal(topo_render_node_json(t, SM_TOPOLOGIES, &out, &err),
			 HF_OK);
	pbjson_render(&t->topology->base, &want);
	assert_string_equal(out.data, want.data);

	buf_reset(&out);
	assert_int_equal(topo_render_node_json(t, SM_PPLANS, &out, &err),
			 HF_ERR_NOTFOUND);
	assert_string_equal(err.msg, "there is no pplans/WordCount");
	assert_int_equal(out.len, 0);
	assert_int_equal(topo_render_node_json(t, SM_PACKINGPLANS, &out, &err),
			 HF_ERR_NOTFOUND);
	assert_string_equal(err.msg, "packingplans/WordCount does not decode "
				     "as heron.proto.system.PackingPlan");
	assert_int_equal(topo_render_node_json(t, SM_LOCKS, &out, &err),
			 HF_ERR_INVALID);
	topo_free(t);
	buf_free(&out);
	buf_free(&want);
	sm_clear(&sm);
}

/* ---- loading ---- */

static void test_load(void **state)
{
	struct statemgr sm = {0};
	struct topo *t;

	world(&sm);
	t = load_ok(&sm);
	assert_string_equal(t->name, NAME);
	assert_int_equal(t->state, TOPO_RUNNING);
	for (int d = 0; d <= SM_PPLANS; d++)
		assert_true(t->present[d] && !t->corrupt[d]);
	assert_false(t->present[SM_LOCKS]);
	assert_string_equal(t->execution_state->role, "alice");
	assert_int_equal(t->packing_plan->container_plans[0]->instance_plans[0]
				 ->resource->ram,
			 GIB3);
	topo_free(t);

	/* an empty node (ZooKeeper allows them) does not decode */
	buf_reset(&sm.node[SM_SCHEDULERS]);
	t = load_ok(&sm);
	assert_true(t->present[SM_SCHEDULERS] && t->corrupt[SM_SCHEDULERS]);
	assert_orphaned(t, "schedulers/WordCount does not decode");
	topo_free(t);
	sm_clear(&sm);
}

static void test_load_not_found(void **state)
{
	struct statemgr sm = {0};
	struct hf_error err = {0};
	struct topo sentinel, *t = &sentinel;   /* must be reset */

	assert_int_equal(topo_load(&sm, NAME, &t, &err), HF_ERR_NOTFOUND);
	assert_null(t);
	assert_string_equal(err.msg, "no topology WordCount");

	/* a lingering ephemeral TManager node alone is no topology */
	world(&sm);
	memset(sm.has, 0, sizeof(sm.has));
	sm.has[SM_TMANAGERS] = true;
	assert_int_equal(topo_load(&sm, NAME, &t, &err), HF_ERR_NOTFOUND);

	assert_int_equal(topo_load(&sm, "..", &t, &err), HF_ERR_NOTFOUND);
	assert_int_equal(topo_load(&sm, "a/b", &t, &err), HF_ERR_NOTFOUND);
	assert_int_equal(topo_load(&sm, "", &t, &err), HF_ERR_NOTFOUND);
	assert_int_equal(topo_load(&sm, "a\nb", &t, &err), HF_ERR_NOTFOUND);
	sm_clear(&sm);
}

static void test_load_statemgr_failure(void **state)
{
	struct statemgr sm = {0};
	struct hf_error err = {0};
	struct topo *t;

	world(&sm);
	sm.get_fails[SM_TMANAGERS] = HF_ERR_TIMEOUT;
	assert_int_equal(topo_load(&sm, NAME, &t, &err), HF_ERR_TIMEOUT);
	assert_null(t);
	assert_int_equal(err.rc, HF_ERR_TIMEOUT);
	assert_string_equal(err.msg, "reading tmasters/WordCount: no answer "
				     "in 5000 ms");
	sm_clear(&sm);
}

/* Every truncation and every single-byte corruption of every node loads
 * and renders without a crash (valgrind checks the memory side). */
static void test_load_damaged_nodes(void **state)
{
	struct topo_extra x = {.cluster = "c"};
	struct statemgr sm = {0};
	struct buf good = {0}, out = {0};

	world(&sm);
	for (int d = 0; d <= SM_PPLANS; d++) {
		buf_reset(&good);
		buf_append(&good, sm.node[d].data, sm.node[d].len);
		for (size_t i = 0; i < good.len * 2; i++) {
			struct hf_error err;
			struct topo *t;

			buf_reset(&sm.node[d]);
			if (i < good.len) {
				buf_append(&sm.node[d], good.data, i);
			} else {
				buf_append(&sm.node[d], good.data, good.len);
				sm.node[d].data[i - good.len] ^= 0xA5;
			}
			assert_int_equal(topo_load(&sm, NAME, &t, &err), HF_OK);
			topo_render_status(t, &x, &out);
			topo_render_status_json(t, &x, &out);
			for (int f = 0; f <= SM_PPLANS; f++)
				topo_render_node_json(t, (enum sm_dir)f, &out,
						      &err);
			if (t->corrupt[d])
				assert_int_equal(t->state, TOPO_ORPHANED);
			topo_free(t);
			buf_reset(&out);
		}
		buf_reset(&sm.node[d]);
		buf_append(&sm.node[d], good.data, good.len);
	}
	buf_free(&good);
	buf_free(&out);
	sm_clear(&sm);
}

/* ---- listing ---- */

static void test_list(void **state)
{
	struct statemgr sm = {
		.children = {
			[SM_TOPOLOGIES] = {"b", "a"},
			[SM_PACKINGPLANS] = {"a", "c"},
			[SM_SCHEDULERS] = {"d", "a"},
			[SM_TMANAGERS] = {"ephemeral-only"},
			[SM_PPLANS] = {"a"},
			[SM_LOCKS] = {"x__updateTopology"},
		},
	};
	struct hf_error err = {0};
	char **names;

	assert_int_equal(topo_list(&sm, &names, &err), HF_OK);
	assert_int_equal(strv_len(names), 4);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	assert_string_equal(names[2], "c");
	assert_string_equal(names[3], "d");
	assert_null(names[4]);
	strv_free(names);

	memset(sm.children, 0, sizeof(sm.children));
	assert_int_equal(topo_list(&sm, &names, &err), HF_OK);
	assert_null(names[0]);
	strv_free(names);

	sm.children[SM_TOPOLOGIES][0] = "a";
	sm.list_fails[SM_SCHEDULERS] = HF_ERR_UNAVAILABLE;
	assert_int_equal(topo_list(&sm, &names, &err), HF_ERR_UNAVAILABLE);
	assert_null(names);
	assert_string_equal(err.msg, "listing schedulers: connection lost");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbjson_topology),
		cmocka_unit_test(test_pbjson_exact_numbers),
		cmocka_unit_test(test_pbjson_double_round_trip),
		cmocka_unit_test(test_pbjson_enum_without_name),
		cmocka_unit_test(test_pbjson_base64),
		cmocka_unit_test(test_pbjson_optional_scalars),
		cmocka_unit_test(test_pbjson_invalid_utf8),
		cmocka_unit_test(test_state_words),
		cmocka_unit_test(test_classify_running_paused_starting),
		cmocka_unit_test(test_classify_missing_topology),
		cmocka_unit_test(test_classify_corrupt),
		cmocka_unit_test(test_classify_mismatches),
		cmocka_unit_test(test_classify_killed_plan),
		cmocka_unit_test(test_classify_stale_tmanager),
		cmocka_unit_test(test_status_running),
		cmocka_unit_test(test_status_orphaned_minimal),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_node_json),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_not_found),
		cmocka_unit_test(test_load_statemgr_failure),
		cmocka_unit_test(test_load_damaged_nodes),
		cmocka_unit_test(test_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
