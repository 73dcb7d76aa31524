#include "proto_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void pb_pack(const ProtobufCMessage *msg, struct buf *out)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *tmp = xmalloc(len);

	protobuf_c_message_pack(msg, tmp);
	buf_reset(out);
	buf_append(out, tmp, len);
	free(tmp);
}

void pb_copy_topology(const Heron__Proto__Api__Topology *t,
		      struct pb_copy *out)
{
	struct buf b = {0};

	pb_pack(&t->base, &b);
	out->topology = heron__proto__api__topology__unpack(
		NULL, b.len, (const uint8_t *)b.data);
	buf_free(&b);
	if (!out->topology) {
		/* A message we packed ourselves always unpacks; if it does
		 * not, memory ran out. */
		fputs("heronfs: out of memory\n", stderr);
		abort();
	}
}

void pb_copy_free(struct pb_copy *c)
{
	if (c->topology)
		heron__proto__api__topology__free_unpacked(c->topology, NULL);
	c->topology = NULL;
}

/* The config's entries live in protobuf-c's allocation; new strings are
 * allocated with malloc, which free_unpacked (system allocator) frees. */
void pb_set_topology_config(Heron__Proto__Api__Topology *t, const char *key,
			     size_t value)
{
	char text[32];
	Heron__Proto__Api__Config *cfg = t->topology_config;

	snprintf(text, sizeof(text), "%zu", value);
	if (!cfg) {
		cfg = xmalloc(sizeof(*cfg));
		heron__proto__api__config__init(cfg);
		t->topology_config = cfg;
	}
	for (size_t i = 0; i < cfg->n_kvs; i++) {
		Heron__Proto__Api__Config__KeyValue *kv = cfg->kvs[i];

		if (strcmp(kv->key, key) != 0)
			continue;
		if (kv->value && strcmp(kv->value, text) == 0)
			return;
		free(kv->value);
		kv->value = xstrdup(text);
		return;
	}
	Heron__Proto__Api__Config__KeyValue *kv = xmalloc(sizeof(*kv));

	heron__proto__api__config__key_value__init(kv);
	kv->key = xstrdup(key);
	kv->value = xstrdup(text);
	cfg->kvs = xrealloc(cfg->kvs, (cfg->n_kvs + 1) * sizeof(*cfg->kvs));
	cfg->kvs[cfg->n_kvs++] = kv;
}
