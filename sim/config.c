/* Configuration (DESIGN §8): reads YAML (a file, text, and --set overrides) into myr_config
 * through the schema table of sim/config_schema.c and the chosen model's parameter table,
 * checks every value and the rules between keys, and prints configurations back as YAML.
 *
 * Reading, in order: defaults; the file's keys (model.params kept aside); the --set overrides
 * of ordinary keys, in order; model.name resolved to a registered model; its parameters from
 * their defaults, then the file's model.params, then the model.params.* overrides, in order;
 * the output path; the checks between keys; the model's setup(). The first error stops
 * everything and names file:line:column (or the --set argument), the key path and what was
 * expected.
 *
 * Scalar rules (the same for the file and for --set values, which are parsed as YAML):
 *   integer  plain decimal digits, optionally signed, '_' allowed between digits (1_000_000);
 *            also decimal or exponent notation when the value is a whole number (1e6, 2.5e3);
 *            1.5 is not an integer. Quoted text ("100") is a string, not an integer.
 *   number   plain decimal or exponent notation (0.5, 5e-2, 3); no inf or nan.
 *   boolean  plain true/false, yes/no, on/off (lower case, Capitalised or UPPER case).
 *   choice   one of the listed words, quoted or not.
 *   string   any scalar; an empty or null scalar (~, null) is the empty string.
 * This file owns nothing global; every allocation belongs to the myr_config it fills. */
#include "sim/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/config_internal.h" // myr__config_keys: the schema table
#include "sim/yaml_tree.h"       // myr__yaml_parse: YAML into nodes with line and column

#define KEYS myr__config_keys
#define N_KEYS myr__n_config_keys
#define PARAMS_PREFIX "model.params."

/* ---------------------------------------------------------------- growing strings */

typedef struct sbuf {
  char *s;
  size_t len, cap;
  int failed; /* out of memory: s is dropped at the end */
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  if (b->failed) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if (b->len + (size_t)n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + (size_t)n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->failed = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* The built text (caller frees), or NULL when memory ran out. */
static char *sb_take(sbuf *b) {
  if (b->failed) {
    free(b->s);
    return NULL;
  }
  if (!b->s) return calloc(1, 1);
  return b->s;
}

/* b's text so far, "" when nothing or out of memory (for messages). */
static const char *sb_str(const sbuf *b) { return b->s && !b->failed ? b->s : ""; }

/* ---------------------------------------------------------------- number text */

/* The shortest text that reads back as exactly v: whole numbers as "10.0", others with the
 * fewest %g digits ("0.05", "1e-06"). */
static void fmt_double(char *buf, size_t n, double v) {
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, n, "%.1f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

/* A range bound: as an integer when it is one, else as a number. */
static void fmt_bound(char *buf, size_t n, double v) {
  if (v == floor(v) && fabs(v) < 9.2e18)
    snprintf(buf, n, "%" PRId64, (int64_t)v);
  else
    fmt_double(buf, n, v);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Decimal or exponent notation: [+-] digits [. digits] [e [+-] digits], or [+-] . digits ... */
static int is_decimal_number(const char *t) {
  const char *p = t;
  if (*p == '+' || *p == '-') p++;
  int digits = 0;
  while (is_digit(*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (is_digit(*p)) p++, digits++;
  }
  if (!digits) return 0;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!is_digit(*p)) return 0;
    while (is_digit(*p)) p++;
  }
  return *p == '\0';
}

/* Integer text (see the rules at the top). Returns 1 and *out, or 0. */
static int parse_int(const char *t, int64_t *out) {
  const char *p = t;
  int neg = 0;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  if (is_digit(*p)) {
    uint64_t acc = 0;
    int ok = 1;
    while (*p) {
      if (*p == '_') {
        if (!is_digit(p[-1]) || !is_digit(p[1])) break;
        p++;
        continue;
      }
      if (!is_digit(*p)) break;
      unsigned d = (unsigned)(*p - '0');
      if (acc > ((uint64_t)INT64_MAX - d) / 10) ok = 0; /* too large for int64 */
      else acc = acc * 10 + d;
      p++;
    }
    if (*p == '\0') {
      if (!ok) return 0;
      *out = neg ? -(int64_t)acc : (int64_t)acc;
      return 1;
    }
  }
  if (!is_decimal_number(t)) return 0;
  double d = strtod(t, NULL);
  if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0) return 0;
  *out = (int64_t)d;
  return 1;
}

static int parse_float(const char *t, double *out) {
  if (!is_decimal_number(t)) return 0;
  double d = strtod(t, NULL);
  if (!isfinite(d)) return 0;
  *out = d;
  return 1;
}

static int parse_bool(const char *t, int *out) {
  static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcmp(t, yes[i]) == 0) return *out = 1, 1;
    if (strcmp(t, no[i]) == 0) return *out = 0, 1;
  }
  return 0;
}

/* Index of `t` in choices "a|b|c", or -1. */
static int choice_index(const char *choices, const char *t) {
  size_t tl = strlen(t);
  int i = 0;
  for (const char *p = choices; p; i++) {
    const char *bar = strchr(p, '|');
    size_t l = bar ? (size_t)(bar - p) : strlen(p);
    if (l == tl && strncmp(p, t, l) == 0) return i;
    p = bar ? bar + 1 : NULL;
  }
  return -1;
}

/* Choice number i of "a|b|c" into buf ("" when out of range). */
static void choice_name(const char *choices, int i, char *buf, size_t n) {
  buf[0] = '\0';
  const char *p = choices;
  for (int k = 0; p && k < i; k++) {
    p = strchr(p, '|');
    if (p) p++;
  }
  if (!p || i < 0) return;
  const char *bar = strchr(p, '|');
  size_t l = bar ? (size_t)(bar - p) : strlen(p);
  if (l >= n) l = n - 1;
  memcpy(buf, p, l);
  buf[l] = '\0';
}

/* "a, b, c" from "a|b|c". */
static void choices_list(const char *choices, char *buf, size_t n) {
  size_t j = 0;
  for (const char *p = choices; *p && j + 3 < n; p++) {
    if (*p == '|') {
      buf[j++] = ',';
      buf[j++] = ' ';
    } else {
      buf[j++] = *p;
    }
  }
  buf[j] = '\0';
}

/* ---------------------------------------------------------------- value specs */

/* What a value must be: a schema row's or a model parameter's type and range. */
typedef struct vspec {
  myr__key_type type;
  double min, max;
  const char *choices;
  size_t size;
} vspec;

/* The most items of an integer list: the key's size, else MYR_INT_LIST_MAX. */
static int list_max(vspec s) { return s.size > 0 && s.size < MYR_INT_LIST_MAX ? (int)s.size : MYR_INT_LIST_MAX; }

static vspec key_spec(const myr__key *k) {
  vspec s = {k->type, k->min, k->max, k->choices, k->size};
  return s;
}

static vspec param_spec(const myr_param_desc *p) {
  static const myr__key_type map[] = {
      [MYR_P_FLOAT] = MYR__K_FLOAT, [MYR_P_INT] = MYR__K_INT,
      [MYR_P_BOOL] = MYR__K_BOOL, [MYR_P_ENUM] = MYR__K_ENUM};
  vspec s = {map[p->type], p->min, p->max, p->choices ? p->choices : "", 0};
  return s;
}

/* "an integer from 1 to 1000", "one of a, b, c", ... */
static void expected_text(vspec s, char *buf, size_t n) {
  char lo[40], hi[40], list[400];
  switch (s.type) {
  case MYR__K_INT:
  case MYR__K_FLOAT: {
    const char *what = s.type == MYR__K_INT ? "an integer" : "a number";
    fmt_bound(lo, sizeof lo, s.min);
    fmt_bound(hi, sizeof hi, s.max);
    if (isinf(s.min) && isinf(s.max)) snprintf(buf, n, "%s", what);
    else if (isinf(s.max)) snprintf(buf, n, "%s of at least %s", what, lo);
    else if (isinf(s.min)) snprintf(buf, n, "%s of at most %s", what, hi);
    else snprintf(buf, n, "%s from %s to %s", what, lo, hi);
    break;
  }
  case MYR__K_BOOL: snprintf(buf, n, "true or false (or yes/no, on/off)"); break;
  case MYR__K_ENUM:
    choices_list(s.choices, list, sizeof list);
    snprintf(buf, n, "one of %s", list);
    break;
  case MYR__K_STRING: snprintf(buf, n, "a string of at most %zu bytes", s.size - 1); break;
  case MYR__K_INTLIST:
    fmt_bound(lo, sizeof lo, s.min);
    fmt_bound(hi, sizeof hi, s.max);
    snprintf(buf, n, "a list of 1 to %d integers from %s to %s, e.g. [128, 128]", list_max(s), lo, hi);
    break;
  case MYR__K_NAMELIST:
    snprintf(buf, n, "a list of at most %d distinct names of 1 to %d letters, digits, '_', '-' or '.', e.g. "
             "[west, east]", MYR_NAME_LIST_MAX, MYR_NAME_MAX - 1);
    break;
  case MYR__K_MODEL: snprintf(buf, n, "a model name of at most %zu bytes", s.size - 1); break;
  case MYR__K_PARAMS: snprintf(buf, n, "a mapping of model parameters"); break;
  }
}

/* The range part of a doc comment: "1 to 1000", "auto|cpu|cuda", "true or false". */
static void range_text(vspec s, char *buf, size_t n) {
  char lo[40], hi[40];
  buf[0] = '\0';
  switch (s.type) {
  case MYR__K_INT:
  case MYR__K_FLOAT:
    fmt_bound(lo, sizeof lo, s.min);
    fmt_bound(hi, sizeof hi, s.max);
    if (isinf(s.min) && isinf(s.max)) snprintf(buf, n, "any");
    else if (isinf(s.max)) snprintf(buf, n, ">= %s", lo);
    else if (isinf(s.min)) snprintf(buf, n, "<= %s", hi);
    else snprintf(buf, n, "%s to %s", lo, hi);
    break;
  case MYR__K_BOOL: snprintf(buf, n, "true or false"); break;
  case MYR__K_ENUM: snprintf(buf, n, "%s", s.choices); break;
  case MYR__K_INTLIST:
    fmt_bound(lo, sizeof lo, s.min);
    fmt_bound(hi, sizeof hi, s.max);
    snprintf(buf, n, "1 to %d integers, each %s to %s", list_max(s), lo, hi);
    break;
  case MYR__K_NAMELIST: snprintf(buf, n, "0 to %d names", MYR_NAME_LIST_MAX); break;
  default: break;
  }
}

/* How a node looks in a message: "a list of 2 items", "a mapping", "an empty value", "\"abc\"". */
static void describe(const myr__ynode *v, char *buf, size_t n) {
  if (v->kind == MYR__Y_MAP) {
    snprintf(buf, n, "a mapping");
    return;
  }
  if (v->kind == MYR__Y_SEQ) {
    snprintf(buf, n, "a list of %d item%s", v->n, v->n == 1 ? "" : "s");
    return;
  }
  if (myr__ynode_is_null(v)) {
    snprintf(buf, n, "an empty value");
    return;
  }
  char q[200];
  size_t j = 0;
  q[j++] = '"';
  for (size_t i = 0; i < v->len && j + 8 < sizeof q; i++) {
    unsigned char c = (unsigned char)v->text[i];
    if (i == 60) {
      j += (size_t)snprintf(q + j, sizeof q - j, "...");
      break;
    }
    if (c == '"' || c == '\\') {
      q[j++] = '\\';
      q[j++] = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      j += (size_t)snprintf(q + j, sizeof q - j, "\\x%02x", c);
    } else {
      q[j++] = (char)c;
    }
  }
  q[j++] = '"';
  q[j] = '\0';
  snprintf(buf, n, "%s%s", q, v->plain ? "" : " (a quoted string)");
}

/* ---------------------------------------------------------------- places */

typedef enum { FROM_DEFAULT, FROM_FILE, FROM_SET } from_kind;
typedef struct origin {
  from_kind from;
  int line, col; /* FROM_FILE */
  int set;       /* FROM_SET: index of the --set argument */
} origin;

typedef struct loader {
  const char *name; /* the file's label in locations; NULL when there is no file */
  char *const *set;
  int n_set;
  myr_config *cfg;
  myr_error *err;
  origin key[MYR__MAX_CONFIG_KEYS]; /* where each key's value came from */
  const myr__ynode *params;         /* the file's model.params value, read after model.name */
  origin params_at;                 /* the last place model parameters came from */
} loader;

static origin at_node(const myr__ynode *n) {
  origin o = {FROM_FILE, n->line, n->col, 0};
  return o;
}

static origin at_set(int i) {
  origin o = {FROM_SET, 0, 0, i};
  return o;
}

static origin at_default(void) {
  origin o = {FROM_DEFAULT, 0, 0, 0};
  return o;
}

static void where(const loader *L, origin o, char *buf, size_t n) {
  const char *name = L->name ? L->name : "<config>";
  if (o.from == FROM_FILE)
    snprintf(buf, n, "%s:%d:%d", name, o.line, o.col);
  else if (o.from == FROM_SET)
    snprintf(buf, n, "--set %s", L->set[o.set] ? L->set[o.set] : "");
  else
    snprintf(buf, n, "%s", L->name ? L->name : "defaults");
}

/* Fails with MYR_ERR_CONFIG: "<place>: <path>: <what>" (no path part when path is NULL). */
static myr_status fail(loader *L, origin o, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static myr_status fail(loader *L, origin o, const char *path, const char *fmt, ...) {
  char loc[MYR_ERRMSG_LEN], what[MYR_ERRMSG_LEN];
  where(L, o, loc, sizeof loc);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (path) return myr_fail(L->err, MYR_ERR_CONFIG, "%s: %s: %s", loc, path, what);
  return myr_fail(L->err, MYR_ERR_CONFIG, "%s: %s", loc, what);
}

static myr_status nomem(loader *L) {
  return myr_fail(L->err, MYR_ERR_NOMEM, "out of memory while reading the configuration");
}

/* ---------------------------------------------------------------- names and suggestions */

/* Optimal string alignment distance (edits, with swaps of neighbours), or 99 when long. */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb) {
  enum { MAXL = 64 };
  if (la >= MAXL || lb >= MAXL) return 99;
  int d[MAXL + 1][MAXL + 1];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int cost = a[i - 1] != b[j - 1];
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v) v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* The names allowed somewhere, as a list for messages, and the one closest to `word`. */
typedef struct names {
  const char *word;
  sbuf list;
  char best[64];
  int best_d;
} names;

static void names_init(names *s, const char *word) {
  memset(s, 0, sizeof *s);
  s->word = word;
  s->best_d = 99;
}

static void names_add(names *s, const char *cand, size_t len) {
  sb_printf(&s->list, "%s%.*s", s->list.len ? ", " : "", (int)len, cand);
  int d = edit_distance(s->word, strlen(s->word), cand, len);
  if (d < s->best_d && len < sizeof s->best) {
    s->best_d = d;
    memcpy(s->best, cand, len);
    s->best[len] = '\0';
  }
}

/* " (did you mean 'x'?)" when a name is within 2 edits (and not all of the word), else "". */
static void names_hint(const names *s, char *buf, size_t n) {
  buf[0] = '\0';
  if (s->best_d <= 2 && (size_t)s->best_d < strlen(s->word))
    snprintf(buf, n, " (did you mean '%s'?)", s->best);
}

static void names_free(names *s) { free(s->list.s); }

static size_t section_len(const char *path) {
  const char *dot = strchr(path, '.');
  return dot ? (size_t)(dot - path) : strlen(path);
}

static int find_key(const char *path) {
  for (int i = 0; i < N_KEYS; i++)
    if (strcmp(KEYS[i].path, path) == 0) return i;
  return -1;
}

static int find_key_type(myr__key_type t) {
  for (int i = 0; i < N_KEYS; i++)
    if (KEYS[i].type == t) return i;
  return -1;
}

static int is_section(const char *name, size_t len) {
  for (int i = 0; i < N_KEYS; i++)
    if (section_len(KEYS[i].path) == len && strncmp(KEYS[i].path, name, len) == 0) return 1;
  return 0;
}

static void add_sections(names *s) {
  for (int i = 0; i < N_KEYS; i++) {
    size_t l = section_len(KEYS[i].path);
    if (i == 0 || section_len(KEYS[i - 1].path) != l || strncmp(KEYS[i - 1].path, KEYS[i].path, l) != 0)
      names_add(s, KEYS[i].path, l);
  }
}

/* The error for a key path that is not in the schema. */
static myr_status no_such_key(loader *L, origin o, const char *path) {
  size_t sl = section_len(path);
  char hint[128];
  names s;
  myr_status st;
  if (!is_section(path, sl)) {
    char sec[128];
    snprintf(sec, sizeof sec, "%.*s", (int)(sl < 100 ? sl : 100), path);
    names_init(&s, sec);
    add_sections(&s);
    names_hint(&s, hint, sizeof hint);
    st = fail(L, o, path, "unknown section '%s'%s; sections: %s", sec, hint, sb_str(&s.list));
  } else {
    const char *key = path[sl] ? path + sl + 1 : "";
    names_init(&s, key);
    for (int i = 0; i < N_KEYS; i++)
      if (section_len(KEYS[i].path) == sl && strncmp(KEYS[i].path, path, sl) == 0)
        names_add(&s, KEYS[i].path + sl + 1, strlen(KEYS[i].path + sl + 1));
    names_hint(&s, hint, sizeof hint);
    if (!path[sl])
      st = fail(L, o, path, "'%s' is a section; expected one of its keys: %s", path, sb_str(&s.list));
    else
      st = fail(L, o, path, "unknown key%s; allowed keys in %.*s: %s", hint, (int)sl, path,
                sb_str(&s.list));
  }
  names_free(&s);
  return st;
}

/* ---------------------------------------------------------------- values */

/* One integer of a list, checked against the range. */
static int list_item(const char *text, vspec s, int64_t *out) {
  return parse_int(text, out) && (double)*out >= s.min && (double)*out <= s.max;
}

/* The items of a list given as text, "[a, b]" or "a, b" (defaults, --set): copied into text[size]
 * and split at the commas, each trimmed; "[]" and "" have none. The count, or -1 when the text
 * does not fit, a bracket is unmatched or there are more than `most` items. */
static int text_items(const myr__ynode *v, char *text, size_t size, char **item, int most) {
  if (v->len >= size) return -1;
  memcpy(text, v->text, v->len + 1);
  char *p = text, *end = text + strlen(text);
  while (*p == ' ') p++;
  while (end > p && end[-1] == ' ') *--end = '\0';
  if (*p == '[') {
    p++;
    if (end == p || end[-1] != ']') return -1;
    *--end = '\0';
  }
  int n = 0;
  for (char *it = strtok(p, ","); it; it = strtok(NULL, ",")) {
    while (*it == ' ') it++;
    char *tail = it + strlen(it);
    while (tail > it && tail[-1] == ' ') *--tail = '\0';
    if (n == most) return -1;
    item[n++] = it;
  }
  return n;
}

/* The items of a list node: a YAML sequence of plain scalars, or text (text_items); -1 when it
 * is neither or has more than `most` items. */
static int list_items(const myr__ynode *v, char *text, size_t size, char **item, int most) {
  if (v->kind == MYR__Y_SEQ) {
    if (v->n > most) return -1;
    for (int i = 0; i < v->n; i++) {
      if (v->kids[i]->kind != MYR__Y_SCALAR || !v->kids[i]->plain) return -1;
      item[i] = v->kids[i]->text;
    }
    return v->n;
  }
  if (v->kind != MYR__Y_SCALAR || !v->plain) return -1;
  return text_items(v, text, size, item, most);
}

/* A list of integers: 1 to list_max(s) items, each in the range. */
static int parse_int_list(const myr__ynode *v, vspec s, myr_int_list *out) {
  char text[16 * MYR_INT_LIST_MAX];
  char *item[MYR_INT_LIST_MAX];
  memset(out, 0, sizeof *out);
  int n = list_items(v, text, sizeof text, item, list_max(s));
  if (n < 1) return 0;
  for (int i = 0; i < n; i++)
    if (!list_item(item[i], s, &out->v[i])) return 0;
  out->n = n;
  return 1;
}

/* A name: 1 to MYR_NAME_MAX - 1 letters, digits, '_', '-' or '.'. */
static int is_name(const char *t) {
  size_t len = strlen(t);
  if (len < 1 || len >= MYR_NAME_MAX) return 0;
  for (const char *c = t; *c; c++)
    if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') return 0;
  return 1;
}

/* A list of distinct names, 0 to MYR_NAME_LIST_MAX of them; else 0 with what was wrong in
 * why[size] ("" when the node is no list at all). */
static int parse_name_list(const myr__ynode *v, myr_name_list *out, char *why, size_t size) {
  char text[MYR_NAME_LIST_MAX * (MYR_NAME_MAX + 2) + 8];
  char *item[MYR_NAME_LIST_MAX];
  memset(out, 0, sizeof *out);
  why[0] = '\0';
  int n = list_items(v, text, sizeof text, item, MYR_NAME_LIST_MAX);
  if (n < 0) return 0;
  for (int i = 0; i < n; i++) {
    if (!is_name(item[i])) {
      snprintf(why, size, "\"%.40s\"", item[i]);
      return 0;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(item[i], item[j]) == 0) {
        snprintf(why, size, "%s twice", item[i]);
        return 0;
      }
    snprintf(out->name[i], MYR_NAME_MAX, "%s", item[i]);
  }
  out->n = n;
  return 1;
}

/* Checks scalar `v` against `s` and writes it to `dst` (int64_t, double, int or char[]). */
static myr_status set_value(loader *L, origin o, const char *path, const myr__ynode *v, vspec s,
                            void *dst) {
  int ok = 0;
  int64_t i64 = 0;
  double f = 0;
  int iv = 0;
  if (s.type == MYR__K_INTLIST) {
    myr_int_list list;
    ok = parse_int_list(v, s, &list);
    if (ok) memcpy(dst, &list, sizeof list);
  } else if (s.type == MYR__K_NAMELIST) {
    myr_name_list list;
    char why[96];
    ok = parse_name_list(v, &list, why, sizeof why);
    if (ok) memcpy(dst, &list, sizeof list);
    else if (why[0]) {
      char expected[512];
      expected_text(s, expected, sizeof expected);
      return fail(L, o, path, "expected %s, got %s", expected, why);
    }
  } else if (v->kind == MYR__Y_SCALAR) {
    switch (s.type) {
    case MYR__K_INT:
      ok = v->plain && parse_int(v->text, &i64) && (double)i64 >= s.min && (double)i64 <= s.max;
      if (ok) memcpy(dst, &i64, sizeof i64);
      break;
    case MYR__K_FLOAT:
      ok = v->plain && parse_float(v->text, &f) && f >= s.min && f <= s.max;
      if (ok) memcpy(dst, &f, sizeof f);
      break;
    case MYR__K_BOOL:
      ok = v->plain && parse_bool(v->text, &iv);
      if (ok) memcpy(dst, &iv, sizeof iv);
      break;
    case MYR__K_ENUM:
      iv = choice_index(s.choices, v->text);
      ok = iv >= 0 && strlen(v->text) == v->len;
      if (ok) memcpy(dst, &iv, sizeof iv);
      break;
    case MYR__K_STRING:
    case MYR__K_MODEL: {
      const char *t = myr__ynode_is_null(v) ? "" : v->text;
      size_t len = myr__ynode_is_null(v) ? 0 : v->len;
      ok = len < s.size && strlen(t) == len;
      if (ok) memcpy(dst, t, len + 1);
      break;
    }
    case MYR__K_PARAMS:
    case MYR__K_INTLIST:
    case MYR__K_NAMELIST: break;
    }
  }
  if (ok) return MYR_OK;
  char expected[512], got[256];
  expected_text(s, expected, sizeof expected);
  describe(v, got, sizeof got);
  return fail(L, o, path, "expected %s, got %s", expected, got);
}

static myr_status set_key(loader *L, int k, const myr__ynode *v, origin o) {
  L->key[k] = o;
  return set_value(L, o, KEYS[k].path, v, key_spec(&KEYS[k]), (char *)L->cfg + KEYS[k].offset);
}

/* A scalar node for text that is not from YAML (defaults). */
static myr__ynode text_node(const char *text, int plain) {
  myr__ynode n;
  memset(&n, 0, sizeof n);
  n.kind = MYR__Y_SCALAR;
  n.text = (char *)text;
  n.len = strlen(text);
  n.plain = plain;
  return n;
}

static myr_status apply_defaults(loader *L) {
  for (int k = 0; k < N_KEYS; k++) {
    if (KEYS[k].type == MYR__K_PARAMS) continue;
    int plain = KEYS[k].type != MYR__K_STRING && KEYS[k].type != MYR__K_MODEL;
    myr__ynode n = text_node(KEYS[k].def, plain);
    if (set_key(L, k, &n, at_default()) != MYR_OK) {
      char why[MYR_ERRMSG_LEN];
      snprintf(why, sizeof why, "%s", L->err ? L->err->msg : "");
      return myr_fail(L->err, MYR_ERR_INTERNAL, "config schema: bad default for %s: %s",
                      KEYS[k].path, why);
    }
    L->key[k] = at_default();
  }
  return MYR_OK;
}

/* The model's parameter defaults, in a fresh struct of params_size bytes (caller frees). */
static myr_status params_defaults(const myr_model *m, void **out, myr_error *err) {
  *out = NULL;
  void *p = calloc(1, m->params_size ? m->params_size : 1);
  if (!p) return myr_fail(err, MYR_ERR_NOMEM, "out of memory for the parameters of model %s", m->name);
  for (int i = 0; i < m->n_params; i++) {
    const myr_param_desc *d = &m->params[i];
    size_t size = d->type == MYR_P_FLOAT ? sizeof(double) : d->type == MYR_P_INT ? sizeof(int64_t) : sizeof(int);
    if (d->offset + size > m->params_size) {
      free(p);
      return myr_fail(err, MYR_ERR_MODEL, "model %s: parameter %s lies outside its %zu-byte parameter struct",
                      m->name, d->name, m->params_size);
    }
    char *dst = (char *)p + d->offset;
    if (d->type == MYR_P_FLOAT) {
      double v = d->def;
      memcpy(dst, &v, sizeof v);
    } else if (d->type == MYR_P_INT) {
      int64_t v = (int64_t)d->def;
      memcpy(dst, &v, sizeof v);
    } else {
      int v = (int)d->def;
      memcpy(dst, &v, sizeof v);
    }
  }
  *out = p;
  return MYR_OK;
}

static const myr_param_desc *find_param(const myr_model *m, const char *name) {
  for (int i = 0; i < m->n_params; i++)
    if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
  return NULL;
}

/* Sets model parameter `name` of the resolved model from node v (key_at: where the name was
 * given, for an unknown name; o: where the value was given). */
static myr_status set_param(loader *L, origin key_at, origin o, const char *name,
                            const myr__ynode *v) {
  const myr_model *m = L->cfg->model_desc;
  char path[256];
  snprintf(path, sizeof path, PARAMS_PREFIX "%.200s", name);
  const myr_param_desc *d = find_param(m, name);
  if (!d) {
    if (m->n_params == 0) return fail(L, key_at, path, "model %s has no parameters", m->name);
    names s;
    char hint[128];
    names_init(&s, name);
    for (int i = 0; i < m->n_params; i++) names_add(&s, m->params[i].name, strlen(m->params[i].name));
    names_hint(&s, hint, sizeof hint);
    myr_status st = fail(L, key_at, path, "unknown parameter of model %s%s; its parameters: %s", m->name,
                         hint, sb_str(&s.list));
    names_free(&s);
    return st;
  }
  L->params_at = o;
  return set_value(L, o, path, v, param_spec(d), (char *)L->cfg->model_params + d->offset);
}

/* ---------------------------------------------------------------- reading */

/* A key must be a scalar, and not given twice in its mapping (pairs before i). */
static myr_status check_key(loader *L, const myr__ynode *map, int i, const char *parent) {
  const myr__ynode *k = MYR__YKEY(map, i);
  char got[256];
  if (k->kind != MYR__Y_SCALAR) {
    describe(k, got, sizeof got);
    return fail(L, at_node(k), parent, "expected a key name, got %s", got);
  }
  for (int j = 0; j < i; j++) {
    const myr__ynode *p = MYR__YKEY(map, j);
    if (p->kind == MYR__Y_SCALAR && p->len == k->len && memcmp(p->text, k->text, k->len) == 0) {
      char path[300];
      if (parent)
        snprintf(path, sizeof path, "%s.%.200s", parent, k->text);
      else
        snprintf(path, sizeof path, "%.200s", k->text);
      return fail(L, at_node(k), path, "duplicate key; first given at line %d, column %d", p->line,
                  p->col);
    }
  }
  return MYR_OK;
}

/* 1 if some schema key lies below `prefix` ("policy.mcts" for policy.mcts.simulations). */
static int is_subsection(const char *prefix) {
  size_t n = strlen(prefix);
  for (int k = 0; k < N_KEYS; k++)
    if (strncmp(KEYS[k].path, prefix, n) == 0 && KEYS[k].path[n] == '.') return 1;
  return 0;
}

/* The keys of mapping v at `prefix` ("run", "policy.mcts", ...): values, or nested mappings. */
static myr_status read_section(loader *L, const myr__ynode *v, const char *prefix) {
  myr_status st;
  char got[256];
  for (int j = 0; j < v->n; j++) {
    if ((st = check_key(L, v, j, prefix)) != MYR_OK) return st;
    const myr__ynode *k2 = MYR__YKEY(v, j), *v2 = MYR__YVAL(v, j);
    char path[300];
    snprintf(path, sizeof path, "%.100s.%.190s", prefix, k2->text);
    int idx = strlen(k2->text) < 190 ? find_key(path) : -1;
    if (idx < 0 && strlen(k2->text) < 190 && is_subsection(path)) {
      if (myr__ynode_is_null(v2)) continue;
      if (v2->kind != MYR__Y_MAP) {
        describe(v2, got, sizeof got);
        return fail(L, at_node(v2), path, "expected a mapping of %s keys, got %s", path, got);
      }
      if ((st = read_section(L, v2, path)) != MYR_OK) return st;
      continue;
    }
    if (idx < 0) return no_such_key(L, at_node(k2), path);
    if (KEYS[idx].type == MYR__K_PARAMS) {
      L->params = v2;
      L->params_at = at_node(v2);
      continue;
    }
    if ((st = set_key(L, idx, v2, at_node(v2))) != MYR_OK) return st;
  }
  return MYR_OK;
}

static myr_status read_tree(loader *L, const myr__ynode *root) {
  names s;
  char got[256];
  myr_status st;
  if (!root || myr__ynode_is_null(root)) {
    names_init(&s, "");
    add_sections(&s);
    origin top = {FROM_FILE, 1, 1, 0};
    st = fail(L, top, NULL, "the configuration is empty; expected a mapping with the sections %s",
              sb_str(&s.list));
    names_free(&s);
    return st;
  }
  if (root->kind != MYR__Y_MAP) {
    names_init(&s, "");
    add_sections(&s);
    describe(root, got, sizeof got);
    st = fail(L, at_node(root), NULL,
              "expected a mapping with the sections %s at the top level, got %s", sb_str(&s.list),
              got);
    names_free(&s);
    return st;
  }
  for (int i = 0; i < root->n; i++) {
    if ((st = check_key(L, root, i, NULL)) != MYR_OK) return st;
    const myr__ynode *k = MYR__YKEY(root, i), *v = MYR__YVAL(root, i);
    if (!is_section(k->text, k->len) || strchr(k->text, '.'))
      return no_such_key(L, at_node(k), k->text);
    if (myr__ynode_is_null(v)) continue; /* "policy:" with nothing under it */
    if (v->kind != MYR__Y_MAP) {
      describe(v, got, sizeof got);
      return fail(L, at_node(v), k->text, "expected a mapping of %s keys, got %s", k->text, got);
    }
    if ((st = read_section(L, v, k->text)) != MYR_OK) return st;
  }
  return MYR_OK;
}

static myr_status parse_set_value(loader *L, int i, const char *path, const char *value,
                                  myr__ynode **node) {
  myr__yaml_problem prob;
  myr_status st = myr__yaml_parse(value, strlen(value), node, &prob);
  if (st == MYR_ERR_NOMEM) return nomem(L);
  if (st != MYR_OK) return fail(L, at_set(i), path, "invalid YAML value: %s", prob.msg);
  if (!*node) { /* "a.b=" or a value that is only a comment: null */
    *node = calloc(1, sizeof **node);
    if (!*node || !((*node)->text = calloc(1, 1))) {
      free(*node);
      *node = NULL;
      return nomem(L);
    }
    (*node)->kind = MYR__Y_SCALAR;
    (*node)->plain = 1;
  }
  return MYR_OK;
}

/* Splits --set argument i into its key (into buf) and value. */
static myr_status split_set(loader *L, int i, char *key, size_t n, const char **value) {
  const char *arg = L->set[i];
  const char *eq = arg ? strchr(arg, '=') : NULL;
  if (!eq || eq == arg)
    return fail(L, at_set(i), NULL, "expected KEY=VALUE, for example --set run.steps=100");
  size_t kl = (size_t)(eq - arg);
  if (kl >= n) kl = n - 1; /* too long to be a key: reported as unknown */
  memcpy(key, arg, kl);
  key[kl] = '\0';
  *value = eq + 1;
  return MYR_OK;
}

static int is_params_key(const char *key) {
  return strncmp(key, PARAMS_PREFIX, strlen(PARAMS_PREFIX)) == 0;
}

/* The --set overrides of ordinary keys (params == 0) or of model.params.* (params == 1). */
static myr_status apply_sets(loader *L, int params) {
  for (int i = 0; i < L->n_set; i++) {
    char key[256];
    const char *value = NULL;
    myr_status st = split_set(L, i, key, sizeof key, &value);
    if (st != MYR_OK) return st;
    if (is_params_key(key) != params) continue;
    int idx = -1;
    if (!params) {
      idx = find_key(key);
      if (idx < 0) return no_such_key(L, at_set(i), key);
      if (KEYS[idx].type == MYR__K_PARAMS)
        return fail(L, at_set(i), key, "expected one parameter at a time: --set %sNAME=VALUE",
                    PARAMS_PREFIX);
    }
    myr__ynode *node;
    if ((st = parse_set_value(L, i, key, value, &node)) != MYR_OK) return st;
    if (params)
      st = set_param(L, at_set(i), at_set(i), key + strlen(PARAMS_PREFIX), node);
    else
      st = set_key(L, idx, node, at_set(i));
    myr__ynode_free(node);
    if (st != MYR_OK) return st;
  }
  return MYR_OK;
}

static myr_status resolve_model(loader *L) {
  myr_config *cfg = L->cfg;
  int k = find_key_type(MYR__K_MODEL);
  const myr_model *m = myr_find_model(cfg->model);
  if (!m) {
    names s;
    char hint[128];
    names_init(&s, cfg->model);
    for (int i = 0; i < myr_model_count(); i++)
      names_add(&s, myr_model_at(i)->name, strlen(myr_model_at(i)->name));
    names_hint(&s, hint, sizeof hint);
    myr_status st = fail(L, L->key[k], KEYS[k].path, "unknown model \"%s\"%s; registered models: %s",
                         cfg->model, hint, sb_str(&s.list));
    names_free(&s);
    return st;
  }
  cfg->model_desc = m;
  myr_status st = params_defaults(m, &cfg->model_params, L->err);
  if (st != MYR_OK) return st;

  const myr__ynode *p = L->params;
  if (p && !myr__ynode_is_null(p)) {
    if (p->kind != MYR__Y_MAP) {
      char got[256];
      describe(p, got, sizeof got);
      return fail(L, at_node(p), "model.params", "expected a mapping of the parameters of model %s, got %s",
                  m->name, got);
    }
    for (int i = 0; i < p->n; i++) {
      if ((st = check_key(L, p, i, "model.params")) != MYR_OK) return st;
      const myr__ynode *pk = MYR__YKEY(p, i), *pv = MYR__YVAL(p, i);
      if ((st = set_param(L, at_node(pk), at_node(pv), pk->text, pv)) != MYR_OK) return st;
    }
    L->params_at = at_node(p);
  }
  return apply_sets(L, 1);
}

/* The file stem of `path`: "configs/x.yaml" -> "x". */
static void path_stem(const char *path, char *buf, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t l = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  if (l >= n) l = n - 1;
  memcpy(buf, base, l);
  buf[l] = '\0';
}

static myr_status resolve_output(loader *L) {
  myr_config *cfg = L->cfg;
  if (cfg->output[0]) return MYR_OK;
  char stem[MYR_PATH_MAX];
  path_stem(cfg->path, stem, sizeof stem);
  int n = snprintf(cfg->output, sizeof cfg->output, "out/%s.h5", stem[0] ? stem : "myriad");
  if (n < 0 || (size_t)n >= sizeof cfg->output) {
    int k = find_key("run.output");
    return fail(L, L->key[k], "run.output", "the default out/<config stem>.h5 is longer than %d bytes; set run.output",
                MYR_PATH_MAX - 1);
  }
  return MYR_OK;
}

/* The later of two places a pair of keys came from (for errors about both). */
static origin later(origin a, origin b) {
  if (a.from != b.from) return a.from > b.from ? a : b;
  if (a.from == FROM_SET) return a.set > b.set ? a : b;
  return (a.line > b.line || (a.line == b.line && a.col > b.col)) ? a : b;
}

static myr_status check_rules(loader *L) {
  myr_config *c = L->cfg;
  if (c->capacity != 0 && c->capacity < c->count)
    return fail(L, L->key[find_key("agents.capacity")], "agents.capacity",
                "expected 0 (2 x agents.count) or at least agents.count = %" PRId64 ", got %" PRId64,
                c->count, c->capacity);
  if (c->checkpoint_every % c->sync_frequency != 0)
    return fail(L, L->key[find_key("run.checkpoint_every")], "run.checkpoint_every",
                "expected a multiple of distributed.sync_frequency = %" PRId64 ", got %" PRId64,
                c->sync_frequency, c->checkpoint_every);
  if (c->grid.n != 2 || c->grid.v[0] < 1)
    return fail(L, L->key[find_key("distributed.grid")], "distributed.grid",
                "expected [px, py]: two integers, px at least 1 (py 0 = ranks / px), got %d integer%s%s",
                c->grid.n, c->grid.n == 1 ? "" : "s", c->grid.n == 2 ? " with px 0" : "");
  if (c->train.enabled && (c->policy != MYR_POLICY_MCTS || c->mcts.rollout_depth != 0))
    return fail(L, later(L->key[find_key("train.enabled")], L->key[find_key("policy.kind")]), "train.enabled",
                "training learns from search results: expected policy.kind: mcts with policy.mcts.rollout_depth: 0 "
                "(the network's values), got policy.kind: %s, rollout_depth %" PRId64,
                myr_policy_name(c->policy), c->mcts.rollout_depth);
  if (c->train.shards > c->train.batch_size)
    return fail(L, later(L->key[find_key("train.shards")], L->key[find_key("train.batch_size")]), "train.shards",
                "expected at most train.batch_size = %" PRId64 ", got %" PRId64, c->train.batch_size,
                c->train.shards);
  if (c->train.batch_size > c->train.replay_capacity)
    return fail(L, later(L->key[find_key("train.batch_size")], L->key[find_key("train.replay_capacity")]),
                "train.batch_size",
                "expected at most train.replay_capacity = %" PRId64 " (updates wait for a full batch in the replay), "
                "got %" PRId64, c->train.replay_capacity, c->train.batch_size);
  if (c->train.lr_min > c->train.lr)
    return fail(L, later(L->key[find_key("train.lr_min")], L->key[find_key("train.lr")]), "train.lr_min",
                "expected at most train.lr = %g, got %g", c->train.lr, c->train.lr_min);
  if (c->width * c->height >= ((int64_t)1 << 31))
    return fail(L, later(L->key[find_key("world.width")], L->key[find_key("world.height")]),
                "world.width x world.height",
                "%" PRId64 " x %" PRId64 " = %" PRId64 " cells; expected fewer than 2147483648 "
                "(cells are indexed with int32)",
                c->width, c->height, c->width * c->height);
  return MYR_OK;
}

static myr_status model_setup(loader *L) {
  myr_config *c = L->cfg;
  const myr_model *m = c->model_desc;
  if (!m->setup) return MYR_OK;
  myr_world_info w = {(int32_t)c->width, (int32_t)c->height, (int32_t)c->wrap,
                      (int32_t)c->sync_frequency, c->count, myr_config_capacity(c)};
  myr_error e = {MYR_OK, ""};
  myr_status st = m->setup(c->model_params, &w, &e);
  if (st == MYR_OK) return MYR_OK;
  if (st == MYR_ERR_NOMEM) return myr_fail(L->err, st, "model %s: %s", m->name, e.msg);
  return fail(L, L->params_at, "model.params", "model %s: %s", m->name,
              e.msg[0] ? e.msg : myr_strerror(st));
}

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static myr_status keep_provenance(loader *L, const char *text) {
  myr_config *c = L->cfg;
  c->yaml_text = dup_string(text ? text : "");
  if (!c->yaml_text) return nomem(L);
  if (L->n_set > 0) {
    c->overrides = calloc((size_t)L->n_set, sizeof *c->overrides);
    if (!c->overrides) return nomem(L);
    for (int i = 0; i < L->n_set; i++) {
      if (!(c->overrides[i] = dup_string(L->set[i]))) return nomem(L);
      c->n_overrides = i + 1;
    }
  }
  return MYR_OK;
}

static myr_status load(myr_config *cfg, const char *name, const char *text, size_t len,
                       char *const *set, int n_set, myr_error *err) {
  memset(cfg, 0, sizeof *cfg);
  loader L;
  memset(&L, 0, sizeof L);
  L.name = name;
  L.set = set;
  L.n_set = n_set;
  L.cfg = cfg;
  L.err = err;
  myr__ynode *root = NULL;
  myr_status st = MYR_OK;

  if (N_KEYS > MYR__MAX_CONFIG_KEYS) {
    st = myr_fail(err, MYR_ERR_INTERNAL, "config schema: %d keys, at most %d", N_KEYS, MYR__MAX_CONFIG_KEYS);
    goto done;
  }
  if (n_set < 0 || (n_set > 0 && !set)) {
    st = myr_fail(err, MYR_ERR_USAGE, "config: %d overrides given without a list", n_set);
    goto done;
  }
  if (name && strlen(name) >= sizeof cfg->path) {
    st = myr_fail(err, MYR_ERR_CONFIG, "%.100s...: the path is longer than %d bytes", name, MYR_PATH_MAX - 1);
    goto done;
  }
  if (name) memcpy(cfg->path, name, strlen(name) + 1);
  if ((st = apply_defaults(&L)) != MYR_OK) goto done;

  if (text) {
    myr__yaml_problem prob;
    st = myr__yaml_parse(text, len, &root, &prob);
    if (st == MYR_ERR_NOMEM) {
      st = nomem(&L);
      goto done;
    }
    if (st != MYR_OK) {
      origin o = {FROM_FILE, prob.line ? prob.line : 1, prob.col ? prob.col : 1, 0};
      st = fail(&L, o, NULL, "invalid YAML: %s", prob.msg);
      goto done;
    }
    if ((st = read_tree(&L, root)) != MYR_OK) goto done;
  }
  if ((st = apply_sets(&L, 0)) != MYR_OK) goto done;
  if ((st = resolve_model(&L)) != MYR_OK) goto done;
  if ((st = resolve_output(&L)) != MYR_OK) goto done;
  if ((st = check_rules(&L)) != MYR_OK) goto done;
  if ((st = model_setup(&L)) != MYR_OK) goto done;
  st = keep_provenance(&L, text);
done:
  myr__ynode_free(root);
  if (st != MYR_OK) myr_config_free(cfg);
  return st;
}

/* ---------------------------------------------------------------- public: loading */

myr_status myr_config_load(myr_config *cfg, const char *path, char *const *set, int n_set,
                           myr_error *err) {
  if (!path) return load(cfg, NULL, NULL, 0, set, n_set, err);
  memset(cfg, 0, sizeof *cfg);
  FILE *f = fopen(path, "rb");
  if (!f)
    return myr_fail(err, MYR_ERR_CONFIG, "%s: cannot open the configuration: %s", path, strerror(errno));
  size_t len = 0, cap = 4096;
  char *text = malloc(cap);
  int read_error = 0;
  while (text) {
    size_t got = fread(text + len, 1, cap - len - 1, f);
    len += got;
    if (got == 0) {
      read_error = ferror(f);
      break;
    }
    if (len + 1 == cap) {
      char *t = realloc(text, cap * 2);
      if (!t) {
        free(text);
        text = NULL;
        break;
      }
      text = t;
      cap *= 2;
    }
  }
  int saved = errno;
  fclose(f);
  if (!text) return myr_fail(err, MYR_ERR_NOMEM, "%s: out of memory reading the configuration", path);
  if (read_error) {
    free(text);
    return myr_fail(err, MYR_ERR_CONFIG, "%s: cannot read the configuration: %s", path, strerror(saved));
  }
  text[len] = '\0';
  if (strlen(text) != len) {
    size_t at = strlen(text);
    int line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
      if (text[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    free(text);
    return myr_fail(err, MYR_ERR_CONFIG, "%s:%d:%d: invalid YAML: a NUL byte in the text", path, line, col);
  }
  myr_status st = load(cfg, path, text, len, set, n_set, err);
  free(text);
  return st;
}

myr_status myr_config_load_text(myr_config *cfg, const char *name, const char *text,
                                char *const *set, int n_set, myr_error *err) {
  return load(cfg, name, text, text ? strlen(text) : 0, set, n_set, err);
}

void myr_config_free(myr_config *cfg) {
  if (!cfg) return;
  free(cfg->model_params);
  free(cfg->yaml_text);
  if (cfg->overrides)
    for (int i = 0; i < cfg->n_overrides; i++) free(cfg->overrides[i]);
  free(cfg->overrides);
  memset(cfg, 0, sizeof *cfg);
}

/* ---------------------------------------------------------------- public: printing */

/* A string as a YAML scalar: plain when that reads back as the same string, else quoted. */
static void emit_string(sbuf *b, const char *s) {
  static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
  int plain = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == '/';
  for (const char *p = s; *p && plain; p++)
    plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || is_digit(*p) || *p == '_' ||
            *p == '.' || *p == '/' || *p == '-';
  for (size_t i = 0; plain && i < sizeof words / sizeof words[0]; i++) {
    size_t l = strlen(words[i]);
    if (strlen(s) == l) {
      size_t j = 0;
      while (j < l && (s[j] | 0x20) == words[i][j]) j++;
      if (j == l) plain = 0;
    }
  }
  if (plain) {
    sb_printf(b, "%s", s);
    return;
  }
  sb_printf(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') sb_printf(b, "\\%c", *p);
    else if (*p == '\n') sb_printf(b, "\\n");
    else if (*p == '\t') sb_printf(b, "\\t");
    else if (*p < 0x20 || *p == 0x7f) sb_printf(b, "\\x%02x", *p);
    else sb_printf(b, "%c", *p);
  }
  sb_printf(b, "\"");
}

/* The value at `field` as YAML, by type. */
static void emit_value(sbuf *b, vspec s, const void *field) {
  char buf[64];
  int64_t i64;
  double f;
  int iv;
  switch (s.type) {
  case MYR__K_INT:
    memcpy(&i64, field, sizeof i64);
    sb_printf(b, "%" PRId64, i64);
    break;
  case MYR__K_FLOAT:
    memcpy(&f, field, sizeof f);
    fmt_double(buf, sizeof buf, f);
    sb_printf(b, "%s", buf);
    break;
  case MYR__K_BOOL:
    memcpy(&iv, field, sizeof iv);
    sb_printf(b, "%s", iv ? "true" : "false");
    break;
  case MYR__K_ENUM:
    memcpy(&iv, field, sizeof iv);
    choice_name(s.choices, iv, buf, sizeof buf);
    if (buf[0]) sb_printf(b, "%s", buf);
    else sb_printf(b, "%d", iv);
    break;
  case MYR__K_STRING:
  case MYR__K_MODEL: emit_string(b, (const char *)field); break;
  case MYR__K_INTLIST: {
    const myr_int_list *l = (const myr_int_list *)field;
    sb_printf(b, "[");
    for (int i = 0; i < l->n; i++) sb_printf(b, "%s%" PRId64, i ? ", " : "", l->v[i]);
    sb_printf(b, "]");
    break;
  }
  case MYR__K_NAMELIST: {
    const myr_name_list *l = (const myr_name_list *)field;
    sb_printf(b, "[");
    for (int i = 0; i < l->n; i++) {
      if (i) sb_printf(b, ", ");
      emit_string(b, l->name[i]);
    }
    sb_printf(b, "]");
    break;
  }
  case MYR__K_PARAMS: break;
  }
}

/* "# doc (range)" on its own line at `indent`. */
static void emit_doc(sbuf *b, int indent, const char *doc, vspec s) {
  char range[400];
  range_text(s, range, sizeof range);
  sb_printf(b, "%*s# %s", indent, "", doc ? doc : "");
  if (range[0]) sb_printf(b, " (%s)", range);
  sb_printf(b, "\n");
}

static void emit_params(sbuf *b, const myr_model *m, const void *params, int docs) {
  if (!m || !params || m->n_params == 0) {
    sb_printf(b, "  params: {}\n");
    return;
  }
  sb_printf(b, "  params:\n");
  for (int i = 0; i < m->n_params; i++) {
    const myr_param_desc *d = &m->params[i];
    if (docs) emit_doc(b, 4, d->doc, param_spec(d));
    sb_printf(b, "    %s: ", d->name);
    emit_value(b, param_spec(d), (const char *)params + d->offset);
    sb_printf(b, "\n");
  }
}

/* Every key of `cfg` as YAML, grouped by section, with doc comments when `docs`;
 * `others` adds a comment listing the registered models (print_defaults with no model). */
static void emit_config(sbuf *b, const myr_config *cfg, const myr_model *m, const void *params,
                        int docs, int others) {
  for (int k = 0; k < N_KEYS; k++) {
    const myr__key *key = &KEYS[k];
    size_t sl = section_len(key->path);
    if (k == 0 || section_len(KEYS[k - 1].path) != sl || strncmp(KEYS[k - 1].path, key->path, sl) != 0) {
      if (docs && k > 0) sb_printf(b, "\n");
      sb_printf(b, "%.*s:\n", (int)sl, key->path);
    }
    if (docs) emit_doc(b, 2, key->doc, key_spec(key));
    if (key->type == MYR__K_PARAMS) {
      emit_params(b, m, params, docs);
      continue;
    }
    if (docs && others && key->type == MYR__K_MODEL) {
      sb_printf(b, "  # registered models:");
      for (int i = 0; i < myr_model_count(); i++)
        sb_printf(b, "%s %s", i ? "," : "", myr_model_at(i)->name);
      sb_printf(b, " (`myriad config --defaults --model NAME` shows one's parameters)\n");
    }
    sb_printf(b, "  %s: ", key->path + sl + 1);
    emit_value(b, key_spec(key), (const char *)cfg + key->offset);
    sb_printf(b, "\n");
  }
}

char *myr_config_to_yaml(const myr_config *cfg) {
  sbuf b = {0};
  emit_config(&b, cfg, cfg->model_desc, cfg->model_params, 0, 0);
  return sb_take(&b);
}

void myr_config_print(FILE *out, const myr_config *cfg) {
  char *s = myr_config_to_yaml(cfg);
  if (s) fputs(s, out);
  free(s);
}

void myr_config_print_defaults(FILE *out, const myr_model *model) {
  myr_config cfg;
  memset(&cfg, 0, sizeof cfg);
  loader L;
  memset(&L, 0, sizeof L);
  L.cfg = &cfg;
  myr_error e;
  L.err = &e;
  if (apply_defaults(&L) != MYR_OK) {
    fprintf(out, "# %s\n", e.msg);
    return;
  }
  const myr_model *m = model;
  if (!m) m = myr_find_model(cfg.model);
  if (!m && myr_model_count() > 0) m = myr_model_at(0);
  if (m) snprintf(cfg.model, sizeof cfg.model, "%s", m->name);
  void *params = NULL;
  if (m && params_defaults(m, &params, &e) != MYR_OK) {
    fprintf(out, "# %s\n", e.msg);
    return;
  }
  sbuf b = {0};
  sb_printf(&b, "# Myriad configuration: every key with its default (myriad config --defaults).\n");
  if (m) sb_printf(&b, "# model.params are those of model %s.\n", m->name);
  emit_config(&b, &cfg, m, params, 1, model == NULL);
  char *s = sb_take(&b);
  if (s) fputs(s, out);
  free(s);
  free(params);
}

void myr_model_print_params(FILE *out, const myr_model *m) {
  if (m->n_params == 0) {
    fprintf(out, "  (no parameters)\n");
    return;
  }
  enum { COLS = 4 };
  static const char *const head[COLS] = {"name", "type", "default", "range"};
  static const char *const types[] = {[MYR_P_FLOAT] = "float", [MYR_P_INT] = "int",
                                      [MYR_P_BOOL] = "bool", [MYR_P_ENUM] = "enum"};
  int width[COLS];
  for (int c = 0; c < COLS; c++) width[c] = (int)strlen(head[c]);
  void *defs = NULL;
  myr_error e;
  if (params_defaults(m, &defs, &e) != MYR_OK) {
    fprintf(out, "%s\n", e.msg);
    return;
  }
  /* Two passes: measure, then print. */
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) {
      fprintf(out, " ");
      for (int c = 0; c < COLS; c++) fprintf(out, " %-*s", width[c], head[c]);
      fprintf(out, " doc\n");
    }
    for (int i = 0; i < m->n_params; i++) {
      const myr_param_desc *d = &m->params[i];
      vspec s = param_spec(d);
      sbuf def = {0};
      emit_value(&def, s, (const char *)defs + d->offset);
      char range[400];
      range_text(s, range, sizeof range);
      const char *cell[COLS] = {d->name, types[d->type], sb_str(&def), range};
      for (int c = 0; c < COLS; c++) {
        if (pass == 0 && (int)strlen(cell[c]) > width[c]) width[c] = (int)strlen(cell[c]);
      }
      if (pass == 1) {
        fprintf(out, " ");
        for (int c = 0; c < COLS; c++) fprintf(out, " %-*s", width[c], cell[c]);
        fprintf(out, " %s\n", d->doc ? d->doc : "");
      }
      free(def.s);
    }
  }
  free(defs);
}

/* ---------------------------------------------------------------- public: small helpers */

int64_t myr_config_capacity(const myr_config *cfg) {
  return cfg->capacity ? cfg->capacity : 2 * cfg->count;
}

const char *myr_backend_name(int backend) {
  switch (backend) {
  case MYR_BACKEND_AUTO: return "auto";
  case MYR_BACKEND_CPU: return "cpu";
  case MYR_BACKEND_CUDA: return "cuda";
  default: return "unknown";
  }
}

const char *myr_policy_name(int policy) {
  switch (policy) {
  case MYR_POLICY_RANDOM: return "random";
  case MYR_POLICY_HEURISTIC: return "heuristic";
  case MYR_POLICY_NETWORK: return "network";
  case MYR_POLICY_MCTS: return "mcts";
  default: return "unknown";
  }
}
