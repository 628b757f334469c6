#include "attest/tdx_verify.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "seal/crypto.h"

namespace cmln::attest {

namespace {

std::string Hex(ByteView b) { return HexEncode(b); }
template <size_t N>
std::string Hex(const std::array<uint8_t, N>& a) {
  return HexEncode(ByteView(a.data(), N));
}

Status CheckWindow(std::string_view what, int64_t issue, int64_t next, int64_t now) {
  if (now < issue) {
    return Error(ErrorCode::kCollateralNotYetValid,
                 std::string(what) + ".issueDate " + std::to_string(issue) + " is after now " + std::to_string(now));
  }
  // Valid on [issueDate, nextUpdate), the same convention OpenSSL applies to CRL nextUpdate.
  if (now >= next) {
    return Error(ErrorCode::kCollateralExpired,
                 std::string(what) + ".nextUpdate " + std::to_string(next) + " is not after now " + std::to_string(now));
  }
  return OkStatus();
}

Result<std::vector<Certificate>> VerifySignedJson(std::string_view what, const std::vector<Certificate>& chain,
                                                  std::string_view text, ByteView signature,
                                                  const std::vector<Certificate>& roots, int64_t now,
                                                  const Crl& root_crl, const ChainOptions& chain_options) {
  auto path = VerifyChain(chain, roots, now, {root_crl}, chain_options);
  if (!path.ok()) return path.error().WithContext(std::string(what) + " issuer chain");
  CMLN_ASSIGN_OR_RETURN(PublicKey key, CertificatePublicKey(chain[0]));
  auto sig = VerifyEcdsaRaw(key, HashAlg::kSha256, AsBytes(text), signature);
  if (!sig.ok()) {
    if (sig.error().code() != ErrorCode::kBadSignature) return sig.error().WithContext(what);
    return Error(ErrorCode::kCollateralBadSignature, std::string(what) + ": signature over the JSON text does not verify");
  }
  return path;
}

VerifiedTdxCollateral::PathWindow WindowOf(const std::vector<Certificate>& path) {
  VerifiedTdxCollateral::PathWindow w{INT64_MIN, INT64_MAX};
  for (const auto& c : path) {
    w.not_before = std::max(w.not_before, c.NotBefore());
    w.not_after = std::min(w.not_after, c.NotAfter());
  }
  return w;
}

// The dates VerifyChain checked at collateral time, again at `now`, with OpenSSL's conventions
// (certificate valid on [notBefore, notAfter), CRL on [thisUpdate, nextUpdate)).
Status CheckPathWindow(std::string_view what, const VerifiedTdxCollateral::PathWindow& w, const Crl& root_crl,
                       int64_t now) {
  const std::string chain = std::string(what) + " issuer chain";
  if (now < w.not_before) {
    return Error(ErrorCode::kCertNotYetValid, chain + ": a certificate's notBefore " + std::to_string(w.not_before) +
                                                  " is after now " + std::to_string(now));
  }
  if (now >= w.not_after) {
    return Error(ErrorCode::kCertExpired, chain + ": a certificate's notAfter " + std::to_string(w.not_after) +
                                              " is not after now " + std::to_string(now));
  }
  if (now < root_crl.ThisUpdate()) {
    return Error(ErrorCode::kCrlNotYetValid, chain + ": root CA CRL thisUpdate " +
                                                 std::to_string(root_crl.ThisUpdate()) + " is after now " +
                                                 std::to_string(now));
  }
  if (root_crl.NextUpdate() != 0 && now >= root_crl.NextUpdate()) {
    return Error(ErrorCode::kCrlExpired, chain + ": root CA CRL nextUpdate " + std::to_string(root_crl.NextUpdate()) +
                                             " is not after now " + std::to_string(now));
  }
  return OkStatus();
}

bool SameCertificate(const Certificate& a, const Certificate& b) { return X509_cmp(a.get(), b.get()) == 0; }

// The revocation part of VerifyChain-with-CRLs on an already verified PCK path, from the stored CRLs whose
// signatures VerifyTdxCollateral checked: each certificate's issuer must be the verified signer of the CRL
// used, the CRL inside its window and the serial absent. False means "not shown here" (the caller then runs
// the full OpenSSL check, which gives the exact code), never "revoked".
bool RevocationCleared(const std::vector<Certificate>& path, const VerifiedTdxCollateral& vc, int64_t now) {
  const Certificate& pck_crl_signer = vc.pck_crl_issuer_path.front();
  const Certificate& root = vc.tcb_info_path.back();
  for (size_t i = 0; i < path.size(); ++i) {
    const Certificate& issuer = i + 1 < path.size() ? path[i + 1] : path[i];
    const Crl* crl = nullptr;
    if (vc.pck_crl_signature_verified && SameCertificate(issuer, pck_crl_signer)) {
      crl = &vc.collateral.pck_crl;
    } else if (SameCertificate(issuer, root)) {
      crl = &vc.collateral.root_ca_crl;
    } else {
      return false;
    }
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl->get()), X509_get_issuer_name(path[i].get())) != 0) return false;
    if (now < crl->ThisUpdate() || crl->NextUpdate() == 0 || now >= crl->NextUpdate()) return false;
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(crl->get(), &entry, path[i].get()) != 0) return false;
  }
  return true;
}

// PEM text of `chain`, as PEM_write_bio_X509 writes it (the form Intel's quotes carry).
std::string PemOf(const std::vector<Certificate>& chain) {
  std::string out;
  for (const auto& c : chain) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) return {};
    if (PEM_write_bio_X509(bio, c.get()) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      if (n > 0) out.append(data, static_cast<size_t>(n));
    }
    BIO_free(bio);
  }
  ERR_clear_error();
  return out;
}

// The quote's PCK chain text as (leaf PEM block, rest) when the rest is exactly the PEM of the collateral's
// PCK CRL issuer chain (the same CA and root); nullopt otherwise.
std::optional<std::string_view> LeafPemBeforeKnownCa(std::string_view pem, const VerifiedTdxCollateral& vc) {
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----\n";
  std::string_view text = pem;
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  const size_t end = text.find(kEnd);
  if (pem.size() > kMaxPemChainText || vc.pck_crl_issuer_chain_pem.empty() || end == std::string_view::npos ||
      text.substr(end + kEnd.size()) != vc.pck_crl_issuer_chain_pem) {
    return std::nullopt;
  }
  return text.substr(0, end + kEnd.size());
}

// The DER of one PEM certificate block in exactly the form PEM_write_bio_X509 writes (header line, base64
// lines of 64 characters, a shorter or equal last one, footer line), which OpenSSL's reader decodes to
// the same bytes; nullopt for any other layout (the caller then uses ParsePemChain).
std::optional<Bytes> CanonicalPemCertificateDer(std::string_view block) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----\n";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----\n";
  static constexpr size_t kLine = 64;
  if (block.size() < kBegin.size() + kEnd.size() || block.substr(0, kBegin.size()) != kBegin ||
      block.substr(block.size() - kEnd.size()) != kEnd) {
    return std::nullopt;
  }
  std::string_view body = block.substr(kBegin.size(), block.size() - kBegin.size() - kEnd.size());
  std::string base64;
  base64.reserve(body.size());
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    if (nl == std::string_view::npos || nl == 0 || nl > kLine || (nl < kLine && nl + 1 != body.size())) {
      return std::nullopt;
    }
    base64.append(body.substr(0, nl));
    body.remove_prefix(nl + 1);
  }
  auto der = Base64Decode(base64);
  if (!der.ok()) return std::nullopt;
  return std::move(der).value();
}

// ParsePemChain(pem), without re-parsing the CA certificates when the text after the leaf is exactly the PEM
// of the collateral's PCK CRL issuer chain (the same CA and root): same result, one DER parse instead of three.
Result<std::vector<Certificate>> ParsePckChainReusingCa(std::string_view pem, const VerifiedTdxCollateral& vc) {
  const auto leaf_text = LeafPemBeforeKnownCa(pem, vc);
  if (!leaf_text) return ParsePemChain(pem);
  auto leaf = ParsePemChain(*leaf_text);
  if (!leaf.ok() || leaf->size() != 1) return ParsePemChain(pem);
  std::vector<Certificate> chain = std::move(leaf).value();
  chain.insert(chain.end(), vc.collateral.pck_crl_issuer_chain.begin(), vc.collateral.pck_crl_issuer_chain.end());
  return chain;
}

// The PCK leaf as the later steps need it: its key and its SGX extension (DER, from the fast check) or the
// parsed certificate (from the full check, where the extension is read as before).
struct PckLeaf {
  PublicKey key;
  Bytes sgx_extension_der;  // set by the fast check
  Certificate cert;         // set by the full check
};

// Step 4 for the PCK chain. With `vc`: first the leaf check under the collateral's prepared PCK CA
// (CheckLeafUnder: leaf signature, dates, strict shape, PCK CRL window and serial), when the quote's chain
// is that CA and root; on any doubt, the full path: VerifyChain without CRLs (so a chain defect is
// reported first), then revocation from the stored CRLs (RevocationCleared, or VerifyChain with both CRLs
// for the exact code). Without `vc`, the chain is checked without CRLs.
Result<PckLeaf> VerifyPckChain(const TdxQuote& q, const std::vector<Certificate>& roots, int64_t now,
                               const VerifiedTdxCollateral* vc, const TdxVerifyOptions& options,
                               std::vector<std::string>* checks) {
  if (vc != nullptr && vc->pck_issuer != nullptr) {
    if (const auto leaf_text = LeafPemBeforeKnownCa(q.pck_chain_pem, *vc)) {
      if (const auto der = CanonicalPemCertificateDer(*leaf_text)) {
        const ByteView sgx_oid(kSgxExtensionsOidDer.data(), kSgxExtensionsOidDer.size());
        if (auto leaf = CheckLeafUnder(*vc->pck_issuer, *der, now, sgx_oid); leaf && !leaf->private_extension.empty()) {
          checks->push_back("pck_chain_with_crls");
          return PckLeaf{std::move(leaf->key), std::move(leaf->private_extension), Certificate()};
        }
      }
    }
  }
  auto pck_chain = vc != nullptr ? ParsePckChainReusingCa(q.pck_chain_pem, *vc) : ParsePemChain(q.pck_chain_pem);
  if (!pck_chain.ok()) {
    return pck_chain.error().WithContext("pck_cert_data at offset " + std::to_string(q.pck_chain_offset));
  }
  // VerifyChain with CRLs reports the chain's own defect first, so a failure here is its failure too.
  auto path = VerifyChain(*pck_chain, roots, now, {}, options.chain);
  if (!path.ok()) return path.error().WithContext("PCK chain");
  if (vc != nullptr && !RevocationCleared(*path, *vc, now)) {
    auto full = VerifyChain(*pck_chain, roots, now, {vc->collateral.root_ca_crl, vc->collateral.pck_crl}, options.chain);
    if (!full.ok()) return full.error().WithContext("PCK chain");
  }
  checks->push_back(vc != nullptr ? "pck_chain_with_crls" : "pck_chain");
  CMLN_ASSIGN_OR_RETURN(PublicKey pck_key, CertificatePublicKey((*pck_chain)[0]));
  return PckLeaf{std::move(pck_key), Bytes(), (*pck_chain)[0]};
}

// Steps 4 (PCK chain), 5, 6, 7 of the header comment.
Status VerifyQuoteSignatures(const TdxQuote& q, const std::vector<Certificate>& roots, int64_t now,
                             const VerifiedTdxCollateral* vc, const TdxVerifyOptions& options, PckLeaf* leaf_out,
                             std::vector<std::string>* checks) {
  CMLN_ASSIGN_OR_RETURN(PckLeaf leaf, VerifyPckChain(q, roots, now, vc, options, checks));
  const PublicKey& pck_key = leaf.key;
  auto qe_sig = VerifyEcdsaRaw(pck_key, HashAlg::kSha256, q.qe_report_raw, q.qe_report_signature);
  if (!qe_sig.ok()) {
    return Error(ErrorCode::kQeReportBadSignature,
                 "qe_report at offset " + std::to_string(q.qe_report_offset) + ": PCK signature does not verify");
  }
  checks->push_back("qe_report_signature");

  const auto binding = seal::Sha256(Concat(ByteView(q.attestation_key), ByteView(q.qe_auth_data)));
  Bytes want(64, 0);
  std::memcpy(want.data(), binding.data(), binding.size());
  if (!ConstantTimeEqual(want, ByteView(q.qe_report.report_data))) {
    return Error(ErrorCode::kQeReportDataMismatch, "qe_report.report_data " + Hex(q.qe_report.report_data) +
                                                        ", want SHA-256(attestation_key || qe_auth_data) " + Hex(want));
  }
  checks->push_back("qe_report_data_binding");

  CMLN_ASSIGN_OR_RETURN(PublicKey att_key, EcPublicKeyFromRaw("P-256", q.attestation_key));
  auto quote_sig = VerifyEcdsaRaw(att_key, HashAlg::kSha256, q.signed_region, q.signature);
  if (!quote_sig.ok()) {
    return Error(ErrorCode::kBadSignature, "quote signature over header||body (" +
                                               std::to_string(q.signed_region.size()) + " bytes) does not verify");
  }
  checks->push_back("quote_signature");
  *leaf_out = std::move(leaf);
  return OkStatus();
}

Result<TdxQuote> ParseWithTrailingPolicy(ByteView quote, const TdxVerifyOptions& options) {
  CMLN_ASSIGN_OR_RETURN(TdxQuote q, ParseTdxQuote(quote));
  if (q.trailing_bytes > 0 && !q.trailing_all_zero && options.trailing == TrailingBytesPolicy::kRejectNonZero) {
    return Error(ErrorCode::kTrailingData, std::to_string(q.trailing_bytes) + " non-zero bytes after the quote at offset " +
                                               std::to_string(q.quote_size));
  }
  return q;
}

// Intel QVL's convergence: a lower component status can only pull the platform status down.
TcbStatus Converge(TcbStatus platform, TcbStatus component) {
  if (platform == TcbStatus::kTcbNotSupported || platform == TcbStatus::kRevoked) return platform;
  switch (component) {
    case TcbStatus::kRevoked:
      return TcbStatus::kRevoked;
    case TcbStatus::kTcbNotSupported:
      return TcbStatus::kTcbNotSupported;
    case TcbStatus::kOutOfDate:
    case TcbStatus::kOutOfDateConfigurationNeeded:
      if (platform == TcbStatus::kConfigurationNeeded || platform == TcbStatus::kConfigurationAndSWHardeningNeeded ||
          platform == TcbStatus::kOutOfDateConfigurationNeeded) {
        return TcbStatus::kOutOfDateConfigurationNeeded;
      }
      return TcbStatus::kOutOfDate;
    default:
      return platform;
  }
}

void AddAdvisories(std::vector<std::string>& out, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
}

template <size_t N>
bool MaskedEqual(const std::array<uint8_t, N>& seen, const std::array<uint8_t, N>& want,
                 const std::array<uint8_t, N>& mask) {
  for (size_t i = 0; i < N; ++i) {
    if ((seen[i] & mask[i]) != (want[i] & mask[i])) return false;
  }
  return true;
}

Status CheckQeIdentity(const SgxReport& qe, const QeIdentity& id) {
  std::vector<std::string> mismatches;
  if (qe.mr_signer != id.mrsigner) mismatches.push_back("mrsigner " + Hex(qe.mr_signer) + ", want " + Hex(id.mrsigner));
  if (qe.isv_prod_id != id.isvprodid) {
    mismatches.push_back("isvprodid " + std::to_string(qe.isv_prod_id) + ", want " + std::to_string(id.isvprodid));
  }
  if ((qe.misc_select & id.miscselect_mask) != (id.miscselect & id.miscselect_mask)) {
    mismatches.push_back("miscselect " + std::to_string(qe.misc_select) + ", want " + std::to_string(id.miscselect));
  }
  if (!MaskedEqual(qe.attributes, id.attributes, id.attributes_mask)) {
    mismatches.push_back("attributes " + Hex(qe.attributes) + ", want " + Hex(id.attributes) + " under mask " +
                         Hex(id.attributes_mask));
  }
  if (mismatches.empty()) return OkStatus();
  std::string msg = "qe_report does not match qe_identity:";
  for (const auto& m : mismatches) msg += " " + m + ";";
  return Error(ErrorCode::kQeIdentityMismatch, msg);
}

const IsvSvnLevel* FirstIsvSvnLevel(const std::vector<IsvSvnLevel>& levels, uint16_t isvsvn) {
  for (const auto& l : levels) {
    if (isvsvn >= l.isvsvn) return &l;
  }
  return nullptr;
}

// Step 10 and the module's own TCB level. Returns the module status (kUnknown when judged by "tdxModule"
// alone, which carries no levels).
Result<TcbStatus> CheckTdxModule(const TdReport& body, const TcbInfo& info, std::vector<std::string>* advisories) {
  const uint8_t module_version = body.tee_tcb_svn[1];
  if (module_version == 0) {
    if (!info.tdx_module) return TcbStatus::kUnknown;
    const auto& m = *info.tdx_module;
    if (body.mr_signer_seam != m.mrsigner || !MaskedEqual(body.seam_attributes, m.attributes, m.attributes_mask)) {
      return Error(ErrorCode::kCollateralMismatch, "TDX module mr_signer_seam " + Hex(body.mr_signer_seam) +
                                                       " / seam_attributes " + Hex(body.seam_attributes) +
                                                       " do not match tcb_info.tdxModule");
    }
    return TcbStatus::kUnknown;
  }
  char id[16];
  std::snprintf(id, sizeof(id), "TDX_%02X", module_version);
  const TdxModuleIdentity* m = nullptr;
  for (const auto& candidate : info.tdx_module_identities) {
    if (candidate.id == id) m = &candidate;
  }
  if (m == nullptr) {
    return Error(ErrorCode::kCollateralMismatch, std::string("tcb_info.tdxModuleIdentities has no ") + id);
  }
  if (body.mr_signer_seam != m->mrsigner || !MaskedEqual(body.seam_attributes, m->attributes, m->attributes_mask)) {
    return Error(ErrorCode::kCollateralMismatch, std::string("TDX module does not match tcb_info.tdxModuleIdentities ") + id);
  }
  const IsvSvnLevel* level = FirstIsvSvnLevel(m->levels, body.tee_tcb_svn[0]);
  if (level == nullptr) return TcbStatus::kTcbNotSupported;
  AddAdvisories(*advisories, level->advisory_ids);
  return level->status;
}

const TcbLevel* MatchPlatformLevel(const TcbInfo& info, const PckExtensions& pck, const TdReport& body) {
  // With module identities, TEE_TCB_SVN[0..1] (module SVN and version) are judged by the module identity.
  const size_t tdx_start = (!info.tdx_module_identities.empty() && body.tee_tcb_svn[1] > 0) ? 2 : 0;
  for (const auto& level : info.levels) {
    bool ok = pck.pcesvn >= level.pcesvn;
    for (size_t i = 0; ok && i < 16; ++i) ok = pck.sgx_tcb_components[i] >= level.sgx_components[i];
    if (!ok) continue;
    if (!level.has_tdx_components) continue;  // a TDX quote needs TDX components to match
    for (size_t i = tdx_start; ok && i < 16; ++i) ok = body.tee_tcb_svn[i] >= level.tdx_components[i];
    if (ok) return &level;
  }
  return nullptr;
}

}  // namespace

TdxVerifyOptions DefaultTdxVerifyOptions() { return TdxVerifyOptions{}; }

Result<VerifiedTdxCollateral> VerifyTdxCollateral(const TdxCollateral& c, const std::vector<Certificate>& roots,
                                                  int64_t now, const ChainOptions& chain) {
  VerifiedTdxCollateral out;
  // Dates first: stale collateral is refused before any expensive work (THREATS A4).
  CMLN_TRY(CheckWindow("qe_identity", c.qe_identity.issue_date, c.qe_identity.next_update, now));
  CMLN_TRY(CheckWindow("tcb_info", c.tcb_info.issue_date, c.tcb_info.next_update, now));

  CMLN_ASSIGN_OR_RETURN(out.tcb_info_path, VerifySignedJson("tcb_info", c.tcb_info_issuer_chain, c.tcb_info_text,
                                                            c.tcb_info_signature, roots, now, c.root_ca_crl, chain));
  CMLN_ASSIGN_OR_RETURN(out.qe_identity_path,
                        VerifySignedJson("qe_identity", c.qe_identity_issuer_chain, c.qe_identity_text,
                                         c.qe_identity_signature, roots, now, c.root_ca_crl, chain));
  auto crl_issuer = VerifyChain(c.pck_crl_issuer_chain, roots, now, {c.root_ca_crl}, chain);
  if (!crl_issuer.ok()) return crl_issuer.error().WithContext("pck_crl issuer chain");
  out.pck_crl_issuer_path = std::move(crl_issuer).value();

  // The PCK CRL is otherwise only checked inside a PCK chain; here it is checked once, by its issuer. A CRL
  // naming another issuer is left to the per-quote full chain check, which reports it as before.
  X509* signer = out.pck_crl_issuer_path.front().get();
  if (c.pck_crl.get() != nullptr &&
      X509_NAME_cmp(X509_CRL_get_issuer(c.pck_crl.get()), X509_get_subject_name(signer)) == 0) {
    EVP_PKEY* signer_key = X509_get0_pubkey(signer);
    if (signer_key == nullptr || X509_CRL_verify(c.pck_crl.get(), signer_key) != 1) {
      ERR_clear_error();
      return Error(ErrorCode::kCrlBadSignature, "pck_crl: signature by the pck_crl issuer chain's leaf does not verify");
    }
    out.pck_crl_signature_verified = true;
    // The PCK CA prepared for the per-quote leaf check; a CA or CRL the fast check does not model leaves
    // it null, and every quote then takes the full chain check.
    if (auto prepared = PreparedIssuer::Prepare(out.pck_crl_issuer_path, c.pck_crl); prepared.ok()) {
      out.pck_issuer = std::make_shared<const PreparedIssuer>(std::move(prepared).value());
    }
  }

  out.tcb_info_window = WindowOf(out.tcb_info_path);
  out.qe_identity_window = WindowOf(out.qe_identity_path);
  out.pck_crl_issuer_window = WindowOf(out.pck_crl_issuer_path);
  out.collateral = c;
  out.pck_crl_issuer_chain_pem = PemOf(c.pck_crl_issuer_chain);
  return out;
}

namespace {

// Everything after parsing, against verified collateral; `out` holds the parsed quote.
Result<VerifiedTdxReport> VerifyParsedQuote(VerifiedTdxReport out, const VerifiedTdxCollateral& vc,
                                            const std::vector<Certificate>& roots, int64_t now,
                                            const TdxVerifyOptions& options) {
  const TdxCollateral& c = vc.collateral;
  const TdxQuote& q = out.quote;
  if (vc.tcb_info_path.empty() || vc.qe_identity_path.empty() || vc.pck_crl_issuer_path.empty()) {
    return Error(ErrorCode::kInvalidArgument, "collateral: not from VerifyTdxCollateral");
  }

  // Every window VerifyTdxCollateral checked, again at this `now`, in the same order.
  CMLN_TRY(CheckWindow("qe_identity", c.qe_identity.issue_date, c.qe_identity.next_update, now));
  CMLN_TRY(CheckWindow("tcb_info", c.tcb_info.issue_date, c.tcb_info.next_update, now));
  out.checks.push_back("collateral_dates");
  CMLN_TRY(CheckPathWindow("tcb_info", vc.tcb_info_window, c.root_ca_crl, now));
  out.checks.push_back("tcb_info_signature");
  CMLN_TRY(CheckPathWindow("qe_identity", vc.qe_identity_window, c.root_ca_crl, now));
  out.checks.push_back("qe_identity_signature");
  CMLN_TRY(CheckPathWindow("pck_crl", vc.pck_crl_issuer_window, c.root_ca_crl, now));
  out.checks.push_back("pck_crl_issuer_chain");

  PckLeaf leaf;
  CMLN_TRY(VerifyQuoteSignatures(q, roots, now, &vc, options, &leaf, &out.checks));

  CMLN_ASSIGN_OR_RETURN(out.pck, leaf.cert.empty() ? ParsePckExtensions(leaf.sgx_extension_der) : PckExtensionsOf(leaf.cert));
  out.fmspc = out.pck.fmspc;
  if (c.tcb_info.id != "TDX" || c.tcb_info.version != 3) {
    return Error(ErrorCode::kCollateralMismatch, "tcb_info.id \"" + c.tcb_info.id + "\" v" +
                                                     std::to_string(c.tcb_info.version) + ", want \"TDX\" v3");
  }
  if (c.qe_identity.id != "TD_QE") {
    return Error(ErrorCode::kCollateralMismatch, "qe_identity.id \"" + c.qe_identity.id + "\", want \"TD_QE\"");
  }
  if (out.pck.fmspc != c.tcb_info.fmspc) {
    return Error(ErrorCode::kCollateralMismatch,
                 "PCK FMSPC " + Hex(out.pck.fmspc) + ", tcb_info.fmspc " + Hex(c.tcb_info.fmspc));
  }
  if (out.pck.pce_id != c.tcb_info.pce_id) {
    return Error(ErrorCode::kCollateralMismatch,
                 "PCK PCE-ID " + Hex(out.pck.pce_id) + ", tcb_info.pceId " + Hex(c.tcb_info.pce_id));
  }
  out.checks.push_back("collateral_platform");

  CMLN_TRY(CheckQeIdentity(q.qe_report, c.qe_identity));
  out.checks.push_back("qe_identity");

  std::vector<std::string> module_advisories;
  CMLN_ASSIGN_OR_RETURN(out.tdx_module_tcb_status, CheckTdxModule(q.body, c.tcb_info, &module_advisories));
  out.checks.push_back("tdx_module");

  // TCB status: a result, not an error.
  if (const TcbLevel* level = MatchPlatformLevel(c.tcb_info, out.pck, q.body)) {
    out.platform_tcb_status = level->status;
    out.tcb_date = level->tcb_date;
    AddAdvisories(out.advisory_ids, level->advisory_ids);
  } else {
    out.platform_tcb_status = TcbStatus::kTcbNotSupported;
  }
  if (const IsvSvnLevel* qe_level = FirstIsvSvnLevel(c.qe_identity.levels, q.qe_report.isv_svn)) {
    out.qe_tcb_status = qe_level->status;
    AddAdvisories(out.advisory_ids, qe_level->advisory_ids);
  } else {
    out.qe_tcb_status = TcbStatus::kOutOfDate;  // below every level Intel lists for the QE
  }
  AddAdvisories(out.advisory_ids, module_advisories);
  out.tcb_status = Converge(Converge(out.platform_tcb_status, out.tdx_module_tcb_status), out.qe_tcb_status);
  if (out.tcb_status == TcbStatus::kTcbNotSupported) out.advisory_ids.clear();
  out.checks.push_back("tcb_status");
  return out;
}

}  // namespace

Result<VerifiedTdxReport> VerifyTdxQuote(ByteView quote, const VerifiedTdxCollateral& collateral,
                                         const std::vector<Certificate>& roots, int64_t now,
                                         const TdxVerifyOptions& options) {
  VerifiedTdxReport out;
  CMLN_ASSIGN_OR_RETURN(out.quote, ParseWithTrailingPolicy(quote, options));
  out.checks.push_back("parse");
  return VerifyParsedQuote(std::move(out), collateral, roots, now, options);
}

Result<VerifiedTdxReport> VerifyTdxQuote(ByteView quote, const TdxCollateral& collateral,
                                         const std::vector<Certificate>& roots, int64_t now,
                                         const TdxVerifyOptions& options) {
  VerifiedTdxReport out;
  CMLN_ASSIGN_OR_RETURN(out.quote, ParseWithTrailingPolicy(quote, options));
  out.checks.push_back("parse");
  CMLN_ASSIGN_OR_RETURN(VerifiedTdxCollateral verified, VerifyTdxCollateral(collateral, roots, now, options.chain));
  return VerifyParsedQuote(std::move(out), verified, roots, now, options);
}

Result<VerifiedTdxReport> VerifyTdxQuoteSignatures(ByteView quote, const std::vector<Certificate>& roots, int64_t now,
                                                   const TdxVerifyOptions& options) {
  VerifiedTdxReport out;
  CMLN_ASSIGN_OR_RETURN(out.quote, ParseWithTrailingPolicy(quote, options));
  out.checks.push_back("parse");
  PckLeaf leaf;
  CMLN_TRY(VerifyQuoteSignatures(out.quote, roots, now, nullptr, options, &leaf, &out.checks));
  CMLN_ASSIGN_OR_RETURN(out.pck, PckExtensionsOf(leaf.cert));
  out.fmspc = out.pck.fmspc;
  return out;
}

Verdict TdxVerdictOf(const VerifiedTdxReport& r) {
  Verdict v;
  v.platform = "tdx";
  v.tcb_status = r.tcb_status;
  v.advisory_ids = r.advisory_ids;
  const TdReport& b = r.quote.body;
  v.measurements["mrtd"] = Hex(b.mr_td);
  for (size_t i = 0; i < 4; ++i) v.measurements["rtmr" + std::to_string(i)] = Hex(b.rtmr[i]);
  v.measurements["mrconfigid"] = Hex(b.mr_config_id);
  v.measurements["mrowner"] = Hex(b.mr_owner);
  v.measurements["mrownerconfig"] = Hex(b.mr_owner_config);
  v.measurements["mrseam"] = Hex(b.mr_seam);
  v.report_data = Hex(b.report_data);
  return v;
}

}  // namespace cmln::attest
