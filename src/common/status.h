// Errors as values for every layer of Confidential MLNode.
//
// An Error carries a stable ErrorCode (numbers are never renumbered or reused; new codes are appended)
// and a human message. The code says what the caller should do; the message says what happened and
// where (offsets, field names), and never contains secrets or plaintext.
//
// Result<T> holds either a T or an Error; Status is Result<void>. Both are [[nodiscard]].
// Library code never throws across its public API; untrusted input never reaches an assert.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace cmln {

// Stable error codes. Grouped by hundreds; the numeric value and the name are part of the API
// (CLI JSON output, HTTP error bodies, chain tx results).
enum class ErrorCode : uint16_t {
  kOk = 0,
  // Generic (1..99)
  kInvalidArgument = 1,  // caller passed something unusable (not outside bytes)
  kInternal = 2,         // a library call failed unexpectedly (OpenSSL allocation etc.)
  kIoError = 3,          // filesystem or socket error
  kNotFound = 4,
  kAlreadyExists = 5,
  kPermissionDenied = 6,
  kUnsupported = 7,      // well-formed but not supported (unknown suite, version)
  // Malformed outside bytes (100..199)
  kTruncated = 100,        // input ended before a field was complete
  kTrailingData = 101,     // bytes left over after a complete structure
  kLengthTooLarge = 102,   // a length or count exceeds the cap for this field
  kMalformed = 103,        // a field has a value the grammar forbids
  kBadEncoding = 104,      // hex/base64/bech32/JSON text that does not decode
  // Cryptography (200..299)
  kDecryptFailed = 200,     // AEAD authentication failed; deliberately unspecific
  kBadSignature = 201,
  kInvalidKey = 202,        // key bytes are not a valid key (wrong size, not on curve, low order)
  kSequenceOverflow = 203,  // HPKE/chunk sequence number would repeat a nonce
  kUnknownKeyId = 204,      // OHTTP key id / envelope recipient key id not ours
  kReplay = 205,            // the same message was seen before
  kChecksumMismatch = 206,  // bech32 checksum, digest mismatch
  // Attestation evidence and collateral (300..399). Each names one distinct reason a verifier refuses.
  kChainUntrusted = 300,           // a certificate chain does not lead to a pinned root (or a link's signature fails)
  kCertExpired = 301,              // a certificate of a chain is past notAfter at `now`
  kCertNotYetValid = 302,          // a certificate of a chain is before notBefore at `now`
  kCertRevoked = 303,              // a certificate's serial is on its issuer's CRL
  kCrlExpired = 304,               // a CRL is past nextUpdate at `now`
  kCrlNotYetValid = 305,           // a CRL's thisUpdate is after `now`
  kCrlBadSignature = 306,          // a CRL is not signed by the issuer it names
  kCollateralExpired = 307,        // TCB info / QE identity past nextUpdate at `now`
  kCollateralNotYetValid = 308,    // TCB info / QE identity issueDate after `now`
  kCollateralBadSignature = 309,   // TCB info / QE identity text not signed by its issuer chain leaf
  kCollateralMismatch = 310,       // collateral of another platform (FMSPC, PCE id, TEE type, TDX module)
  kQeReportBadSignature = 311,     // the PCK key's signature over the quoting enclave report fails
  kQeReportDataMismatch = 312,     // QE report data does not bind the attestation key and QE auth data
  kQeIdentityMismatch = 313,       // the quoting enclave is not the one the QE identity describes
  // Chain state machine (500..599): why a transaction or message was refused (tx result codes).
  kInsufficientFunds = 500,       // balance or escrow remainder too small for the debit asked
  kSequenceMismatch = 501,        // account sequence or usage batch_seq is not the next one (a gap)
  kUnauthorized = 502,            // the signer may not do this (not the authority, not the owner)
  kInsufficientFee = 503,         // fee below the chain's minimum
  kNotActive = 504,               // release retired or outside its epochs; escrow closed past its grace window
  kAttestationRevoked = 505,      // the node's attestation (and so its key) was revoked
  kAttestationExpired = 506,      // the node's attestation expired
  kMeasurementNotApproved = 507,  // measurements not those of an active release for the model
  kDebugEnabled = 508,            // evidence from a debug TD / debug SNP guest
  kSimulatedNotAllowed = 509,     // simulated TEE evidence on a chain that does not allow it
  kBindingMismatch = 510,         // report data bound to another chain, epoch, epoch nonce, participant or node
  kModelMismatch = 511,           // usage or attestation for another model than the escrow's or release's
  kTcbBelowMinimum = 512,         // TCB status below the release's minimum
  kLimitExceeded = 513,           // an amount or count outside the governance limits
  kRequesterMismatch = 514,       // batch entry's requester key hash is not the escrow owner's key
};

// Stable snake_case name of a code, e.g. "decrypt_failed".
std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed with `context: `. The code is unchanged so callers
  // can still branch on it after propagation through layers.
  Error WithContext(std::string_view context) const;

  // "name: message"
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // REQUIRES: !ok()
  const Error& error() const { return err_; }

 private:
  Error err_{ErrorCode::kOk, ""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace cmln

// Propagation helpers. CMLN_TRY(expr) returns the error of a failed Status/Result from the
// enclosing function. CMLN_ASSIGN_OR_RETURN(lhs, expr) evaluates a Result and moves its value into lhs.
#define CMLN_CONCAT_INNER_(a, b) a##b
#define CMLN_CONCAT_(a, b) CMLN_CONCAT_INNER_(a, b)

#define CMLN_TRY(expr)                                    \
  do {                                                    \
    auto&& cmln_try_result_ = (expr);                     \
    if (!cmln_try_result_.ok()) return cmln_try_result_.error(); \
  } while (0)

#define CMLN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.error();                \
  lhs = std::move(tmp).value()

#define CMLN_ASSIGN_OR_RETURN(lhs, expr) \
  CMLN_ASSIGN_OR_RETURN_IMPL_(CMLN_CONCAT_(cmln_result_, __LINE__), lhs, expr)
