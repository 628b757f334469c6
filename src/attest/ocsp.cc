// OCSP snapshot checking and minting; contract and grammar in ocsp.h.
#include "attest/ocsp.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace cmln::attest {
namespace {

struct OcspResponseFree {
  void operator()(OCSP_RESPONSE* r) const { OCSP_RESPONSE_free(r); }
};
struct BasicRespFree {
  void operator()(OCSP_BASICRESP* b) const { OCSP_BASICRESP_free(b); }
};
struct CertIdFree {
  void operator()(OCSP_CERTID* c) const { OCSP_CERTID_free(c); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct CertStackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }  // the certificates are borrowed
};
struct AsnTimeFree {
  void operator()(ASN1_TIME* t) const { ASN1_TIME_free(t); }
};

using BasicResp = std::unique_ptr<OCSP_BASICRESP, BasicRespFree>;

// One response that parsed, is signed by `signer` and whose signer chains to the pinned roots.
struct VerifiedResponse {
  std::shared_ptr<OCSP_BASICRESP> basic;
  Certificate signer;
  size_t index = 0;  // position among the responses given, for messages
};

std::string Where(size_t index) { return "ocsp response " + std::to_string(index); }

std::string AsnTimeText(const ASN1_GENERALIZEDTIME* t) {
  if (t == nullptr) return "(absent)";
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(t)),
                     static_cast<size_t>(ASN1_STRING_length(t)));
}

// Borrowed stack of the chain's certificates, for OpenSSL's signer look-up.
std::unique_ptr<STACK_OF(X509), CertStackFree> BorrowedStack(const std::vector<Certificate>& certs) {
  std::unique_ptr<STACK_OF(X509), CertStackFree> stack(sk_X509_new_null());
  if (stack == nullptr) return stack;
  for (const auto& c : certs) {
    if (sk_X509_push(stack.get(), c.get()) <= 0) return nullptr;
  }
  return stack;
}

Result<VerifiedResponse> ParseAndVerify(ByteView der, size_t index, const std::vector<Certificate>& path,
                                        const std::vector<Certificate>& roots, int64_t now) {
  const std::string where = Where(index);
  if (der.size() > kMaxOcspResponseDer) {
    return Error(ErrorCode::kLengthTooLarge, where + ": " + std::to_string(der.size()) + " bytes exceeds cap");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<OCSP_RESPONSE, OcspResponseFree> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (resp == nullptr) return Error(ErrorCode::kBadEncoding, where + ": DER does not parse as OCSPResponse");
  if (p != der.data() + der.size()) {
    return Error(ErrorCode::kTrailingData,
                 where + ": bytes after the DER OCSPResponse at offset " + std::to_string(p - der.data()));
  }
  const int status = OCSP_response_status(resp.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return Error(ErrorCode::kMalformed, where + ": responseStatus " + std::to_string(status) + " (" +
                                            OCSP_response_status_str(status) + "), not successful");
  }
  BasicResp basic(OCSP_response_get1_basic(resp.get()));
  if (basic == nullptr) return Error(ErrorCode::kMalformed, where + ": responseBytes is not a basic response");

  auto extra = BorrowedStack(path);
  if (extra == nullptr) return Error(ErrorCode::kInternal, where + ": certificate stack");
  X509* signer_raw = nullptr;
  if (OCSP_resp_get0_signer(basic.get(), &signer_raw, extra.get()) != 1 || signer_raw == nullptr) {
    return Error(
        ErrorCode::kCollateralBadSignature,
        where + ": the responder certificate named by responderID is neither in the response nor in the chain");
  }
  X509_up_ref(signer_raw);
  VerifiedResponse out;
  out.signer = Certificate(signer_raw);
  out.index = index;

  // Signature only (OCSP_NOVERIFY): OpenSSL would check the signer's chain at the current time, so the
  // chain is verified below with VerifyChain at `now`.
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  if (store == nullptr) return Error(ErrorCode::kInternal, where + ": X509_STORE_new");
  if (OCSP_basic_verify(basic.get(), extra.get(), store.get(), OCSP_NOVERIFY) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kCollateralBadSignature,
                 where + ": signature does not verify with the key of '" + out.signer.Subject() + "'");
  }
  std::vector<Certificate> signer_chain{out.signer};
  signer_chain.insert(signer_chain.end(), path.begin(), path.end());
  auto chained = VerifyChain(signer_chain, roots, now, {});
  if (!chained.ok()) {
    return Error(ErrorCode::kCollateralBadSignature,
                 where + ": responder '" + out.signer.Subject() +
                     "' does not chain to a pinned root: " + chained.error().ToString());
  }
  out.basic = std::shared_ptr<OCSP_BASICRESP>(basic.release(), BasicRespFree());
  return out;
}

struct Found {
  const VerifiedResponse* response = nullptr;
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
};

// The first response with a SingleResponse for (subject, issuer) under any of the certID hashes.
Result<Found> FindStatus(const std::vector<VerifiedResponse>& responses, const Certificate& subject,
                         const Certificate& issuer) {
  const EVP_MD* hashes[] = {EVP_sha384(), EVP_sha256(), EVP_sha1(), EVP_sha512()};
  for (const auto& r : responses) {
    for (const EVP_MD* md : hashes) {
      std::unique_ptr<OCSP_CERTID, CertIdFree> id(OCSP_cert_to_id(md, subject.get(), issuer.get()));
      if (id == nullptr) return Error(ErrorCode::kInternal, "ocsp: OCSP_cert_to_id");
      Found f;
      f.response = &r;
      if (OCSP_resp_find_status(r.basic.get(), id.get(), &f.status, &f.reason, &f.revoked_at, &f.this_update,
                                &f.next_update) == 1) {
        return f;
      }
    }
  }
  return Error(ErrorCode::kCollateralMismatch,
               "ocsp: no response has a status for '" + subject.Subject() + "' (issuer '" + issuer.Subject() + "')");
}

bool IsAuthorized(const Certificate& signer, const Certificate& issuer) {
  if (X509_cmp(signer.get(), issuer.get()) == 0) return true;
  const uint32_t flags = X509_get_extension_flags(signer.get());
  return (flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(signer.get()) & XKU_OCSP_SIGN) != 0;
}

const EVP_MD* MdOf(HashAlg h) {
  switch (h) {
    case HashAlg::kSha256: return EVP_sha256();
    case HashAlg::kSha512: return EVP_sha512();
    case HashAlg::kSha384: break;
  }
  return EVP_sha384();
}

}  // namespace

Result<OcspCheck> CheckOcspRevocation(const std::vector<Certificate>& path, size_t first_index,
                                      const std::vector<Bytes>& responses, const std::vector<Certificate>& roots,
                                      int64_t now) {
  OcspCheck out;
  if (responses.empty()) return out;
  if (responses.size() > kMaxOcspResponses) {
    return Error(ErrorCode::kLengthTooLarge, "ocsp: " + std::to_string(responses.size()) + " responses exceed cap");
  }
  std::vector<VerifiedResponse> verified;
  for (size_t i = 0; i < responses.size(); ++i) {
    CMLN_ASSIGN_OR_RETURN(VerifiedResponse v, ParseAndVerify(responses[i], i, path, roots, now));
    verified.push_back(std::move(v));
  }
  time_t now_t = static_cast<time_t>(now);
  for (size_t i = first_index; i + 1 < path.size(); ++i) {
    const Certificate& subject = path[i];
    const Certificate& issuer = path[i + 1];
    CMLN_ASSIGN_OR_RETURN(Found f, FindStatus(verified, subject, issuer));
    const std::string where = Where(f.response->index) + " for '" + subject.Subject() + "'";
    if (!IsAuthorized(f.response->signer, issuer)) {
      return Error(ErrorCode::kCollateralBadSignature,
                   where + ": responder '" + f.response->signer.Subject() +
                       "' is neither the issuer nor an OCSP signer (no id-kp-OCSPSigning)");
    }
    if (f.this_update == nullptr || X509_cmp_time(f.this_update, &now_t) >= 0) {
      return Error(ErrorCode::kCollateralNotYetValid,
                   where + ": thisUpdate " + AsnTimeText(f.this_update) + " is after now");
    }
    if (f.next_update == nullptr || X509_cmp_time(f.next_update, &now_t) <= 0) {
      return Error(ErrorCode::kCollateralExpired,
                   where + ": nextUpdate " + AsnTimeText(f.next_update) + " is not after now (stale snapshot)");
    }
    if (f.status == V_OCSP_CERTSTATUS_REVOKED) {
      return Error(ErrorCode::kCertRevoked, where + ": revoked at " + AsnTimeText(f.revoked_at) + ", reason " +
                                                (f.reason >= 0 ? OCSP_crl_reason_str(f.reason) : "unspecified"));
    }
    if (f.status != V_OCSP_CERTSTATUS_GOOD) {
      return Error(ErrorCode::kCollateralMismatch, where + ": status unknown to the responder");
    }
    ++out.certificates_checked;
  }
  return out;
}

Result<Bytes> MintOcspResponse(const OcspResponseSpec& spec, const Certificate& responder,
                               const PrivateKey& responder_key) {
  if (responder.empty() || responder_key.empty()) return Error(ErrorCode::kInvalidArgument, "ocsp mint: no responder");
  BasicResp basic(OCSP_BASICRESP_new());
  if (basic == nullptr) return Error(ErrorCode::kInternal, "ocsp mint: OCSP_BASICRESP_new");
  for (const auto& e : spec.entries) {
    if (e.subject.empty() || e.issuer.empty())
      return Error(ErrorCode::kInvalidArgument, "ocsp mint: entry certificates");
    std::unique_ptr<OCSP_CERTID, CertIdFree> id(
        OCSP_cert_to_id(MdOf(spec.cert_id_hash), e.subject.get(), e.issuer.get()));
    std::unique_ptr<ASN1_TIME, AsnTimeFree> this_update(
        ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(e.this_update)));
    std::unique_ptr<ASN1_TIME, AsnTimeFree> next_update(
        e.next_update != 0 ? ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(e.next_update)) : nullptr);
    std::unique_ptr<ASN1_TIME, AsnTimeFree> revoked_at(
        e.status == OcspCertStatus::kRevoked ? ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(e.revocation_time))
                                             : nullptr);
    if (id == nullptr || this_update == nullptr) return Error(ErrorCode::kInternal, "ocsp mint: certID / times");
    const int status = e.status == OcspCertStatus::kGood      ? V_OCSP_CERTSTATUS_GOOD
                       : e.status == OcspCertStatus::kRevoked ? V_OCSP_CERTSTATUS_REVOKED
                                                              : V_OCSP_CERTSTATUS_UNKNOWN;
    if (OCSP_basic_add1_status(basic.get(), id.get(), status, e.revocation_reason, revoked_at.get(), this_update.get(),
                               next_update.get()) == nullptr) {
      return Error(ErrorCode::kInternal, "ocsp mint: OCSP_basic_add1_status");
    }
  }
  unsigned long flags = 0;
  std::unique_ptr<STACK_OF(X509), CertStackFree> extra;
  if (spec.include_responder_cert) {
    extra = BorrowedStack(spec.extra_certs);
    if (extra == nullptr) return Error(ErrorCode::kInternal, "ocsp mint: certificate stack");
  } else {
    flags |= OCSP_NOCERTS;
  }
  if (OCSP_basic_sign(basic.get(), responder.get(), responder_key.get(), EVP_sha384(), extra.get(), flags) != 1) {
    ERR_clear_error();
    return Error(ErrorCode::kInternal, "ocsp mint: OCSP_basic_sign");
  }
  if (!spec.include_responder_cert) {
    for (const auto& c : spec.extra_certs) {
      if (OCSP_basic_add1_cert(basic.get(), c.get()) != 1) return Error(ErrorCode::kInternal, "ocsp mint: add cert");
    }
  }
  std::unique_ptr<OCSP_RESPONSE, OcspResponseFree> resp(
      OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (resp == nullptr) return Error(ErrorCode::kInternal, "ocsp mint: OCSP_response_create");
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(resp.get(), &der);
  if (len <= 0) return Error(ErrorCode::kInternal, "ocsp mint: i2d_OCSP_RESPONSE");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace cmln::attest
