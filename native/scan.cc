// quantizedScan: the pruning pass of the exact top-k over an int8 item index (kernels.ts has the
// contract, src/engine/backend/quantized-scan.ts the reference this must match exactly). The dot
// products of a block's rows run on AVX-512 VNNI or AVX2 where the CPU has them (chosen once at
// load; integer sums, so every path gives the same values), the bounds and the heap in scalar code.
#include <atomic>
#include <cstdlib>
#include <functional>

#include "common.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ADAREC_X86 1
#endif

namespace adarec {
namespace {

// For `count` consecutive 16-row groups: approx[16 i + l] = (qs * scale[16 i + l]) * float(dot) +
// bias[16 i + l], dot the exact integer dot product of the row with q, in float32 operations
// (no fused multiply-add), and gmax[i] = the largest approx of group i.
using GroupApprox = void (*)(const int8_t* items, int64_t count, int G, const int8_t* q, float qs,
                             const float* scale, const float* bias, float* approx, float* gmax);

void approxScalar(const int8_t* items, int64_t count, int G, const int8_t* q, float qs, const float* scale,
                  const float* bias, float* approx, float* gmax) {
  for (int64_t i = 0; i < count; ++i) {
    float m = -kInf;
    for (int l = 0; l < 16; ++l) {
      int32_t s = 0;
      for (int g = 0; g < G; ++g) {
        const int8_t* w = items + (i * G + g) * 64 + l * 4;
        for (int j = 0; j < 4; ++j) s += int32_t(w[j]) * int32_t(q[4 * g + j]);
      }
      const int64_t r = 16 * i + l;
      approx[r] = (qs * scale[r]) * static_cast<float>(s) + bias[r];
      m = approx[r] > m ? approx[r] : m;
    }
    gmax[i] = m;
  }
}

#ifdef ADAREC_X86
// u8 x s8 dot products of 4 bytes (vpdpbusd): the items are made unsigned (w + 128, an xor of the
// sign bit) and 128 * sum(q) taken off the result.
__attribute__((target("avx512f,avx512bw,avx512vnni")))
void approxVnni(const int8_t* items, int64_t count, int G, const int8_t* q, float qs, const float* scale,
                const float* bias, float* approx, float* gmax) {
  int32_t sumq = 0;
  for (int d = 0; d < 4 * G; ++d) sumq += q[d];
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80)), corr = _mm512_set1_epi32(128 * sumq);
  const __m512 qv = _mm512_set1_ps(qs);
  for (int64_t i = 0; i < count; ++i) {
    const int8_t* blk = items + i * G * 64;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    int g = 0;
    for (; g + 1 < G; g += 2) {
      int32_t q0, q1;
      std::memcpy(&q0, q + 4 * g, 4);
      std::memcpy(&q1, q + 4 * g + 4, 4);
      acc0 = _mm512_dpbusd_epi32(acc0, _mm512_xor_si512(_mm512_loadu_si512(blk + g * 64), flip), _mm512_set1_epi32(q0));
      acc1 = _mm512_dpbusd_epi32(acc1, _mm512_xor_si512(_mm512_loadu_si512(blk + g * 64 + 64), flip), _mm512_set1_epi32(q1));
    }
    if (g < G) {
      int32_t q0;
      std::memcpy(&q0, q + 4 * g, 4);
      acc0 = _mm512_dpbusd_epi32(acc0, _mm512_xor_si512(_mm512_loadu_si512(blk + g * 64), flip), _mm512_set1_epi32(q0));
    }
    const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_add_epi32(acc0, acc1), corr));
    const __m512 a = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(qv, _mm512_loadu_ps(scale + 16 * i)), dot), _mm512_loadu_ps(bias + 16 * i));
    _mm512_storeu_ps(approx + 16 * i, a);
    gmax[i] = _mm512_reduce_max_ps(a);
  }
}

// |q| x (w with q's sign) in pairs (vpmaddubsw: |q|, |w| <= 127, so a pair sum cannot saturate),
// then pairs to int32 (vpmaddwd by 1). Eight rows per 256-bit register, two per group.
__attribute__((target("avx2")))
void approxAvx2(const int8_t* items, int64_t count, int G, const int8_t* q, float qs, const float* scale,
                const float* bias, float* approx, float* gmax) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256 qv = _mm256_set1_ps(qs);
  for (int64_t i = 0; i < count; ++i) {
    const int8_t* blk = items + i * G * 64;
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int g = 0; g < G; ++g) {
      int32_t q0;
      std::memcpy(&q0, q + 4 * g, 4);
      const __m256i qb = _mm256_set1_epi32(q0), qa = _mm256_abs_epi8(qb);
      const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + g * 64));
      const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + g * 64 + 32));
      lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(w0, qb)), ones));
      hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_maddubs_epi16(qa, _mm256_sign_epi8(w1, qb)), ones));
    }
    const int64_t r = 16 * i;
    const __m256 a0 = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(qv, _mm256_loadu_ps(scale + r)), _mm256_cvtepi32_ps(lo)), _mm256_loadu_ps(bias + r));
    const __m256 a1 = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(qv, _mm256_loadu_ps(scale + r + 8)), _mm256_cvtepi32_ps(hi)), _mm256_loadu_ps(bias + r + 8));
    _mm256_storeu_ps(approx + r, a0);
    _mm256_storeu_ps(approx + r + 8, a1);
    __m256 m = _mm256_max_ps(a0, a1);
    m = _mm256_max_ps(m, _mm256_permute2f128_ps(m, m, 1));
    m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0x4e));
    m = _mm256_max_ps(m, _mm256_shuffle_ps(m, m, 0xb1));
    gmax[i] = _mm256_cvtss_f32(m);
  }
}
#endif

// The best path the CPU has, or at most ADAREC_SCAN_ISA's (vnni, avx2, scalar: for the tests).
GroupApprox pickApprox() {
  const char* env = std::getenv("ADAREC_SCAN_ISA");
  const int cap = env && !std::strcmp(env, "scalar") ? 0 : env && !std::strcmp(env, "avx2") ? 1 : 2;
#ifdef ADAREC_X86
  __builtin_cpu_init();
  if (cap >= 2 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return approxVnni;
  if (cap >= 1 && __builtin_cpu_supports("avx2")) return approxAvx2;
#endif
  (void)cap;
  return approxScalar;
}
const GroupApprox groupApprox = pickApprox();

// The k largest lower bounds seen: a min-heap; top() is the k-th largest (-inf before k).
struct KLargest {
  std::vector<double> h;
  size_t k;
  explicit KLargest(size_t k_) : k(k_) { h.reserve(k_); }
  double top() const { return h.size() < k ? -std::numeric_limits<double>::infinity() : h.front(); }
  void offer(double x) {
    if (h.size() < k) { h.push_back(x); std::push_heap(h.begin(), h.end(), std::greater<double>()); }
    else if (x > h.front()) {
      std::pop_heap(h.begin(), h.end(), std::greater<double>());
      h.back() = x;
      std::push_heap(h.begin(), h.end(), std::greater<double>());
    }
  }
};

thread_local std::vector<float> t_approx, t_gmax;

// The largest of the workers' k-th best lower bounds so far: every worker's k lower bounds belong to
// k distinct items, so the global k-th best exact score is at least any of them, and a block or
// group whose upper bound is below it cannot reach the top k, whichever worker scans it.
struct SharedFloor {
  std::atomic<double> v{-std::numeric_limits<double>::infinity()};
  double get() const { return v.load(std::memory_order_relaxed); }
  void raise(double x) {
    double cur = v.load(std::memory_order_relaxed);
    while (x > cur && !v.compare_exchange_weak(cur, x, std::memory_order_relaxed)) {}
  }
};

// One worker's part of the scan: blocks first, first + stride, ... (interleaved, so that every
// worker meets the large-norm blocks first and raises the floor early); its candidates (rows whose
// upper bound reached its floor when scanned) appended to cand/candUpper, its k best lower bounds
// in `best`.
int64_t scanBlocks(const int8_t* items, int64_t rows, int G, const float* rowScale, const float* bias, int64_t blockRows,
                   const int8_t* query, float qs, const double* blockErr, const double* blockMax, const uint8_t* excluded,
                   int64_t first, int64_t stride, KLargest& best, SharedFloor* floor, int32_t* cand, double* candUpper) {
  float* approx = scratch(t_approx, static_cast<size_t>(blockRows));
  float* gmax = scratch(t_gmax, static_cast<size_t>(blockRows / 16));
  const auto threshold = [&]() { return floor ? std::max(best.top(), floor->get()) : best.top(); };
  int64_t n = 0;
  for (int64_t b = first, start = first * blockRows; start < rows; b += stride, start += stride * blockRows) {
    if (blockMax[b] < threshold()) continue;
    const double err = blockErr[b];
    const int64_t end = std::min(rows, start + blockRows);
    groupApprox(items + (start >> 4) * G * 64, (end - start + 15) >> 4, G, query, qs, rowScale + start, bias + start, approx, gmax);
    for (int64_t base = start; base < end; base += 16) {
      if (static_cast<double>(gmax[(base - start) >> 4]) + err < threshold()) continue;
      const int64_t L = std::min<int64_t>(16, end - base);
      for (int64_t l = 0; l < L; ++l) {
        const double a = approx[base - start + l];
        const int64_t r = base + l;
        if (!excluded[r]) best.offer(a - err);
        if (a + err >= best.top()) { cand[n] = static_cast<int32_t>(r); candUpper[n++] = a + err; }
      }
    }
    if (floor) floor->raise(best.top());
  }
  return n;
}

// Candidates for the exact top k: every row whose upper bound reaches the k-th best lower bound.
// Above kParallelMinWork the blocks are shared among the threads (interleaved, with a shared
// floor); each worker collects into its own slice of cand (a worker's candidates are rows of its
// blocks, at most its rows), and the slices are packed in worker order. The candidate set may
// differ with the thread count and timing, never the top k: a row is dropped only when its upper
// bound is below a bound that k other rows' exact scores reach.
int64_t scan(const int8_t* items, int64_t rows, int G, const float* rowScale, const float* bias, int64_t blockRows,
             const int8_t* query, float qs, const double* blockErr, const double* blockMax, int64_t k,
             const uint8_t* excluded, int32_t* cand, double* candUpper) {
  const int64_t blocks = (rows + blockRows - 1) / blockRows;
  const int64_t parts = std::min<int64_t>(threadCount(), blocks);
  if (parts <= 1 || rows * G * 4 < kParallelMinWork) {
    KLargest best(static_cast<size_t>(k));
    const int64_t n = scanBlocks(items, rows, G, rowScale, bias, blockRows, query, qs, blockErr, blockMax, excluded, 0, 1, best, nullptr, cand, candUpper);
    const double tau = best.top();
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i)
      if (candUpper[i] >= tau) { cand[kept] = cand[i]; candUpper[kept++] = candUpper[i]; }
    return kept;
  }
  // worker p's slice of cand starts at the rows of the blocks before it in its stride order: p blocks' worth
  std::vector<KLargest> best(static_cast<size_t>(parts), KLargest(static_cast<size_t>(k)));
  std::vector<int64_t> found(static_cast<size_t>(parts)), offset(static_cast<size_t>(parts));
  for (int64_t p = 0, at = 0; p < parts; ++p) {
    offset[p] = at;
    for (int64_t b = p; b < blocks; b += parts) at += std::min(rows, (b + 1) * blockRows) - b * blockRows;
  }
  SharedFloor floor;
  parallelRange(parts, kParallelMinWork, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p)
      found[p] = scanBlocks(items, rows, G, rowScale, bias, blockRows, query, qs, blockErr, blockMax, excluded, p, parts,
                            best[p], &floor, cand + offset[p], candUpper + offset[p]);
  });
  KLargest all(static_cast<size_t>(k));
  for (auto& b : best) for (double x : b.h) all.offer(x);
  const double tau = all.top();
  int64_t kept = 0;
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t i = offset[p]; i < offset[p] + found[p]; ++i)
      if (candUpper[i] >= tau) { cand[kept] = cand[i]; candUpper[kept++] = candUpper[i]; }
  return kept;
}

// quantizedScan(items, rows, groups, rowScale, bias, blockRows, query, queryScale, blockErr,
//               blockMax, k, excluded, cand, candUpper) -> count
napi_value QuantizedScan(napi_env env, napi_callback_info ci) {
  Args a(env, ci);
  size_t li, ls, lb, lq, le, lm, lx, lc, lu;
  const int8_t* items = a.i8(0, &li);
  const int64_t rows = a.dim(1), G = a.dim(2);
  const float* rowScale = a.f32(3, &ls);
  const float* bias = a.f32(4, &lb);
  const int64_t blockRows = a.dim(5);
  const int8_t* query = a.i8(6, &lq);
  const double qs = a.num(7);
  const double* blockErr = a.f64(8, &le);
  const double* blockMax = a.f64(9, &lm);
  const int64_t k = a.dim(10);
  const uint8_t* excluded = a.u8(11, &lx);
  int32_t* cand = a.i32(12, &lc);
  double* candUpper = a.f64(13, &lu);
  if (!a.ok) return nullptr;
  if (G < 1 || G > 256 || k < 1 || blockRows < 16 || blockRows % 16) { a.range("quantizedScan: bad groups, k or blockRows"); return nullptr; }
  const int64_t padded = (rows + 15) / 16 * 16, blocks = (rows + blockRows - 1) / blockRows;
  a.need(li, padded * G * 4, "quantizedScan: items is too short");
  a.need(ls, padded, "quantizedScan: rowScale is too short");
  a.need(lb, padded, "quantizedScan: bias is too short");
  a.need(lq, G * 4, "quantizedScan: query is too short");
  a.need(le, blocks, "quantizedScan: blockErr is too short");
  a.need(lm, blocks, "quantizedScan: blockMax is too short");
  a.need(lx, rows, "quantizedScan: excluded is too short");
  a.need(lc, rows, "quantizedScan: cand is too short");
  a.need(lu, rows, "quantizedScan: candUpper is too short");
  if (!a.ok) return nullptr;
  return a.number(static_cast<double>(scan(items, rows, static_cast<int>(G), rowScale, bias, blockRows, query,
    static_cast<float>(qs), blockErr, blockMax, k, excluded, cand, candUpper)));
}

}  // namespace

void registerScan(napi_env env, napi_value exports) {
  defineFn(env, exports, "quantizedScan", QuantizedScan);
}

}  // namespace adarec
