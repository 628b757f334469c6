// Bounded readers and writers for every wire format (after BoringSSL's CBS/CBB).
//
// ByteReader is a non-owning view plus a cursor. Every read either returns the value and advances,
// or returns kTruncated (with the offset) and leaves the cursor where it was. Length-prefixed fields
// are read into child readers that cannot see past their end, and every length is checked against a
// caller-supplied cap before anything is allocated. The reader never allocates.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln {

class ByteReader {
 public:
  // `base_offset` is added to offsets in error messages, so a child reader reports positions
  // relative to the outermost input.
  explicit ByteReader(ByteView data, size_t base_offset = 0) : data_(data), base_(base_offset) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return remaining() == 0; }
  // Absolute offset of the cursor (including base_offset).
  size_t offset() const { return base_ + pos_; }
  // The unread bytes, without consuming them.
  ByteView rest() const { return data_.subspan(pos_); }

  Result<uint8_t> U8(std::string_view field);
  Result<uint16_t> U16BE(std::string_view field);
  Result<uint32_t> U32BE(std::string_view field);
  Result<uint64_t> U64BE(std::string_view field);
  Result<uint16_t> U16LE(std::string_view field);
  Result<uint32_t> U32LE(std::string_view field);
  Result<uint64_t> U64LE(std::string_view field);

  // Exactly n bytes.
  Result<ByteView> Bytes(size_t n, std::string_view field);
  // Exactly N bytes copied into a fixed-size field (digests, measurements, keys of a wire struct).
  template <size_t N>
  Status Array(std::array<uint8_t, N>& out, std::string_view field) {
    auto b = Bytes(N, field);
    if (!b.ok()) return b.error();
    std::memcpy(out.data(), b->data(), N);
    return OkStatus();
  }
  // All remaining bytes.
  ByteView TakeRest();
  Status Skip(size_t n, std::string_view field);
  // A reader over the next n bytes; the parent advances past them.
  Result<ByteReader> Child(size_t n, std::string_view field);

  // QUIC variable-length integer (RFC 9000 section 16), as used by BHTTP and chunked OHTTP.
  // Non-minimal encodings are accepted, as RFC 9000 permits.
  Result<uint64_t> QuicVarint(std::string_view field);
  // A QUIC-varint length followed by that many bytes; lengths above `max_len` are kLengthTooLarge.
  Result<ByteView> VarintPrefixed(size_t max_len, std::string_view field);

  // kTrailingData unless every byte was consumed.
  Status ExpectEnd(std::string_view what) const;

 private:
  Error TruncatedError(size_t need, std::string_view field) const;

  ByteView data_;
  size_t pos_ = 0;
  size_t base_ = 0;
};

// Append-only writer. Writing cannot fail except for values that do not fit their encoding.
class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { out_.reserve(reserve); }

  void U8(uint8_t v) { out_.push_back(v); }
  void U16BE(uint16_t v);
  void U32BE(uint32_t v);
  void U64BE(uint64_t v);
  void U16LE(uint16_t v);
  void U32LE(uint32_t v);
  void U64LE(uint64_t v);
  void Bytes(ByteView b) { Append(out_, b); }
  void Bytes(std::string_view s) { Append(out_, s); }
  // REQUIRES: v < 2^62.
  Status QuicVarint(uint64_t v);
  Status VarintPrefixed(ByteView b);

  const cmln::Bytes& bytes() const { return out_; }
  cmln::Bytes Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  cmln::Bytes out_;
};

// Number of bytes QuicVarint(v) writes (1, 2, 4 or 8); 0 if v >= 2^62.
size_t QuicVarintSize(uint64_t v);

// Big-endian helpers for fixed buffers.
inline void StoreU64BE(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}
inline void StoreU16BE(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

}  // namespace cmln
