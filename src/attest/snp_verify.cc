// AMD SEV-SNP report verification (see snp_verify.h for the contract and the order of checks).
//
// KDS extension value grammar (pub. 57230; the DER inside each extension's extnValue):
//   SPL (blSPL, teeSPL, snpSPL, spl4..7, ucodeSPL, fmcSPL) = INTEGER            02 01 vv | 02 02 00 vv (vv >= 80)
//   productName, cspId                                 = IA5String          16 len chars
//   hwID                                               = 64 raw bytes (AMD omits the tag), or 04 40 <64 bytes>;
//                                                        Turin may use 8 bytes likewise
#include "attest/snp_verify.h"

#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>

#include "common/byte_reader.h"

namespace cmln::attest::snp {

namespace {

constexpr uint8_t kTagInteger = 0x02;
constexpr uint8_t kTagOctetString = 0x04;
constexpr uint8_t kTagIa5String = 0x16;

std::string Hex2(uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", v);
  return buf;
}

// DER length: short form, or long form with one or two bytes (minimal). Values above `cap` are
// kLengthTooLarge before anything is read.
Result<size_t> ReadDerLength(ByteReader& r, size_t cap, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(uint8_t first, r.U8(field));
  size_t len = 0;
  if (first < 0x80) {
    len = first;
  } else if (first == 0x81) {
    CMLN_ASSIGN_OR_RETURN(uint8_t b, r.U8(field));
    if (b < 0x80) return Error(ErrorCode::kMalformed, std::string(field) + ": non-minimal DER length");
    len = b;
  } else if (first == 0x82) {
    CMLN_ASSIGN_OR_RETURN(uint16_t v, r.U16BE(field));
    if (v < 0x100) return Error(ErrorCode::kMalformed, std::string(field) + ": non-minimal DER length");
    len = v;
  } else {
    return Error(ErrorCode::kMalformed, std::string(field) + ": unsupported DER length form");
  }
  if (len > cap) {
    return Error(ErrorCode::kLengthTooLarge,
                 std::string(field) + ": length " + std::to_string(len) + " exceeds " + std::to_string(cap));
  }
  return len;
}

Result<ByteView> ReadTlv(ByteReader& r, uint8_t tag, size_t cap, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(uint8_t t, r.U8(field));
  if (t != tag) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": DER tag " + Hex2(t) + ", want " + Hex2(tag));
  }
  CMLN_ASSIGN_OR_RETURN(size_t len, ReadDerLength(r, cap, field));
  return r.Bytes(len, field);
}

Result<Bytes> RequiredExtension(const Certificate& cert, std::string_view oid, std::string_view field) {
  auto v = ExtensionDer(cert, oid);
  if (!v.ok()) return v.error().WithContext(std::string(field) + " (" + std::string(oid) + ")");
  return std::move(v).value();
}

// Optional extension: nullopt when absent; other errors propagate.
Result<std::optional<Bytes>> OptionalExtension(const Certificate& cert, std::string_view oid,
                                               std::string_view field) {
  auto v = ExtensionDer(cert, oid);
  if (v.ok()) return std::optional<Bytes>(std::move(v).value());
  if (v.error().code() == ErrorCode::kNotFound) return std::optional<Bytes>();
  return v.error().WithContext(std::string(field) + " (" + std::string(oid) + ")");
}

Result<uint8_t> OptionalSpl(const Certificate& cert, std::string_view oid, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(std::optional<Bytes> v, OptionalExtension(cert, oid, field));
  if (!v) return uint8_t{0};
  return ParseKdsSpl(*v, field);
}

Result<uint8_t> RequiredSpl(const Certificate& cert, std::string_view oid, std::string_view field) {
  CMLN_ASSIGN_OR_RETURN(Bytes v, RequiredExtension(cert, oid, field));
  return ParseKdsSpl(v, field);
}

bool SameCert(const Certificate& a, const Certificate& b) {
  return X509_cmp(a.get(), b.get()) == 0;
}

bool SelfIssued(const Certificate& c) {
  return X509_NAME_cmp(X509_get_subject_name(c.get()), X509_get_issuer_name(c.get())) == 0;
}

// Step 4: the AMD CRL is issued by the ARK and lists revoked ASKs/ASVKs (and endorsement keys).
Status CheckCrl(const Crl& crl, const Certificate& ark, const std::vector<const Certificate*>& subjects,
                int64_t now) {
  EVP_PKEY* ark_key = X509_get0_pubkey(ark.get());
  if (ark_key == nullptr || X509_CRL_verify(crl.get(), ark_key) != 1) {
    return Error(ErrorCode::kCrlBadSignature, "CRL is not signed by the pinned ARK " + ark.Subject());
  }
  if (crl.ThisUpdate() > now) {
    return Error(ErrorCode::kCrlNotYetValid, "CRL thisUpdate " + std::to_string(crl.ThisUpdate()) +
                                                 " is after now " + std::to_string(now));
  }
  if (crl.NextUpdate() != 0 && crl.NextUpdate() < now) {
    return Error(ErrorCode::kCrlExpired, "CRL nextUpdate " + std::to_string(crl.NextUpdate()) +
                                             " is before now " + std::to_string(now));
  }
  for (const Certificate* c : subjects) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl.get(), &entry, c->get()) == 1) {
      return Error(ErrorCode::kCertRevoked,
                   "certificate " + c->Subject() + " serial " + HexEncode(c->SerialNumber()) + " is on the CRL");
    }
  }
  return OkStatus();
}

// Step 5: SIGNATURE.R/S are 72-byte little-endian integers; P-384 scalars fit in 48, so the top 24
// bytes must be zero (a non-zero pad cannot be a valid signature).
Status VerifyReportSignature(ByteView report_bytes, const SnpReport& report, const PublicKey& key) {
  auto pad_is_zero = [](const std::array<uint8_t, kSignatureComponentSize>& v) {
    return std::all_of(v.begin() + kP384ScalarSize, v.end(), [](uint8_t b) { return b == 0; });
  };
  if (!pad_is_zero(report.signature_r) || !pad_is_zero(report.signature_s)) {
    return Error(ErrorCode::kBadSignature, "SIGNATURE at 0x2A0: r or s exceeds 48 bytes");
  }
  Bytes rs(2 * kP384ScalarSize);
  std::reverse_copy(report.signature_r.begin(), report.signature_r.begin() + kP384ScalarSize, rs.begin());
  std::reverse_copy(report.signature_s.begin(), report.signature_s.begin() + kP384ScalarSize,
                    rs.begin() + kP384ScalarSize);
  Status s = VerifyEcdsaRaw(key, HashAlg::kSha384, SignedRegion(report_bytes), rs);
  if (!s.ok()) {
    if (s.error().code() == ErrorCode::kBadSignature) {
      return Error(ErrorCode::kBadSignature,
                   "report signature (ECDSA P-384 SHA-384 over 0x000..0x29F) does not verify with the " +
                       std::string(SigningKeyName(report.signing_key)));
    }
    return s.error().WithContext("report signature");
  }
  return OkStatus();
}

}  // namespace

// --- extension decoders --------------------------------------------------------------------------------

Result<uint8_t> ParseKdsSpl(ByteView value, std::string_view field) {
  ByteReader r(value);
  CMLN_ASSIGN_OR_RETURN(ByteView content, ReadTlv(r, kTagInteger, 2, field));
  CMLN_TRY(r.ExpectEnd(field));
  if (content.empty()) return Error(ErrorCode::kMalformed, std::string(field) + ": empty INTEGER");
  if (content.size() == 1) {
    if (content[0] >= 0x80) return Error(ErrorCode::kMalformed, std::string(field) + ": negative INTEGER");
    return content[0];
  }
  // Two bytes: only 00 vv with vv >= 0x80 is minimal and within 0..255.
  if (content[0] != 0x00 || content[1] < 0x80) {
    return Error(ErrorCode::kMalformed, std::string(field) + ": INTEGER out of 0..255 or not minimal");
  }
  return content[1];
}

Result<std::string> ParseKdsIa5String(ByteView value, std::string_view field) {
  ByteReader r(value);
  CMLN_ASSIGN_OR_RETURN(ByteView content, ReadTlv(r, kTagIa5String, kMaxKdsStringLength, field));
  CMLN_TRY(r.ExpectEnd(field));
  for (uint8_t c : content) {
    if (c >= 0x80) return Error(ErrorCode::kMalformed, std::string(field) + ": IA5String byte above 0x7f");
  }
  return std::string(AsChars(content));
}

Result<Bytes> ParseKdsHwid(ByteView value) {
  if (value.size() == kChipIdSize || value.size() == kTurinHwidSize) return ToBytes(value);
  ByteReader r(value);
  CMLN_ASSIGN_OR_RETURN(ByteView content, ReadTlv(r, kTagOctetString, kChipIdSize, "hwID"));
  CMLN_TRY(r.ExpectEnd("hwID"));
  if (content.size() != kChipIdSize && content.size() != kTurinHwidSize) {
    return Error(ErrorCode::kMalformed, "hwID: " + std::to_string(content.size()) + " bytes, want 64 or 8");
  }
  return ToBytes(content);
}

SnpProduct ProductFromName(std::string_view name) {
  const std::string_view family = name.substr(0, name.find('-'));
  if (family == "Milan") return SnpProduct::kMilan;
  if (family == "Genoa") return SnpProduct::kGenoa;
  if (family == "Turin") return SnpProduct::kTurin;
  return SnpProduct::kUnknown;
}

TcbVersion EndorsementExtensions::Tcb(TcbLayout layout) const {
  uint8_t b[8] = {};
  if (layout == TcbLayout::kTurin) {
    b[0] = fmc_spl.value_or(0);
    b[1] = bl_spl;
    b[2] = tee_spl;
    b[3] = snp_spl;
    b[4] = spl5;
    b[5] = spl6;
    b[6] = spl7;
  } else {
    b[0] = bl_spl;
    b[1] = tee_spl;
    b[2] = spl4;
    b[3] = spl5;
    b[4] = spl6;
    b[5] = spl7;
    b[6] = snp_spl;
  }
  b[7] = ucode_spl;
  uint64_t raw = 0;
  for (int i = 7; i >= 0; --i) raw = (raw << 8) | b[i];
  return DecodeTcbVersion(raw, layout);
}

Result<EndorsementExtensions> ParseEndorsementExtensions(const Certificate& cert) {
  EndorsementExtensions e;
  CMLN_ASSIGN_OR_RETURN(Bytes name, RequiredExtension(cert, kOidProductName, "productName"));
  CMLN_ASSIGN_OR_RETURN(e.product_name, ParseKdsIa5String(name, "productName"));
  e.product = ProductFromName(e.product_name);
  if (e.product == SnpProduct::kUnknown) {
    return Error(ErrorCode::kUnsupported, "productName '" + e.product_name + "' is not Milan, Genoa or Turin");
  }
  CMLN_ASSIGN_OR_RETURN(e.bl_spl, RequiredSpl(cert, kOidBlSpl, "blSPL"));
  CMLN_ASSIGN_OR_RETURN(e.tee_spl, RequiredSpl(cert, kOidTeeSpl, "teeSPL"));
  CMLN_ASSIGN_OR_RETURN(e.snp_spl, RequiredSpl(cert, kOidSnpSpl, "snpSPL"));
  CMLN_ASSIGN_OR_RETURN(e.ucode_spl, RequiredSpl(cert, kOidUcodeSpl, "ucodeSPL"));
  CMLN_ASSIGN_OR_RETURN(e.spl4, OptionalSpl(cert, kOidSpl4, "spl4"));
  CMLN_ASSIGN_OR_RETURN(e.spl5, OptionalSpl(cert, kOidSpl5, "spl5"));
  CMLN_ASSIGN_OR_RETURN(e.spl6, OptionalSpl(cert, kOidSpl6, "spl6"));
  CMLN_ASSIGN_OR_RETURN(e.spl7, OptionalSpl(cert, kOidSpl7, "spl7"));
  if (e.product == SnpProduct::kTurin) {
    CMLN_ASSIGN_OR_RETURN(uint8_t fmc, RequiredSpl(cert, kOidFmcSpl, "fmcSPL"));
    e.fmc_spl = fmc;
  }
  CMLN_ASSIGN_OR_RETURN(std::optional<Bytes> hwid, OptionalExtension(cert, kOidHwid, "hwID"));
  CMLN_ASSIGN_OR_RETURN(std::optional<Bytes> csp, OptionalExtension(cert, kOidCspId, "cspId"));
  if (hwid.has_value() == csp.has_value()) {
    return Error(ErrorCode::kMalformed, "endorsement certificate must carry exactly one of hwID (VCEK) and "
                                        "cspId (VLEK)");
  }
  if (hwid) {
    e.kind = SigningKey::kVcek;
    CMLN_ASSIGN_OR_RETURN(e.hwid, ParseKdsHwid(*hwid));
  } else {
    e.kind = SigningKey::kVlek;
    CMLN_ASSIGN_OR_RETURN(e.csp_id, ParseKdsIa5String(*csp, "cspId"));
  }
  return e;
}

Status CheckReportMatchesEndorsement(const SnpReport& report, const EndorsementExtensions& ext) {
  if (report.signing_key != ext.kind) {
    return Error(ErrorCode::kCollateralMismatch, std::string("report SIGNING_KEY is ") +
                                                     SigningKeyName(report.signing_key) + ", certificate is a " +
                                                     SigningKeyName(ext.kind));
  }
  const TcbLayout layout = report.tcb_layout();
  const TcbVersion want = ext.Tcb(layout);
  if (want.raw != report.reported_tcb.raw) {
    static constexpr const char* kMilanNames[8] = {"blSPL", "teeSPL", "spl4", "spl5",
                                                   "spl6",  "spl7",   "snpSPL", "ucodeSPL"};
    static constexpr const char* kTurinNames[8] = {"fmcSPL", "blSPL", "teeSPL", "snpSPL",
                                                   "spl5",   "spl6",  "spl7",   "ucodeSPL"};
    for (int i = 0; i < 8; ++i) {
      if (want.Byte(i) != report.reported_tcb.Byte(i)) {
        const char* name = layout == TcbLayout::kTurin ? kTurinNames[i] : kMilanNames[i];
        return Error(ErrorCode::kCollateralMismatch,
                     "REPORTED_TCB at 0x180 byte " + std::to_string(i) + " (" + name + ") is " +
                         Hex2(report.reported_tcb.Byte(i)) + ", certificate says " + Hex2(want.Byte(i)));
      }
    }
  }
  if (ext.kind == SigningKey::kVcek && !report.mask_chip_key) {
    const ByteView chip(report.chip_id.data(), report.chip_id.size());
    bool match = false;
    if (ext.hwid.size() == kChipIdSize) {
      match = std::equal(chip.begin(), chip.end(), ext.hwid.begin());
    } else if (ext.hwid.size() == kTurinHwidSize) {
      match = std::equal(ext.hwid.begin(), ext.hwid.end(), chip.begin()) &&
              std::all_of(chip.begin() + kTurinHwidSize, chip.end(), [](uint8_t b) { return b == 0; });
    }
    if (!match) {
      return Error(ErrorCode::kCollateralMismatch,
                   "CHIP_ID at 0x1A0 is " + HexEncode(chip) + ", VCEK hwID is " + HexEncode(ext.hwid));
    }
  }
  return OkStatus();
}

// --- anchors and collateral ------------------------------------------------------------------------------

Status SnpTrustAnchors::AddArkFromPem(SnpProduct product, std::string_view pem) {
  CMLN_ASSIGN_OR_RETURN(std::vector<Certificate> certs, ParsePemChain(pem));
  for (auto it = certs.rbegin(); it != certs.rend(); ++it) {
    if (SelfIssued(*it)) {
      arks[product] = *it;
      return OkStatus();
    }
  }
  return Error(ErrorCode::kInvalidArgument, "no self-issued ARK certificate in the PEM text");
}

Result<PreparedSnpCollateral> PrepareSnpCollateral(const SnpCollateral& collateral) {
  PreparedSnpCollateral p;
  auto cert = ParseCertificate(collateral.endorsement_cert);
  if (!cert.ok()) return cert.error().WithContext("VCEK/VLEK certificate");
  p.endorsement_cert = std::move(cert).value();
  auto ext = ParseEndorsementExtensions(p.endorsement_cert);
  if (!ext.ok()) return ext.error().WithContext("VCEK/VLEK extensions");
  p.extensions = std::move(ext).value();
  CMLN_ASSIGN_OR_RETURN(p.endorsement_key, CertificatePublicKey(p.endorsement_cert));
  auto chain = ParsePemChain(collateral.chain_pem);
  if (!chain.ok()) return chain.error().WithContext("ASK/ARK chain");
  p.chain = std::move(chain).value();
  if (!collateral.crl.empty()) {
    auto crl = ParseCrl(collateral.crl);
    if (!crl.ok()) return crl.error().WithContext("CRL");
    p.crl = std::move(crl).value();
  }
  return p;
}

// --- the verifier ---------------------------------------------------------------------------------------

Result<VerifiedSnpReport> VerifySnpReport(ByteView report_bytes, const PreparedSnpCollateral& collateral,
                                          const SnpTrustAnchors& anchors, int64_t now) {
  // 1. Parse.
  CMLN_ASSIGN_OR_RETURN(SnpReport report, ParseSnpReport(report_bytes));
  if (report.signing_key == SigningKey::kNone) {
    return Error(ErrorCode::kUnsupported, "KEY_INFO at 0x048: SIGNING_KEY is 7, the report is not signed");
  }
  // 2. The certificate's kind and product.
  const EndorsementExtensions& ext = collateral.extensions;
  if (report.signing_key != ext.kind) {
    return Error(ErrorCode::kCollateralMismatch, std::string("report is signed by a ") +
                                                     SigningKeyName(report.signing_key) + ", certificate is a " +
                                                     SigningKeyName(ext.kind));
  }
  if (report.product != SnpProduct::kUnknown && report.product != ext.product) {
    return Error(ErrorCode::kCollateralMismatch, std::string("report CPUID names ") +
                                                     SnpProductName(report.product) + ", certificate names " +
                                                     ext.product_name);
  }
  if (!report.has_cpuid && ext.product == SnpProduct::kTurin) {
    return Error(ErrorCode::kCollateralMismatch, "a version 2 report cannot come from Turin (" +
                                                     ext.product_name + ")");
  }
  // 3. Chain to the pinned ARK of the product.
  auto ark_it = anchors.arks.find(ext.product);
  if (ark_it == anchors.arks.end() || ark_it->second.empty()) {
    return Error(ErrorCode::kChainUntrusted, std::string("no ARK is pinned for ") + SnpProductName(ext.product));
  }
  const Certificate& ark = ark_it->second;
  std::vector<Certificate> path;
  path.reserve(1 + collateral.chain.size());
  path.push_back(collateral.endorsement_cert);
  for (const Certificate& c : collateral.chain) {
    // A root in the supplied chain is allowed only if it is the pinned one; a foreign root is dropped
    // so the chain has to reach the pinned ARK through its own links.
    if (SelfIssued(c) && !SameCert(c, ark)) continue;
    path.push_back(c);
  }
  ChainOptions options = DefaultChainOptions();
  options.crl_check_all = false;  // AMD's CRL is checked below (it is issued by the ARK only)
  // AMD's VCEK and VLEK certificates carry no Authority Key Identifier, which OpenSSL's RFC 5280
  // strict mode requires of every non-root certificate; signatures, names, validity and CA
  // constraints are still checked.
  options.x509_strict = false;
  auto verified = VerifyChain(path, {ark}, now, {}, options);
  if (!verified.ok()) return verified.error().WithContext("VCEK/VLEK chain");
  // 4. Revocation.
  if (collateral.crl) {
    std::vector<const Certificate*> subjects;
    for (const Certificate& c : verified.value()) {
      if (!SameCert(c, ark)) subjects.push_back(&c);
    }
    CMLN_TRY(CheckCrl(*collateral.crl, ark, subjects, now));
  }
  // 5. The report signature.
  CMLN_TRY(VerifyReportSignature(report_bytes, report, collateral.endorsement_key));
  // 6. The certificate describes this chip at this TCB.
  CMLN_TRY(CheckReportMatchesEndorsement(report, ext));

  VerifiedSnpReport out;
  out.product = ext.product;
  out.signer = report.signing_key;
  out.report = std::move(report);
  out.endorsement = ext;
  return out;
}

Result<VerifiedSnpReport> VerifySnpReport(ByteView report, const SnpCollateral& collateral,
                                          const SnpTrustAnchors& anchors, int64_t now) {
  CMLN_ASSIGN_OR_RETURN(PreparedSnpCollateral prepared, PrepareSnpCollateral(collateral));
  return VerifySnpReport(report, prepared, anchors, now);
}

}  // namespace cmln::attest::snp
