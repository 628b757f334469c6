// Bounded DER decoding of the SGX PCK extension; the grammar is in pck_extensions.h.
#include "attest/pck_extensions.h"

#include <cstring>
#include <string>

#include "common/byte_reader.h"

namespace cmln::attest {

namespace {

// Returns the last arc of an OID under `prefix` (`prefix` followed by one arc < 128), or -1.
int ArcUnder(ByteView oid, ByteView prefix) {
  if (oid.size() != prefix.size() + 1) return -1;
  if (std::memcmp(oid.data(), prefix.data(), prefix.size()) != 0) return -1;
  const uint8_t arc = oid[prefix.size()];
  return (arc & 0x80) ? -1 : arc;
}

Result<uint32_t> ReadUnsigned(ByteReader& r, uint8_t tag, uint32_t max, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(ByteReader v, der::Expect(r, tag, field));
  ByteView b = v.TakeRest();
  if (b.empty() || (b[0] & 0x80)) return Error(ErrorCode::kMalformed, std::string(field) + ": not a non-negative integer");
  while (b.size() > 1 && b[0] == 0) b = b.subspan(1);
  if (b.size() > 4) return Error(ErrorCode::kMalformed, std::string(field) + ": integer too large");
  uint32_t out = 0;
  for (uint8_t c : b) out = (out << 8) | c;
  if (out > max) return Error(ErrorCode::kMalformed, std::string(field) + ": " + std::to_string(out) + " out of range");
  return out;
}

template <size_t N>
Status ReadOctets(ByteReader& r, std::array<uint8_t, N>& out, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(ByteReader v, der::Expect(r, der::kOctetString, field));
  if (v.remaining() != N) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": " + std::to_string(v.remaining()) + " bytes, want " +
                                            std::to_string(N));
  }
  std::memcpy(out.data(), v.rest().data(), N);
  return OkStatus();
}

Status ParseTcb(ByteReader& seq, PckExtensions& out) {
  Bytes tcb_prefix(kSgxExtensionsOidDer.begin(), kSgxExtensionsOidDer.end());
  tcb_prefix.push_back(0x02);
  uint32_t seen = 0;  // bit i set when arc i+1 was read
  while (!seq.empty()) {
    CMLN_ASSIGN_OR_RETURN(ByteReader entry, der::Expect(seq, der::kSequence, "tcb entry"));
    CMLN_ASSIGN_OR_RETURN(ByteReader oid, der::Expect(entry, der::kOid, "tcb entry oid"));
    const int arc = ArcUnder(oid.rest(), tcb_prefix);
    if (arc < 1 || arc > 18) continue;  // unknown entries are skipped
    if (seen & (1u << (arc - 1))) {
      return Error(ErrorCode::kMalformed, "tcb entry " + std::to_string(arc) + " repeated");
    }
    seen |= 1u << (arc - 1);
    if (arc <= 16) {
      CMLN_ASSIGN_OR_RETURN(uint32_t svn, ReadUnsigned(entry, der::kInteger, 255, "tcb component svn"));
      out.sgx_tcb_components[static_cast<size_t>(arc - 1)] = static_cast<uint8_t>(svn);
    } else if (arc == 17) {
      CMLN_ASSIGN_OR_RETURN(uint32_t pcesvn, ReadUnsigned(entry, der::kInteger, 0xffff, "pcesvn"));
      out.pcesvn = static_cast<uint16_t>(pcesvn);
    } else {
      CMLN_TRY(ReadOctets(entry, out.cpusvn, "cpusvn"));
    }
    CMLN_TRY(entry.ExpectEnd("tcb entry"));
  }
  if (seen != (1u << 18) - 1) return Error(ErrorCode::kMalformed, "tcb: not all 18 entries present");
  return OkStatus();
}

}  // namespace

Result<PckExtensions> ParsePckExtensions(ByteView der) {
  if (der.size() > kMaxPckExtensionSize) {
    return Error(ErrorCode::kLengthTooLarge, "sgx extensions: " + std::to_string(der.size()) + " bytes exceeds cap");
  }
  PckExtensions out;
  ByteReader r(der);
  CMLN_ASSIGN_OR_RETURN(ByteReader top, der::Expect(r, der::kSequence, "sgx extensions"));
  CMLN_TRY(r.ExpectEnd("sgx extensions"));
  const ByteView prefix(kSgxExtensionsOidDer.data(), kSgxExtensionsOidDer.size());  // every SGX OID's prefix
  uint32_t seen = 0;
  while (!top.empty()) {
    CMLN_ASSIGN_OR_RETURN(ByteReader entry, der::Expect(top, der::kSequence, "sgx extension entry"));
    CMLN_ASSIGN_OR_RETURN(ByteReader oid, der::Expect(entry, der::kOid, "sgx extension oid"));
    const int arc = ArcUnder(oid.rest(), prefix);
    if (arc < 1 || arc > 5) continue;  // PlatformInstanceID, Configuration and unknown entries
    if (seen & (1u << arc)) return Error(ErrorCode::kMalformed, "sgx extension " + std::to_string(arc) + " repeated");
    seen |= 1u << arc;
    switch (arc) {
      case 1:
        CMLN_TRY(ReadOctets(entry, out.ppid, "ppid"));
        break;
      case 2: {
        CMLN_ASSIGN_OR_RETURN(ByteReader tcb, der::Expect(entry, der::kSequence, "tcb"));
        CMLN_TRY(ParseTcb(tcb, out));
        break;
      }
      case 3:
        CMLN_TRY(ReadOctets(entry, out.pce_id, "pce_id"));
        break;
      case 4:
        CMLN_TRY(ReadOctets(entry, out.fmspc, "fmspc"));
        break;
      case 5: {
        CMLN_ASSIGN_OR_RETURN(out.sgx_type, ReadUnsigned(entry, der::kEnumerated, 0xffff, "sgx_type"));
        break;
      }
    }
    CMLN_TRY(entry.ExpectEnd("sgx extension entry"));
  }
  constexpr uint32_t kRequired = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4);
  if ((seen & kRequired) != kRequired) {
    return Error(ErrorCode::kMalformed, "sgx extensions: PPID, TCB, PCE-ID or FMSPC missing");
  }
  return out;
}

Result<PckExtensions> PckExtensionsOf(const Certificate& pck_leaf) {
  CMLN_ASSIGN_OR_RETURN(Bytes der, ExtensionDer(pck_leaf, kSgxExtensionsOid));
  return ParsePckExtensions(der);
}

}  // namespace cmln::attest
