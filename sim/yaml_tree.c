/* The YAML tree of sim/yaml_tree.h: libyaml events (yaml_parser_parse) turned into nodes with
 * their 1-based line and column. Every libyaml call is checked; a parser error becomes a
 * myr__yaml_problem carrying libyaml's problem, its context and its mark. */
#include "sim/yaml_tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h> // yaml_parser_*, yaml_event_*

#define MAX_DEPTH 64

typedef struct ctx {
  yaml_parser_t parser;
  const char *text;
  size_t len;
  myr__yaml_problem *problem;
} ctx;

static myr_status problem_at(ctx *c, yaml_mark_t mark, const char *fmt, const char *arg) {
  c->problem->line = (int)mark.line + 1;
  c->problem->col = (int)mark.column + 1;
  snprintf(c->problem->msg, sizeof c->problem->msg, fmt, arg);
  return MYR_ERR_CONFIG;
}

/* 1 if the character at 1-based (line, col) is a tab (columns counted in bytes: enough for
 * the indentation where tabs go wrong). */
static int tab_at(const char *text, size_t len, int line, int col) {
  size_t i = 0;
  for (int l = 1; l < line && i < len; i++)
    if (text[i] == '\n') l++;
  i += (size_t)(col - 1);
  return i < len && text[i] == '\t';
}

/* Turns libyaml's error state into a problem. */
static myr_status parser_problem(ctx *c) {
  const yaml_parser_t *p = &c->parser;
  myr__yaml_problem *pr = c->problem;
  const char *problem = p->problem ? p->problem : "unknown libyaml error";
  if (p->error == YAML_MEMORY_ERROR) {
    snprintf(pr->msg, sizeof pr->msg, "out of memory while parsing YAML");
    return MYR_ERR_NOMEM;
  }
  if (p->error == YAML_READER_ERROR) {
    /* Reader errors carry a byte offset, not a mark: count lines up to it. */
    size_t off = p->problem_offset < c->len ? p->problem_offset : c->len;
    int line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
      if (c->text[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    pr->line = line;
    pr->col = col;
    if (p->problem_value != -1)
      snprintf(pr->msg, sizeof pr->msg, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value & 0xffu);
    else
      snprintf(pr->msg, sizeof pr->msg, "%s", problem);
    return MYR_ERR_CONFIG;
  }
  pr->line = (int)p->problem_mark.line + 1;
  pr->col = (int)p->problem_mark.column + 1;
  const char *hint = tab_at(c->text, c->len, pr->line, pr->col) ? "; tabs cannot indent YAML, use spaces" : "";
  if (p->context)
    snprintf(pr->msg, sizeof pr->msg, "%s (%s at line %d, column %d)%s", problem, p->context,
             (int)p->context_mark.line + 1, (int)p->context_mark.column + 1, hint);
  else
    snprintf(pr->msg, sizeof pr->msg, "%s%s", problem, hint);
  return MYR_ERR_CONFIG;
}

static myr_status next_event(ctx *c, yaml_event_t *ev) {
  if (!yaml_parser_parse(&c->parser, ev)) return parser_problem(c);
  return MYR_OK;
}

void myr__ynode_free(myr__ynode *n) {
  if (!n) return;
  int kids = n->kind == MYR__Y_MAP ? 2 * n->n : n->n;
  for (int i = 0; i < kids; i++) myr__ynode_free(n->kids[i]);
  free(n->kids);
  free(n->text);
  free(n);
}

static myr__ynode *new_node(myr__ykind kind, yaml_mark_t mark) {
  myr__ynode *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)mark.line + 1;
  n->col = (int)mark.column + 1;
  return n;
}

/* Frees a node whose `count` children were added before an error (a key may lack its value). */
static void free_partial(myr__ynode *n, int count) {
  for (int i = 0; i < count; i++) myr__ynode_free(n->kids[i]);
  n->n = 0;
  myr__ynode_free(n);
}

static int add_kid(myr__ynode *n, myr__ynode *kid, int count) {
  if (count >= n->cap) {
    int cap = n->cap ? 2 * n->cap : 8;
    myr__ynode **k = realloc(n->kids, (size_t)cap * sizeof *k);
    if (!k) return 0;
    n->kids = k;
    n->cap = cap;
  }
  n->kids[count] = kid;
  return 1;
}

/* Builds the node that starts with event `ev` (owned by the caller), reading the events of
 * its children from the parser. */
static myr_status build(ctx *c, const yaml_event_t *ev, int depth, myr__ynode **out) {
  *out = NULL;
  if (ev->type == YAML_ALIAS_EVENT)
    return problem_at(c, ev->start_mark, "aliases (*%s) are not supported in configurations",
                      (const char *)ev->data.alias.anchor);
  if (ev->type == YAML_SCALAR_EVENT) {
    myr__ynode *n = new_node(MYR__Y_SCALAR, ev->start_mark);
    if (!n) return MYR_ERR_NOMEM;
    n->len = ev->data.scalar.length;
    n->text = malloc(n->len + 1);
    if (!n->text) {
      free(n);
      return MYR_ERR_NOMEM;
    }
    memcpy(n->text, ev->data.scalar.value, n->len);
    n->text[n->len] = '\0';
    const char *tag = (const char *)ev->data.scalar.tag;
    int str_tag = tag && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!!str") == 0);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !str_tag;
    *out = n;
    return MYR_OK;
  }
  int is_map = ev->type == YAML_MAPPING_START_EVENT;
  if (!is_map && ev->type != YAML_SEQUENCE_START_EVENT)
    return problem_at(c, ev->start_mark, "%s", "unexpected YAML event");
  if (depth >= MAX_DEPTH)
    return problem_at(c, ev->start_mark, "%s", "nesting deeper than 64 levels");
  myr__ynode *n = new_node(is_map ? MYR__Y_MAP : MYR__Y_SEQ, ev->start_mark);
  if (!n) return MYR_ERR_NOMEM;
  yaml_event_type_t end = is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
  int count = 0;
  for (;;) {
    yaml_event_t kev;
    myr_status s = next_event(c, &kev);
    if (s != MYR_OK) {
      free_partial(n, count);
      return s;
    }
    if (kev.type == end) {
      yaml_event_delete(&kev);
      break;
    }
    myr__ynode *kid;
    s = build(c, &kev, depth + 1, &kid);
    yaml_event_delete(&kev);
    if (s == MYR_OK && !add_kid(n, kid, count)) {
      myr__ynode_free(kid);
      s = MYR_ERR_NOMEM;
    }
    if (s != MYR_OK) {
      free_partial(n, count);
      return s;
    }
    count++;
  }
  n->n = is_map ? count / 2 : count;
  *out = n;
  return MYR_OK;
}

/* Reads the next event and checks it has type `want`. */
static myr_status expect_event(ctx *c, yaml_event_type_t want, yaml_event_t *ev) {
  myr_status s = next_event(c, ev);
  if (s != MYR_OK) return s;
  if (ev->type != want) {
    s = problem_at(c, ev->start_mark, "%s", "unexpected YAML event");
    yaml_event_delete(ev);
  }
  return s;
}

static myr_status parse_stream(ctx *c, myr__ynode **root) {
  yaml_event_t ev;
  myr_status s = expect_event(c, YAML_STREAM_START_EVENT, &ev);
  if (s != MYR_OK) return s;
  yaml_event_delete(&ev);
  if ((s = next_event(c, &ev)) != MYR_OK) return s;
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    return MYR_OK; /* no document */
  }
  int is_doc = ev.type == YAML_DOCUMENT_START_EVENT;
  yaml_mark_t mark = ev.start_mark;
  yaml_event_delete(&ev);
  if (!is_doc) return problem_at(c, mark, "%s", "unexpected YAML event");

  if ((s = next_event(c, &ev)) != MYR_OK) return s;
  s = build(c, &ev, 0, root);
  yaml_event_delete(&ev);
  if (s != MYR_OK) return s;

  if ((s = expect_event(c, YAML_DOCUMENT_END_EVENT, &ev)) != MYR_OK) goto fail;
  yaml_event_delete(&ev);
  if ((s = next_event(c, &ev)) != MYR_OK) goto fail;
  if (ev.type != YAML_STREAM_END_EVENT) {
    s = problem_at(c, ev.start_mark, "%s",
                   "expected one YAML document, found the start of another one");
    yaml_event_delete(&ev);
    goto fail;
  }
  yaml_event_delete(&ev);
  return MYR_OK;
fail:
  myr__ynode_free(*root);
  *root = NULL;
  return s;
}

myr_status myr__yaml_parse(const char *text, size_t len, myr__ynode **root,
                           myr__yaml_problem *problem) {
  *root = NULL;
  memset(problem, 0, sizeof *problem);
  ctx c = {.text = text, .len = len, .problem = problem};
  if (!yaml_parser_initialize(&c.parser)) {
    snprintf(problem->msg, sizeof problem->msg, "cannot initialise the YAML parser");
    return MYR_ERR_NOMEM;
  }
  yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
  myr_status s = parse_stream(&c, root);
  if (s == MYR_ERR_NOMEM && !problem->msg[0])
    snprintf(problem->msg, sizeof problem->msg, "out of memory while parsing YAML");
  yaml_parser_delete(&c.parser);
  return s;
}

int myr__ynode_is_null(const myr__ynode *n) {
  if (!n || n->kind != MYR__Y_SCALAR || !n->plain) return 0;
  const char *t = n->text;
  return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
         strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}
