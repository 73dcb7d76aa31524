/* pbjson: faithful JSON renderings of protobuf-c messages.
 *
 * Generic over the message descriptor, so every field of every message is
 * rendered: keys are the .proto field names in field-number order; enums
 * by name (the number when it has no name); int64/uint64 as JSON integers
 * (byte sizes stay numbers; only a uint64 above INT64_MAX, which jansson
 * cannot hold, becomes a decimal string); doubles as numbers (NaN and the
 * infinities, which JSON lacks, as the strings "NaN", "Infinity",
 * "-Infinity"); bytes as base64 strings; repeated fields as arrays, empty
 * ones as []; strings with invalid UTF-8 get U+FFFD in place of the bad
 * bytes. Unset optional fields are omitted (proto3 fields without presence
 * when they hold the default, as on the wire), so the output says exactly
 * what is stored. Unknown fields are not rendered. */
#ifndef HERONFS_PBJSON_H
#define HERONFS_PBJSON_H

#include <protobuf-c/protobuf-c.h>

#include "buf.h"

/* Appends the message as pretty-printed JSON (2-space indent) ending in a
 * newline. */
void pbjson_render(const ProtobufCMessage *msg, struct buf *out);

/* The same as a jansson value (json_t *, returned as void * so that this
 * header needs no jansson include); the caller owns the reference. */
void *pbjson_value(const ProtobufCMessage *msg);

/* Helpers for other JSON files built with jansson, so that they read like
 * the message renderings. */

/* Appends any jansson value (json_t *) as pbjson_render does: 2-space
 * indent, keys in insertion order, doubles exact but with no more digits
 * than the most demanding one in the value needs, a final newline. */
void pbjson_dump(const void *json, struct buf *out);

/* A new JSON string (json_t *) for s, invalid UTF-8 replaced by U+FFFD
 * (jansson refuses such strings); JSON null for a NULL s. */
void *pbjson_string(const char *s);

#endif
