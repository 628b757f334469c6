// GGUF v3 reader: the container llama.cpp uses for model weights.
//
// A GgufFile is the parsed header (metadata key/values and tensor descriptors) of one GGUF file plus
// the bytes of its tensor data, either memory-mapped from disk (Open) or borrowed from the caller
// (Parse). Every field is read through cmln::ByteReader; counts, string lengths, dimensions, tensor
// sizes and offsets are capped and checked against the file before anything is allocated or
// dereferenced, so a GgufFile that parsed successfully only hands out tensor views inside the file.
//
// Contract:
//   - On success every tensor has a supported type, a row length that is a whole number of blocks,
//     and its data range [data_offset + offset, + byte_size) lies inside the file, aligned to
//     `general.alignment` (32 by default).
//   - On failure the error names the field and the byte offset: kTruncated (file ends early),
//     kLengthTooLarge (a count or length over its cap), kMalformed (bad magic, lying sizes or offsets,
//     duplicate names, type mismatch), kUnsupported (other versions, unknown value or tensor types).
// Thread safety: a GgufFile is immutable after construction; concurrent reads are safe.
// Ownership: Open() keeps the mapping alive as long as the GgufFile (and its copies) live; Parse()
// borrows `data`, which must outlive the GgufFile.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::engine {

// GGUF metadata value types (gguf.md "gguf_metadata_value_type").
enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// ggml tensor types this reader accepts. The numeric values are ggml's.
enum class TensorType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ8_0 = 8, kQ6_K = 14,
};

// Elements per block and bytes per block of a tensor type.
struct TensorTypeTraits {
  const char* name;
  uint32_t block_elems;
  uint32_t block_bytes;
};
// kUnsupported for type ids this reader does not know.
Result<TensorTypeTraits> TraitsOf(uint32_t type_id);
inline TensorTypeTraits TraitsOf(TensorType t) { return TraitsOf(static_cast<uint32_t>(t)).value(); }

// One metadata value. Scalars live in the field of their kind (integers widen to int64/uint64,
// floats to double); arrays hold their elements in `array_ints`, `array_floats` or `array_strings`
// according to `array_type` (nested arrays are rejected as kUnsupported).
struct GgufValue {
  GgufValueType type = GgufValueType::kU8;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string str;
  GgufValueType array_type = GgufValueType::kU8;
  std::vector<int64_t> array_ints;
  std::vector<double> array_floats;
  std::vector<std::string> array_strings;
  uint64_t array_size = 0;
};

struct GgufTensor {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the row length (contiguous)
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;         // relative to the data section
  uint64_t n_elements = 0;
  uint64_t byte_size = 0;
  ByteView data;               // the tensor's bytes inside the file
  uint64_t rows() const { return n_elements / dims[0]; }
};

// Caps on attacker-controlled sizes. Chosen well above any real llama-family file.
struct GgufLimits {
  uint64_t max_tensors = 1u << 16;
  uint64_t max_kv = 1u << 16;
  uint64_t max_string_bytes = 1u << 20;   // a chat template is a few KiB; a token a few bytes
  uint64_t max_array_elems = 1u << 22;    // vocabularies up to 4M entries
  uint64_t max_tensor_elems = uint64_t{1} << 36;
  uint32_t max_dims = 4;
};

class GgufFile {
 public:
  static constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
  static constexpr uint32_t kVersion = 3;
  static constexpr uint64_t kDefaultAlignment = 32;

  // Memory-maps `path` read-only and parses it. kIoError if the file cannot be opened or mapped.
  static Result<GgufFile> Open(const std::string& path, const GgufLimits& limits = GgufLimits());
  // Parses bytes the caller owns (tests, fuzzing).
  static Result<GgufFile> Parse(ByteView data, const GgufLimits& limits = GgufLimits());

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  ByteView bytes() const { return bytes_; }
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const std::vector<GgufTensor>& tensors() const { return tensors_; }

  // nullptr if absent.
  const GgufValue* Find(std::string_view key) const;
  const GgufTensor* FindTensor(std::string_view name) const;

  // Typed getters: kNotFound when absent, kMalformed when the stored type does not fit.
  Result<uint64_t> GetUInt(std::string_view key) const;  // any non-negative integer type
  Result<double> GetFloat(std::string_view key) const;   // f32/f64
  Result<bool> GetBool(std::string_view key) const;
  Result<std::string> GetString(std::string_view key) const;
  Result<const std::vector<std::string>*> GetStringArray(std::string_view key) const;
  Result<const std::vector<int64_t>*> GetIntArray(std::string_view key) const;

 private:
  struct Mapping;
  std::shared_ptr<Mapping> mapping_;
  ByteView bytes_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

}  // namespace cmln::engine
