// GGUF v3 (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), all integers little-endian:
//
//   file        = header kv{kv_count} tensor_info{tensor_count} padding data
//   header      = magic:u32 ("GGUF") version:u32 (3) tensor_count:u64 kv_count:u64
//   string      = len:u64 utf8-bytes{len}
//   kv          = key:string value_type:u32 value
//   value       = u8 | i8 | u16 | i16 | u32 | i32 | f32 | bool:u8(0|1) | string
//               | array | u64 | i64 | f64                 (by value_type 0..12)
//   array       = elem_type:u32 count:u64 value{count}     (elem_type != array here)
//   tensor_info = name:string n_dims:u32 dim:u64{n_dims} type:u32 offset:u64
//   padding     = zero bytes up to the next multiple of general.alignment (u32, default 32)
//   data        = tensor bytes; tensor i occupies [offset_i, offset_i + size_i) of data,
//                 offset_i a multiple of the alignment, size_i = n_elements / block_elems * block_bytes
#include "engine/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/byte_reader.h"

namespace cmln::engine {

namespace {

constexpr uint64_t kMaxFileBytes = uint64_t{1} << 40;
constexpr uint64_t kMaxAlignment = 1u << 16;

std::string At(size_t offset) { return " at offset " + std::to_string(offset); }

Error Malformed(std::string what, size_t offset) { return Error(ErrorCode::kMalformed, what + At(offset)); }

Result<std::string> ReadString(ByteReader& r, const GgufLimits& limits, std::string_view field) {
  const size_t start = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint64_t len, r.U64LE(field));
  if (len > limits.max_string_bytes) {
    return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": string of " + std::to_string(len) +
                                                 " bytes exceeds cap" + At(start));
  }
  CMLN_ASSIGN_OR_RETURN(ByteView b, r.Bytes(static_cast<size_t>(len), field));
  return std::string(AsChars(b));
}

// Minimum encoded size of one element, so an array count can be checked against the bytes left
// before anything is reserved.
size_t MinEncodedSize(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: case GgufValueType::kString:
      return 8;
    case GgufValueType::kArray: return 12;
  }
  return 1;
}

// Reads one scalar of type `t` into `v` (type already validated).
Status ReadScalar(ByteReader& r, GgufValueType t, const GgufLimits& limits, GgufValue& v, std::string_view field) {
  v.type = t;
  switch (t) {
    case GgufValueType::kU8: { CMLN_ASSIGN_OR_RETURN(uint8_t x, r.U8(field)); v.u = x; v.i = x; break; }
    case GgufValueType::kI8: {
      CMLN_ASSIGN_OR_RETURN(uint8_t x, r.U8(field));
      v.i = static_cast<int8_t>(x);
      break;
    }
    case GgufValueType::kU16: { CMLN_ASSIGN_OR_RETURN(uint16_t x, r.U16LE(field)); v.u = x; v.i = x; break; }
    case GgufValueType::kI16: {
      CMLN_ASSIGN_OR_RETURN(uint16_t x, r.U16LE(field));
      v.i = static_cast<int16_t>(x);
      break;
    }
    case GgufValueType::kU32: { CMLN_ASSIGN_OR_RETURN(uint32_t x, r.U32LE(field)); v.u = x; v.i = x; break; }
    case GgufValueType::kI32: {
      CMLN_ASSIGN_OR_RETURN(uint32_t x, r.U32LE(field));
      v.i = static_cast<int32_t>(x);
      break;
    }
    case GgufValueType::kU64: {
      CMLN_ASSIGN_OR_RETURN(uint64_t x, r.U64LE(field));
      v.u = x;
      v.i = static_cast<int64_t>(x);
      break;
    }
    case GgufValueType::kI64: {
      CMLN_ASSIGN_OR_RETURN(uint64_t x, r.U64LE(field));
      v.i = static_cast<int64_t>(x);
      break;
    }
    case GgufValueType::kF32: {
      CMLN_ASSIGN_OR_RETURN(uint32_t x, r.U32LE(field));
      float f;
      std::memcpy(&f, &x, 4);
      v.f = f;
      break;
    }
    case GgufValueType::kF64: {
      CMLN_ASSIGN_OR_RETURN(uint64_t x, r.U64LE(field));
      std::memcpy(&v.f, &x, 8);
      break;
    }
    case GgufValueType::kBool: {
      const size_t at = r.offset();
      CMLN_ASSIGN_OR_RETURN(uint8_t x, r.U8(field));
      if (x > 1) return Malformed(std::string(field) + ": bool value " + std::to_string(x), at);
      v.b = x == 1;
      break;
    }
    case GgufValueType::kString: {
      CMLN_ASSIGN_OR_RETURN(v.str, ReadString(r, limits, field));
      break;
    }
    case GgufValueType::kArray:
      return Error(ErrorCode::kInternal, "ReadScalar called on an array");
  }
  return OkStatus();
}

Result<GgufValueType> ReadValueType(ByteReader& r, std::string_view field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint32_t t, r.U32LE(field));
  if (t > static_cast<uint32_t>(GgufValueType::kF64)) {
    return Error(ErrorCode::kUnsupported, std::string(field) + ": unknown value type " + std::to_string(t) + At(at));
  }
  return static_cast<GgufValueType>(t);
}

Status ReadValue(ByteReader& r, GgufValueType t, const GgufLimits& limits, GgufValue& v, const std::string& key) {
  if (t != GgufValueType::kArray) return ReadScalar(r, t, limits, v, key);
  v.type = t;
  CMLN_ASSIGN_OR_RETURN(v.array_type, ReadValueType(r, key + ".elem_type"));
  if (v.array_type == GgufValueType::kArray) {
    return Error(ErrorCode::kUnsupported, key + ": nested arrays" + At(r.offset()));
  }
  const size_t count_at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint64_t count, r.U64LE(key + ".count"));
  if (count > limits.max_array_elems) {
    return Error(ErrorCode::kLengthTooLarge,
                 key + ": array of " + std::to_string(count) + " elements exceeds cap" + At(count_at));
  }
  if (count > r.remaining() / MinEncodedSize(v.array_type)) {
    return Error(ErrorCode::kTruncated, key + ": array of " + std::to_string(count) +
                                            " elements does not fit the remaining " +
                                            std::to_string(r.remaining()) + " bytes" + At(count_at));
  }
  v.array_size = count;
  const bool is_float = v.array_type == GgufValueType::kF32 || v.array_type == GgufValueType::kF64;
  if (v.array_type == GgufValueType::kString) {
    v.array_strings.reserve(count);
  } else if (is_float) {
    v.array_floats.reserve(count);
  } else {
    v.array_ints.reserve(count);
  }
  GgufValue elem;
  for (uint64_t i = 0; i < count; ++i) {
    CMLN_TRY(ReadScalar(r, v.array_type, limits, elem, key));
    if (v.array_type == GgufValueType::kString) {
      v.array_strings.push_back(std::move(elem.str));
    } else if (is_float) {
      v.array_floats.push_back(elem.f);
    } else if (v.array_type == GgufValueType::kBool) {
      v.array_ints.push_back(elem.b ? 1 : 0);
    } else {
      v.array_ints.push_back(elem.i);
    }
  }
  return OkStatus();
}

}  // namespace

Result<TensorTypeTraits> TraitsOf(uint32_t type_id) {
  switch (static_cast<TensorType>(type_id)) {
    case TensorType::kF32: return TensorTypeTraits{"F32", 1, 4};
    case TensorType::kF16: return TensorTypeTraits{"F16", 1, 2};
    case TensorType::kQ4_0: return TensorTypeTraits{"Q4_0", 32, 18};
    case TensorType::kQ4_1: return TensorTypeTraits{"Q4_1", 32, 20};
    case TensorType::kQ8_0: return TensorTypeTraits{"Q8_0", 32, 34};
    case TensorType::kQ6_K: return TensorTypeTraits{"Q6_K", 256, 210};
  }
  return Error(ErrorCode::kUnsupported, "tensor type " + std::to_string(type_id));
}

struct GgufFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr && addr != MAP_FAILED) munmap(addr, size);
  }
};

Result<GgufFile> GgufFile::Open(const std::string& path, const GgufLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorCode::kIoError, "open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return Error(ErrorCode::kIoError, "stat " + path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::kIoError, path + ": not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > kMaxFileBytes) {
    ::close(fd);
    return Error(ErrorCode::kLengthTooLarge, path + ": file of " + std::to_string(size) + " bytes exceeds cap");
  }
  auto mapping = std::make_shared<Mapping>();
  if (size > 0) {
    mapping->size = static_cast<size_t>(size);
    mapping->addr = mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int e = errno;
    ::close(fd);
    if (mapping->addr == MAP_FAILED) return Error(ErrorCode::kIoError, "mmap " + path + ": " + std::strerror(e));
  } else {
    ::close(fd);
  }
  ByteView bytes(static_cast<const uint8_t*>(mapping->addr), mapping->size);
  if (size == 0) bytes = ByteView();
  auto parsed = Parse(bytes, limits);
  if (!parsed.ok()) return parsed.error().WithContext(path);
  parsed->mapping_ = std::move(mapping);
  return parsed;
}

Result<GgufFile> GgufFile::Parse(ByteView data, const GgufLimits& limits) {
  GgufFile f;
  f.bytes_ = data;
  ByteReader r(data);
  CMLN_ASSIGN_OR_RETURN(uint32_t magic, r.U32LE("magic"));
  if (magic != kMagic) return Malformed("magic: not a GGUF file", 0);
  CMLN_ASSIGN_OR_RETURN(f.version_, r.U32LE("version"));
  if (f.version_ != kVersion) {
    return Error(ErrorCode::kUnsupported, "version " + std::to_string(f.version_) + " (want 3)" + At(4));
  }
  CMLN_ASSIGN_OR_RETURN(uint64_t tensor_count, r.U64LE("tensor_count"));
  CMLN_ASSIGN_OR_RETURN(uint64_t kv_count, r.U64LE("kv_count"));
  if (tensor_count > limits.max_tensors) {
    return Error(ErrorCode::kLengthTooLarge, "tensor_count " + std::to_string(tensor_count) + " exceeds cap" + At(8));
  }
  if (kv_count > limits.max_kv) {
    return Error(ErrorCode::kLengthTooLarge, "kv_count " + std::to_string(kv_count) + " exceeds cap" + At(16));
  }

  for (uint64_t k = 0; k < kv_count; ++k) {
    const size_t key_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(std::string key, ReadString(r, limits, "kv[" + std::to_string(k) + "].key"));
    CMLN_ASSIGN_OR_RETURN(GgufValueType type, ReadValueType(r, key + ".type"));
    GgufValue v;
    CMLN_TRY(ReadValue(r, type, limits, v, key));
    if (!f.kv_.emplace(key, std::move(v)).second) return Malformed("duplicate key " + key, key_at);
  }

  if (const GgufValue* a = f.Find("general.alignment")) {
    if (a->type != GgufValueType::kU32 || a->u == 0 || a->u > kMaxAlignment || (a->u & (a->u - 1)) != 0) {
      return Malformed("general.alignment must be a u32 power of two up to 65536", 0);
    }
    f.alignment_ = a->u;
  }

  f.tensors_.reserve(static_cast<size_t>(std::min<uint64_t>(tensor_count, r.remaining() / 24)));
  for (uint64_t t = 0; t < tensor_count; ++t) {
    const size_t info_at = r.offset();
    GgufTensor ti;
    CMLN_ASSIGN_OR_RETURN(ti.name, ReadString(r, limits, "tensor[" + std::to_string(t) + "].name"));
    const size_t dims_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(uint32_t n_dims, r.U32LE(ti.name + ".n_dims"));
    if (n_dims == 0 || n_dims > limits.max_dims) {
      return Malformed(ti.name + ": n_dims " + std::to_string(n_dims) + " outside 1.." +
                           std::to_string(limits.max_dims), dims_at);
    }
    ti.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const size_t dim_at = r.offset();
      CMLN_ASSIGN_OR_RETURN(uint64_t dim, r.U64LE(ti.name + ".dim"));
      if (dim == 0) return Malformed(ti.name + ": zero dimension", dim_at);
      if (dim > limits.max_tensor_elems || ti.n_elements > limits.max_tensor_elems / dim) {
        return Error(ErrorCode::kLengthTooLarge, ti.name + ": element count exceeds cap" + At(dim_at));
      }
      ti.n_elements *= dim;
      ti.dims.push_back(dim);
    }
    const size_t type_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(uint32_t type_id, r.U32LE(ti.name + ".type"));
    auto traits = TraitsOf(type_id);
    if (!traits.ok()) return Error(ErrorCode::kUnsupported, ti.name + ": " + traits.error().message() + At(type_at));
    ti.type = static_cast<TensorType>(type_id);
    if (ti.dims[0] % traits->block_elems != 0) {
      return Malformed(ti.name + ": row length " + std::to_string(ti.dims[0]) + " is not a multiple of the " +
                           traits->name + " block of " + std::to_string(traits->block_elems), dims_at);
    }
    ti.byte_size = ti.n_elements / traits->block_elems * traits->block_bytes;
    const size_t offset_at = r.offset();
    CMLN_ASSIGN_OR_RETURN(ti.offset, r.U64LE(ti.name + ".offset"));
    if (ti.offset % f.alignment_ != 0) {
      return Malformed(ti.name + ": data offset " + std::to_string(ti.offset) + " not aligned to " +
                           std::to_string(f.alignment_), offset_at);
    }
    if (!f.tensor_index_.emplace(ti.name, f.tensors_.size()).second) {
      return Malformed("duplicate tensor " + ti.name, info_at);
    }
    f.tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t header_end = r.offset();
  f.data_offset_ = (header_end + f.alignment_ - 1) / f.alignment_ * f.alignment_;
  if (f.tensors_.empty()) {
    f.data_offset_ = std::min<uint64_t>(f.data_offset_, data.size());
    return f;
  }
  if (f.data_offset_ > data.size()) {
    return Error(ErrorCode::kTruncated, "data section: padding runs past end of file" + At(header_end));
  }
  const uint64_t data_size = data.size() - f.data_offset_;
  for (GgufTensor& ti : f.tensors_) {
    if (ti.offset > data_size || ti.byte_size > data_size - ti.offset) {
      return Error(ErrorCode::kTruncated, ti.name + ": data [" + std::to_string(ti.offset) + ", +" +
                                              std::to_string(ti.byte_size) + ") extends past the " +
                                              std::to_string(data_size) + "-byte data section" +
                                              At(f.data_offset_ + ti.offset));
    }
    ti.data = data.subspan(static_cast<size_t>(f.data_offset_ + ti.offset), static_cast<size_t>(ti.byte_size));
  }
  return f;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_.find(std::string(key));
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Error Missing(std::string_view key) { return Error(ErrorCode::kNotFound, "metadata key " + std::string(key)); }
Error WrongType(std::string_view key, std::string_view want) {
  return Error(ErrorCode::kMalformed, "metadata key " + std::string(key) + ": expected " + std::string(want));
}
}  // namespace

Result<uint64_t> GgufFile::GetUInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  switch (v->type) {
    case GgufValueType::kU8: case GgufValueType::kU16: case GgufValueType::kU32: case GgufValueType::kU64:
      return v->u;
    case GgufValueType::kI8: case GgufValueType::kI16: case GgufValueType::kI32: case GgufValueType::kI64:
      if (v->i < 0) return WrongType(key, "a non-negative integer");
      return static_cast<uint64_t>(v->i);
    default:
      return WrongType(key, "an integer");
  }
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kF32 && v->type != GgufValueType::kF64) return WrongType(key, "a float");
  return v->f;
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kBool) return WrongType(key, "a bool");
  return v->b;
}

Result<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kString) return WrongType(key, "a string");
  return v->str;
}

Result<const std::vector<std::string>*> GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kArray || v->array_type != GgufValueType::kString) {
    return WrongType(key, "an array of strings");
  }
  return &v->array_strings;
}

Result<const std::vector<int64_t>*> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  const bool is_int = v->type == GgufValueType::kArray && v->array_type != GgufValueType::kString &&
                      v->array_type != GgufValueType::kF32 && v->array_type != GgufValueType::kF64 &&
                      v->array_type != GgufValueType::kBool;
  if (!is_int) return WrongType(key, "an array of integers");
  return &v->array_ints;
}

}  // namespace cmln::engine
