#include "attest/evidence_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common/byte_reader.h"

namespace cmln::attest {

namespace {

// Header fields used for detection (see the table in the header).
constexpr size_t kDetectSize = 8;
constexpr uint16_t kSgxQuoteVersion3 = 3;
constexpr uint32_t kMaxSnpVersion = 0xFF;

bool IsHexDigit(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsSpace(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Result<Bytes> ReadFileCapped(const std::string& path, size_t cap) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return Error(ErrorCode::kNotFound, path + ": no such file");
    return Error(ErrorCode::kIoError, path + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) return Error(ErrorCode::kIoError, path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > cap) {
    return Error(ErrorCode::kLengthTooLarge,
                 path + ": " + std::to_string(st.st_size) + " bytes, at most " + std::to_string(cap) + " allowed");
  }
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return Error(ErrorCode::kIoError, path + ": " + std::strerror(errno));
  // Read at most cap + 1 bytes: the file may have grown since stat.
  Bytes out(static_cast<size_t>(st.st_size) + 1);
  size_t got = 0;
  while (got < out.size()) {
    const size_t n = std::fread(out.data() + got, 1, out.size() - got, f.get());
    if (n == 0) break;
    got += n;
  }
  if (std::ferror(f.get())) return Error(ErrorCode::kIoError, path + ": read error");
  if (got > cap) {
    return Error(ErrorCode::kLengthTooLarge, path + ": more than " + std::to_string(cap) + " bytes");
  }
  out.resize(got);
  return out;
}

DecodedEvidence DecodeEvidence(ByteView file) {
  size_t begin = 0;
  size_t end = file.size();
  while (begin < end && IsSpace(file[begin])) ++begin;
  while (end > begin && IsSpace(file[end - 1])) --end;
  const ByteView core = file.subspan(begin, end - begin);
  bool hex = !core.empty() && core.size() % 2 == 0;
  for (size_t i = 0; hex && i < core.size(); ++i) hex = IsHexDigit(core[i]);
  if (hex) {
    auto decoded = HexDecode(AsChars(core));
    if (decoded.ok()) return DecodedEvidence{std::move(decoded).value(), true};
  }
  return DecodedEvidence{ToBytes(file), false};
}

Result<DecodedEvidence> ReadEvidenceFile(const std::string& path) {
  CMLN_ASSIGN_OR_RETURN(Bytes file, ReadFileCapped(path, kMaxEvidenceFileSize));
  return DecodeEvidence(file);
}

const char* EvidencePlatformName(EvidencePlatform p) { return p == EvidencePlatform::kTdx ? "tdx" : "snp"; }

Result<EvidencePlatform> DetectEvidencePlatform(ByteView evidence) {
  ByteReader r(evidence);
  CMLN_ASSIGN_OR_RETURN(ByteView head, r.Bytes(kDetectSize, "evidence header"));
  ByteReader h(head);
  CMLN_ASSIGN_OR_RETURN(uint16_t version, h.U16LE("version"));
  CMLN_ASSIGN_OR_RETURN(uint16_t key_type, h.U16LE("att_key_type"));
  if (key_type != 0) {
    if (version == 4 || version == 5) return EvidencePlatform::kTdx;
    if (version == kSgxQuoteVersion3) {
      return Error(ErrorCode::kUnsupported,
                   "evidence at offset 0: SGX quote (version 3); only TDX quotes v4/v5 "
                   "and SEV-SNP reports are verified");
    }
  }
  ByteReader s(head);
  CMLN_ASSIGN_OR_RETURN(uint32_t snp_version, s.U32LE("version"));
  if (snp_version >= 1 && snp_version <= kMaxSnpVersion) return EvidencePlatform::kSnp;
  return Error(ErrorCode::kMalformed, "evidence at offset 0: first 8 bytes " + HexEncode(head) +
                                          " are neither a TDX quote header (u16 version 4|5, u16 key type, u32 "
                                          "TEE type 0x81) nor an SEV-SNP report (u32 version 2|3|5)");
}

}  // namespace cmln::attest
