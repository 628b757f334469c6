// Codec for Intel TDX DCAP quotes v4/v5; the grammar is in tdx_quote.h.
#include "attest/tdx_quote.h"

#include <algorithm>
#include <cstring>

#include "common/byte_reader.h"

namespace cmln::attest {

namespace {

Status ParseTdReport(ByteReader& r, uint16_t body_type, TdReport& t) {
  t.body_type = body_type;
  CMLN_TRY(r.Array(t.tee_tcb_svn, "td_report.tee_tcb_svn"));
  CMLN_TRY(r.Array(t.mr_seam, "td_report.mr_seam"));
  CMLN_TRY(r.Array(t.mr_signer_seam, "td_report.mr_signer_seam"));
  CMLN_TRY(r.Array(t.seam_attributes, "td_report.seam_attributes"));
  CMLN_TRY(r.Array(t.td_attributes, "td_report.td_attributes"));
  CMLN_TRY(r.Array(t.xfam, "td_report.xfam"));
  CMLN_TRY(r.Array(t.mr_td, "td_report.mr_td"));
  CMLN_TRY(r.Array(t.mr_config_id, "td_report.mr_config_id"));
  CMLN_TRY(r.Array(t.mr_owner, "td_report.mr_owner"));
  CMLN_TRY(r.Array(t.mr_owner_config, "td_report.mr_owner_config"));
  for (auto& rtmr : t.rtmr) CMLN_TRY(r.Array(rtmr, "td_report.rtmr"));
  CMLN_TRY(r.Array(t.report_data, "td_report.report_data"));
  if (body_type == kBodyTypeTdReport15) {
    CMLN_TRY(r.Array(t.tee_tcb_svn2, "td_report.tee_tcb_svn2"));
    CMLN_TRY(r.Array(t.mr_service_td, "td_report.mr_service_td"));
  }
  return OkStatus();
}

Status ParseSgxReport(ByteReader& r, SgxReport& q) {
  CMLN_TRY(r.Array(q.cpu_svn, "qe_report.cpu_svn"));
  CMLN_ASSIGN_OR_RETURN(q.misc_select, r.U32LE("qe_report.misc_select"));
  CMLN_TRY(r.Skip(28, "qe_report.reserved1"));
  CMLN_TRY(r.Array(q.attributes, "qe_report.attributes"));
  CMLN_TRY(r.Array(q.mr_enclave, "qe_report.mr_enclave"));
  CMLN_TRY(r.Skip(32, "qe_report.reserved2"));
  CMLN_TRY(r.Array(q.mr_signer, "qe_report.mr_signer"));
  CMLN_TRY(r.Skip(96, "qe_report.reserved3"));
  CMLN_ASSIGN_OR_RETURN(q.isv_prod_id, r.U16LE("qe_report.isv_prod_id"));
  CMLN_ASSIGN_OR_RETURN(q.isv_svn, r.U16LE("qe_report.isv_svn"));
  CMLN_TRY(r.Skip(60, "qe_report.reserved4"));
  CMLN_TRY(r.Array(q.report_data, "qe_report.report_data"));
  return OkStatus();
}

// cert_data = u16 type u32 size data(size); returns a child reader over data.
Result<ByteReader> ReadCertData(ByteReader& r, uint16_t want_type, size_t cap, std::string_view what) {
  const size_t at = r.offset();
  CMLN_ASSIGN_OR_RETURN(uint16_t type, r.U16LE(std::string(what) + ".type"));
  if (type != want_type) {
    return Error(ErrorCode::kUnsupported, std::string(what) + " at offset " + std::to_string(at) + ": type " +
                                              std::to_string(type) + ", want " + std::to_string(want_type));
  }
  CMLN_ASSIGN_OR_RETURN(uint32_t size, r.U32LE(std::string(what) + ".size"));
  if (size > cap) {
    return Error(ErrorCode::kLengthTooLarge,
                 std::string(what) + ".size " + std::to_string(size) + " exceeds cap " + std::to_string(cap));
  }
  return r.Child(size, std::string(what) + ".data");
}

}  // namespace

Result<TdxQuote> ParseTdxQuote(ByteView quote) {
  TdxQuote q;
  ByteReader r(quote);
  CMLN_ASSIGN_OR_RETURN(q.version, r.U16LE("header.version"));
  if (q.version != kQuoteVersion4 && q.version != kQuoteVersion5) {
    return Error(ErrorCode::kUnsupported, "header.version " + std::to_string(q.version) + " (want 4 or 5)");
  }
  CMLN_ASSIGN_OR_RETURN(q.att_key_type, r.U16LE("header.att_key_type"));
  if (q.att_key_type != kAttKeyTypeEcdsaP256) {
    return Error(ErrorCode::kUnsupported, "header.att_key_type " + std::to_string(q.att_key_type) + " (want 2)");
  }
  CMLN_ASSIGN_OR_RETURN(q.tee_type, r.U32LE("header.tee_type"));
  if (q.tee_type != kTeeTypeTdx) {
    return Error(ErrorCode::kUnsupported, "header.tee_type " + std::to_string(q.tee_type) + " (want 0x81)");
  }
  CMLN_TRY(r.Skip(4, "header.reserved"));
  CMLN_TRY(r.Array(q.qe_vendor_id, "header.qe_vendor_id"));
  CMLN_TRY(r.Array(q.user_data, "header.user_data"));

  uint16_t body_type = kBodyTypeTdReport10;
  size_t body_size = kTdReport10Size;
  if (q.version == kQuoteVersion5) {
    CMLN_ASSIGN_OR_RETURN(body_type, r.U16LE("body_type"));
    CMLN_ASSIGN_OR_RETURN(uint32_t size, r.U32LE("body_size"));
    if (body_type == kBodyTypeTdReport10) {
      body_size = kTdReport10Size;
    } else if (body_type == kBodyTypeTdReport15) {
      body_size = kTdReport15Size;
    } else {
      return Error(ErrorCode::kUnsupported, "body_type " + std::to_string(body_type) + " (want 2 or 3)");
    }
    if (size != body_size) {
      return Error(ErrorCode::kMalformed, "body_size " + std::to_string(size) + " for body_type " +
                                              std::to_string(body_type) + " (want " + std::to_string(body_size) + ")");
    }
  }
  q.body_offset = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteReader body, r.Child(body_size, "td_report"));
  CMLN_TRY(ParseTdReport(body, body_type, q.body));
  q.signed_region.assign(quote.begin(), quote.begin() + static_cast<std::ptrdiff_t>(r.offset()));

  CMLN_ASSIGN_OR_RETURN(uint32_t sig_len, r.U32LE("sig_data_len"));
  if (sig_len > kMaxSigDataSize) {
    return Error(ErrorCode::kLengthTooLarge, "sig_data_len " + std::to_string(sig_len) + " exceeds cap");
  }
  q.sig_data_offset = r.offset();
  CMLN_ASSIGN_OR_RETURN(ByteReader sig, r.Child(sig_len, "sig_data"));
  CMLN_TRY(sig.Array(q.signature, "sig_data.ecdsa_signature"));
  CMLN_TRY(sig.Array(q.attestation_key, "sig_data.attestation_key"));
  CMLN_ASSIGN_OR_RETURN(ByteReader qe_cert, ReadCertData(sig, kCertDataQeReport, kMaxSigDataSize, "qe_cert_data"));
  CMLN_TRY(sig.ExpectEnd("sig_data"));

  q.qe_report_offset = qe_cert.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView qe_raw, qe_cert.Bytes(kSgxReportSize, "qe_report"));
  q.qe_report_raw = ToBytes(qe_raw);
  ByteReader qe_reader(qe_raw, q.qe_report_offset);
  CMLN_TRY(ParseSgxReport(qe_reader, q.qe_report));
  CMLN_TRY(qe_cert.Array(q.qe_report_signature, "qe_report_signature"));
  CMLN_ASSIGN_OR_RETURN(uint16_t auth_len, qe_cert.U16LE("qe_auth_data.size"));
  if (auth_len > kMaxQeAuthDataSize) {
    return Error(ErrorCode::kLengthTooLarge, "qe_auth_data.size " + std::to_string(auth_len) + " exceeds cap");
  }
  q.qe_auth_data_offset = qe_cert.offset();
  CMLN_ASSIGN_OR_RETURN(ByteView auth, qe_cert.Bytes(auth_len, "qe_auth_data"));
  q.qe_auth_data = ToBytes(auth);
  CMLN_ASSIGN_OR_RETURN(ByteReader pck, ReadCertData(qe_cert, kCertDataPckChainPem, kMaxPckChainSize, "pck_cert_data"));
  CMLN_TRY(qe_cert.ExpectEnd("qe_cert_data"));
  q.pck_chain_offset = pck.offset();
  std::string_view pem = AsChars(pck.TakeRest());
  while (!pem.empty() && pem.back() == '\0') pem.remove_suffix(1);
  q.pck_chain_pem.assign(pem);

  q.quote_size = r.offset();
  const ByteView rest = r.TakeRest();
  q.trailing_bytes = rest.size();
  q.trailing_all_zero = std::all_of(rest.begin(), rest.end(), [](uint8_t b) { return b == 0; });
  return q;
}

}  // namespace cmln::attest
