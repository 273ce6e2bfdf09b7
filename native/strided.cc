// Strided kernels over shapes of rank <= 8: reductions into a strided output and strided copies
// (float32 and int32 alike: both are 4-byte words, copied bit for bit).
#include "common.h"

namespace adarec {
namespace {

thread_local std::vector<double> t_acc;

// out[idx . so] += x[idx] in double; x is dense, so its innermost canonical stride is 1.
ADAREC_CLONES void reduceSumKernel(const Strided& s, const float* x, double* acc) {
  RunIter it(s);
  const int64_t n = it.inner(), io = s.st[1][s.rank - 1];
  for (int64_t o = 0; o < it.outer; ++o, it.next()) {
    const float* px = x + it.off[0];
    double* pa = acc + it.off[1];
    if (io == 0) {
      double t = 0;
#pragma omp simd reduction(+ : t) simdlen(16)
      for (int64_t j = 0; j < n; ++j) t += px[j];
      pa[0] += t;
    } else if (io == 1) {
      for (int64_t j = 0; j < n; ++j) pa[j] += px[j];
    } else {
      for (int64_t j = 0; j < n; ++j) pa[j * io] += px[j];
    }
  }
}

// The reference's update is `if (!(out >= x)) out = x`: a NaN wins only until the next element.
// Runs without NaN take the vectorised max; any NaN falls back to that exact sequence.
ADAREC_CLONES void reduceMaxKernel(const Strided& s, const float* x, float* out) {
  RunIter it(s);
  const int64_t n = it.inner(), io = s.st[1][s.rank - 1];
  for (int64_t o = 0; o < it.outer; ++o, it.next()) {
    const float* px = x + it.off[0];
    float* po = out + it.off[1];
    if (io == 0) {
      float m = -kInf;
      int nan = 0;
#pragma omp simd reduction(max : m) reduction(| : nan)
      for (int64_t j = 0; j < n; ++j) {
        m = px[j] > m ? px[j] : m;
        nan |= px[j] != px[j];
      }
      float cur = po[0];
      if (!nan && cur == cur) {
        po[0] = cur >= m ? cur : m;
      } else {
        for (int64_t j = 0; j < n; ++j) cur = cur >= px[j] ? cur : px[j];
        po[0] = cur;
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        float c = po[j * io];
        po[j * io] = c >= px[j] ? c : px[j];
      }
    }
  }
}

// reduce(op, rank, dims, x, out): dims holds the shape at [0, 8) and the out strides at [8, 16).
napi_value Reduce(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int op = static_cast<int>(a.dim(0));
  int rank = static_cast<int>(a.dim(1));
  size_t ld, lx, lo;
  const double* dims = a.f64(2, &ld);
  const float* x = a.f32(3, &lx);
  float* out = a.f32(4, &lo);
  if (!a.ok) return nullptr;
  Strided s;
  if (op > 1 || !unpackStrided(s, rank, 1, dims, ld)) { a.range("reduce: bad op, shape or strides"); return nullptr; }
  // operand 0: x (dense), operand 1: out
  s.nops = 2;
  int64_t dense = 1;
  for (int d = rank - 1; d >= 0; --d) {
    s.st[1][d] = s.st[0][d];
    s.st[0][d] = dense;
    dense *= s.shape[d];
  }
  const int64_t size = s.size();
  if (size > 0) {
    a.need(lx, size, "reduce: x is too short");
    s.canonicalize();
    if (a.ok && !s.inBounds(1, lo)) a.range("reduce: out strides reach outside out");
    if (!a.ok) return nullptr;
  }
  if (op == 0) {
    if (size == 0) {
      std::memset(out, 0, lo * sizeof(float));
      return a.undefined();
    }
    double* acc = scratch(t_acc, lo);
    std::memset(acc, 0, lo * sizeof(double));
    reduceSumKernel(s, x, acc);
    for (size_t i = 0; i < lo; ++i) out[i] = static_cast<float>(acc[i]);
  } else {
    for (size_t i = 0; i < lo; ++i) out[i] = -kInf;
    if (size > 0) reduceMaxKernel(s, x, out);
  }
  return a.undefined();
}

void copyKernel(const Strided& s, const uint32_t* src, uint32_t* dst) {
  RunIter it(s);
  const int64_t n = it.inner(), is = s.st[0][s.rank - 1], id = s.st[1][s.rank - 1];
  for (int64_t o = 0; o < it.outer; ++o, it.next()) {
    const uint32_t* ps = src + it.off[0];
    uint32_t* pd = dst + it.off[1];
    if (is == 1 && id == 1) std::memmove(pd, ps, n * sizeof(uint32_t));
    else if (is == 0) { const uint32_t v = ps[0]; for (int64_t j = 0; j < n; ++j) pd[j * id] = v; }
    else if (id == 1) for (int64_t j = 0; j < n; ++j) pd[j] = ps[j * is];
    else for (int64_t j = 0; j < n; ++j) pd[j * id] = ps[j * is];
  }
}

// stridedCopy(rank, dims, src, dst): dims holds shape, src strides, dst strides; src and dst are
// both Float32Array or both Int32Array.
napi_value StridedCopy(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int rank = static_cast<int>(a.dim(0));
  size_t ld, ls, lt;
  int ks = 0, kd = 0;
  const double* dims = a.f64(1, &ld);
  const uint32_t* src = a.word32(2, &ls, &ks);
  uint32_t* dst = a.word32(3, &lt, &kd);
  if (!a.ok) return nullptr;
  if (ks != kd) { a.fail("stridedCopy: src and dst must have the same element type"); return nullptr; }
  Strided s;
  if (!unpackStrided(s, rank, 2, dims, ld)) { a.range("stridedCopy: bad shape or strides"); return nullptr; }
  if (s.size() == 0) return a.undefined();
  s.canonicalize();
  if (!s.inBounds(0, ls)) a.range("stridedCopy: src strides reach outside src");
  else if (!s.inBounds(1, lt)) a.range("stridedCopy: dst strides reach outside dst");
  if (!a.ok) return nullptr;
  copyKernel(s, src, dst);
  return a.undefined();
}

}  // namespace

void registerStrided(napi_env env, napi_value exports) {
  defineFn(env, exports, "reduce", Reduce);
  defineFn(env, exports, "stridedCopy", StridedCopy);
}

}  // namespace adarec
