#include "engine/quant.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

// Products are rounded where ggml rounds them and fused only where written (std::fma, FMA intrinsics):
// clang would otherwise contract a*b+c inside the FMA-enabled functions (GCC does not under -std=c++20).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace cmln::engine {

namespace {

constexpr size_t kQK = 32;            // elements per Q4_0/Q4_1/Q8_0/Q8_1 block
constexpr size_t kQ4_0Bytes = 18;
constexpr size_t kQ4_1Bytes = 20;
constexpr size_t kQ8_0Bytes = 34;
constexpr size_t kQ8_1Bytes = 36;
constexpr size_t kQK_K = 256;         // elements per Q6_K block
constexpr size_t kQ6_KBytes = 210;

inline uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline void StoreU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline float LoadHalf(const uint8_t* p) { return Fp16ToFp32(LoadU16(p)); }

// ggml's hsum_float_8: (hi + lo) lanes, then pairs, then the last two.
inline float HorizontalSum8(const float* a) {
  const float r0 = a[4] + a[0], r1 = a[5] + a[1], r2 = a[6] + a[2], r3 = a[7] + a[3];
  const float s0 = r0 + r2, s1 = r1 + r3;
  return s0 + s1;
}

// ---- scalar kernels (bit-exact emulation of the AVX2 ones) ------------------------------------

// Quantizes 32 floats like ggml's AVX2 quantize_row_q8_0/q8_1: d = amax/127 stored as half,
// values scaled by 127/amax and rounded to nearest even. Returns the sum of the quants.
int QuantizeBlockScalar(const float* x, int8_t* qs, float* d_out) {
  float amax = 0.0f;
  for (size_t j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.f;
  const float id = amax != 0.0f ? 127.f / amax : 0.0f;
  int sum = 0;
  for (size_t j = 0; j < kQK; ++j) {
    const int q = static_cast<int>(std::nearbyint(x[j] * id));
    qs[j] = static_cast<int8_t>(q);
    sum += q;
  }
  *d_out = d;
  return sum;
}

void EncodeQ8Scalar(const float* x, size_t n, uint8_t* out, bool with_sum) {
  const size_t block_bytes = with_sum ? kQ8_1Bytes : kQ8_0Bytes;
  const size_t qs_at = with_sum ? 4 : 2;
  for (size_t b = 0; b < n / kQK; ++b) {
    uint8_t* blk = out + b * block_bytes;
    float d;
    const int sum = QuantizeBlockScalar(x + b * kQK, reinterpret_cast<int8_t*>(blk + qs_at), &d);
    StoreU16(blk, Fp32ToFp16(d));
    if (with_sum) StoreU16(blk + 2, Fp32ToFp16(d * static_cast<float>(sum)));
  }
}

// Weight nibbles/bytes of one 32-element block expanded to signed values in element order.
inline void Q4Values(const uint8_t* qs, int offset, int* v) {
  for (size_t j = 0; j < 16; ++j) {
    v[j] = (qs[j] & 15) - offset;
    v[j + 16] = (qs[j] >> 4) - offset;
  }
}

// Eight lane sums of four consecutive products, as maddubs + madd produce them.
inline void LaneSums(const int* w, const int8_t* a, int* lanes) {
  for (int l = 0; l < 8; ++l) {
    lanes[l] = w[4 * l] * a[4 * l] + w[4 * l + 1] * a[4 * l + 1] + w[4 * l + 2] * a[4 * l + 2] + w[4 * l + 3] * a[4 * l + 3];
  }
}

float DotQ4_1Scalar(const uint8_t* w, const uint8_t* a, size_t nb) {
  float acc[8] = {0};
  float summs = 0;
  int v[kQK], lanes[8];
  for (size_t b = 0; b < nb; ++b, w += kQ4_1Bytes, a += kQ8_1Bytes) {
    const float d0 = LoadHalf(w), m0 = LoadHalf(w + 2);
    const float d1 = LoadHalf(a), s1 = LoadHalf(a + 2);
    summs = std::fma(m0, s1, summs);  // GCC fuses ggml's summs += m*s (x86-64, FMA)
    const float dd = d0 * d1;
    Q4Values(w + 4, 0, v);
    LaneSums(v, reinterpret_cast<const int8_t*>(a + 4), lanes);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(dd, static_cast<float>(lanes[l]), acc[l]);
  }
  return HorizontalSum8(acc) + summs;
}

float DotQ4_0Scalar(const uint8_t* w, const uint8_t* a, size_t nb) {
  float acc[8] = {0};
  int v[kQK], lanes[8];
  for (size_t b = 0; b < nb; ++b, w += kQ4_0Bytes, a += kQ8_0Bytes) {
    const float dd = LoadHalf(w) * LoadHalf(a);
    Q4Values(w + 2, 8, v);
    LaneSums(v, reinterpret_cast<const int8_t*>(a + 2), lanes);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(dd, static_cast<float>(lanes[l]), acc[l]);
  }
  return HorizontalSum8(acc);
}

float DotQ8_0Scalar(const uint8_t* w, const uint8_t* a, size_t nb) {
  float acc[8] = {0};
  int v[kQK], lanes[8];
  for (size_t b = 0; b < nb; ++b, w += kQ8_0Bytes, a += kQ8_0Bytes) {
    const float dd = LoadHalf(w) * LoadHalf(a);
    const int8_t* q = reinterpret_cast<const int8_t*>(w + 2);
    for (size_t j = 0; j < kQK; ++j) v[j] = q[j];
    LaneSums(v, reinterpret_cast<const int8_t*>(a + 2), lanes);
    for (int l = 0; l < 8; ++l) acc[l] = std::fma(dd, static_cast<float>(lanes[l]), acc[l]);
  }
  return HorizontalSum8(acc);
}

// Sixteen lanes (element i into lane i % 16) folded to eight, as _mm512_reduce_add_ps does, then
// HorizontalSum8: the shape of llama.cpp's AVX-512 tinyBLAS F16 kernel.
float DotF16Scalar(const uint16_t* a, const uint16_t* b, size_t n) {
  float acc[16] = {0};
  for (size_t i = 0; i < n; ++i) acc[i % 16] = std::fma(Fp16ToFp32(a[i]), Fp16ToFp32(b[i]), acc[i % 16]);
  float folded[8];
  for (int l = 0; l < 8; ++l) folded[l] = acc[l + 8] + acc[l];
  return HorizontalSum8(folded);
}

// ggml_vec_dot_f16's four 16-lane accumulators (see quant.h), emulated lane by lane.
float DotF16GgmlScalar(const uint16_t* a, const uint16_t* b, size_t n_valid, size_t n_total) {
  constexpr size_t kStep = 64;
  const size_t np = n_total & ~(kStep - 1);
  float acc[4][16] = {};
  for (size_t i = 0; i < std::min(n_valid, np); ++i) {
    float& lane = acc[(i / 16) % 4][i % 16];
    lane = std::fma(Fp16ToFp32(a[i]), Fp16ToFp32(b[i]), lane);
  }
  float folded[16];
  for (int l = 0; l < 16; ++l) folded[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
  double sum = static_cast<double>(ReduceAdd16(folded));
  for (size_t i = np; i < n_valid; ++i) sum += static_cast<double>(Fp16ToFp32(a[i]) * Fp16ToFp32(b[i]));
  return static_cast<float>(sum);
}

float DotF32Scalar(const float* a, const float* b, size_t n) {
  float acc[8] = {0};
  for (size_t i = 0; i < n; ++i) acc[i % 8] = std::fma(a[i], b[i], acc[i % 8]);
  return HorizontalSum8(acc);
}

// ---- AVX2 kernels ------------------------------------------------------------------------------

#define CMLN_AVX2 __attribute__((target("avx2,fma,f16c")))

CMLN_AVX2 inline float Hsum8Avx(__m256 x) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

CMLN_AVX2 inline __m256i NibblesAvx(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(t), _mm_srli_epi16(t, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(15));
}

// unsigned x signed bytes -> eight float lanes of four-product sums
CMLN_AVX2 inline __m256 LaneSumsUsAvx(__m256i ux, __m256i sy) {
  const __m256i pairs = _mm256_maddubs_epi16(ux, sy);
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}
CMLN_AVX2 inline __m256 LaneSumsSsAvx(__m256i x, __m256i y) {
  return LaneSumsUsAvx(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

CMLN_AVX2 float DotQ4_1Avx(const uint8_t* w, const uint8_t* a, size_t nb) {
  __m256 acc = _mm256_setzero_ps();
  float summs = 0;
  for (size_t b = 0; b < nb; ++b, w += kQ4_1Bytes, a += kQ8_1Bytes) {
    const float d0 = _cvtsh_ss(LoadU16(w)), m0 = _cvtsh_ss(LoadU16(w + 2));
    const float d1 = _cvtsh_ss(LoadU16(a)), s1 = _cvtsh_ss(LoadU16(a + 2));
    summs = std::fma(m0, s1, summs);  // GCC fuses ggml's summs += m*s (x86-64, FMA)
    const __m256 dd = _mm256_mul_ps(_mm256_set1_ps(d0), _mm256_set1_ps(d1));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 4));
    acc = _mm256_fmadd_ps(dd, LaneSumsUsAvx(NibblesAvx(w + 4), qy), acc);
  }
  return Hsum8Avx(acc) + summs;
}

CMLN_AVX2 float DotQ4_0Avx(const uint8_t* w, const uint8_t* a, size_t nb) {
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b, w += kQ4_0Bytes, a += kQ8_0Bytes) {
    const __m256 dd = _mm256_set1_ps(_cvtsh_ss(LoadU16(w)) * _cvtsh_ss(LoadU16(a)));
    const __m256i qx = _mm256_sub_epi8(NibblesAvx(w + 2), _mm256_set1_epi8(8));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2));
    acc = _mm256_fmadd_ps(dd, LaneSumsSsAvx(qx, qy), acc);
  }
  return Hsum8Avx(acc);
}

CMLN_AVX2 float DotQ8_0Avx(const uint8_t* w, const uint8_t* a, size_t nb) {
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b, w += kQ8_0Bytes, a += kQ8_0Bytes) {
    const __m256 dd = _mm256_set1_ps(_cvtsh_ss(LoadU16(w)) * _cvtsh_ss(LoadU16(a)));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 2));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 2));
    acc = _mm256_fmadd_ps(dd, LaneSumsSsAvx(qx, qy), acc);
  }
  return Hsum8Avx(acc);
}

CMLN_AVX2 float DotF16Avx(const uint16_t* a, const uint16_t* b, size_t n) {
  __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();  // lanes 0-7 and 8-15 of 16
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256 y0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    const __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 8)));
    const __m256 y1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    lo = _mm256_fmadd_ps(x0, y0, lo);
    hi = _mm256_fmadd_ps(x1, y1, hi);
  }
  if (i < n) {
    alignas(16) uint16_t ta[16] = {0}, tb[16] = {0};
    std::memcpy(ta, a + i, (n - i) * 2);
    std::memcpy(tb, b + i, (n - i) * 2);
    lo = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(ta))),
                         _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tb))), lo);
    hi = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(ta + 8))),
                         _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tb + 8))), hi);
  }
  return Hsum8Avx(_mm256_add_ps(hi, lo));
}

CMLN_AVX2 inline __m256 LoadHalf8Avx(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

CMLN_AVX2 float DotF16GgmlAvx(const uint16_t* a, const uint16_t* b, size_t n_valid, size_t n_total) {
  constexpr size_t kStep = 64;
  const size_t np = n_total & ~(kStep - 1);
  const size_t simd_end = std::min(n_valid, np);
  __m256 lo[4], hi[4];  // accumulator j, lanes 0-7 and 8-15
  for (int j = 0; j < 4; ++j) lo[j] = hi[j] = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + kStep <= simd_end; i += kStep) {
    for (size_t j = 0; j < 4; ++j) {
      lo[j] = _mm256_fmadd_ps(LoadHalf8Avx(a + i + 16 * j), LoadHalf8Avx(b + i + 16 * j), lo[j]);
      hi[j] = _mm256_fmadd_ps(LoadHalf8Avx(a + i + 16 * j + 8), LoadHalf8Avx(b + i + 16 * j + 8), hi[j]);
    }
  }
  if (i < simd_end) {  // a partial step inside the padded length: zeros beyond n_valid
    alignas(16) uint16_t ta[kStep] = {0}, tb[kStep] = {0};
    std::memcpy(ta, a + i, (simd_end - i) * 2);
    std::memcpy(tb, b + i, (simd_end - i) * 2);
    for (size_t j = 0; j < 4; ++j) {
      lo[j] = _mm256_fmadd_ps(LoadHalf8Avx(ta + 16 * j), LoadHalf8Avx(tb + 16 * j), lo[j]);
      hi[j] = _mm256_fmadd_ps(LoadHalf8Avx(ta + 16 * j + 8), LoadHalf8Avx(tb + 16 * j + 8), hi[j]);
    }
  }
  const __m256 l = _mm256_add_ps(_mm256_add_ps(lo[0], lo[2]), _mm256_add_ps(lo[1], lo[3]));
  const __m256 h = _mm256_add_ps(_mm256_add_ps(hi[0], hi[2]), _mm256_add_ps(hi[1], hi[3]));
  double sum = static_cast<double>(Hsum8Avx(_mm256_add_ps(h, l)));
  for (size_t k = np; k < n_valid; ++k) sum += static_cast<double>(_cvtsh_ss(a[k]) * _cvtsh_ss(b[k]));
  return static_cast<float>(sum);
}

CMLN_AVX2 float DotF32Avx(const float* a, const float* b, size_t n) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  alignas(32) float t[8];
  _mm256_store_ps(t, acc);
  for (; i < n; ++i) t[i % 8] = std::fma(a[i], b[i], t[i % 8]);
  return HorizontalSum8(t);
}

CMLN_AVX2 void EncodeQ8Avx(const float* x, size_t n, uint8_t* out, bool with_sum) {
  const size_t block_bytes = with_sum ? kQ8_1Bytes : kQ8_0Bytes;
  const size_t qs_at = with_sum ? 4 : 2;
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  for (size_t b = 0; b < n / kQK; ++b) {
    const float* xb = x + b * kQK;
    uint8_t* blk = out + b * block_bytes;
    __m256 v0 = _mm256_loadu_ps(xb), v1 = _mm256_loadu_ps(xb + 8);
    __m256 v2 = _mm256_loadu_ps(xb + 16), v3 = _mm256_loadu_ps(xb + 24);
    __m256 mx = _mm256_max_ps(_mm256_andnot_ps(sign_bit, v0), _mm256_andnot_ps(sign_bit, v1));
    mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign_bit, v2));
    mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign_bit, v3));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(mx, 1), _mm256_castps256_ps128(mx));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.f;
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    const __m256 mul = _mm256_set1_ps(id);
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    alignas(32) int32_t q[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(q), i0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 8), i1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 16), i2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(q + 24), i3);
    int sum = 0;
    int8_t* qs = reinterpret_cast<int8_t*>(blk + qs_at);
    for (size_t j = 0; j < kQK; ++j) {
      qs[j] = static_cast<int8_t>(q[j]);
      sum += q[j];
    }
    StoreU16(blk, Fp32ToFp16(d));
    if (with_sum) StoreU16(blk + 2, Fp32ToFp16(d * static_cast<float>(sum)));
  }
}

bool CpuHasAvx2() {
  __builtin_cpu_init();
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  return f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool g_use_avx2 = CpuHasAvx2();

void DequantizeQ6_K(const uint8_t* blk, float* y) {
  const uint8_t* ql = blk;
  const uint8_t* qh = blk + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
  const float d = LoadHalf(blk + 208);
  for (size_t n = 0; n < kQK_K; n += 128) {
    for (size_t l = 0; l < 32; ++l) {
      const size_t is = l / 16;
      const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
    y += 128;
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

}  // namespace

float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t Fp32ToFp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN (NaN keeps a quiet mantissa bit)
    return static_cast<uint16_t>(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 | ((abs >> 13) & 0x3ff) : 0));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // rounds to >= 65520: inf
  if (abs < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero (2^-25 itself ties to even zero)
    const uint32_t e = abs >> 23;
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // value = mant * 2^(e-150); half subnormal unit 2^-24
    uint32_t h = mant >> (shift);
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  uint32_t h = ((abs >> 13) - ((127 - 15) << 10));
  const uint32_t rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(sign | h);
}

ActFormat ActFormatFor(TensorType weight_type) {
  switch (weight_type) {
    case TensorType::kQ4_1: return ActFormat::kQ8_1;
    case TensorType::kQ4_0: case TensorType::kQ8_0: return ActFormat::kQ8_0;
    case TensorType::kF16: return ActFormat::kF16;
    case TensorType::kF32: case TensorType::kQ6_K: return ActFormat::kF32;
  }
  return ActFormat::kF32;
}

size_t ActRowBytes(ActFormat format, size_t n) {
  switch (format) {
    case ActFormat::kF32: return n * 4;
    case ActFormat::kF16: return n * 2;
    case ActFormat::kQ8_0: return n / kQK * kQ8_0Bytes;
    case ActFormat::kQ8_1: return n / kQK * kQ8_1Bytes;
  }
  return 0;
}

void EncodeActivation(ActFormat format, const float* x, size_t n, uint8_t* out) {
  switch (format) {
    case ActFormat::kF32:
      std::memcpy(out, x, n * 4);
      return;
    case ActFormat::kF16:
      for (size_t i = 0; i < n; ++i) StoreU16(out + 2 * i, Fp32ToFp16(x[i]));
      return;
    case ActFormat::kQ8_0:
    case ActFormat::kQ8_1:
      if (g_use_avx2) {
        EncodeQ8Avx(x, n, out, format == ActFormat::kQ8_1);
      } else {
        EncodeQ8Scalar(x, n, out, format == ActFormat::kQ8_1);
      }
      return;
  }
}

float DotRow(TensorType type, const uint8_t* w, const uint8_t* a, size_t n) {
  switch (type) {
    case TensorType::kQ4_1: return g_use_avx2 ? DotQ4_1Avx(w, a, n / kQK) : DotQ4_1Scalar(w, a, n / kQK);
    case TensorType::kQ4_0: return g_use_avx2 ? DotQ4_0Avx(w, a, n / kQK) : DotQ4_0Scalar(w, a, n / kQK);
    case TensorType::kQ8_0: return g_use_avx2 ? DotQ8_0Avx(w, a, n / kQK) : DotQ8_0Scalar(w, a, n / kQK);
    case TensorType::kF16: return DotF16(reinterpret_cast<const uint16_t*>(w), reinterpret_cast<const uint16_t*>(a), n);
    case TensorType::kF32: {
      const float* x = reinterpret_cast<const float*>(w);
      const float* y = reinterpret_cast<const float*>(a);
      return g_use_avx2 ? DotF32Avx(x, y, n) : DotF32Scalar(x, y, n);
    }
    case TensorType::kQ6_K: {
      float tmp[kQK_K];
      float acc[8] = {0};
      const float* y = reinterpret_cast<const float*>(a);
      for (size_t b = 0; b < n / kQK_K; ++b) {
        DequantizeQ6_K(w + b * kQ6_KBytes, tmp);
        for (size_t i = 0; i < kQK_K; ++i) acc[i % 8] = std::fma(tmp[i], y[b * kQK_K + i], acc[i % 8]);
      }
      return HorizontalSum8(acc);
    }
  }
  return 0;
}

void DequantizeRow(TensorType type, const uint8_t* row, float* out, size_t n) {
  switch (type) {
    case TensorType::kF32:
      std::memcpy(out, row, n * 4);
      return;
    case TensorType::kF16:
      for (size_t i = 0; i < n; ++i) out[i] = Fp16ToFp32(LoadU16(row + 2 * i));
      return;
    case TensorType::kQ4_0:
    case TensorType::kQ4_1: {
      const bool has_min = type == TensorType::kQ4_1;
      const size_t bytes = has_min ? kQ4_1Bytes : kQ4_0Bytes;
      int v[kQK];
      for (size_t b = 0; b < n / kQK; ++b, row += bytes) {
        const float d = LoadHalf(row);
        const float m = has_min ? LoadHalf(row + 2) : 0.0f;
        Q4Values(row + (has_min ? 4 : 2), has_min ? 0 : 8, v);
        for (size_t j = 0; j < kQK; ++j) out[b * kQK + j] = static_cast<float>(v[j]) * d + m;
      }
      return;
    }
    case TensorType::kQ8_0:
      for (size_t b = 0; b < n / kQK; ++b, row += kQ8_0Bytes) {
        const float d = LoadHalf(row);
        const int8_t* q = reinterpret_cast<const int8_t*>(row + 2);
        for (size_t j = 0; j < kQK; ++j) out[b * kQK + j] = static_cast<float>(q[j]) * d;
      }
      return;
    case TensorType::kQ6_K:
      for (size_t b = 0; b < n / kQK_K; ++b) DequantizeQ6_K(row + b * kQ6_KBytes, out + b * kQK_K);
      return;
  }
}

float DotF16(const uint16_t* a, const uint16_t* b, size_t n) {
  return g_use_avx2 ? DotF16Avx(a, b, n) : DotF16Scalar(a, b, n);
}

float DotF16Ggml(const uint16_t* a, const uint16_t* b, size_t n_valid, size_t n_total) {
  return g_use_avx2 ? DotF16GgmlAvx(a, b, n_valid, n_total) : DotF16GgmlScalar(a, b, n_valid, n_total);
}

float GgmlExpf(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fma(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fma(-n, 0x1.7f7d1cp-20f, std::fma(-n, 0x1.62e4p-1f, x));
  if (std::fabs(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
  const float u = b * b;
  const float j = std::fma(std::fma(std::fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, std::fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                           u, std::fma(0x1.ffffecp-1f, b, 1.0f));
  return std::ldexp(j, static_cast<int>(n));
}

float GgmlSilu(float x) { return x / (1.0f + GgmlExpf(0.0f - x)); }

float ReduceAdd16(const float* a) {
  float folded[8];
  for (int l = 0; l < 8; ++l) folded[l] = a[l + 8] + a[l];
  return HorizontalSum8(folded);
}

bool UsingAvx2() { return g_use_avx2; }

void SetUseAvx2ForTesting(bool use) { g_use_avx2 = use && CpuHasAvx2(); }

}  // namespace cmln::engine
