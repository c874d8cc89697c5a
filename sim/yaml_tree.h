/* A small YAML tree for the configuration reader (sim/config.c): one document read with
 * libyaml's event API into scalar / mapping / list nodes that keep the 1-based line and column
 * where each node starts. Internal to the library (myr__ names). Aliases are refused; anchors
 * and tags are ignored except `!!str`, which makes a scalar a string like quoting does. */
#ifndef MYR_YAML_TREE_H
#define MYR_YAML_TREE_H

#include <stddef.h>

#include "sim/status.h"

typedef enum { MYR__Y_SCALAR, MYR__Y_MAP, MYR__Y_SEQ } myr__ykind;

typedef struct myr__ynode {
  myr__ykind kind;
  int line, col;   /* 1-based start of the node in the text */
  char *text;      /* SCALAR: the value, NUL-terminated */
  size_t len;      /* SCALAR: bytes in text (a quoted "\0" can put NULs inside) */
  int plain;       /* SCALAR: 1 if plain (unquoted, untagged), so typed by its text */
  int n;           /* MAP: pairs; SEQ: items */
  int cap;
  struct myr__ynode **kids; /* MAP: key0, value0, key1, value1, ...; SEQ: items */
} myr__ynode;

#define MYR__YKEY(map, i) ((map)->kids[2 * (i)])
#define MYR__YVAL(map, i) ((map)->kids[2 * (i) + 1])

/* What was wrong with invalid YAML, and where (1-based; 0 when libyaml gave no place). */
typedef struct myr__yaml_problem {
  int line, col;
  char msg[512];
} myr__yaml_problem;

/* Parses `len` bytes of `text` as at most one YAML document. Returns MYR_OK with *root owned
 * by the caller (myr__ynode_free), or NULL when the stream holds no document (empty text or
 * comments only); MYR_ERR_CONFIG with *problem filled when the text is not valid YAML (or has
 * aliases, several documents, or nesting deeper than 64); MYR_ERR_NOMEM. */
myr_status myr__yaml_parse(const char *text, size_t len, myr__ynode **root,
                           myr__yaml_problem *problem);
void myr__ynode_free(myr__ynode *n);

/* A plain scalar meaning null: empty, ~, null, Null, NULL. */
int myr__ynode_is_null(const myr__ynode *n);

#endif
