/* tile.h — the register tile the prompt-sized matmuls share (internal to
 * core/kernels/; defined in kernels_matmul.c, used by kernels_matmul_nt.c).
 * See kernels_matmul.c for why the tile is PMR x PNR and how it is fed. */
#ifndef GB_KERNELS_TILE_H
#define GB_KERNELS_TILE_H

#include "kernels/simd.h"

#ifdef VW
#define PMR 5            /* rows of x per tile */
#define PNR (2 * VW)     /* columns of w per tile: one panel */
#define MM_PANEL_MIN_T 4 /* fewer rows (decode) stream w instead */

/* PMR x PNR tile: o[r*ldo + j] = init[j] + sum_k ap[k*PMR + r] * bp[k*PNR + j]
 * (init NULL: 0), ap from gb_tile_pack_x, bp one panel (K rows of PNR). */
void gb_tile_mul(float *o, int ldo, const float *ap, const float *bp, int K, const float *init);
/* x[T,K] as ceil(T / PMR) blocks of K rows of PMR floats, 0 past row T. */
void gb_tile_pack_x(float *dst, const float *x, int T, int K);
#endif

#endif
