#include "common/status.h"

namespace cmln {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kIoError: return "io_error";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kAlreadyExists: return "already_exists";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kTruncated: return "truncated";
    case ErrorCode::kTrailingData: return "trailing_data";
    case ErrorCode::kLengthTooLarge: return "length_too_large";
    case ErrorCode::kMalformed: return "malformed";
    case ErrorCode::kBadEncoding: return "bad_encoding";
    case ErrorCode::kDecryptFailed: return "decrypt_failed";
    case ErrorCode::kBadSignature: return "bad_signature";
    case ErrorCode::kInvalidKey: return "invalid_key";
    case ErrorCode::kSequenceOverflow: return "sequence_overflow";
    case ErrorCode::kUnknownKeyId: return "unknown_key_id";
    case ErrorCode::kReplay: return "replay";
    case ErrorCode::kChecksumMismatch: return "checksum_mismatch";
    case ErrorCode::kChainUntrusted: return "chain_untrusted";
    case ErrorCode::kCertExpired: return "cert_expired";
    case ErrorCode::kCertNotYetValid: return "cert_not_yet_valid";
    case ErrorCode::kCertRevoked: return "cert_revoked";
    case ErrorCode::kCrlExpired: return "crl_expired";
    case ErrorCode::kCrlNotYetValid: return "crl_not_yet_valid";
    case ErrorCode::kCrlBadSignature: return "crl_bad_signature";
    case ErrorCode::kCollateralExpired: return "collateral_expired";
    case ErrorCode::kCollateralNotYetValid: return "collateral_not_yet_valid";
    case ErrorCode::kCollateralBadSignature: return "collateral_bad_signature";
    case ErrorCode::kCollateralMismatch: return "collateral_mismatch";
    case ErrorCode::kQeReportBadSignature: return "qe_report_bad_signature";
    case ErrorCode::kQeReportDataMismatch: return "qe_report_data_mismatch";
    case ErrorCode::kQeIdentityMismatch: return "qe_identity_mismatch";
    case ErrorCode::kInsufficientFunds: return "insufficient_funds";
    case ErrorCode::kSequenceMismatch: return "sequence_mismatch";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kInsufficientFee: return "insufficient_fee";
    case ErrorCode::kNotActive: return "not_active";
    case ErrorCode::kAttestationRevoked: return "attestation_revoked";
    case ErrorCode::kAttestationExpired: return "attestation_expired";
    case ErrorCode::kMeasurementNotApproved: return "measurement_not_approved";
    case ErrorCode::kDebugEnabled: return "debug_enabled";
    case ErrorCode::kSimulatedNotAllowed: return "simulated_not_allowed";
    case ErrorCode::kBindingMismatch: return "binding_mismatch";
    case ErrorCode::kModelMismatch: return "model_mismatch";
    case ErrorCode::kTcbBelowMinimum: return "tcb_below_minimum";
    case ErrorCode::kLimitExceeded: return "limit_exceeded";
    case ErrorCode::kRequesterMismatch: return "requester_mismatch";
  }
  return "unknown";
}

Error Error::WithContext(std::string_view context) const {
  std::string m(context);
  m += ": ";
  m += message_;
  return Error(code_, std::move(m));
}

std::string Error::ToString() const {
  std::string s(ErrorCodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace cmln
