// Bounded DER decoding of the SGX PCK extension; the grammar is in pck_extensions.h.
#include "attest/pck_extensions.h"

#include <cstring>
#include <string>

#include "common/byte_reader.h"

namespace cmln::attest {

namespace {

constexpr uint8_t kTagInteger = 0x02;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagEnumerated = 0x0a;
constexpr uint8_t kTagSequence = 0x30;

// DER body of OID 1.2.840.113741.1.13.1 (the prefix of every SGX extension OID).
constexpr uint8_t kSgxOidPrefix[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

struct Tlv {
  uint8_t tag;
  ByteReader value;
};

// One TLV: a single-byte tag, a definite length (short form or 1..4 length bytes), the value as a child.
Result<Tlv> ReadTlv(ByteReader& r, std::string_view field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint8_t tag, r.U8(field));
  if ((tag & 0x1f) == 0x1f) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": multi-byte tag at offset " + std::to_string(at));
  }
  CMLN_ASSIGN_OR_RETURN(uint8_t first, r.U8(field));
  size_t len = first;
  if (first & 0x80) {
    const size_t n = first & 0x7f;
    if (n == 0 || n > 4) {
      return Error(ErrorCode::kMalformed, std::string(field) + ": unsupported length form at offset " + std::to_string(at));
    }
    len = 0;
    for (size_t i = 0; i < n; ++i) {
      CMLN_ASSIGN_OR_RETURN(uint8_t b, r.U8(field));
      len = (len << 8) | b;
    }
  }
  if (len > r.remaining()) {
    return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": length " + std::to_string(len) +
                                                 " exceeds the " + std::to_string(r.remaining()) +
                                                 " bytes left at offset " + std::to_string(at));
  }
  CMLN_ASSIGN_OR_RETURN(ByteReader child, r.Child(len, field));
  return Tlv{tag, child};
}

Result<ByteReader> Expect(ByteReader& r, uint8_t tag, std::string_view field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(Tlv t, ReadTlv(r, field));
  if (t.tag != tag) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": tag 0x" + HexEncode(ByteView(&t.tag, 1)) +
                                            " at offset " + std::to_string(at));
  }
  return t.value;
}

// Returns the last arc of an OID under `prefix` (`prefix` followed by one arc < 128), or -1.
int ArcUnder(ByteView oid, ByteView prefix) {
  if (oid.size() != prefix.size() + 1) return -1;
  if (std::memcmp(oid.data(), prefix.data(), prefix.size()) != 0) return -1;
  const uint8_t arc = oid[prefix.size()];
  return (arc & 0x80) ? -1 : arc;
}

Result<uint32_t> ReadUnsigned(ByteReader& r, uint8_t tag, uint32_t max, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(ByteReader v, Expect(r, tag, field));
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
  CMLN_ASSIGN_OR_RETURN(ByteReader v, Expect(r, kTagOctetString, field));
  if (v.remaining() != N) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": " + std::to_string(v.remaining()) + " bytes, want " +
                                            std::to_string(N));
  }
  std::memcpy(out.data(), v.rest().data(), N);
  return OkStatus();
}

Status ParseTcb(ByteReader& seq, PckExtensions& out) {
  Bytes tcb_prefix(std::begin(kSgxOidPrefix), std::end(kSgxOidPrefix));
  tcb_prefix.push_back(0x02);
  uint32_t seen = 0;  // bit i set when arc i+1 was read
  while (!seq.empty()) {
    CMLN_ASSIGN_OR_RETURN(ByteReader entry, Expect(seq, kTagSequence, "tcb entry"));
    CMLN_ASSIGN_OR_RETURN(ByteReader oid, Expect(entry, kTagOid, "tcb entry oid"));
    const int arc = ArcUnder(oid.rest(), tcb_prefix);
    if (arc < 1 || arc > 18) continue;  // unknown entries are skipped
    if (seen & (1u << (arc - 1))) {
      return Error(ErrorCode::kMalformed, "tcb entry " + std::to_string(arc) + " repeated");
    }
    seen |= 1u << (arc - 1);
    if (arc <= 16) {
      CMLN_ASSIGN_OR_RETURN(uint32_t svn, ReadUnsigned(entry, kTagInteger, 255, "tcb component svn"));
      out.sgx_tcb_components[static_cast<size_t>(arc - 1)] = static_cast<uint8_t>(svn);
    } else if (arc == 17) {
      CMLN_ASSIGN_OR_RETURN(uint32_t pcesvn, ReadUnsigned(entry, kTagInteger, 0xffff, "pcesvn"));
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
  CMLN_ASSIGN_OR_RETURN(ByteReader top, Expect(r, kTagSequence, "sgx extensions"));
  CMLN_TRY(r.ExpectEnd("sgx extensions"));
  const ByteView prefix(kSgxOidPrefix, sizeof(kSgxOidPrefix));
  uint32_t seen = 0;
  while (!top.empty()) {
    CMLN_ASSIGN_OR_RETURN(ByteReader entry, Expect(top, kTagSequence, "sgx extension entry"));
    CMLN_ASSIGN_OR_RETURN(ByteReader oid, Expect(entry, kTagOid, "sgx extension oid"));
    const int arc = ArcUnder(oid.rest(), prefix);
    if (arc < 1 || arc > 5) continue;  // PlatformInstanceID, Configuration and unknown entries
    if (seen & (1u << arc)) return Error(ErrorCode::kMalformed, "sgx extension " + std::to_string(arc) + " repeated");
    seen |= 1u << arc;
    switch (arc) {
      case 1:
        CMLN_TRY(ReadOctets(entry, out.ppid, "ppid"));
        break;
      case 2: {
        CMLN_ASSIGN_OR_RETURN(ByteReader tcb, Expect(entry, kTagSequence, "tcb"));
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
        CMLN_ASSIGN_OR_RETURN(out.sgx_type, ReadUnsigned(entry, kTagEnumerated, 0xffff, "sgx_type"));
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
