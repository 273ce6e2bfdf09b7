// Elementwise kernels: strided/broadcast binary ops, unary ops and their gradients, dropout
// masking, and the BLAS-1 style axpy / scale / sumSquares. Large inputs are split across threads
// (parallelRange, common.h: element-wise, so the split cannot change a result); sumSquares stays serial.
#include "common.h"

namespace adarec {
namespace {

enum BinOp { kAdd, kSub, kMul, kDiv, kMax, kMin };
enum UnOp { kNeg, kExp, kLog, kSqrt, kRelu, kTanh, kSigmoid, kAbs, kSquare };

template <int OP>
ADAREC_INLINE float bop(float x, float y) {
  if constexpr (OP == kAdd) return x + y;
  if constexpr (OP == kSub) return x - y;
  if constexpr (OP == kMul) return x * y;
  if constexpr (OP == kDiv) return x / y;
  // NaN in either operand propagates, as in the js reference
  if constexpr (OP == kMax) return (x >= y || x != x) ? x : y;
  return (x <= y || x != x) ? x : y;
}

template <int OP>
ADAREC_INLINE void binaryT(const Strided& s, const float* a, const float* b, float* out) {
  RunIter it(s);
  const int64_t n = it.inner(), ia = s.st[0][s.rank - 1], ib = s.st[1][s.rank - 1];
  for (int64_t o = 0; o < it.outer; ++o, it.next()) {
    const float* pa = a + it.off[0];
    const float* pb = b + it.off[1];
    float* po = out + o * n;
    if (ia == 1 && ib == 1) {
      for (int64_t j = 0; j < n; ++j) po[j] = bop<OP>(pa[j], pb[j]);
    } else if (ia == 1 && ib == 0) {
      const float y = pb[0];
      for (int64_t j = 0; j < n; ++j) po[j] = bop<OP>(pa[j], y);
    } else if (ia == 0 && ib == 1) {
      const float x = pa[0];
      for (int64_t j = 0; j < n; ++j) po[j] = bop<OP>(x, pb[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) po[j] = bop<OP>(pa[j * ia], pb[j * ib]);
    }
  }
}

ADAREC_CLONES void binaryKernel(int op, const Strided& s, const float* a, const float* b, float* out) {
  switch (op) {
    case kAdd: binaryT<kAdd>(s, a, b, out); break;
    case kSub: binaryT<kSub>(s, a, b, out); break;
    case kMul: binaryT<kMul>(s, a, b, out); break;
    case kDiv: binaryT<kDiv>(s, a, b, out); break;
    case kMax: binaryT<kMax>(s, a, b, out); break;
    default: binaryT<kMin>(s, a, b, out); break;
  }
}

ADAREC_CLONES void unaryKernel(int op, const float* x, float* y, int64_t n) {
  switch (op) {
    case kNeg: for (int64_t i = 0; i < n; ++i) y[i] = -x[i]; break;
    case kExp: for (int64_t i = 0; i < n; ++i) y[i] = fexp(x[i]); break;
    case kLog: for (int64_t i = 0; i < n; ++i) y[i] = std::log(x[i]); break;
    case kSqrt: for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]); break;
    case kRelu: for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f; break;
    case kTanh: for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]); break;
    case kSigmoid: for (int64_t i = 0; i < n; ++i) y[i] = 1.f / (1.f + fexp(-x[i])); break;
    case kAbs: for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]); break;
    default: for (int64_t i = 0; i < n; ++i) y[i] = x[i] * x[i]; break;
  }
}

// dx = dy * op'(x, y); written as a product everywhere so NaN/inf in dy behave as in the reference.
// Rough cost per element, for the parallel threshold: transcendental ops cost more.
int64_t unaryCost(int op) { return op == kExp || op == kLog || op == kTanh || op == kSigmoid ? 8 : 1; }

ADAREC_CLONES void unaryGradKernel(int op, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  switch (op) {
    case kNeg: for (int64_t i = 0; i < n; ++i) dx[i] = -dy[i]; break;
    case kExp: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i]; break;
    case kLog: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.f / x[i]); break;
    case kSqrt: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (0.5f / y[i]); break;
    case kRelu: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (x[i] > 0.f ? 1.f : 0.f); break;
    case kTanh: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.f - y[i] * y[i]); break;
    case kSigmoid: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (y[i] * (1.f - y[i])); break;
    case kAbs:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (x[i] > 0.f ? 1.f : x[i] < 0.f ? -1.f : 0.f);
      break;
    default: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (2.f * x[i]); break;
  }
}

ADAREC_CLONES void maskedScaleKernel(const float* x, const uint8_t* mask, float s, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = mask[i] ? x[i] * s : 0.f;
}

// The reference computes these in double and rounds once; so do we (memory-bound anyway).
ADAREC_CLONES void axpyKernel(double alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(y[i] + alpha * x[i]);
}
ADAREC_CLONES void scaleKernel(float* x, double s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(x[i] * s);
}
ADAREC_CLONES double sumSquaresKernel(const float* x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s) simdlen(16)
  for (int64_t i = 0; i < n; ++i) {
    double v = x[i];
    s += v * v;
  }
  return s;
}

// binary(op, rank, dims, a, b, out)
napi_value Binary(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int op = static_cast<int>(a.dim(0));
  int rank = static_cast<int>(a.dim(1));
  size_t ld, la, lb, lo;
  const double* dims = a.f64(2, &ld);
  const float* A = a.f32(3, &la);
  const float* B = a.f32(4, &lb);
  float* out = a.f32(5, &lo);
  if (!a.ok) return nullptr;
  Strided s;
  if (op > kMin || !unpackStrided(s, rank, 2, dims, ld)) { a.range("binary: bad op, shape or strides"); return nullptr; }
  const int64_t size = s.size();
  if (size == 0) return a.undefined();
  a.need(lo, size, "binary: out is too short");
  s.canonicalize();
  if (!s.inBounds(0, la) || !s.inBounds(1, lb)) a.range("binary: strides reach outside an input");
  if (!a.ok) return nullptr;
  // split along the outermost axis (the output is contiguous, row-major)
  const int64_t perSlice = size / s.shape[0];
  parallelRange(s.shape[0], perSlice, [&](int64_t lo, int64_t hi) {
    Strided part = s;
    part.shape[0] = hi - lo;
    binaryKernel(op, part, A + lo * s.st[0][0], B + lo * s.st[1][0], out + lo * perSlice);
  });
  return a.undefined();
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int op = static_cast<int>(a.dim(0));
  size_t lx, ly;
  const float* x = a.f32(1, &lx);
  float* y = a.f32(2, &ly);
  if (op > kSquare) a.range("unary: bad op");
  a.need(ly, lx, "unary: out is too short");
  if (!a.ok) return nullptr;
  parallelRange(static_cast<int64_t>(lx), unaryCost(op), [&](int64_t lo, int64_t hi) { unaryKernel(op, x + lo, y + lo, hi - lo); });
  return a.undefined();
}

// unaryGrad(op, x, y, dy, dx)
napi_value UnaryGrad(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  int op = static_cast<int>(a.dim(0));
  size_t lx, ly, ldy, ldx;
  const float* x = a.f32(1, &lx);
  const float* y = a.f32(2, &ly);
  const float* dy = a.f32(3, &ldy);
  float* dx = a.f32(4, &ldx);
  if (op > kSquare) a.range("unaryGrad: bad op");
  a.need(ly, lx, "unaryGrad: y is too short");
  a.need(ldy, lx, "unaryGrad: dy is too short");
  a.need(ldx, lx, "unaryGrad: dx is too short");
  if (!a.ok) return nullptr;
  parallelRange(static_cast<int64_t>(lx), 2, [&](int64_t lo, int64_t hi) { unaryGradKernel(op, x + lo, y + lo, dy + lo, dx + lo, hi - lo); });
  return a.undefined();
}

// maskedScale(x, mask, scale, out)
napi_value MaskedScale(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx, lm, lo;
  const float* x = a.f32(0, &lx);
  const uint8_t* m = a.u8(1, &lm);
  float s = static_cast<float>(a.num(2));
  float* out = a.f32(3, &lo);
  a.need(lm, lx, "maskedScale: mask is too short");
  a.need(lo, lx, "maskedScale: out is too short");
  if (!a.ok) return nullptr;
  parallelRange(static_cast<int64_t>(lx), 1, [&](int64_t lo, int64_t hi) { maskedScaleKernel(x + lo, m + lo, s, out + lo, hi - lo); });
  return a.undefined();
}

// axpy(alpha, x, y)
napi_value Axpy(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  double alpha = a.num(0);
  size_t lx, ly;
  const float* x = a.f32(1, &lx);
  float* y = a.f32(2, &ly);
  a.need(ly, lx, "axpy: y is too short");
  if (!a.ok) return nullptr;
  parallelRange(static_cast<int64_t>(lx), 1, [&](int64_t lo, int64_t hi) { axpyKernel(alpha, x + lo, y + lo, hi - lo); });
  return a.undefined();
}

// scale(x, s)
napi_value Scale(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx;
  float* x = a.f32(0, &lx);
  double s = a.num(1);
  if (!a.ok) return nullptr;
  parallelRange(static_cast<int64_t>(lx), 1, [&](int64_t lo, int64_t hi) { scaleKernel(x + lo, s, hi - lo); });
  return a.undefined();
}

// sumSquares(x) -> number
napi_value SumSquares(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t lx;
  const float* x = a.f32(0, &lx);
  if (!a.ok) return nullptr;
  return a.number(sumSquaresKernel(x, lx));
}

}  // namespace

void registerElementwise(napi_env env, napi_value exports) {
  defineFn(env, exports, "binary", Binary);
  defineFn(env, exports, "unary", Unary);
  defineFn(env, exports, "unaryGrad", UnaryGrad);
  defineFn(env, exports, "maskedScale", MaskedScale);
  defineFn(env, exports, "axpy", Axpy);
  defineFn(env, exports, "scale", Scale);
  defineFn(env, exports, "sumSquares", SumSquares);
}

}  // namespace adarec
