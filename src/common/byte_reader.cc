#include "common/byte_reader.h"

namespace cmln {

Error ByteReader::TruncatedError(size_t need, std::string_view field) const {
  return Error(ErrorCode::kTruncated, std::string(field) + ": need " + std::to_string(need) + " bytes at offset " +
                                          std::to_string(offset()) + ", have " + std::to_string(remaining()));
}

namespace {
template <typename T, bool kBigEndian>
T Load(ByteView b) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    size_t idx = kBigEndian ? i : sizeof(T) - 1 - i;
    v = static_cast<T>((v << 8) | b[idx]);
  }
  return v;
}
}  // namespace

#define CMLN_READ_INT_(Name, T, BE)                                   \
  Result<T> ByteReader::Name(std::string_view field) {                \
    if (remaining() < sizeof(T)) return TruncatedError(sizeof(T), field); \
    T v = Load<T, BE>(data_.subspan(pos_, sizeof(T)));                \
    pos_ += sizeof(T);                                                \
    return v;                                                         \
  }

CMLN_READ_INT_(U16BE, uint16_t, true)
CMLN_READ_INT_(U32BE, uint32_t, true)
CMLN_READ_INT_(U64BE, uint64_t, true)
CMLN_READ_INT_(U16LE, uint16_t, false)
CMLN_READ_INT_(U32LE, uint32_t, false)
CMLN_READ_INT_(U64LE, uint64_t, false)
#undef CMLN_READ_INT_

Result<uint8_t> ByteReader::U8(std::string_view field) {
  if (remaining() < 1) return TruncatedError(1, field);
  return data_[pos_++];
}

Result<ByteView> ByteReader::Bytes(size_t n, std::string_view field) {
  if (remaining() < n) return TruncatedError(n, field);
  ByteView v = data_.subspan(pos_, n);
  pos_ += n;
  return v;
}

ByteView ByteReader::TakeRest() {
  ByteView v = data_.subspan(pos_);
  pos_ = data_.size();
  return v;
}

Status ByteReader::Skip(size_t n, std::string_view field) {
  if (remaining() < n) return TruncatedError(n, field);
  pos_ += n;
  return OkStatus();
}

Result<ByteReader> ByteReader::Child(size_t n, std::string_view field) {
  if (remaining() < n) return TruncatedError(n, field);
  ByteReader child(data_.subspan(pos_, n), offset());
  pos_ += n;
  return child;
}

Result<uint64_t> ByteReader::QuicVarint(std::string_view field) {
  if (remaining() < 1) return TruncatedError(1, field);
  const size_t len = size_t{1} << (data_[pos_] >> 6);
  if (remaining() < len) return TruncatedError(len, field);
  uint64_t v = data_[pos_] & 0x3f;
  for (size_t i = 1; i < len; ++i) v = (v << 8) | data_[pos_ + i];
  pos_ += len;
  return v;
}

Result<ByteView> ByteReader::VarintPrefixed(size_t max_len, std::string_view field) {
  const size_t start = pos_;
  auto len = QuicVarint(field);
  if (!len.ok()) return len.error();
  if (*len > max_len) {
    pos_ = start;
    return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": length " + std::to_string(*len) +
                                                 " at offset " + std::to_string(base_ + start) + " exceeds limit " +
                                                 std::to_string(max_len));
  }
  if (remaining() < *len) {
    Error e = TruncatedError(static_cast<size_t>(*len), field);
    pos_ = start;
    return e;
  }
  ByteView v = data_.subspan(pos_, static_cast<size_t>(*len));
  pos_ += static_cast<size_t>(*len);
  return v;
}

Status ByteReader::ExpectEnd(std::string_view what) const {
  if (remaining() != 0) {
    return Error(ErrorCode::kTrailingData,
                 std::string(what) + ": " + std::to_string(remaining()) + " unexpected bytes at offset " + std::to_string(offset()));
  }
  return OkStatus();
}

void ByteWriter::U16BE(uint16_t v) {
  out_.push_back(static_cast<uint8_t>(v >> 8));
  out_.push_back(static_cast<uint8_t>(v));
}
void ByteWriter::U32BE(uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(v >> s));
}
void ByteWriter::U64BE(uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out_.push_back(static_cast<uint8_t>(v >> s));
}
void ByteWriter::U16LE(uint16_t v) {
  out_.push_back(static_cast<uint8_t>(v));
  out_.push_back(static_cast<uint8_t>(v >> 8));
}
void ByteWriter::U32LE(uint32_t v) {
  for (int s = 0; s <= 24; s += 8) out_.push_back(static_cast<uint8_t>(v >> s));
}
void ByteWriter::U64LE(uint64_t v) {
  for (int s = 0; s <= 56; s += 8) out_.push_back(static_cast<uint8_t>(v >> s));
}

size_t QuicVarintSize(uint64_t v) {
  if (v < (1ull << 6)) return 1;
  if (v < (1ull << 14)) return 2;
  if (v < (1ull << 30)) return 4;
  if (v < (1ull << 62)) return 8;
  return 0;
}

Status ByteWriter::QuicVarint(uint64_t v) {
  const size_t n = QuicVarintSize(v);
  if (n == 0) return Error(ErrorCode::kInvalidArgument, "varint value exceeds 2^62-1");
  const uint8_t prefix = n == 1 ? 0x00 : n == 2 ? 0x40 : n == 4 ? 0x80 : 0xc0;
  for (size_t i = 0; i < n; ++i) {
    uint8_t b = static_cast<uint8_t>(v >> (8 * (n - 1 - i)));
    if (i == 0) b |= prefix;
    out_.push_back(b);
  }
  return OkStatus();
}

Status ByteWriter::VarintPrefixed(ByteView b) {
  CMLN_TRY(QuicVarint(b.size()));
  Bytes(b);
  return OkStatus();
}

}  // namespace cmln
