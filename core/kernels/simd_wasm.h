/* simd_wasm.h — the SIMD vocabulary (simd.h) for WebAssembly SIMD128:
 * wasm_simd128.h, VW = 4 floats, no FMA (128-bit WASM SIMD has none without
 * relaxed-simd; shared/KERNELS.md). Included by simd.h only. */
#ifndef GB_SIMD_WASM_H
#define GB_SIMD_WASM_H

#include <wasm_simd128.h>

#define GB_ISA "wasm-simd128"

typedef v128_t vf;
typedef v128_t vi;
#define VW 4
static inline vf v_load(const float *p) { return wasm_v128_load(p); }
static inline void v_store(float *p, vf v) { wasm_v128_store(p, v); }
static inline vf v_set1(float a) { return wasm_f32x4_splat(a); }
static inline vf v_bcast(const float *p) { return wasm_v128_load32_splat(p); }
/* An empty asm with a memory clobber: clang may not move the next broadcast
 * load above it, so each tile row's broadcast stays next to its uses (see
 * mm_kernel). */
#define V_BARRIER() __asm__ volatile("" ::: "memory")
static inline vf v_add(vf a, vf b) { return wasm_f32x4_add(a, b); }
static inline vf v_sub(vf a, vf b) { return wasm_f32x4_sub(a, b); }
static inline vf v_mul(vf a, vf b) { return wasm_f32x4_mul(a, b); }
static inline vf v_div(vf a, vf b) { return wasm_f32x4_div(a, b); }
static inline vf v_madd(vf c, vf a, vf b) { return wasm_f32x4_add(c, wasm_f32x4_mul(a, b)); }
/* max/min keep a NaN in x (so NaN inputs stay NaN), as SSE's maxps/minps
 * with x second. pmax/pmin are those x86 semantics, one instruction each in
 * V8; f32x4.max/min (NaN from either side, -0 < +0) take ~7 on x64. */
static inline vf v_max(vf x, vf c) { return wasm_f32x4_pmax(x, c); }
static inline vf v_min(vf x, vf c) { return wasm_f32x4_pmin(x, c); }
static inline vf v_round(vf a) { return wasm_f32x4_nearest(a); }
/* 2^n for integral n in [-126, 127] held as floats. */
static inline vf v_pow2i(vf n) {
    /* n + 1.5 * 2^23 is exact and holds n in its low mantissa bits; adding
     * 127 and shifting left by 23 leaves (n + 127) << 23 (the constant's own
     * bits shift out). i32x4.trunc_sat_f32x4_s is ~6 instructions in V8. */
    vi i = wasm_f32x4_add(n, wasm_f32x4_splat(12582912.0f));
    return wasm_i32x4_shl(wasm_i32x4_add(i, wasm_i32x4_splat(127)), 23);
}
/* x where x >= lo, else 0 (NaN kept) */
static inline vf v_zero_below(vf v, vf x, vf lo) { return wasm_v128_andnot(v, wasm_f32x4_lt(x, lo)); }
/* rows a..d of a 4 x 4 block become its columns */
#define V_TRANSPOSE4(a, b, c, d)                                                              \
    do {                                                                                      \
        vf t0_ = wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), t1_ = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5); \
        vf t2_ = wasm_i32x4_shuffle(a, b, 2, 6, 3, 7), t3_ = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7); \
        a = wasm_i32x4_shuffle(t0_, t1_, 0, 1, 4, 5), b = wasm_i32x4_shuffle(t0_, t1_, 2, 3, 6, 7); \
        c = wasm_i32x4_shuffle(t2_, t3_, 0, 1, 4, 5), d = wasm_i32x4_shuffle(t2_, t3_, 2, 3, 6, 7); \
    } while (0)
static inline vf v_abs(vf a) { return wasm_f32x4_abs(a); }
/* x > 0 ? a : b, lane by lane (NaN in x: b) */
static inline vf v_if_pos(vf x, vf a, vf b) { return wasm_v128_bitselect(a, b, wasm_f32x4_gt(x, wasm_f32x4_splat(0.0f))); }

#endif
