/* myr_strerror, myr_exit_code, myr_fail: the one list of status codes in status.h. */
#include "sim/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *myr_strerror(myr_status s) {
  switch (s) {
#define MYR__STATUS_MSG(code, exit_code, msg) case code: return msg;
    MYR_STATUS_LIST(MYR__STATUS_MSG)
#undef MYR__STATUS_MSG
  default: return "unknown status";
  }
}

int myr_exit_code(myr_status s) {
  switch (s) {
#define MYR__STATUS_EXIT(code, exit_code, msg) case code: return exit_code;
    MYR_STATUS_LIST(MYR__STATUS_EXIT)
#undef MYR__STATUS_EXIT
  default: return 1;
  }
}

myr_status myr_fail(myr_error *e, myr_status s, const char *fmt, ...) {
  if (e) {
    e->status = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return s;
}
