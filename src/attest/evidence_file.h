// Evidence and collateral files as `cmln attest` reads them: bounded file reads, binary-or-hex evidence,
// and which verifier a piece of evidence belongs to (TDX quote or SEV-SNP report), decided from its bytes.
//
// Evidence file grammar:
//   file     = hex-text | binary
//   hex-text = ws* hexdigit{2n} ws*     (n >= 1; upper or lower case; ws = space, tab, CR, LF)
//   binary   = anything else, taken byte for byte
// Interior whitespace makes a file binary: line-wrapped hex is not accepted (no evidence format we know
// wraps, and a binary quote never starts and ends with hex digits only).
//
// Platform detection reads the first 8 bytes (little-endian):
//   TDX quote   u16 version(4|5) u16 att_key_type(!= 0) u32 tee_type   -> kTdx (tee_type is checked by the
//                                                                         quote parser: 0x81 or kUnsupported)
//   SGX quote   u16 version(3)   u16 att_key_type(!= 0) ...            -> kUnsupported (SGX is not a TEE we take)
//   SNP report  u32 version(1..255) ...                                -> kSnp (the report parser checks 2/3/5)
// An SNP report's u32 VERSION has a zero upper half where a quote has its attestation key type, which is
// what tells them apart.
//
// Thread safety: pure functions except the Read* functions, which only read the named file.
#pragma once

#include <cstddef>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

// Caps on files given to the CLI, checked from the file size before anything is read.
inline constexpr size_t kMaxEvidenceFileSize = 1024 * 1024;   // hex text of a quote with 64 KiB sig data fits
inline constexpr size_t kMaxCertificateFileSize = 64 * 1024;  // VCEK / VLEK / chain PEM

// The whole file at `path`. kNotFound if it does not exist, kIoError if it cannot be read (the message
// names the path and errno text), kLengthTooLarge if it is larger than `cap` bytes.
Result<Bytes> ReadFileCapped(const std::string& path, size_t cap);

struct DecodedEvidence {
  Bytes bytes;       // the evidence itself (decoded when the file was hex)
  bool hex = false;  // the file was hex text
};

// Applies the file grammar above. Never fails: text that is not hex is binary.
DecodedEvidence DecodeEvidence(ByteView file);

// ReadFileCapped(path, kMaxEvidenceFileSize) then DecodeEvidence.
Result<DecodedEvidence> ReadEvidenceFile(const std::string& path);

enum class EvidencePlatform { kTdx, kSnp };
// "tdx", "snp".
const char* EvidencePlatformName(EvidencePlatform p);

// Detects the platform per the table above. kTruncated (fewer than 8 bytes), kUnsupported (SGX quote),
// kMalformed (neither layout; the message quotes the first 8 bytes in hex).
Result<EvidencePlatform> DetectEvidencePlatform(ByteView evidence);

}  // namespace cmln::attest
