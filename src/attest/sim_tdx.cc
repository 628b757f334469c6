// TDX quote v4 serializer and the sim-tdx generator; the layout is in sim_tdx.h and tdx_quote.h.
#include "attest/sim_tdx.h"

#include <cstring>

#include "common/byte_reader.h"
#include "seal/crypto.h"

namespace cmln::attest {

namespace {

constexpr size_t kHeaderReserved = 4;  // two reserved u16
constexpr size_t kSgxReserved1 = 28, kSgxReserved2 = 32, kSgxReserved3 = 96, kSgxReserved4 = 60;
constexpr size_t kCertDataHeader = 6;  // u16 type, u32 size

void Zeros(ByteWriter& w, size_t n) { w.Bytes(Bytes(n, 0)); }

}  // namespace

Bytes SimTdxQuoteSpec::DefaultQeAuthData() {
  Bytes b(32);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  return b;
}

Bytes SerializeTdxQuoteV4Header(const std::array<uint8_t, 16>& qe_vendor_id, const std::array<uint8_t, 20>& user_data) {
  ByteWriter w(kTdxHeaderSize);
  w.U16LE(kQuoteVersion4);
  w.U16LE(kAttKeyTypeEcdsaP256);
  w.U32LE(kTeeTypeTdx);
  Zeros(w, kHeaderReserved);
  w.Bytes(qe_vendor_id);
  w.Bytes(user_data);
  return w.Take();
}

Bytes SerializeTdReport10(const TdReport& b) {
  ByteWriter w(kTdReport10Size);
  w.Bytes(b.tee_tcb_svn);
  w.Bytes(b.mr_seam);
  w.Bytes(b.mr_signer_seam);
  w.Bytes(b.seam_attributes);
  w.Bytes(b.td_attributes);
  w.Bytes(b.xfam);
  w.Bytes(b.mr_td);
  w.Bytes(b.mr_config_id);
  w.Bytes(b.mr_owner);
  w.Bytes(b.mr_owner_config);
  for (const Mr48& r : b.rtmr) w.Bytes(r);
  w.Bytes(b.report_data);
  return w.Take();
}

Bytes SerializeSgxReport(const SgxReport& q) {
  ByteWriter w(kSgxReportSize);
  w.Bytes(q.cpu_svn);
  w.U32LE(q.misc_select);
  Zeros(w, kSgxReserved1);
  w.Bytes(q.attributes);
  w.Bytes(q.mr_enclave);
  Zeros(w, kSgxReserved2);
  w.Bytes(q.mr_signer);
  Zeros(w, kSgxReserved3);
  w.U16LE(q.isv_prod_id);
  w.U16LE(q.isv_svn);
  Zeros(w, kSgxReserved4);
  w.Bytes(q.report_data);
  return w.Take();
}

Bytes SerializeTdxSignatureData(ByteView quote_signature, ByteView attestation_key, ByteView qe_report,
                                ByteView qe_report_signature, ByteView qe_auth_data, std::string_view pck_chain_pem) {
  // cert_data type 5: the PEM chain, NUL-terminated as Intel's QE writes it.
  const size_t pem_size = pck_chain_pem.size() + 1;
  const size_t type6_size =
      qe_report.size() + qe_report_signature.size() + 2 + qe_auth_data.size() + kCertDataHeader + pem_size;
  ByteWriter w;
  w.U32LE(static_cast<uint32_t>(quote_signature.size() + attestation_key.size() + kCertDataHeader + type6_size));
  w.Bytes(quote_signature);
  w.Bytes(attestation_key);
  w.U16LE(kCertDataQeReport);
  w.U32LE(static_cast<uint32_t>(type6_size));
  w.Bytes(qe_report);
  w.Bytes(qe_report_signature);
  w.U16LE(static_cast<uint16_t>(qe_auth_data.size()));
  w.Bytes(qe_auth_data);
  w.U16LE(kCertDataPckChainPem);
  w.U32LE(static_cast<uint32_t>(pem_size));
  w.Bytes(pck_chain_pem);
  w.U8(0);
  return w.Take();
}

Result<Bytes> GenerateSimTdxQuote(const SimPki& pki, const SimTdxQuoteSpec& spec) {
  if (spec.qe_auth_data.size() > kMaxQeAuthDataSize) {
    return Error(ErrorCode::kInvalidArgument, "qe_auth_data larger than " + std::to_string(kMaxQeAuthDataSize));
  }
  const SimTdxPlatform& p = pki.tdx;
  TdReport body;
  body.tee_tcb_svn = spec.tee_tcb_svn.value_or(p.tee_tcb_svn);
  body.mr_seam = p.mr_seam;
  body.mr_signer_seam = p.mr_signer_seam;
  body.seam_attributes = p.seam_attributes;
  body.td_attributes[3] = kTdAttributesSeptVeDisableByte3;
  if (spec.debug) body.td_attributes[0] |= kTdAttributesDebugByte0;
  body.xfam = p.xfam;
  body.mr_td = spec.mr_td;
  body.mr_config_id = spec.mr_config_id;
  body.mr_owner = spec.mr_owner;
  body.mr_owner_config = spec.mr_owner_config;
  body.rtmr = spec.rtmr;
  body.report_data = spec.report_data;

  // The attestation key the (simulated) QE certifies.
  Result<PrivateKey> att = pki.seed_for_testing
                               ? PrivateKey::DeriveEc("P-256", *pki.seed_for_testing, "tdx.attestation_key")
                               : PrivateKey::GenerateEc("P-256");
  if (!att.ok()) return att.error();
  CMLN_ASSIGN_OR_RETURN(Bytes att_pub, att->RawEcPublicKey());

  SgxReport qe;
  qe.cpu_svn = p.cpusvn;
  qe.misc_select = p.qe_misc_select;
  qe.attributes = p.qe_attributes;
  qe.mr_enclave = p.qe_mr_enclave;
  qe.mr_signer = p.qe_mr_signer;
  qe.isv_prod_id = p.qe_isv_prod_id;
  qe.isv_svn = p.qe_isv_svn;
  const seal::Digest32 binding = seal::Sha256(Concat(ByteView(att_pub), ByteView(spec.qe_auth_data)));
  std::memcpy(qe.report_data.data(), binding.data(), binding.size());
  const Bytes qe_raw = SerializeSgxReport(qe);
  CMLN_ASSIGN_OR_RETURN(Bytes qe_sig, SignEcdsaRaw(pki.pck_key, HashAlg::kSha256, qe_raw));

  const std::array<uint8_t, 20> user_data{};
  Bytes quote =
      Concat(ByteView(SerializeTdxQuoteV4Header(kIntelQeVendorId, user_data)), ByteView(SerializeTdReport10(body)));
  CMLN_ASSIGN_OR_RETURN(Bytes quote_sig, SignEcdsaRaw(*att, HashAlg::kSha256, quote));
  const std::string pem = CertificatePem(pki.pck) + CertificatePem(pki.pck_ca) + CertificatePem(pki.intel_root);
  Append(quote, SerializeTdxSignatureData(quote_sig, att_pub, qe_raw, qe_sig, spec.qe_auth_data, pem));
  return quote;
}

}  // namespace cmln::attest
