// Intel TDX DCAP quote, versions 4 and 5: bytes <-> struct. Parsing knows no cryptography; it checks the
// grammar (sizes, versions, types) and hands the signed regions to tdx_verify.
//
// Grammar (all integers little-endian; Intel TDX DCAP Quoting Library API, appendix "Quote Format"):
//
//   quote_v4   = header(48) td_report10(584) u32 sig_data_len sig_data(sig_data_len) [padding]
//   quote_v5   = header(48) u16 body_type u32 body_size body(body_size) u32 sig_data_len sig_data [padding]
//                body_type 2 -> td_report10 (584), 3 -> td_report15 (648)
//   header     = u16 version(4|5) u16 att_key_type(2 = ECDSA-256 P-256) u32 tee_type(0x81 = TDX)
//                u16 reserved u16 reserved u8 qe_vendor_id[16] u8 user_data[20]
//   td_report10 = tee_tcb_svn[16] mr_seam[48] mr_signer_seam[48] seam_attributes[8] td_attributes[8] xfam[8]
//                mr_td[48] mr_config_id[48] mr_owner[48] mr_owner_config[48] rtmr0..3[48 each]
//                report_data[64]
//   td_report15 = td_report10 tee_tcb_svn2[16] mr_service_td[48]
//   sig_data   = ecdsa_sig[64] (r||s over header||body) attestation_key[64] (x||y P-256)
//                cert_data(type 6)
//   cert_data  = u16 type u32 size data(size)
//   type 6 data = qe_report(384, an SGX REPORT body) qe_report_sig[64] (PCK over qe_report)
//                u16 qe_auth_len qe_auth_data(qe_auth_len) cert_data(type 5)
//   type 5 data = PEM: PCK leaf, PCK platform/processor CA, root CA (possibly NUL-terminated)
//   qe_report  = cpu_svn[16] u32 misc_select reserved[28] attributes[16] mr_enclave[32] reserved[32]
//                mr_signer[32] reserved[96] u16 isv_prod_id u16 isv_svn reserved[60] report_data[64]
//
// The signed region of the quote signature is header||body (v5: including body_type and body_size).
// Bytes after sig_data are not covered by any signature; they are recorded (size, whether all zero) and
// never exposed as quote content. Real quotes read from configfs-tsm arrive zero-padded (case T10).
//
// Ownership: TdxQuote owns copies of every field, so it outlives the input buffer.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

// Layout constants.
inline constexpr size_t kTdxHeaderSize = 48;
inline constexpr size_t kTdReport10Size = 584;
inline constexpr size_t kTdReport15Size = 648;
inline constexpr size_t kTdxV5BodyDescriptorSize = 6;  // u16 body_type, u32 body_size
inline constexpr size_t kSgxReportSize = 384;
inline constexpr size_t kEcdsaP256SigSize = 64;
inline constexpr size_t kEcdsaP256KeySize = 64;

inline constexpr uint16_t kQuoteVersion4 = 4;
inline constexpr uint16_t kQuoteVersion5 = 5;
inline constexpr uint16_t kAttKeyTypeEcdsaP256 = 2;
inline constexpr uint32_t kTeeTypeTdx = 0x81;
inline constexpr uint16_t kBodyTypeTdReport10 = 2;
inline constexpr uint16_t kBodyTypeTdReport15 = 3;
inline constexpr uint16_t kCertDataQeReport = 6;
inline constexpr uint16_t kCertDataPckChainPem = 5;

// Header field offsets.
inline constexpr size_t kHdrVersion = 0;
inline constexpr size_t kHdrAttKeyType = 2;
inline constexpr size_t kHdrTeeType = 4;
inline constexpr size_t kHdrQeVendorId = 12;
inline constexpr size_t kHdrUserData = 28;

// TD report field offsets (relative to the start of the body).
inline constexpr size_t kTdTeeTcbSvn = 0;
inline constexpr size_t kTdMrSeam = 16;
inline constexpr size_t kTdMrSignerSeam = 64;
inline constexpr size_t kTdSeamAttributes = 112;
inline constexpr size_t kTdAttributes = 120;
inline constexpr size_t kTdXfam = 128;
inline constexpr size_t kTdMrTd = 136;
inline constexpr size_t kTdMrConfigId = 184;
inline constexpr size_t kTdMrOwner = 232;
inline constexpr size_t kTdMrOwnerConfig = 280;
inline constexpr size_t kTdRtmr0 = 328;  // rtmr[i] at kTdRtmr0 + 48 * i
inline constexpr size_t kTdReportData = 520;
inline constexpr size_t kTdTeeTcbSvn2 = 584;
inline constexpr size_t kTdMrServiceTd = 600;

// SGX REPORT body offsets (the QE report).
inline constexpr size_t kSgxCpuSvn = 0;
inline constexpr size_t kSgxMiscSelect = 16;
inline constexpr size_t kSgxAttributes = 48;
inline constexpr size_t kSgxMrEnclave = 64;
inline constexpr size_t kSgxMrSigner = 128;
inline constexpr size_t kSgxIsvProdId = 256;
inline constexpr size_t kSgxIsvSvn = 258;
inline constexpr size_t kSgxReportData = 320;

// Caps on lengths inside the quote, checked before anything is copied.
inline constexpr size_t kMaxSigDataSize = 64 * 1024;
inline constexpr size_t kMaxQeAuthDataSize = 4 * 1024;
inline constexpr size_t kMaxPckChainSize = 32 * 1024;

using Mr48 = std::array<uint8_t, 48>;

struct TdReport {
  uint16_t body_type = kBodyTypeTdReport10;  // 2 (TDX 1.0) or 3 (TDX 1.5)
  std::array<uint8_t, 16> tee_tcb_svn{};
  Mr48 mr_seam{};
  Mr48 mr_signer_seam{};
  std::array<uint8_t, 8> seam_attributes{};
  std::array<uint8_t, 8> td_attributes{};
  std::array<uint8_t, 8> xfam{};
  Mr48 mr_td{};
  Mr48 mr_config_id{};
  Mr48 mr_owner{};
  Mr48 mr_owner_config{};
  std::array<Mr48, 4> rtmr{};
  std::array<uint8_t, 64> report_data{};
  // TDX 1.5 only (zero for body type 2).
  std::array<uint8_t, 16> tee_tcb_svn2{};
  Mr48 mr_service_td{};

  // TD_ATTRIBUTES bit 0 (TUD.DEBUG).
  bool debug() const { return (td_attributes[0] & 0x01) != 0; }
};

struct SgxReport {
  std::array<uint8_t, 16> cpu_svn{};
  uint32_t misc_select = 0;
  std::array<uint8_t, 16> attributes{};
  std::array<uint8_t, 32> mr_enclave{};
  std::array<uint8_t, 32> mr_signer{};
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  std::array<uint8_t, 64> report_data{};
};

struct TdxQuote {
  uint16_t version = 0;
  uint16_t att_key_type = 0;
  uint32_t tee_type = 0;
  std::array<uint8_t, 16> qe_vendor_id{};
  std::array<uint8_t, 20> user_data{};
  TdReport body;

  Bytes signed_region;  // header||body exactly as received (what the quote signature covers)
  std::array<uint8_t, kEcdsaP256SigSize> signature{};       // r||s
  std::array<uint8_t, kEcdsaP256KeySize> attestation_key{};  // x||y
  Bytes qe_report_raw;                                       // the 384 signed bytes
  SgxReport qe_report;
  std::array<uint8_t, kEcdsaP256SigSize> qe_report_signature{};
  Bytes qe_auth_data;
  std::string pck_chain_pem;  // as carried (NUL terminator kept out)

  // Absolute offsets of the regions, for messages and byte-flip tests.
  size_t body_offset = 0;
  size_t sig_data_offset = 0;  // first byte after the u32 sig_data_len
  size_t qe_report_offset = 0;
  size_t qe_auth_data_offset = 0;
  size_t pck_chain_offset = 0;

  size_t quote_size = 0;       // bytes the grammar consumed
  size_t trailing_bytes = 0;   // bytes after the quote
  bool trailing_all_zero = true;
};

// Parses a v4/v5 TDX quote. On failure: kTruncated (with offset), kUnsupported (version, key type, TEE
// type, body type, certification data type), kLengthTooLarge (a length over its cap), kMalformed
// (inconsistent sizes). Trailing bytes are accepted and recorded (see the grammar comment); whether they
// are tolerated is the verifier's option.
Result<TdxQuote> ParseTdxQuote(ByteView quote);

}  // namespace cmln::attest
