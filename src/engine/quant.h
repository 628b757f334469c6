// Numeric kernels for the built-in engine: half floats, ggml block formats, activation
// quantization and the dot products behind every matrix-vector product.
//
// The arithmetic deliberately follows llama.cpp's CPU backend (ggml) step for step: activations are
// quantized the way ggml quantizes them for each weight type (Q8_1 for Q4_1, Q8_0 for Q4_0/Q8_0, half
// floats for F16), integer block sums are formed over the same groups of four products, and block
// results are accumulated in eight float lanes with fused multiply-add and reduced in ggml's order.
// That makes greedy decoding reproduce llama.cpp's token ids, not merely come close. The scalar
// kernels emulate the AVX2 kernels exactly, so results do not depend on the CPU.
//
// Block layouts (little-endian, d/m are IEEE half floats):
//   Q4_0 (32 elems, 18 bytes): d:f16 qs:u8[16]            x[j] = ((qs[j%16] >> 4*(j/16)) & 15) - 8) * d
//   Q4_1 (32 elems, 20 bytes): d:f16 m:f16 qs:u8[16]      x[j] = ((qs[j%16] >> 4*(j/16)) & 15) * d + m
//   Q8_0 (32 elems, 34 bytes): d:f16 qs:i8[32]            x[j] = qs[j] * d
//   Q8_1 (32 elems, 36 bytes): d:f16 s:f16 qs:i8[32]      s = d * sum(qs)   (activations only)
//   Q6_K (256 elems, 210 bytes): ql:u8[128] qh:u8[64] scales:i8[16] d:f16
// Thread safety: all functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/gguf.h"

namespace cmln::engine {

float Fp16ToFp32(uint16_t h);
// Round to nearest even, as F16C's _mm256_cvtps_ph(x, 0) does.
uint16_t Fp32ToFp16(float f);

// How activations are encoded before they meet a weight row of a given type.
enum class ActFormat { kF32, kF16, kQ8_0, kQ8_1 };
ActFormat ActFormatFor(TensorType weight_type);
// Bytes of one encoded activation row of n elements (n a multiple of 32 for the quantized formats).
size_t ActRowBytes(ActFormat format, size_t n);
// Encodes x[0..n) into out (ActRowBytes(format, n) bytes).
void EncodeActivation(ActFormat format, const float* x, size_t n, uint8_t* out);

// Dot product of one weight row of `type` (n elements) with one activation row encoded in
// ActFormatFor(type).
float DotRow(TensorType type, const uint8_t* weight_row, const uint8_t* act_row, size_t n);

// Expands one weight row to floats.
void DequantizeRow(TensorType type, const uint8_t* row, float* out, size_t n);

// Dot product of two half-float vectors accumulated in sixteen float lanes (element i into lane
// i % 16) and reduced like _mm512_reduce_add_ps: the shape of llama.cpp's AVX-512 tinyBLAS kernel,
// which computes its attention products on an F16 KV cache.
float DotF16(const uint16_t* a, const uint16_t* b, size_t n);

// Dot product of two half-float vectors in the shape of ggml_vec_dot_f16 on AVX-512, llama.cpp's path
// for the attention products of a one-token batch: every 64-element step feeds four accumulators of
// sixteen lanes (element i into accumulator (i/16)%4, lane i%16), combined as (0+2)+(1+3) and reduced
// like _mm512_reduce_add_ps; elements past the last whole step of `n_total` are added in double.
// Elements in [n_valid, n_total) count as zeros and are not read (llama.cpp's KV view is padded to
// 256 cells whose attention weights are zero).
float DotF16Ggml(const uint16_t* a, const uint16_t* b, size_t n_valid, size_t n_total);

// e^x exactly as ggml's AVX-512 ggml_v_expf computes it (a degree-5 polynomial on the reduced
// argument, scaled by 2^n; 0 below and +inf above |n| > 192). llama.cpp uses it for softmax and SiLU,
// so results match its AVX-512 build bit for bit.
float GgmlExpf(float x);
// x / (1 + GgmlExpf(-x)), ggml's ggml_v_silu.
float GgmlSilu(float x);
// Sum of 16 floats in _mm512_reduce_add_ps order (halves, quarters, pairs).
float ReduceAdd16(const float* a);

// True when the CPU has AVX2, FMA and F16C and the fast kernels are in use.
bool UsingAvx2();
// Tests: force the scalar kernels (false) or the CPU's best (true). Not thread-safe with running kernels.
void SetUseAvx2ForTesting(bool use);

}  // namespace cmln::engine
