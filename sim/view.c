/* myr_type_size, myr_type_name: the element types of columns and layers. */
#include "sim/view.h"

size_t myr_type_size(myr_type t) {
  static const size_t size[MYR_TYPE_COUNT] = {1, 4, 4, 8, 8, 4, 8};
  return (unsigned)t < MYR_TYPE_COUNT ? size[t] : 0;
}

const char *myr_type_name(myr_type t) {
  static const char *const name[MYR_TYPE_COUNT] = {"u8", "i32", "u32", "i64", "u64", "f32", "f64"};
  return (unsigned)t < MYR_TYPE_COUNT ? name[t] : "?";
}
