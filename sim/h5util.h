/* HDF5 helpers shared by the result file (sim/output.c) and checkpoints (sim/checkpoint.c):
 * checked attribute and dataset I/O, the element types of columns and layers, the agents and
 * grid groups both files hold, and the "<path>.part" then rename protocol.
 *
 * Every function returns MYR_OK or MYR_ERR_HDF5 / MYR_ERR_IO with a message that names the
 * file and the object, followed by HDF5's own innermost error description. HDF5's automatic
 * error printing is switched off by myr__h5_quiet(), which every entry point calls first.
 * Internal to the library (myr__ prefix); not installed as public API. */
#ifndef MYR_H5UTIL_H
#define MYR_H5UTIL_H

#include <hdf5.h>
#include <stdint.h>

#include "sim/sim.h"

/* Snapshot and checkpoint datasets with at least this many elements are chunked and deflated. */
#define MYR__H5_BIG 65536
#define MYR__H5_DEFLATE_LEVEL 1

/* Turns off HDF5's automatic error printing for this thread (errors come back in myr_error). */
void myr__h5_quiet(void);

/* Fails with MYR_ERR_HDF5: "<file>: cannot <what> <obj>: <HDF5's innermost message>". */
myr_status myr__h5_fail(myr_error *err, const char *file, const char *what, const char *obj);
/* Reads (writing = 0) or writes rows [row0, row0 + rows) of a [n] (rank 1) or [n, width]
 * (rank 2) dataset from/to buf through HDF5's own pipeline (one thread); errors name the file
 * and object path. Large writes go through myr__h5_write. */
myr_status myr__h5_rows(hid_t ds, hid_t mtype, int rank, hsize_t row0, hsize_t rows, hsize_t width, void *buf,
                        int writing, const char *file, const char *path, myr_error *err);
/* Writes rows [row0, row0 + rows) of dataset ds (rank 1 or 2, every column) from buf, row-major
 * elements of mtype; buf stays the caller's. A chunked dataset whose pipeline is [shuffle,]
 * deflate and whose file type is mtype has its chunks shuffled and compressed here on
 * `threads` threads (threads x a few compressed chunks held at once) and stored in order with
 * H5Dwrite_chunk from the calling thread; row0 must then be a multiple of its chunk rows, and
 * row0 + rows one too or the dataset's end. Anything else is one HDF5 write (myr__h5_rows).
 * Errors name the file, the dataset and, for a chunk, its offset; a dataset that failed is
 * incomplete and the caller's file must not be committed. */
myr_status myr__h5_write(hid_t ds, hid_t mtype, hsize_t row0, hsize_t rows, const void *buf, int threads,
                         const char *file, const char *path, myr_error *err);
/* Chunks myr__h5_write has filtered and stored itself since the process started (tests check
 * that large datasets take that path). */
extern uint64_t myr__h5_direct_chunks;

/* The file (little-endian standard) and memory (native) HDF5 types of a column/layer type.
 * Predefined types: never closed. -1 for an invalid type. */
hid_t myr__h5_file_type(myr_type t);
hid_t myr__h5_mem_type(myr_type t);

/* Creates the parent folders of `path` (like mkdir -p of its dirname). MYR_ERR_IO on failure. */
myr_status myr__mkparent(const char *path, myr_error *err);
/* "<path>.part" into a malloc'd string (NULL when out of memory). */
char *myr__part_path(const char *path);
/* Renames "<path>.part" to path. MYR_ERR_IO on failure. */
myr_status myr__commit_part(const char *part, const char *path, myr_error *err);

/* Scalar attributes on `obj` (a group), replacing an attribute of the same name. `where`
 * names obj in messages (e.g. "/meta"). Strings are variable-length UTF-8. */
myr_status myr__h5_put_str(hid_t obj, const char *name, const char *value, const char *file,
                           const char *where, myr_error *err);
myr_status myr__h5_put_i64(hid_t obj, const char *name, int64_t value, const char *file,
                           const char *where, myr_error *err);
myr_status myr__h5_put_u64(hid_t obj, const char *name, uint64_t value, const char *file,
                           const char *where, myr_error *err);
myr_status myr__h5_put_f64(hid_t obj, const char *name, double value, const char *file,
                           const char *where, myr_error *err);

/* 1 if `obj` has attribute `name`, 0 if not. */
int myr__h5_has_attr(hid_t obj, const char *name);
/* Reads a string attribute (variable or fixed length) into a malloc'd string (*value, caller
 * frees). */
myr_status myr__h5_get_str(hid_t obj, const char *name, char **value, const char *file,
                           const char *where, myr_error *err);
/* Reads a scalar numeric attribute converted to int64 / uint64 / double. */
myr_status myr__h5_get_i64(hid_t obj, const char *name, int64_t *value, const char *file,
                           const char *where, myr_error *err);
myr_status myr__h5_get_u64(hid_t obj, const char *name, uint64_t *value, const char *file,
                           const char *where, myr_error *err);
myr_status myr__h5_get_f64(hid_t obj, const char *name, double *value, const char *file,
                           const char *where, myr_error *err);

/* Creates group `name` under loc (*group, caller closes). `path` names it in messages. */
myr_status myr__h5_group(hid_t loc, const char *name, hid_t *group, const char *file,
                         const char *path, myr_error *err);
/* 1 if the link `name` (a path relative to loc, each component checked) exists. */
int myr__h5_exists(hid_t loc, const char *name);

/* Writes under `loc` the persistent state of `sim` as
 *   agents/id                    u64 [n]                 alive agents in id order
 *   agents/<column>              T [n] or [n, components] persistent columns, same order
 *   grid/<layer>                 T [height, width]       persistent layers
 * Datasets of at least MYR__H5_BIG elements are chunked, shuffled and deflated, on
 * sim->threads threads (myr__h5_write). `prefix` is loc's path, for messages (e.g.
 * "/snapshots/10"). */
myr_status myr__h5_write_state(hid_t loc, const myr_sim *sim, const char *file,
                               const char *prefix, myr_error *err);

/* Number of rows (first dimension) and the full rank/dims of dataset `name` under loc. */
myr_status myr__h5_dims(hid_t loc, const char *name, int *rank, hsize_t dims[2], const char *file,
                        myr_error *err);

#endif
