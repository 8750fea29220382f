/* error.h — how the engine reports failure without exiting.
 *
 * Internal functions take a gb_err* and, on failure, fill its message and
 * return the code: `return GB_FAIL(e, GB_E_SHAPE, "tensor %s has shape ...", name);`.
 * The public handle keeps one gb_err and hands its text to gb_error_message().
 */
#ifndef GB_ERROR_H
#define GB_ERROR_H

#include "glassbox.h"

#define GB_ERR_MSG_CAP 512

typedef struct {
    gb_status code;
    char msg[GB_ERR_MSG_CAP];
} gb_err;

/* Formats the message (truncating safely) and returns code. */
gb_status gb_fail(gb_err *e, gb_status code, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#define GB_FAIL(e, code, ...) gb_fail((e), (code), __VA_ARGS__)

void gb_err_clear(gb_err *e);

/* Checked size arithmetic: return 0 on overflow, 1 on success. */
int gb_mul_size(size_t a, size_t b, size_t *out);
int gb_add_size(size_t a, size_t b, size_t *out);

#endif
