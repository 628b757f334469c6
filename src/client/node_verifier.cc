#include "client/node_verifier.h"

#include "attest/sim_pki.h"
#include "attest/verdict.h"
#include "seal/crypto.h"

namespace cmln::client {

namespace {

Error NodeError(ErrorCode code, const std::string& node_id, const std::string& what) {
  return Error(code, "node " + node_id + ": " + what);
}

}  // namespace

Result<attest::BundleTrust> MakeBundleTrust(const TrustConfig& config, const std::vector<CollateralDoc>& collateral) {
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust, attest::ProductionBundleTrust());
  if (config.allow_simulated) {
    if (config.sim_trust_dir.empty()) {
      return Error(ErrorCode::kInvalidArgument, "allow_simulated needs sim_trust_dir (the development PKI)");
    }
    CMLN_ASSIGN_OR_RETURN(attest::SimTrust sim, attest::LoadSimTrust(config.sim_trust_dir));
    attest::AddSimTrust(trust, sim);
    trust.allow_simulated = true;
  }
  for (const CollateralDoc& doc : collateral) {
    const bool simulated = doc.platform.rfind("sim-", 0) == 0;
    if (simulated && !config.allow_simulated) continue;
    // A document that does not parse is skipped: the chain verified it, and the bundle's own check
    // fails later (kNotFound / kCollateralMismatch) if the collateral it needs is missing.
    (void)attest::AddCollateral(trust, doc.platform, doc.collateral);
  }
  return trust;
}

Status CheckRecord(const AttestationRecord& record, const std::string& model_id, uint64_t current_epoch) {
  const std::string& node = record.node_id;
  // 1. The record.
  if (record.status != chain::kAttestationStatusVerified) {
    const ErrorCode code = record.status == "ATTESTATION_STATUS_REVOKED"   ? ErrorCode::kAttestationRevoked
                           : record.status == "ATTESTATION_STATUS_EXPIRED" ? ErrorCode::kAttestationExpired
                                                                           : ErrorCode::kNotActive;
    return NodeError(code, node, "attestation status " + record.status);
  }
  if (current_epoch > record.expires_after_epoch) {
    return NodeError(ErrorCode::kAttestationExpired, node,
                     "attestation expired after epoch " + std::to_string(record.expires_after_epoch));
  }
  if (record.model_id != model_id) {
    return NodeError(ErrorCode::kModelMismatch, node, "serves " + record.model_id + ", not " + model_id);
  }
  const seal::Digest32 hash = seal::Sha256(AsBytes(record.bundle_json));
  if (!ConstantTimeEqual(hash, record.bundle_hash)) {
    return NodeError(ErrorCode::kChecksumMismatch, node, "bundle_hash is not SHA-256 of the bundle");
  }
  return OkStatus();
}

Result<VerifiedNode> VerifyNodeRecord(const AttestationRecord& record, const std::string& model_id,
                                      const std::vector<ReleaseInfo>& releases, const attest::BundleTrust& trust,
                                      const std::string& chain_id, uint64_t current_epoch, int64_t now) {
  CMLN_TRY(CheckRecord(record, model_id, current_epoch));
  // 2. The evidence, under the user's trust and clock.
  auto verified = attest::VerifyBundle(record.bundle_json, trust, now);
  if (!verified.ok()) return verified.error().WithContext("node " + record.node_id + ": bundle");
  return CheckVerifiedRecord(record, *verified, model_id, releases, chain_id, current_epoch);
}

Result<VerifiedNode> CheckVerifiedRecord(const AttestationRecord& record, const attest::VerifiedBundle& verified_bundle,
                                         const std::string& model_id, const std::vector<ReleaseInfo>& releases,
                                         const std::string& chain_id, uint64_t current_epoch) {
  const std::string& node = record.node_id;
  const attest::VerifiedBundle* verified = &verified_bundle;
  const attest::AttestationBundle& b = verified->bundle;

  // 3. The binding.
  std::string mismatches;
  auto field = [&](const char* name, const std::string& seen, const std::string& wanted) {
    if (seen != wanted) mismatches += std::string(mismatches.empty() ? "" : "; ") + name + " " + seen + " != " + wanted;
  };
  field("chain_id", b.binding.chain_id, chain_id);
  field("participant", b.binding.participant, record.participant);
  field("node_id", b.binding.node_id, record.node_id);
  if (!mismatches.empty()) return NodeError(ErrorCode::kBindingMismatch, node, "bundle binding: " + mismatches);

  // 4. The release registry.
  const ReleaseInfo* release = nullptr;
  for (const ReleaseInfo& r : releases) {
    if (r.release_id == b.release_id) release = &r;
  }
  if (release == nullptr) {
    return NodeError(ErrorCode::kMeasurementNotApproved, node, "release " + b.release_id + " is not registered");
  }
  const bool active = !release->retired && current_epoch >= release->not_before_epoch &&
                      (release->not_after_epoch == 0 || current_epoch <= release->not_after_epoch);
  if (!active) return NodeError(ErrorCode::kNotActive, node, "release " + b.release_id + " is retired or outside its epochs");
  if (release->model_id != model_id || b.model_id != model_id) {
    return NodeError(ErrorCode::kModelMismatch, node,
                     "release " + release->release_id + " is for " + release->model_id + ", bundle claims " + b.model_id);
  }
  if (release->model_digest != b.model_digest) {
    return NodeError(ErrorCode::kModelMismatch, node,
                     "model_digest " + HexEncode(b.model_digest) + " != release's " + HexEncode(release->model_digest));
  }
  std::string bad;
  if (release->platform != verified->platform) bad = "platform " + verified->platform + " != " + release->platform;
  for (const auto& [name, value] : release->measurements) {
    auto it = verified->measurements.find(name);
    const std::string seen = it == verified->measurements.end() ? "(absent)" : HexEncode(it->second);
    if (it == verified->measurements.end() || it->second != value) {
      bad += std::string(bad.empty() ? "" : "; ") + name + " " + seen + " != " + HexEncode(value);
    }
  }
  if (!bad.empty()) {
    return NodeError(ErrorCode::kMeasurementNotApproved, node, "release " + release->release_id + ": " + bad);
  }
  attest::TcbStatus min_tcb = attest::TcbStatus::kUpToDate;
  if (!release->min_tcb.empty() && !attest::ParseTcbStatus(release->min_tcb, &min_tcb)) {
    return NodeError(ErrorCode::kMalformed, node, "release " + release->release_id + " min_tcb " + release->min_tcb);
  }
  if (attest::TcbRank(verified->tcb_status) > attest::TcbRank(min_tcb)) {
    return NodeError(ErrorCode::kTcbBelowMinimum, node,
                     std::string("tcb_status ") + attest::TcbStatusName(verified->tcb_status) + " below " +
                         release->min_tcb);
  }

  // 5. The record's keys are the attested ones (B7).
  if (!ConstantTimeEqual(record.sign_public_key, b.sign_pk)) {
    return NodeError(ErrorCode::kBindingMismatch, node, "record's sign_public_key is not the attested one");
  }
  if (!ConstantTimeEqual(record.ohttp_key_config, b.ohttp_key_config)) {
    return NodeError(ErrorCode::kBindingMismatch, node, "record's ohttp_key_config is not the attested one");
  }
  CMLN_ASSIGN_OR_RETURN(seal::ohttp::KeyConfig key_config, seal::ohttp::DecodeKeyConfig(b.ohttp_key_config));

  VerifiedNode out;
  out.node_id = record.node_id;
  out.participant = record.participant;
  out.model_id = model_id;
  out.endpoint = record.endpoint;
  out.release_id = b.release_id;
  out.platform = verified->platform;
  out.simulated = verified->simulated;
  out.sign_public_key = b.sign_pk;
  out.key_config = std::move(key_config);
  out.bundle_hash = record.bundle_hash;
  out.expires_after_epoch = record.expires_after_epoch;
  return out;
}

}  // namespace cmln::client
