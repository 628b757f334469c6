// Intel DCAP collateral for TDX quotes in the QuoteCollateralV3 JSON layout (as Phala's dcap-qvl):
//
//   { "pck_crl_issuer_chain": PEM, "root_ca_crl": hex DER, "pck_crl": hex DER,
//     "tcb_info_issuer_chain": PEM, "tcb_info": the exact signed JSON text of PCS's "tcbInfo" value,
//     "tcb_info_signature": hex r||s (ECDSA P-256 / SHA-256 over the tcb_info text bytes),
//     "qe_identity_issuer_chain": PEM, "qe_identity": exact signed JSON text of "enclaveIdentity",
//     "qe_identity_signature": hex r||s }
//
// TCB info v3 (Intel PCS API v4): id ("TDX"), version, issueDate, nextUpdate, fmspc, pceId, tcbType,
// tcbEvaluationDataNumber, tdxModule {mrsigner, attributes, attributesMask}, tdxModuleIdentities
// [{id "TDX_xx", mrsigner, attributes, attributesMask, tcbLevels[{tcb{isvsvn}, tcbStatus, advisoryIDs}]}],
// tcbLevels [{tcb {sgxtcbcomponents[16]{svn}, pcesvn, tdxtcbcomponents[16]{svn}}, tcbDate, tcbStatus,
// advisoryIDs}].
// QE identity v2: id ("TD_QE"), version, issueDate, nextUpdate, miscselect, miscselectMask, attributes,
// attributesMask, mrsigner, isvprodid, tcbLevels [{tcb {isvsvn}, tcbStatus, advisoryIDs}].
//
// Parsing checks only the grammar: signatures, chains, CRLs and dates are checked by tdx_verify (the
// collateral is self-authenticating data that anyone may hand us). JSON is parsed without exceptions;
// no json exception escapes this API. Parsed collateral is immutable and may be shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attest/verdict.h"
#include "attest/x509.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::attest {

inline constexpr size_t kMaxCollateralJson = 8 * 1024 * 1024;
inline constexpr size_t kMaxTcbLevels = 256;

struct TcbLevel {
  std::array<uint8_t, 16> sgx_components{};
  uint16_t pcesvn = 0;
  bool has_tdx_components = false;
  std::array<uint8_t, 16> tdx_components{};
  TcbStatus status = TcbStatus::kUnknown;
  std::string tcb_date;
  std::vector<std::string> advisory_ids;
};

// A level of an enclave identity or TDX module identity: only an ISV SVN.
struct IsvSvnLevel {
  uint16_t isvsvn = 0;
  TcbStatus status = TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
};

struct TdxModuleIdentity {
  std::string id;  // "TDX_01", "TDX_03", ... (empty for the "tdxModule" entry)
  std::array<uint8_t, 48> mrsigner{};
  std::array<uint8_t, 8> attributes{};
  std::array<uint8_t, 8> attributes_mask{};
  std::vector<IsvSvnLevel> levels;
};

struct TcbInfo {
  std::string id;  // "TDX" (or "SGX")
  uint32_t version = 0;
  int64_t issue_date = 0;   // unix seconds
  int64_t next_update = 0;  // unix seconds
  std::array<uint8_t, 6> fmspc{};
  std::array<uint8_t, 2> pce_id{};
  uint32_t tcb_type = 0;
  uint32_t tcb_evaluation_data_number = 0;
  std::optional<TdxModuleIdentity> tdx_module;
  std::vector<TdxModuleIdentity> tdx_module_identities;
  std::vector<TcbLevel> levels;  // in collateral order (highest first)
};

struct QeIdentity {
  std::string id;  // "TD_QE" (or "QE")
  uint32_t version = 0;
  int64_t issue_date = 0;
  int64_t next_update = 0;
  uint32_t miscselect = 0;
  uint32_t miscselect_mask = 0;
  std::array<uint8_t, 16> attributes{};
  std::array<uint8_t, 16> attributes_mask{};
  std::array<uint8_t, 32> mrsigner{};
  uint16_t isvprodid = 0;
  std::vector<IsvSvnLevel> levels;
};

struct TdxCollateral {
  std::vector<Certificate> pck_crl_issuer_chain;
  Crl root_ca_crl;
  Crl pck_crl;
  std::vector<Certificate> tcb_info_issuer_chain;
  std::string tcb_info_text;  // exact signed bytes
  Bytes tcb_info_signature;   // r||s
  TcbInfo tcb_info;
  std::vector<Certificate> qe_identity_issuer_chain;
  std::string qe_identity_text;  // exact signed bytes
  Bytes qe_identity_signature;   // r||s
  QeIdentity qe_identity;
};

// Parses the QuoteCollateralV3 JSON document. kBadEncoding for text that is not JSON/hex/PEM; kMalformed
// for a missing field or one of the wrong type or size (the message names the field); kLengthTooLarge
// beyond the caps.
Result<TdxCollateral> ParseTdxCollateral(std::string_view json_text);

// The two signed JSON documents on their own (exposed for the fuzzers and for tests that edit them).
Result<TcbInfo> ParseTcbInfo(std::string_view json_text);
Result<QeIdentity> ParseQeIdentity(std::string_view json_text);

}  // namespace cmln::attest
