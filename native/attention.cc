// Scaled dot-product attention over [B, T, H*Dh] tensors (heads interleaved in the last axis).
// Each (batch, head) is three or four small GEMMs with leading dimension H*Dh plus a masked row
// softmax, so no head is ever copied out. The (batch, head) pairs run in parallel.
#include "common.h"

namespace adarec {
namespace {

thread_local std::vector<float> t_buf;

// Masks, then softmaxes each row of the [T, T] score block in place; rows with no visible key
// become 0. vis[j] is 1 for keys the mask keeps.
ADAREC_CLONES void maskedSoftmaxRows(float* P, int64_t T, bool causal, const float* vis) {
  for (int64_t i = 0; i < T; ++i) {
    float* row = P + i * T;
    const int64_t jmax = causal ? i + 1 : T;
    float m = -kInf;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < jmax; ++j) {
      const float s = vis[j] != 0.f ? row[j] : -kInf;
      row[j] = s;
      m = s > m ? s : m;
    }
    if (m == -kInf) {
      std::memset(row, 0, T * sizeof(float));
      continue;
    }
    double sum = 0;
#pragma omp simd reduction(+ : sum) simdlen(16)
    for (int64_t j = 0; j < jmax; ++j) {
      const float e = fexp(row[j] - m);
      row[j] = e;
      sum += e;
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < jmax; ++j) row[j] *= inv;
    for (int64_t j = jmax; j < T; ++j) row[j] = 0.f;
  }
}

// dS = P * (dP - rowsum(dP * P)) * scale, in place over dP. Causal: P is 0 above the diagonal,
// where dP was not computed (the blocked GEMMs skip it), so only j <= i is read and the rest is 0.
ADAREC_CLONES void softmaxBackwardRows(const float* P, float* dP, int64_t T, float scale, bool causal) {
  for (int64_t i = 0; i < T; ++i) {
    const float* p = P + i * T;
    float* d = dP + i * T;
    const int64_t jmax = causal ? i + 1 : T;
    double dot = 0;
#pragma omp simd reduction(+ : dot) simdlen(16)
    for (int64_t j = 0; j < jmax; ++j) dot += d[j] * p[j];
    const float df = static_cast<float>(dot);
    for (int64_t j = 0; j < jmax; ++j) d[j] = p[j] * (d[j] - df) * scale;
    for (int64_t j = jmax; j < T; ++j) d[j] = 0.f;
  }
}

// Causal attention in blocks of query rows: a block of rows [i0, i0 + n) sees keys [0, i0 + n)
// only, so the score and value GEMMs skip the upper triangle (about 40% of their work at T = 200).
constexpr int64_t kCausalBlock = 32;

// attentionForward(q, k, v, B, T, H, Dh, causal, keyMask | null, out, probs)
napi_value AttentionForward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lq, lk, lv, lm, lo, lp;
  const float* q = a.f32(0, &lq);
  const float* k = a.f32(1, &lk);
  const float* v = a.f32(2, &lv);
  int64_t B = a.dim(3), T = a.dim(4), H = a.dim(5), Dh = a.dim(6);
  bool causal = a.flag(7);
  const float* keyMask = a.f32OrNull(8, &lm);
  float* out = a.f32(9, &lo);
  float* probs = a.f32(10, &lp);
  const int64_t E = H * Dh, n = B * T * E;
  a.need(lq, n, "attentionForward: q is too short");
  a.need(lk, n, "attentionForward: k is too short");
  a.need(lv, n, "attentionForward: v is too short");
  a.need(lo, n, "attentionForward: out is too short");
  a.need(lp, B * H * T * T, "attentionForward: probs is too short");
  if (keyMask) a.need(lm, B * T, "attentionForward: keyMask is too short");
  if (!a.ok) return nullptr;
  if (B * H * T == 0) return a.undefined();
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  GemmGuard guard;
  // one task per (batch, head): its own probability block and output columns
  parallelChunks(B * H, 2 * T * T * Dh, [&](int64_t bh) {
    const int64_t b = bh / H, h = bh % H;
    float* vis = scratch(t_buf, T);
    for (int64_t j = 0; j < T; ++j) vis[j] = keyMask ? (keyMask[b * T + j] != 0.f ? 1.f : 0.f) : 1.f;
    const int64_t base = b * T * E + h * Dh;
    float* P = probs + bh * T * T;
    if (!causal) {
      sgemm(false, true, T, T, Dh, scale, q + base, E, k + base, E, 0.f, P, T);
      maskedSoftmaxRows(P, T, false, vis);
      sgemm(false, false, T, Dh, T, 1.f, P, T, v + base, E, 0.f, out + base, E);
      return;
    }
    // scores of each row block against the keys it can see (entries right of the diagonal inside
    // the block are computed and then zeroed by the softmax; those right of the block never are)
    for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
      const int64_t n = std::min(kCausalBlock, T - i0), keys = i0 + n;
      sgemm(false, true, n, keys, Dh, scale, q + base + i0 * E, E, k + base, E, 0.f, P + i0 * T, T);
    }
    maskedSoftmaxRows(P, T, true, vis);
    for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
      const int64_t n = std::min(kCausalBlock, T - i0), keys = i0 + n;
      sgemm(false, false, n, Dh, keys, 1.f, P + i0 * T, T, v + base, E, 0.f, out + base + i0 * E, E);
    }
  });
  return a.undefined();
}

// attentionBackward(dout, q, k, v, probs, B, T, H, Dh, dq, dk, dv, causal)
napi_value AttentionBackward(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t ldo, lq, lk, lv, lp, ldq, ldk, ldv;
  const float* dout = a.f32(0, &ldo);
  const float* q = a.f32(1, &lq);
  const float* k = a.f32(2, &lk);
  const float* v = a.f32(3, &lv);
  const float* probs = a.f32(4, &lp);
  int64_t B = a.dim(5), T = a.dim(6), H = a.dim(7), Dh = a.dim(8);
  float* dq = a.f32(9, &ldq);
  float* dk = a.f32(10, &ldk);
  float* dv = a.f32(11, &ldv);
  bool causal = a.flag(12);
  const int64_t E = H * Dh, n = B * T * E;
  a.need(ldo, n, "attentionBackward: dout is too short");
  a.need(lq, n, "attentionBackward: q is too short");
  a.need(lk, n, "attentionBackward: k is too short");
  a.need(lv, n, "attentionBackward: v is too short");
  a.need(lp, B * H * T * T, "attentionBackward: probs is too short");
  a.need(ldq, n, "attentionBackward: dq is too short");
  a.need(ldk, n, "attentionBackward: dk is too short");
  a.need(ldv, n, "attentionBackward: dv is too short");
  if (!a.ok) return nullptr;
  if (n == 0) return a.undefined();
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  GemmGuard guard;
  parallelChunks(B * H, 4 * T * T * Dh, [&](int64_t bh) {
    const int64_t base = (bh / H) * T * E + (bh % H) * Dh;
    const float* P = probs + bh * T * T;
    float* dS = scratch(t_buf, T * T);
    // dV = P^T dO, dP = dO V^T, dS = softmax'(dP) * scale, dQ = dS K, dK = dS^T Q
    if (!causal) {
      sgemm(true, false, T, Dh, T, 1.f, P, T, dout + base, E, 0.f, dv + base, E);
      sgemm(false, true, T, T, Dh, 1.f, dout + base, E, v + base, E, 0.f, dS, T);
      softmaxBackwardRows(P, dS, T, scale, false);
      sgemm(false, false, T, Dh, T, 1.f, dS, T, k + base, E, 0.f, dq + base, E);
      sgemm(true, false, T, Dh, T, 1.f, dS, T, q + base, E, 0.f, dk + base, E);
      return;
    }
    // causal, in blocks: query rows [i0, i0 + n) reach keys [0, i0 + n); key rows [j0, j0 + n)
    // are reached by queries [j0, T)
    for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
      const int64_t n = std::min(kCausalBlock, T - i0), keys = i0 + n;
      sgemm(false, true, n, keys, Dh, 1.f, dout + base + i0 * E, E, v + base, E, 0.f, dS + i0 * T, T);
    }
    softmaxBackwardRows(P, dS, T, scale, true);
    for (int64_t i0 = 0; i0 < T; i0 += kCausalBlock) {
      const int64_t n = std::min(kCausalBlock, T - i0), keys = i0 + n;
      sgemm(false, false, n, Dh, keys, 1.f, dS + i0 * T, T, k + base, E, 0.f, dq + base + i0 * E, E);
      // key block [i0, i0 + n): dV = P[i0.., block]^T dO[i0..], dK = dS[i0.., block]^T Q[i0..]
      sgemm(true, false, n, Dh, T - i0, 1.f, P + i0 * T + i0, T, dout + base + i0 * E, E, 0.f, dv + base + i0 * E, E);
      sgemm(true, false, n, Dh, T - i0, 1.f, dS + i0 * T + i0, T, q + base + i0 * E, E, 0.f, dk + base + i0 * E, E);
    }
  });
  return a.undefined();
}

}  // namespace

void registerAttention(napi_env env, napi_value exports) {
  defineFn(env, exports, "attentionForward", AttentionForward);
  defineFn(env, exports, "attentionBackward", AttentionBackward);
}

}  // namespace adarec
