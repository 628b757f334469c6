// The chain's view of attestation verification: one pure interface the keeper calls at delivery of
// MsgSubmitTeeAttestation and MsgSubmitCollateral, and at each epoch boundary (re-evaluation).
//
// Division of work (STYLE point 1, "parse, verify, validate"):
//   * the verifier (attest library) parses the bundle and verifies cryptography: CPU evidence signatures
//     and chains to the pinned roots in TrustSettings, CRLs, collateral signatures and validity at `now`,
//     QE identity, GPU evidence and its nonce, and that the report data is the SHA-512 commitment to the
//     bundle's own binding, keys, model digest and GPU evidence (so every field it returns is attested);
//   * the keeper then applies chain policy to the verified result: simulated evidence only when
//     allow_simulated_tee, debug refused, the binding equal to the one the chain expects (chain id,
//     current epoch and epoch nonce, the submitting participant, the node id), the release active for the
//     model with every measurement and the model digest matching, TCB status not below the release's
//     minimum, collateral fresh at block time.
// So a verifier never needs chain state beyond what it is handed, and the chain's policy is tested
// independently of any evidence format.
//
// Determinism: implementations must depend only on their arguments (no clock, no I/O, no randomness);
// `now` is the block time. Thread safety: implementations must allow concurrent const calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attest/bundle.h"
#include "attest/verdict.h"
#include "common/bytes.h"
#include "common/status.h"

namespace cmln::chain {

// What the chain expects the evidence's report data to be bound to (DESIGN section 3, step 2).
struct AttestationBinding {
  std::string chain_id;
  uint64_t epoch = 0;
  Bytes epoch_nonce;        // 32 bytes
  std::string participant;  // bech32 address
  std::string node_id;

  bool operator==(const AttestationBinding&) const = default;
};

// Genesis trust settings, handed to the verifier as given.
struct TrustSettings {
  bool allow_simulated_tee = false;
  // Genesis "tee_trust" JSON (pinned roots; for simulated platforms the devnet's development PKI).
  std::string roots_json;
};

// One collateral record the chain holds for the bundle's platform, fresh at `now` (the keeper filters).
struct CollateralInput {
  std::string platform;
  std::string kind;
  std::string id;
  Bytes collateral;
};

// An active release the bundle may claim (the keeper still checks the match itself).
struct ReleaseInput {
  std::string release_id;
  std::string platform;
  std::map<std::string, Bytes> measurements;
  std::string model_id;
  Bytes model_digest;
  std::string gpu_policy;
};

// A bundle whose cryptography verified. Every field is covered by the evidence's signature chain.
struct VerifiedBundle {
  std::string platform;  // tdx, snp, sim-tdx, sim-snp
  bool simulated = false;
  bool debug = false;
  attest::TcbStatus tcb_status = attest::TcbStatus::kUnknown;
  std::vector<std::string> advisory_ids;
  std::map<std::string, Bytes> measurements;  // "MRTD", "RTMR0", ... / "MEASUREMENT", ...
  AttestationBinding binding;                 // what the report data commits to
  Bytes sign_public_key;                      // Ed25519, 32 bytes
  Bytes ohttp_key_config;
  std::string model_id;
  Bytes model_digest;
  std::string release_id;
};

// What a verified piece of collateral is and how long it is valid.
struct VerifiedCollateral {
  std::string kind;
  std::string id;
  int64_t issue_time = 0;   // unix seconds
  int64_t next_update = 0;  // unix seconds
};

class AttestationVerifier {
 public:
  virtual ~AttestationVerifier() = default;

  // Verifies the bundle's cryptography at `now` (unix seconds, block time). On failure: the attest
  // library's precise code (kBadSignature, kChainUntrusted, kCertRevoked, kCollateralExpired, kMalformed…)
  // with a message naming the reason; no policy errors (those are the keeper's).
  virtual Result<VerifiedBundle> VerifyBundle(ByteView bundle, const TrustSettings& trust,
                                              const std::vector<CollateralInput>& collateral,
                                              const std::vector<ReleaseInput>& active_releases,
                                              int64_t now) const = 0;

  // Verifies self-authenticating collateral for `platform` against the pinned roots at `now`.
  virtual Result<VerifiedCollateral> VerifyCollateral(std::string_view platform, ByteView collateral,
                                                      const TrustSettings& trust, int64_t now) const = 0;
};

// The production verifier (`cmln chain start`): attest::VerifyBundle / attest::VerifyPlatformCollateral
// (attest/bundle.h) with the trust of BundleTrustFromSettings and the collateral handed over. Release
// policy stays the keeper's; debug and simulated evidence are also refused here (kDebugEnabled,
// kSimulatedNotAllowed), with the same codes the keeper uses. Stateless; thread-safe.
//
// The trust a chain verifies with: the pinned vendor roots for tdx/snp, plus what genesis "tee_trust"
// (settings.roots_json) adds: {"nvidia_roots_pem": PEM, "sim": {"tdx_roots_pem": PEM, "snp_arks_pem":
// {"Milan"|"Genoa"|"Turin": PEM}, "gpu_roots_pem": PEM}} (every key optional, unknown keys kMalformed,
// not JSON kBadEncoding, unparsable PEM kBadEncoding). allow_simulated from settings.allow_simulated_tee.
Result<attest::BundleTrust> BundleTrustFromSettings(const TrustSettings& settings);

class AttestLibraryVerifier final : public AttestationVerifier {
 public:
  Result<VerifiedBundle> VerifyBundle(ByteView bundle, const TrustSettings& trust,
                                      const std::vector<CollateralInput>& collateral,
                                      const std::vector<ReleaseInput>& active_releases, int64_t now) const override;
  Result<VerifiedCollateral> VerifyCollateral(std::string_view platform, ByteView collateral,
                                              const TrustSettings& trust, int64_t now) const override;
};

}  // namespace cmln::chain
