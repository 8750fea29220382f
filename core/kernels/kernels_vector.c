/* kernels_vector.c — the SIMD row kernels of attention and decode: gb_dot,
 * gb_axpy, gb_matvec (one query's scores) and gb_vecmat (its weighted sum of
 * values). gb_dot and gb_matvec sum VW interleaved partial sums (within float
 * tolerance of the references); gb_axpy and gb_vecmat keep the reference's
 * order (bit for bit without FMA). Over simd.h; without SIMD, kernels_scalar.c. */
#include "kernels/kernels.h"
#include "kernels/simd.h"

#ifdef VW
static float dot_tail(const float *a, const float *b, int k0, int K, float acc) {
    for (int k = k0; k < K; k++) acc += a[k] * b[k];
    return acc;
}

// ----------------------------------------------------------------------------
// row kernels

/* Four vector accumulators over blocks of 4 VW (k = 0..4VW-1 to a0..a3, and
 * so on), then one vector at a time, summed (a0 + a1) + (a2 + a3), reduced in
 * lane order, and the scalar tail added in order. Four independent chains
 * keep enough loads in flight: a row at a time this streams ~2x faster than
 * gb_matmul_nt's 4-row tile, so the T = 1 LM head uses it. */
float gb_dot(const float *a, const float *b, int n) {
    vf a0 = v_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        a0 = v_madd(a0, v_load(a + i), v_load(b + i));
        a1 = v_madd(a1, v_load(a + i + VW), v_load(b + i + VW));
        a2 = v_madd(a2, v_load(a + i + 2 * VW), v_load(b + i + 2 * VW));
        a3 = v_madd(a3, v_load(a + i + 3 * VW), v_load(b + i + 3 * VW));
    }
    for (; i + VW <= n; i += VW) a0 = v_madd(a0, v_load(a + i), v_load(b + i));
    return dot_tail(a, b, i, n, v_hsum(v_add(v_add(a0, a1), v_add(a2, a3))));
}

void gb_axpy(float *y, float a, const float *x, int n) {
    int nm = n - n % VW, i = 0;
    vf va = v_set1(a);
    for (; i < nm; i += VW) v_store(y + i, v_madd(v_load(y + i), va, v_load(x + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

/* Four rows at a time, one vector accumulator each, x loaded once per four
 * rows; the four sums reduced together (4 x 4 transpose, three adds) and
 * stored as one vector. Leftover rows (and targets without V_TRANSPOSE4) go
 * through gb_dot. Per output: lane partial sums over d = i mod VW, added
 * ((l0 + l1) + (l2 + l3)), then the scalar tail. */
void gb_matvec(float *out, const float *m, size_t ldm, const float *x, int n, int D) {
    int j = 0;
#ifdef V_TRANSPOSE4
    int Dm = D - D % VW;
    for (; j + 4 <= n; j += 4) {
        const float *m0 = m + (size_t)j * ldm, *m1 = m0 + ldm, *m2 = m1 + ldm, *m3 = m2 + ldm;
        vf a0 = v_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < Dm; d += VW) {
            vf xv = v_load(x + d);
            a0 = v_madd(a0, v_load(m0 + d), xv);
            a1 = v_madd(a1, v_load(m1 + d), xv);
            a2 = v_madd(a2, v_load(m2 + d), xv);
            a3 = v_madd(a3, v_load(m3 + d), xv);
        }
        V_TRANSPOSE4(a0, a1, a2, a3);
        v_store(out + j, v_add(v_add(a0, a1), v_add(a2, a3)));
        for (int d = Dm; d < D; d++) {
            out[j] += m0[d] * x[d], out[j + 1] += m1[d] * x[d];
            out[j + 2] += m2[d] * x[d], out[j + 3] += m3[d] * x[d];
        }
    }
#endif
    for (; j < n; j++) out[j] = gb_dot(m + (size_t)j * ldm, x, D);
}

/* Eight vectors of out at a time held in registers across all n rows (the
 * gb_axpy loop loads and stores out once per row), then one vector, then
 * scalars; each output sees 0 + p[0] m[0] + p[1] m[1] + ... in order. */
void gb_vecmat(float *out, const float *p, const float *m, size_t ldm, int n, int D) {
    int d = 0;
    for (; d + 8 * VW <= D; d += 8 * VW) {
        vf c0 = v_set1(0.0f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        const float *r = m + d;
        for (int j = 0; j < n; j++, r += ldm) {
            vf pj = v_bcast(p + j);
            c0 = v_madd(c0, pj, v_load(r)), c1 = v_madd(c1, pj, v_load(r + VW));
            c2 = v_madd(c2, pj, v_load(r + 2 * VW)), c3 = v_madd(c3, pj, v_load(r + 3 * VW));
            c4 = v_madd(c4, pj, v_load(r + 4 * VW)), c5 = v_madd(c5, pj, v_load(r + 5 * VW));
            c6 = v_madd(c6, pj, v_load(r + 6 * VW)), c7 = v_madd(c7, pj, v_load(r + 7 * VW));
        }
        v_store(out + d, c0), v_store(out + d + VW, c1), v_store(out + d + 2 * VW, c2);
        v_store(out + d + 3 * VW, c3), v_store(out + d + 4 * VW, c4), v_store(out + d + 5 * VW, c5);
        v_store(out + d + 6 * VW, c6), v_store(out + d + 7 * VW, c7);
    }
    for (; d + VW <= D; d += VW) {
        vf c = v_set1(0.0f);
        for (int j = 0; j < n; j++) c = v_madd(c, v_bcast(p + j), v_load(m + (size_t)j * ldm + d));
        v_store(out + d, c);
    }
    for (; d < D; d++) {
        float c = 0.0f;
        for (int j = 0; j < n; j++) c += p[j] * m[(size_t)j * ldm + d];
        out[d] = c;
    }
}
#endif /* VW */
