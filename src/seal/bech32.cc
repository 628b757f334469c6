// Bech32 (BIP-173). The grammar is in bech32.h.
#include "seal/bech32.h"

#include <array>

#include "common/byte_reader.h"

namespace cmln::seal::bech32 {

namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
// The bech32 checksum constant: polymod over a valid string is 1 (bech32m would use 0x2bc830a3).
constexpr uint32_t kBech32Constant = 1;
constexpr uint8_t kMinChar = 0x21;
constexpr uint8_t kMaxChar = 0x7E;

// Value of a lowercase charset character, or -1.
constexpr std::array<int8_t, 128> MakeReverseCharset() {
  std::array<int8_t, 128> rev{};
  for (auto& v : rev) v = -1;
  for (size_t i = 0; i < kCharset.size(); ++i) rev[static_cast<uint8_t>(kCharset[i])] = static_cast<int8_t>(i);
  return rev;
}
constexpr std::array<int8_t, 128> kReverseCharset = MakeReverseCharset();

// The BCH code of BIP-173 ("polymod"): the remainder of the input modulo the generator.
class Polymod {
 public:
  void Feed(uint8_t value) {
    static constexpr uint32_t kGenerator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    const uint32_t top = chk_ >> 25;
    chk_ = ((chk_ & 0x1ffffff) << 5) ^ value;
    for (int i = 0; i < 5; ++i) {
      if ((top >> i) & 1) chk_ ^= kGenerator[i];
    }
  }
  // hrp expansion: high bits of each character, a zero, then the low bits of each character.
  void FeedHrp(std::string_view lower_hrp) {
    for (char c : lower_hrp) Feed(static_cast<uint8_t>(c) >> 5);
    Feed(0);
    for (char c : lower_hrp) Feed(static_cast<uint8_t>(c) & 31);
  }
  uint32_t value() const { return chk_; }

 private:
  uint32_t chk_ = 1;
};

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string HexByte(uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}

}  // namespace

std::vector<uint8_t> BytesToFiveBit(ByteView bytes) {
  std::vector<uint8_t> out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 31));
    }
  }
  if (bits > 0) out.push_back(static_cast<uint8_t>((acc << (5 - bits)) & 31));
  return out;
}

Result<Bytes> FiveBitToBytes(ByteView values) {
  Bytes out;
  out.reserve(values.size() * 5 / 8);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const uint8_t v = values[i];
    if (v > 31) return Error(ErrorCode::kBadEncoding, "bech32: data value at index " + std::to_string(i) + " exceeds 31");
    acc = ((acc << 5) | v) & 0xfff;  // at most 12 bits are ever live
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 5) {
    return Error(ErrorCode::kBadEncoding, "bech32: " + std::to_string(bits) + " padding bits (at most 4 allowed)");
  }
  if ((acc & ((1u << bits) - 1)) != 0) return Error(ErrorCode::kBadEncoding, "bech32: non-zero padding bits");
  return out;
}

Result<std::string> EncodeFiveBit(std::string_view hrp, ByteView values) {
  if (hrp.empty() || hrp.size() > kMaxHrpLength) {
    return Error(ErrorCode::kInvalidArgument, "bech32: hrp length " + std::to_string(hrp.size()) + " outside 1..83");
  }
  for (size_t i = 0; i < hrp.size(); ++i) {
    const auto c = static_cast<uint8_t>(hrp[i]);
    if (c < kMinChar || c > kMaxChar || (c >= 'A' && c <= 'Z')) {
      return Error(ErrorCode::kInvalidArgument, "bech32: hrp character " + HexByte(c) + " at offset " +
                                                    std::to_string(i) + " is not lowercase printable ASCII");
    }
  }
  const size_t total = hrp.size() + 1 + values.size() + kChecksumLength;
  if (total > kMaxLength) {
    return Error(ErrorCode::kInvalidArgument,
                 "bech32: encoding would be " + std::to_string(total) + " characters (max 90)");
  }
  Polymod pm;
  pm.FeedHrp(hrp);
  std::string out(hrp);
  out.push_back(kSeparator);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] > 31) {
      return Error(ErrorCode::kInvalidArgument, "bech32: data value at index " + std::to_string(i) + " exceeds 31");
    }
    pm.Feed(values[i]);
    out.push_back(kCharset[values[i]]);
  }
  for (size_t i = 0; i < kChecksumLength; ++i) pm.Feed(0);
  const uint32_t checksum = pm.value() ^ kBech32Constant;
  for (size_t i = 0; i < kChecksumLength; ++i) out.push_back(kCharset[(checksum >> (5 * (5 - i))) & 31]);
  return out;
}

Result<FiveBitString> DecodeFiveBit(std::string_view text) {
  // Cap first: nothing below allocates more than the capped length.
  if (text.size() > kMaxLength) {
    return Error(ErrorCode::kBadEncoding, "bech32: length " + std::to_string(text.size()) + " exceeds 90");
  }
  bool has_lower = false;
  bool has_upper = false;
  size_t separator = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < kMinChar || c > kMaxChar) {
      return Error(ErrorCode::kBadEncoding,
                   "bech32: character " + HexByte(c) + " at offset " + std::to_string(i) + " out of range");
    }
    if (c >= 'a' && c <= 'z') has_lower = true;
    if (c >= 'A' && c <= 'Z') has_upper = true;
    if (c == kSeparator) separator = i;
  }
  if (has_lower && has_upper) return Error(ErrorCode::kBadEncoding, "bech32: mixed case");
  if (separator == std::string_view::npos) return Error(ErrorCode::kBadEncoding, "bech32: no separator '1'");
  if (separator == 0) return Error(ErrorCode::kBadEncoding, "bech32: empty hrp");

  ByteReader reader(AsBytes(text));
  CMLN_ASSIGN_OR_RETURN(ByteView hrp_chars, reader.Bytes(separator, "hrp"));
  CMLN_TRY(reader.Skip(1, "separator"));
  const size_t data_offset = reader.offset();
  const ByteView data_chars = reader.TakeRest();
  if (data_chars.size() < kChecksumLength) {
    return Error(ErrorCode::kBadEncoding, "bech32: checksum at offset " + std::to_string(data_offset) + " shorter than 6");
  }

  FiveBitString out;
  out.hrp.reserve(hrp_chars.size());
  for (uint8_t c : hrp_chars) out.hrp.push_back(ToLower(static_cast<char>(c)));
  Polymod pm;
  pm.FeedHrp(out.hrp);
  out.data.reserve(data_chars.size());
  for (size_t i = 0; i < data_chars.size(); ++i) {
    const int8_t v = kReverseCharset[static_cast<uint8_t>(ToLower(static_cast<char>(data_chars[i])))];
    if (v < 0) {
      return Error(ErrorCode::kBadEncoding, "bech32: character '" + std::string(1, static_cast<char>(data_chars[i])) +
                                                "' at offset " + std::to_string(data_offset + i) +
                                                " is not in the data charset");
    }
    pm.Feed(static_cast<uint8_t>(v));
    out.data.push_back(static_cast<uint8_t>(v));
  }
  if (pm.value() != kBech32Constant) return Error(ErrorCode::kChecksumMismatch, "bech32: checksum mismatch");
  out.data.resize(out.data.size() - kChecksumLength);
  return out;
}

Result<std::string> Encode(std::string_view hrp, ByteView data) { return EncodeFiveBit(hrp, BytesToFiveBit(data)); }

Result<Bytes> Decode(std::string_view text, std::string_view expected_hrp) {
  CMLN_ASSIGN_OR_RETURN(FiveBitString decoded, DecodeFiveBit(text));
  if (decoded.hrp != expected_hrp) {
    return Error(ErrorCode::kMalformed, "bech32: hrp '" + decoded.hrp + "', expected '" + std::string(expected_hrp) + "'");
  }
  return FiveBitToBytes(decoded.data);
}

}  // namespace cmln::seal::bech32
