/* safetensors.h — a bounds-checked reader of the safetensors format.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...},
 * then the data section; offsets are relative to the data section.
 * Parsing validates everything before any tensor is read, as strictly as the
 * reference library: header length against the file, the header a JSON
 * object, __metadata__ (if present) an object of strings to strings, no name
 * listed twice, each tensor's byte size against dtype x shape (overflow
 * checked), and the tensors covering the data section exactly (no gap, no
 * overlap, nothing before or after). Errors name the file and the tensor.
 */
#ifndef GB_SAFETENSORS_H
#define GB_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define GB_ST_MAX_HEADER (100u << 20) /* 100 MB: GPT-2 XL's header is ~40 KB */
#define GB_ST_MAX_TENSORS 100000
#define GB_ST_MAX_DIMS 8

typedef enum {
    GB_DT_F32, GB_DT_F16, GB_DT_BF16, GB_DT_F64, GB_DT_I64, GB_DT_I32, GB_DT_I16,
    GB_DT_I8, GB_DT_U8, GB_DT_BOOL, GB_DT_COUNT
} gb_dtype;

typedef struct {
    char *name;                        /* unescaped, NUL-terminated */
    gb_dtype dtype;
    int ndim;
    int64_t shape[GB_ST_MAX_DIMS];
    size_t numel;
    size_t begin, end;                 /* byte range within the data section */
} gb_st_tensor;

typedef struct {
    const char *what;                  /* file name for messages */
    gb_st_tensor *tensors;
    int n_tensors;
    const uint8_t *data;               /* the data section (borrowed; NULL from gb_st_parse_header) */
    size_t data_offset;                /* where it starts in the file: 8 + header length */
    size_t data_len;
} gb_safetensors;

/* A whole file in memory. */
gb_status gb_st_parse(gb_safetensors *st, const uint8_t *buf, size_t len, const char *what,
                      gb_err *e);
/* The header's length from the file's first 8 bytes, checked against the
 * file's size (file_len >= 8) and GB_ST_MAX_HEADER. */
gb_status gb_st_header_len(const uint8_t first8[8], size_t file_len, const char *what, size_t *out,
                           gb_err *e);
/* The header alone (its JSON, header_len bytes), for a file of file_len
 * bytes whose data has not arrived: every check gb_st_parse makes, with data
 * NULL (a streaming load). */
gb_status gb_st_parse_header(gb_safetensors *st, const uint8_t *header, size_t header_len,
                             size_t file_len, const char *what, gb_err *e);
void gb_st_free(gb_safetensors *st);

const gb_st_tensor *gb_st_find(const gb_safetensors *st, const char *name);
const char *gb_dtype_name(gb_dtype dt);

/* Converts a F32/F16/BF16 tensor to float32 into out (t->numel floats). */
gb_status gb_st_read_f32(const gb_safetensors *st, const gb_st_tensor *t, float *out, gb_err *e);

/* Half-precision conversions (exact, including subnormals, inf and NaN). */
float gb_f16_to_f32(uint16_t h);
float gb_bf16_to_f32(uint16_t h);

#endif
