/* Error codes shared by the whole library, from one X-macro list, and the exit codes of the
 * command line. Library code returns a myr_status; only tools and tests die. */
#ifndef MYR_STATUS_H
#define MYR_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(code, exit code of `myriad`, message) */
#define MYR_STATUS_LIST(X)                                                        \
  X(MYR_OK, 0, "success")                                                         \
  X(MYR_ERR_USAGE, 2, "bad command line")                                         \
  X(MYR_ERR_CONFIG, 2, "invalid configuration")                                   \
  X(MYR_ERR_MODEL, 2, "unknown or invalid model")                                 \
  X(MYR_ERR_IO, 3, "file input/output failed")                                    \
  X(MYR_ERR_HDF5, 3, "HDF5 call failed")                                          \
  X(MYR_ERR_CHECKPOINT, 3, "checkpoint does not match this run")                  \
  X(MYR_ERR_NOMEM, 4, "out of memory")                                            \
  X(MYR_ERR_CAPACITY, 4, "agent capacity exceeded")                               \
  X(MYR_ERR_BACKEND, 5, "backend unavailable or failed")                          \
  X(MYR_ERR_INTERRUPTED, 130, "interrupted")                                      \
  X(MYR_ERR_INTERNAL, 1, "internal error")

typedef enum {
#define MYR__STATUS_ENUM(code, exit_code, msg) code,
  MYR_STATUS_LIST(MYR__STATUS_ENUM)
#undef MYR__STATUS_ENUM
  MYR_STATUS_COUNT
} myr_status;

/* A static string describing `s` (never NULL). */
const char *myr_strerror(myr_status s);
/* The process exit code `myriad` uses for `s`: 0 ok, 1 internal, 2 bad input (nothing ran),
 * 3 I/O, 4 memory/capacity, 5 backend, 130 interrupted. */
int myr_exit_code(myr_status s);

/* Error text buffer carried by calls that can fail with a detailed message. */
#define MYR_ERRMSG_LEN 1024
typedef struct myr_error {
  myr_status status;
  char msg[MYR_ERRMSG_LEN];
} myr_error;

/* Sets e->status and formats e->msg (printf-style); returns the status for `return myr_fail(...)`.
 * `e` may be NULL. */
myr_status myr_fail(myr_error *e, myr_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif
