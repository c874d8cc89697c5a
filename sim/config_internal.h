/* The configuration schema shared by sim/config.c (reading, checking, printing) and
 * sim/config_schema.c (the one table of keys). Internal to the library (myr__ names). */
#ifndef MYR_CONFIG_INTERNAL_H
#define MYR_CONFIG_INTERNAL_H

#include <stddef.h>

typedef enum {
  MYR__K_INT,    /* int64_t field; integral value in [min, max] */
  MYR__K_FLOAT,  /* double field; finite value in [min, max] */
  MYR__K_BOOL,   /* int field; true/false, yes/no, on/off */
  MYR__K_ENUM,   /* int field; index into choices "a|b|c" */
  MYR__K_STRING, /* char[size] field */
  MYR__K_INTLIST,/* myr_int_list field; a YAML sequence (or "[a, b]" / "a,b" text) of integers in [min, max] */
  MYR__K_NAMELIST,/* myr_name_list field; a YAML sequence (or "[a, b]" / "a,b" text) of names, possibly empty */
  MYR__K_MODEL,  /* char[size] field naming a registered model (model.name) */
  MYR__K_PARAMS  /* model.params: a mapping checked against the model's myr_param_desc table */
} myr__key_type;

/* One configuration key. `path` is "section.key"; rows of a section are adjacent and the
 * table's order is the order keys are printed in. */
typedef struct myr__key {
  const char *path;
  myr__key_type type;
  size_t offset;       /* offsetof(myr_config, field) */
  size_t size;         /* STRING/MODEL: bytes of the char array; INTLIST: most items (0 = MYR_INT_LIST_MAX) */
  const char *def;     /* default, as YAML scalar text (STRING: the string itself) */
  double min, max;     /* INT/FLOAT: inclusive range (exact for |x| <= 2^53) */
  const char *choices; /* ENUM: "a|b|c", index order = the C enum's order */
  const char *doc;     /* one line, printed by `myriad config --defaults` */
} myr__key;

extern const myr__key myr__config_keys[];
extern const int myr__n_config_keys; /* at most MYR__MAX_CONFIG_KEYS */
#define MYR__MAX_CONFIG_KEYS 128

#endif
