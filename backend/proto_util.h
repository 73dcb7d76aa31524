/* proto_util: small helpers over protobuf-c messages. */
#ifndef HERONFS_PROTO_UTIL_H
#define HERONFS_PROTO_UTIL_H

#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "topology.pb-c.h"

/* Serializes msg into out (replacing its content). */
void pb_pack(const ProtobufCMessage *msg, struct buf *out);

/* A deep copy of a Topology (packed and unpacked again), to change
 * without touching the original. */
struct pb_copy {
	Heron__Proto__Api__Topology *topology;
};
void pb_copy_topology(const Heron__Proto__Api__Topology *t,
		      struct pb_copy *out);
void pb_copy_free(struct pb_copy *c);

/* Sets key to the decimal value in the topology's config, replacing the
 * value if the key is there, as Heron does when the packing plan's
 * container count differs from topology.stmgrs. */
void pb_set_topology_config(Heron__Proto__Api__Topology *t, const char *key,
			    size_t value);

#endif
