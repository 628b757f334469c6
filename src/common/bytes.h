// Byte containers and text encodings shared by every part.
//
// Bytes owns; ByteView borrows (valid only while the owner lives). SecretBytes owns key material
// and zeroizes it on destruction and on every reallocation path it controls (it never grows in place).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cmln {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsChars(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}
inline Bytes ToBytes(ByteView b) { return Bytes(b.begin(), b.end()); }
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Appends `b` to `out`.
inline void Append(Bytes& out, ByteView b) { out.insert(out.end(), b.begin(), b.end()); }
inline void Append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

// Concatenation of any number of byte views / strings.
template <typename... Parts>
Bytes Concat(const Parts&... parts) {
  Bytes out;
  (Append(out, parts), ...);
  return out;
}

// Lowercase hex.
std::string HexEncode(ByteView b);
// Accepts upper or lower case; rejects odd length and non-hex characters (kBadEncoding).
Result<Bytes> HexDecode(std::string_view hex);

// RFC 4648 base64 with padding. Decode is strict: padding required, no whitespace, canonical
// trailing bits (so each byte string has exactly one accepted encoding).
std::string Base64Encode(ByteView b);
Result<Bytes> Base64Decode(std::string_view text);

// Constant-time equality of two byte strings (the lengths are not secret).
bool ConstantTimeEqual(ByteView a, ByteView b);

// Overwrites memory so the compiler cannot elide it.
void SecureZero(void* p, size_t n);

// Owned secret bytes, zeroized on destruction. Move-only, so no stray copies of key material.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(size_t n) : data_(n, 0) {}
  explicit SecretBytes(ByteView b) : data_(b.begin(), b.end()) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : data_(std::move(o.data_)) { o.data_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      Wipe();
      data_ = std::move(o.data_);
      o.data_.clear();
    }
    return *this;
  }
  ~SecretBytes() { Wipe(); }

  // Explicit copy, so every duplication of a secret is visible in the code.
  SecretBytes Clone() const { return SecretBytes(view()); }

  uint8_t* data() { return data_.data(); }
  const uint8_t* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  ByteView view() const { return ByteView(data_.data(), data_.size()); }
  std::span<uint8_t> span() { return std::span<uint8_t>(data_.data(), data_.size()); }

 private:
  void Wipe() {
    if (!data_.empty()) SecureZero(data_.data(), data_.size());
  }
  std::vector<uint8_t> data_;
};

}  // namespace cmln
