/* kernels_layout.c — the weights' layouts, owned by the kernels: which layout
 * a matrix takes (gb_layout_conv1d, gb_layout_nt) and the writer that puts a
 * stored matrix's bytes there (gb_layout_write). The loader streams every
 * weight through here, so only core/kernels/ knows GB_PACK_NR and the panels.
 *
 * A piece is placed once, straight from the caller's bytes: rows are copied,
 * a Conv1D matrix's rows are scattered into gb_pack_inplace's panels, and the
 * LM head's whole panels (GB_PACK_NR rows) are transposed into
 * gb_pack_nt_inplace's layout from the source. A piece may be cut anywhere
 * (mid-row, mid-float); a cut LM-head panel is staged as rows in its own
 * place and transposed there when its last byte arrives. */
#include <string.h>

#include "kernels/kernels.h"

gb_layout gb_layout_conv1d(int K, int N) {
    gb_layout l = {gb_packable(K, N) ? GB_LAYOUT_KN_PANELS : GB_LAYOUT_ROWS, K, N};
    return l;
}

gb_layout gb_layout_nt(int N, int K) {
    gb_layout l = {N > 0 && K > 0 ? GB_LAYOUT_NT_PANELS : GB_LAYOUT_ROWS, N, K};
    return l;
}

gb_layout gb_layout_rows(int rows, int cols) {
    gb_layout l = {GB_LAYOUT_ROWS, rows, cols};
    return l;
}

size_t gb_layout_scratch_floats(const gb_layout *l) {
    return l->kind == GB_LAYOUT_NT_PANELS ? (size_t)GB_PACK_NR * (size_t)l->cols : 0;
}

/* Bytes [off, off + n) of a [K, N] Conv1D matrix into gb_pack_inplace's
 * layout: element (k, c) goes to panel c / NR, row k. A piece of a panel-row
 * (NR floats) moves as one 32-byte copy; a piece cut by the chunk boundary
 * moves a float or a byte at a time. */
static void scatter_pieces(uint8_t *dst, size_t K, size_t N, size_t off, const uint8_t *src, size_t n) {
    const size_t NR = GB_PACK_NR, row_step = K * NR * sizeof(float);
    while (n) {
        size_t i = off / 4, k = i / N, c = i % N, b = off % 4;
        uint8_t *d = dst + (((c / NR) * K + k) * NR + c % NR) * sizeof(float) + b;
        size_t step;
        if (b == 0 && c % NR == 0 && n >= NR * sizeof(float)) {
            size_t pieces = (N - c) / NR, fit = n / (NR * sizeof(float));
            if (pieces > fit) pieces = fit;
            for (size_t p = 0; p < pieces; p++, d += row_step, src += NR * sizeof(float))
                memcpy(d, src, NR * sizeof(float));
            step = pieces * NR * sizeof(float);
        } else {
            step = b == 0 && n >= sizeof(float) ? sizeof(float) : 1;
            memcpy(d, src, step);
            src += step;
        }
        off += step;
        n -= step;
    }
}

/* Whole rows go panel by panel: a panel's rows are adjacent in the
 * destination, so R rows write runs of R * 32 contiguous bytes. Row by row
 * instead, each 32-byte piece of a row lands in another page, and each cache
 * line is read, then written half by one row and half by the next: measured
 * at about half the speed of a plain copy. */
static void write_kn(uint8_t *dst, size_t K, size_t N, size_t off, const uint8_t *src, size_t n) {
    const size_t NR = GB_PACK_NR, row_bytes = N * sizeof(float);
    size_t head = (row_bytes - off % row_bytes) % row_bytes;
    if (head > n) head = n;
    scatter_pieces(dst, K, N, off, src, head);
    off += head, src += head, n -= head;
    size_t k0 = off / row_bytes, rows = n / row_bytes;
    for (size_t p = 0; rows && p < N / NR; p++) {
        uint8_t *d = dst + (p * K + k0) * NR * sizeof(float);
        const uint8_t *s = src + p * NR * sizeof(float);
        for (size_t r = 0; r < rows; r++, d += NR * sizeof(float), s += row_bytes)
            memcpy(d, s, NR * sizeof(float));
    }
    off += rows * row_bytes, src += rows * row_bytes, n -= rows * row_bytes;
    scatter_pieces(dst, K, N, off, src, n);
}

/* The LM head [N, K]: panel p is rows [p*NR, p*NR + nn), one contiguous run
 * of the file and of the layout. A panel wholly inside the piece is
 * transposed from the source (gb_pack_nt_from); any other part is copied as
 * rows into the panel's own bytes, and the panel is transposed in place
 * (gb_pack_nt_inplace, through scratch) once the piece holding its last byte
 * is written. So pieces of one LM head must come in order. */
static void write_nt(float *dst, size_t N, size_t K, size_t off, const uint8_t *src, size_t n,
                     float *scratch) {
    const size_t panel_bytes = GB_PACK_NR * K * sizeof(float), total = N * K * sizeof(float);
    size_t end = off + n;
    while (off < end) {
        size_t p = off / panel_bytes, p0 = p * panel_bytes;
        size_t p1 = p0 + panel_bytes < total ? p0 + panel_bytes : total;
        int rows = (int)((p1 - p0) / (K * sizeof(float)));
        float *panel = dst + p0 / sizeof(float);
        if (off == p0 && end >= p1) {
            gb_pack_nt_from(panel, src, rows, (int)K);
        } else {
            size_t m = (end < p1 ? end : p1) - off;
            memcpy((uint8_t *)dst + off, src, m);
            if (off + m == p1) gb_pack_nt_inplace(panel, rows, (int)K, scratch);
        }
        size_t m = (end < p1 ? end : p1) - off;
        src += m, off += m;
    }
}

void gb_layout_write(const gb_layout *l, float *dst, size_t off, const uint8_t *src, size_t n,
                     float *scratch) {
    if (!n) return;
    switch (l->kind) {
    case GB_LAYOUT_KN_PANELS:
        write_kn((uint8_t *)dst, (size_t)l->rows, (size_t)l->cols, off, src, n);
        break;
    case GB_LAYOUT_NT_PANELS:
        write_nt(dst, (size_t)l->rows, (size_t)l->cols, off, src, n, scratch);
        break;
    default:
        memcpy((uint8_t *)dst + off, src, n);
    }
}
