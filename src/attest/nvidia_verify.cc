// NVIDIA GPU evidence verification; contract and order of checks in nvidia_verify.h.
#include "attest/nvidia_verify.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/byte_reader.h"

namespace cmln::attest::nvidia {
namespace {

// DER encoding of OID 2.16.840.1.101.3.4.2.2 (id-sha384), without tag and length.
constexpr uint8_t kSha384OidBody[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
constexpr size_t kMaxDerLength = 1 << 16;

constexpr uint8_t kTagInteger = 0x02;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagOid = 0x06;
constexpr uint8_t kTagSequence = 0x30;
constexpr uint8_t kTagFwidsImplicit = 0xA6;  // [6] IMPLICIT SEQUENCE OF FWID (constructed)

struct Tlv {
  uint8_t tag = 0;
  ByteReader body{ByteView{}};
};

// One DER TLV with a single-byte tag and a definite length of at most kMaxDerLength.
Result<Tlv> ReadTlv(ByteReader& r, std::string_view field) {
  Tlv t;
  CMLN_ASSIGN_OR_RETURN(t.tag, r.U8(field));
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint8_t first, r.U8(field));
  size_t len = first;
  if (first & 0x80) {
    const size_t n = first & 0x7F;
    if (n == 0 || n > 2) return Error(ErrorCode::kMalformed, std::string(field) + ": unsupported DER length at offset " + std::to_string(at));
    len = 0;
    for (size_t i = 0; i < n; ++i) {
      CMLN_ASSIGN_OR_RETURN(uint8_t b, r.U8(field));
      len = (len << 8) | b;
    }
    if (len < 0x80 || (n == 2 && len < 0x100)) {
      return Error(ErrorCode::kMalformed, std::string(field) + ": non-minimal DER length at offset " + std::to_string(at));
    }
  }
  if (len > kMaxDerLength) return Error(ErrorCode::kLengthTooLarge, std::string(field) + ": DER length too large");
  CMLN_ASSIGN_OR_RETURN(t.body, r.Child(len, field));
  return t;
}

Result<Tlv> ExpectTlv(ByteReader& r, uint8_t tag, std::string_view field) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(Tlv t, ReadTlv(r, field));
  if (t.tag != tag) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": unexpected DER tag at offset " + std::to_string(at));
  }
  return t;
}

// FWID ::= SEQUENCE { hashAlg OID, digest OCTET STRING }. Returns the digest if hashAlg is SHA-384,
// an empty Bytes for another algorithm.
Result<Bytes> ReadFwid(ByteReader& r) {
  CMLN_ASSIGN_OR_RETURN(Tlv fwid, ExpectTlv(r, kTagSequence, "fwid"));
  CMLN_ASSIGN_OR_RETURN(Tlv alg, ExpectTlv(fwid.body, kTagOid, "fwid.hashAlg"));
  CMLN_ASSIGN_OR_RETURN(Tlv digest, ExpectTlv(fwid.body, kTagOctetString, "fwid.digest"));
  CMLN_TRY(fwid.body.ExpectEnd("fwid"));
  const ByteView oid = alg.body.TakeRest();
  const ByteView value = digest.body.TakeRest();
  if (oid.size() == sizeof(kSha384OidBody) && std::equal(oid.begin(), oid.end(), kSha384OidBody)) {
    if (value.size() != 48) return Error(ErrorCode::kMalformed, "fwid: SHA-384 digest is not 48 bytes");
    return ToBytes(value);
  }
  return Bytes{};
}

bool IsSelfIssued(const Certificate& c) {
  return X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())) == 0;
}

}  // namespace

const char* RevocationName(Revocation r) {
  switch (r) {
    case Revocation::kGood: return "good";
    case Revocation::kRevoked: return "revoked";
    case Revocation::kNotChecked: break;
  }
  return "not_checked";
}

Result<GpuTrustAnchors> ProductionGpuAnchors(std::string_view device_identity_ca_pem) {
  CMLN_ASSIGN_OR_RETURN(auto certs, ParsePemChain(device_identity_ca_pem));
  GpuTrustAnchors a;
  a.roots = std::move(certs);
  a.simulated = false;
  return a;
}

Result<Bytes> ParseDiceFwid(ByteView extension_value) {
  ByteReader r(extension_value);
  CMLN_ASSIGN_OR_RETURN(Tlv top, ExpectTlv(r, kTagSequence, "tcbinfo"));
  CMLN_TRY(r.ExpectEnd("tcbinfo"));
  Bytes found;
  auto consider = [&found](Bytes digest) -> Status {
    if (digest.empty()) return OkStatus();
    if (!found.empty()) return Error(ErrorCode::kMalformed, "tcbinfo: more than one SHA-384 FWID");
    found = std::move(digest);
    return OkStatus();
  };
  if (!top.body.empty() && top.body.rest()[0] == kTagInteger) {
    // NVIDIA layout: version, SubjectPublicKeyInfo, FWID+.
    CMLN_ASSIGN_OR_RETURN(Tlv version, ExpectTlv(top.body, kTagInteger, "tcbinfo.version"));
    (void)version;
    CMLN_ASSIGN_OR_RETURN(Tlv spki, ExpectTlv(top.body, kTagSequence, "tcbinfo.subjectPublicKeyInfo"));
    (void)spki;
    if (top.body.empty()) return Error(ErrorCode::kMalformed, "tcbinfo: no FWID");
    while (!top.body.empty()) {
      CMLN_ASSIGN_OR_RETURN(Bytes d, ReadFwid(top.body));
      CMLN_TRY(consider(std::move(d)));
    }
  } else {
    // TCG DiceTcbInfo: optional context-tagged fields; fwids is [6].
    while (!top.body.empty()) {
      CMLN_ASSIGN_OR_RETURN(Tlv field, ReadTlv(top.body, "tcbinfo.field"));
      if (field.tag != kTagFwidsImplicit) continue;
      while (!field.body.empty()) {
        CMLN_ASSIGN_OR_RETURN(Bytes d, ReadFwid(field.body));
        CMLN_TRY(consider(std::move(d)));
      }
    }
  }
  if (found.empty()) return Error(ErrorCode::kNotFound, "tcbinfo: no SHA-384 FWID");
  return found;
}

Result<VerifiedGpuReport> VerifyGpuReport(ByteView report, const GpuCollateral& collateral, ByteView expected_nonce,
                                          const GpuTrustAnchors& anchors, int64_t now) {
  if (expected_nonce.size() != spdm::kNonceSize) {
    return Error(ErrorCode::kInvalidArgument, "gpu: expected nonce must be 32 bytes");
  }
  VerifiedGpuReport out;
  out.simulated = anchors.simulated;
  out.platform = std::string(anchors.simulated ? kPlatformSimGpu : kPlatformNvidiaCc);

  // 1. parse
  CMLN_ASSIGN_OR_RETURN(out.report, spdm::ParseGpuAttestationReport(report));

  // 2. chain shape
  CMLN_ASSIGN_OR_RETURN(std::vector<Certificate> chain, ParsePemChain(collateral.cert_chain_pem));
  if (IsSelfIssued(chain[0])) {
    return Error(ErrorCode::kMalformed, "gpu chain: first certificate '" + chain[0].Subject() +
                                            "' is a self-signed root; no device certificate (root only)");
  }

  // 3. chain to the pinned root
  CMLN_ASSIGN_OR_RETURN(out.path, VerifyChain(chain, anchors.roots, now, {}));

  // 4. the device attestation leaf and its FWID
  const Certificate& leaf = out.path[0];
  auto ext = ExtensionDer(leaf, kOidDiceTcbInfo);
  if (!ext.ok()) {
    if (ext.error().code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kNotFound, "gpu chain: leaf '" + leaf.Subject() +
                                             "' has no FWID extension 2.23.133.5.4.1: the device attestation "
                                             "certificate is missing (missing leaf)");
    }
    return ext.error();
  }
  CMLN_ASSIGN_OR_RETURN(out.leaf_fwid, ParseDiceFwid(*ext));

  // 5. signature
  CMLN_ASSIGN_OR_RETURN(PublicKey key, CertificatePublicKey(leaf));
  {
    auto sig = VerifyEcdsaRaw(key, HashAlg::kSha384, out.report.signed_bytes, out.report.response.signature);
    if (!sig.ok()) {
      return Error(sig.error().code(), "gpu report: SPDM signature does not verify with the leaf key of '" +
                                           leaf.Subject() + "'");
    }
  }

  // 6. FWID of the report against the leaf
  if (out.report.nvidia.fwid != out.leaf_fwid) {
    return Error(ErrorCode::kCollateralMismatch, "gpu report: opaque FWID " + HexEncode(out.report.nvidia.fwid) +
                                                     " differs from the leaf certificate's " +
                                                     HexEncode(out.leaf_fwid));
  }

  // 7. nonce
  const auto& nonce = out.report.request.nonce;
  if (!std::equal(nonce.begin(), nonce.end(), expected_nonce.begin())) {
    return Error(ErrorCode::kBindingMismatch, "gpu report: request nonce " + HexEncode(ByteView(nonce)) +
                                                  " is not the expected " + HexEncode(expected_nonce));
  }
  // 8. revocation from OCSP snapshots, when given
  CMLN_ASSIGN_OR_RETURN(OcspCheck ocsp, CheckOcspRevocation(out.path, kGpuChainOcspFirstIndex,
                                                            collateral.ocsp_responses, anchors.roots, now));
  out.revocation = ocsp.certificates_checked > 0 ? Revocation::kGood : Revocation::kNotChecked;
  return out;
}

}  // namespace cmln::attest::nvidia
