// Bech32 text encoding (BIP-173; the original "bech32" constant 1, not BIP-350 bech32m), as Cosmos
// chains use it for account addresses such as `gonka1…`.
//
// Grammar (BIP-173):
//   bech32   = hrp "1" data checksum        ; at most kMaxLength (90) characters in total
//   hrp      = 1*83 (%x21-7E)               ; the human-readable part; "1" may occur inside it,
//                                           ; the LAST "1" of the string is the separator
//   data     = *(charset)                   ; 5-bit values, one character each
//   checksum = 6 (charset)                  ; BCH code over expand(lowercase hrp) || data
//   charset  = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"   ; value 0..31 by position
// The whole string is either all lowercase or all uppercase; the canonical form is lowercase.
// Bytes are carried in the data part by regrouping 8-bit bytes into 5-bit values (most significant
// bit first), padding the last group with zero bits; decoding accepts only that canonical padding
// (fewer than 5 padding bits, all zero).
//
// Errors: kBadEncoding for any text that is not bech32 (length over 90, a character outside
// 0x21..0x7E, mixed case, no separator, empty hrp, checksum shorter than 6, a data character outside
// the charset, non-canonical padding); kChecksumMismatch when the text is well-formed but the
// checksum does not match; kMalformed when Decode finds a valid string with another hrp than expected.
// Encoding caller values that cannot form a valid string is kInvalidArgument.
//
// Thread safety: all functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::seal::bech32 {

constexpr size_t kMaxLength = 90;
constexpr size_t kChecksumLength = 6;
constexpr size_t kMaxHrpLength = 83;
constexpr char kSeparator = '1';

// A decoded string at the 5-bit level: lowercase hrp and the data values (each 0..31), checksum removed.
struct FiveBitString {
  std::string hrp;
  std::vector<uint8_t> data;
};

// Regroups bytes into 5-bit values, zero-padding the final group. Never fails.
std::vector<uint8_t> BytesToFiveBit(ByteView bytes);
// Regroups 5-bit values into bytes. kBadEncoding if a value exceeds 31, if more than 4 padding bits
// remain, or if the padding bits are not zero (so each byte string has exactly one encoding).
Result<Bytes> FiveBitToBytes(ByteView values);

// Encodes an hrp and 5-bit values. kInvalidArgument for an empty, over-long or uppercase hrp, an hrp
// character outside 0x21..0x7E, a value above 31, or a result longer than kMaxLength.
Result<std::string> EncodeFiveBit(std::string_view hrp, ByteView values);
// Parses and checksum-verifies any bech32 string (errors as in the file comment). The hrp is returned
// lowercase.
Result<FiveBitString> DecodeFiveBit(std::string_view text);

// Encodes bytes under `hrp` (lowercase result). Errors as EncodeFiveBit.
Result<std::string> Encode(std::string_view hrp, ByteView data);
// Decodes text that must carry `expected_hrp` (compared case-insensitively with the text; give it in
// lowercase) and byte data. Errors as in the file comment.
Result<Bytes> Decode(std::string_view text, std::string_view expected_hrp);

}  // namespace cmln::seal::bech32
