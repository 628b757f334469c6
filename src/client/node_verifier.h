// Local verification of a node the chain lists (DESIGN section 3 step 5; THREATS A9, A10-A12, A15, B7).
//
// The chain says a node is VERIFIED; the client does not take its word. For each attestation record it
//   1. checks the record: status VERIFIED (else kAttestationRevoked / kAttestationExpired / kNotActive),
//      not past expires_after_epoch at the current epoch (kAttestationExpired), model as asked
//      (kModelMismatch), bundle_hash = SHA-256(bundle) (kChecksumMismatch);
//   2. verifies the bundle with attest::VerifyBundle under the user's own trust (pinned production roots;
//      the devnet's development PKI only when the user allows simulation), at the user's clock — so a
//      tampered bundle fails with the attest library's code (kBadSignature, kBindingMismatch, ...);
//   3. checks the binding: chain id (the chain's), participant and node id (the record's), else
//      kBindingMismatch;
//   4. checks the release registry: the bundle's release exists (kMeasurementNotApproved), is active at
//      the current epoch (kNotActive), is for the model with the bundle's model digest (kModelMismatch),
//      on the bundle's platform with every measurement equal (kMeasurementNotApproved, A9), TCB status
//      not below its minimum (kTcbBelowMinimum);
//   5. checks that the record's sign_public_key and ohttp_key_config are the bundle's (B7: a chain record
//      naming other keys than the evidence is refused, kBindingMismatch).
// The client encrypts only to the key config of a bundle that passed all of this, and verifies receipts
// only under its sign_pk.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attest/bundle.h"
#include "client/chain_reader.h"
#include "common/bytes.h"
#include "common/status.h"
#include "seal/ohttp.h"

namespace cmln::client {

// What the user trusts. Production roots are always pinned; the development PKI only by explicit opt-in.
struct TrustConfig {
  // Accept simulated evidence (sim-tdx / sim-snp) signed by the PKI in sim_trust_dir. Devnets only.
  bool allow_simulated = false;
  // A development PKI directory (attest/sim_pki.h layout, e.g. a devnet's HOME/sim-pki). Required with
  // allow_simulated; only its public files are read.
  std::string sim_trust_dir;
};

// The pinned production roots, plus the development PKI when `config` allows simulation, plus the
// collateral documents the chain holds (self-authenticating: VerifyBundle checks their signatures).
// kInvalidArgument for allow_simulated without sim_trust_dir; LoadSimTrust's codes for a bad directory.
Result<attest::BundleTrust> MakeBundleTrust(const TrustConfig& config, const std::vector<CollateralDoc>& collateral);

// A node the client verified itself.
struct VerifiedNode {
  std::string node_id;
  std::string participant;
  std::string model_id;
  std::string endpoint;
  std::string release_id;
  std::string platform;
  bool simulated = false;
  Bytes sign_public_key;              // Ed25519: receipts must verify under it
  seal::ohttp::KeyConfig key_config;  // the attested OHTTP key: the only key requests are sealed to
  Bytes bundle_hash;
  uint64_t expires_after_epoch = 0;
};

// Steps 1-5 above, in that order, returning the first failure.
Result<VerifiedNode> VerifyNodeRecord(const AttestationRecord& record, const std::string& model_id,
                                      const std::vector<ReleaseInfo>& releases, const attest::BundleTrust& trust,
                                      const std::string& chain_id, uint64_t current_epoch, int64_t now);

// Step 1 only (record status, expiry, model, bundle hash): after it, record.bundle_hash names the bundle
// bytes, so a cached attest::VerifyBundle result for that hash may stand in for step 2.
Status CheckRecord(const AttestationRecord& record, const std::string& model_id, uint64_t current_epoch);
// Steps 3-5 on the result of attest::VerifyBundle(record.bundle_json, ...). REQUIRES: CheckRecord passed.
Result<VerifiedNode> CheckVerifiedRecord(const AttestationRecord& record, const attest::VerifiedBundle& verified,
                                         const std::string& model_id, const std::vector<ReleaseInfo>& releases,
                                         const std::string& chain_id, uint64_t current_epoch);

}  // namespace cmln::client
