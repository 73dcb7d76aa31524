/* pbjson: faithful JSON renderings of protobuf-c messages.
 *
 * Generic over the message descriptor, so every field of every message is
 * rendered: keys are the .proto field names in field-number order; enums
 * by name (the number when it has no name); int64/uint64 as JSON integers
 * (byte sizes stay numbers); doubles as numbers; bytes as base64 strings;
 * repeated fields as arrays; unset optional fields are omitted, so the
 * output says exactly what is stored. */
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

#endif
