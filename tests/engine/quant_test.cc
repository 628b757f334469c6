// Numeric kernels: half-float conversion, block formats against their definitions, and the scalar and
// AVX2 kernels agreeing bit for bit (the scalar path must be a faithful fallback).
#include "engine/quant.h"

#include <gtest/gtest.h>
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/gguf_writer.h"

namespace cmln::engine {
namespace {

using testing::RandomTensorData;
using testing::Rng;

class ScalarKernels {
 public:
  explicit ScalarKernels(bool avx2) { SetUseAvx2ForTesting(avx2); }
  ~ScalarKernels() { SetUseAvx2ForTesting(true); }
};

// True when the CPU has AVX2, FMA and F16C (the engine's own detection).
bool CpuHasF16c() {
  SetUseAvx2ForTesting(true);
  return UsingAvx2();
}

__attribute__((target("f16c"))) uint16_t HardwareToHalf(float f) {
  return static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), 0), 0));
}
__attribute__((target("f16c"))) float HardwareFromHalf(uint16_t h) { return _cvtsh_ss(h); }

TEST(Quant, HalfToFloatIsExactForEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(Fp32ToFp16(f), h) << std::hex << h;  // round trip
    if (CpuHasF16c()) {
      const float hw = HardwareFromHalf(static_cast<uint16_t>(h));
      EXPECT_EQ(std::memcmp(&f, &hw, 4), 0) << std::hex << h;
    }
  }
}

TEST(Quant, FloatToHalfRoundsToNearestEvenLikeF16c) {
  if (!CpuHasF16c()) GTEST_SKIP() << "no F16C on this CPU to compare with";
  Rng rng(7);
  // Every exponent from subnormal-half territory to overflow, with random and tie-case mantissas.
  for (uint32_t e = 90; e < 160; ++e) {
    for (int k = 0; k < 2000; ++k) {
      uint32_t mant = static_cast<uint32_t>(rng.Next()) & 0x7fffff;
      if (k % 4 == 0) mant = (mant & ~0x1fffu) | 0x1000;  // exact tie for normal halves
      for (uint32_t sign : {0u, 0x80000000u}) {
        const uint32_t bits = sign | (e << 23) | mant;
        float f;
        std::memcpy(&f, &bits, 4);
        ASSERT_EQ(Fp32ToFp16(f), HardwareToHalf(f)) << std::hex << bits;
      }
    }
  }
  EXPECT_EQ(Fp32ToFp16(INFINITY), HardwareToHalf(INFINITY));
  EXPECT_EQ(Fp32ToFp16(1e6f), 0x7c00);
}

TEST(Quant, DequantizeFollowsTheBlockDefinitions) {
  // Q4_1: d = 0.5, m = -1, nibbles 0..15 in the low halves, 15..0 in the high halves.
  Bytes q41(20);
  testing::PutHalf(q41, 0, 0.5f);
  testing::PutHalf(q41, 2, -1.0f);
  for (int j = 0; j < 16; ++j) q41[4 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float out[32];
  DequantizeRow(TensorType::kQ4_1, q41.data(), out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], j * 0.5f - 1.0f);
    EXPECT_EQ(out[j + 16], (15 - j) * 0.5f - 1.0f);
  }
  // Q4_0: x = (nibble - 8) * d.
  Bytes q40(18);
  testing::PutHalf(q40, 0, 2.0f);
  for (int j = 0; j < 16; ++j) q40[2 + j] = static_cast<uint8_t>(j | (j << 4));
  DequantizeRow(TensorType::kQ4_0, q40.data(), out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], (j - 8) * 2.0f);
    EXPECT_EQ(out[j + 16], (j - 8) * 2.0f);
  }
  // Q8_0: x = q * d.
  Bytes q80(34);
  testing::PutHalf(q80, 0, 0.25f);
  for (int j = 0; j < 32; ++j) q80[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j - 16));
  DequantizeRow(TensorType::kQ8_0, q80.data(), out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], (j - 16) * 0.25f);
  // Q6_K: all quants 32 (zero after the -32 offset) except element 0 = 33 and element 255 = 0.
  Bytes q6(210, 0);
  for (int i = 0; i < 128; ++i) q6[i] = 0;          // low 4 bits 0
  for (int i = 0; i < 64; ++i) q6[128 + i] = 0xAA;  // high 2 bits 2 for all four: 2<<4 = 32
  q6[0] = 1;                                        // element 0 low bits 1 -> 33
  q6[128 + 63] = 0x2A;  // element 255 = ql[127]>>4 | ((qh[63]>>6)&3)<<4: high bits 0
  for (int s = 0; s < 16; ++s) q6[192 + s] = static_cast<uint8_t>(s + 1);
  testing::PutHalf(q6, 208, 0.5f);
  std::vector<float> y(256);
  DequantizeRow(TensorType::kQ6_K, q6.data(), y.data(), 256);
  EXPECT_EQ(y[0], 0.5f * 1 * 1);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[255], 0.5f * 16 * -32);
}

struct DotCase {
  TensorType type;
  size_t n;
};

TEST(Quant, DotRowMatchesDequantizedDotWithinQuantizationError) {
  for (DotCase c : {DotCase{TensorType::kF32, 96}, DotCase{TensorType::kF16, 96}, DotCase{TensorType::kQ4_0, 256},
                    DotCase{TensorType::kQ4_1, 256}, DotCase{TensorType::kQ8_0, 256}, DotCase{TensorType::kQ6_K, 512}}) {
    Rng rng(11);
    const Bytes w = RandomTensorData(c.type, c.n, 1, 1.0f, rng);
    std::vector<float> x(c.n), wf(c.n);
    for (auto& v : x) v = rng.Uniform(-1, 1);
    DequantizeRow(c.type, w.data(), wf.data(), c.n);
    double want = 0, mag = 0;
    for (size_t i = 0; i < c.n; ++i) {
      want += static_cast<double>(wf[i]) * x[i];
      mag += std::fabs(static_cast<double>(wf[i]) * x[i]);
    }
    const ActFormat fmt = ActFormatFor(c.type);
    std::vector<uint8_t> act(ActRowBytes(fmt, c.n));
    EncodeActivation(fmt, x.data(), c.n, act.data());
    const float got = DotRow(c.type, w.data(), act.data(), c.n);
    // Q8 activations carry 1/254 relative error per element; halves 1/2048.
    EXPECT_NEAR(got, want, mag * 0.01 + 1e-4) << TraitsOf(c.type).name;
  }
}

TEST(Quant, ScalarAndAvx2KernelsAgreeBitForBit) {
  if (!CpuHasF16c()) GTEST_SKIP() << "no AVX2 on this CPU";
  for (TensorType t : {TensorType::kF32, TensorType::kF16, TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ8_0,
                       TensorType::kQ6_K}) {
    for (int trial = 0; trial < 20; ++trial) {
      Rng rng(100 + trial);
      const size_t n = 512;
      const Bytes w = RandomTensorData(t, n, 1, 2.0f, rng);
      std::vector<float> x(n);
      for (auto& v : x) v = rng.Uniform(-3, 3);
      if (trial == 0) std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero block
      if (trial == 1) x[5] = 127.5f;                                  // a rounding tie after scaling
      const ActFormat fmt = ActFormatFor(t);
      std::vector<uint8_t> a_scalar(ActRowBytes(fmt, n)), a_avx(ActRowBytes(fmt, n));
      float d_scalar, d_avx;
      {
        ScalarKernels s(false);
        EncodeActivation(fmt, x.data(), n, a_scalar.data());
        d_scalar = DotRow(t, w.data(), a_scalar.data(), n);
      }
      {
        ScalarKernels s(true);
        ASSERT_TRUE(UsingAvx2());
        EncodeActivation(fmt, x.data(), n, a_avx.data());
        d_avx = DotRow(t, w.data(), a_avx.data(), n);
      }
      EXPECT_EQ(a_scalar, a_avx) << TraitsOf(t).name << " trial " << trial;
      EXPECT_EQ(std::memcmp(&d_scalar, &d_avx, 4), 0) << TraitsOf(t).name << " " << d_scalar << " vs " << d_avx;
    }
  }
  // The lane-wise half-float dot, including lengths that are not a multiple of 8.
  for (size_t n : {1u, 7u, 8u, 64u, 77u}) {
    Rng rng(n);
    std::vector<uint16_t> a(n), b(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = Fp32ToFp16(rng.Uniform(-2, 2));
      b[i] = Fp32ToFp16(rng.Uniform(-2, 2));
    }
    float s, v;
    {
      ScalarKernels k(false);
      s = DotF16(a.data(), b.data(), n);
    }
    {
      ScalarKernels k(true);
      v = DotF16(a.data(), b.data(), n);
    }
    EXPECT_EQ(std::memcmp(&s, &v, 4), 0) << n;
  }
}

// ggml_vec_dot_f16's shape (llama.cpp's one-token attention products): elements 0-15, 16-31, 32-47,
// 48-63 of each 64-step go to four accumulators combined (0+2)+(1+3); a step's lanes are summed
// before the next step's are added to them; the tail past the last whole step of n_total is added in
// double; elements in [n_valid, n_total) are zeros.
TEST(Quant, DotF16GgmlFollowsGgmlVecDotF16) {
  // t = 2^-24 (a half subnormal): 1 + t is a tie that rounds to 1 in float, 1 + 2t is exact.
  const uint16_t one = Fp32ToFp16(1.0f), t = Fp32ToFp16(0x1p-24f);
  ASSERT_EQ(Fp16ToFp32(t), 0x1p-24f);
  for (bool avx : {false, true}) {
    if (avx && !CpuHasF16c()) continue;
    ScalarKernels k(avx);
    std::vector<uint16_t> a(128, 0), b(128, one);
    // Elements 0, 16 and 48 fall in accumulators 0, 1 and 3: (1 + 0) + (t + t) = 1 + 2t.
    a[0] = one;
    a[16] = t;
    a[48] = t;
    EXPECT_EQ(DotF16Ggml(a.data(), b.data(), 64, 64), 1.0f + 0x1p-23f) << avx;
    // The 16-lane tinyBLAS shape adds them to lane 0 one after another: 1.
    EXPECT_EQ(DotF16(a.data(), b.data(), 64), 1.0f) << avx;
    // Past the last whole step of n_total the tail is added in double: 1 + t + t = 1 + 2t.
    a[16] = a[48] = 0;
    a[64] = t;
    a[65] = t;
    EXPECT_EQ(DotF16Ggml(a.data(), b.data(), 66, 66), 1.0f + 0x1p-23f) << avx;
    // Padded to 128 the same elements are lanes 0 and 1 of accumulator 0: (1 + t) rounds to 1, + t: 1.
    EXPECT_EQ(DotF16Ggml(a.data(), b.data(), 66, 128), 1.0f) << avx;
    // Elements at and past n_valid are not read.
    a[70] = Fp32ToFp16(1000.0f);
    EXPECT_EQ(DotF16Ggml(a.data(), b.data(), 66, 128), 1.0f) << avx;
  }
  // Scalar and AVX2 agree on random data of every shape.
  if (!CpuHasF16c()) return;
  for (size_t n : {1u, 5u, 64u, 100u, 256u, 300u}) {
    for (size_t total : {n, (n + 63) / 64 * 64, size_t{512}}) {
      Rng rng(n * 7 + total);
      std::vector<uint16_t> a(n), b(n);
      for (size_t i = 0; i < n; ++i) {
        a[i] = Fp32ToFp16(rng.Uniform(-2, 2));
        b[i] = Fp32ToFp16(rng.Uniform(-2, 2));
      }
      float s, v;
      {
        ScalarKernels k(false);
        s = DotF16Ggml(a.data(), b.data(), n, total);
      }
      {
        ScalarKernels k(true);
        v = DotF16Ggml(a.data(), b.data(), n, total);
      }
      EXPECT_EQ(std::memcmp(&s, &v, 4), 0) << n << " " << total;
    }
  }
}

TEST(Quant, Q8ActivationQuantizationMatchesGgml) {
  // amax = 2.54 -> d = 0.02, scale 127/2.54 = 50; 0.01 * 50 = 0.5 rounds to even (0), 0.03 * 50 = 1.5 -> 2.
  std::vector<float> x(32, 0.0f);
  x[0] = 2.54f;
  x[1] = -2.54f;
  x[2] = 0.01f;
  x[3] = 0.03f;
  std::vector<uint8_t> a(36);
  EncodeActivation(ActFormat::kQ8_1, x.data(), 32, a.data());
  const int8_t* qs = reinterpret_cast<const int8_t*>(a.data() + 4);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], -127);
  EXPECT_EQ(qs[4], 0);
  const float d = Fp16ToFp32(static_cast<uint16_t>(a[0] | (a[1] << 8)));
  EXPECT_EQ(d, Fp16ToFp32(Fp32ToFp16(2.54f / 127.f)));
  const float s = Fp16ToFp32(static_cast<uint16_t>(a[2] | (a[3] << 8)));
  int sum = 0;
  for (int j = 0; j < 32; ++j) sum += qs[j];
  EXPECT_EQ(s, Fp16ToFp32(Fp32ToFp16(2.54f / 127.f * static_cast<float>(sum))));
}

}  // namespace
}  // namespace cmln::engine
