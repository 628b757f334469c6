// TEST ONLY. A stand-in AttestationVerifier for chain tests until the attest library has a bundle-level
// entry point. It performs NO cryptography: a "bundle" here is a JSON object that states the verified
// result directly, and "verify_error" makes it fail as a real verifier would (e.g. kCertRevoked). It
// exists so the keeper's policy (binding, release, measurements, debug, simulated, TCB, collateral
// freshness, supersede/revoke/expire) is tested on its own. Never link this outside tests/.
//
//   bundle     = {"platform", "simulated", "debug", "tcb_status", "measurements": {name: hex},
//                 "binding": {"chain_id", "epoch", "epoch_nonce" (hex), "participant", "node_id"},
//                 "sign_pk" (hex), "ohttp_key_config" (hex), "model_id", "model_digest" (hex),
//                 "release_id", ["verify_error": code number]}
//   collateral = {"kind", "id", "issue_time", "next_update", ["verify_error": code number]}
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "chain/attestation_verifier.h"

namespace cmln::chain::testing {

class TestOnlyJsonBundleVerifier final : public AttestationVerifier {
 public:
  Result<VerifiedBundle> VerifyBundle(ByteView bundle, const TrustSettings&, const std::vector<CollateralInput>& collateral,
                                      const std::vector<ReleaseInput>&, int64_t) const override {
    auto j = nlohmann::json::parse(AsChars(bundle), nullptr, false);
    if (!j.is_object()) return Error(ErrorCode::kMalformed, "test bundle: not JSON");
    if (j.contains("verify_error")) {
      return Error(static_cast<ErrorCode>(j["verify_error"].get<int>()), "test bundle: verify_error");
    }
    if (force_error) return Error(*force_error, "test bundle: forced error");
    if (collateral.empty()) return Error(ErrorCode::kNotFound, "test bundle: no collateral handed over");
    last_collateral_count = collateral.size();
    VerifiedBundle v;
    v.platform = j.value("platform", "");
    v.simulated = j.value("simulated", false);
    v.debug = j.value("debug", false);
    attest::ParseTcbStatus(j.value("tcb_status", "UpToDate"), &v.tcb_status);
    if (force_tcb) v.tcb_status = *force_tcb;
    for (auto it = j["measurements"].begin(); it != j["measurements"].end(); ++it) {
      v.measurements[it.key()] = *HexDecode(it.value().get<std::string>());
    }
    const auto& b = j["binding"];
    v.binding.chain_id = b.value("chain_id", "");
    v.binding.epoch = b.value("epoch", uint64_t{0});
    v.binding.epoch_nonce = *HexDecode(b.value("epoch_nonce", ""));
    v.binding.participant = b.value("participant", "");
    v.binding.node_id = b.value("node_id", "");
    v.sign_public_key = *HexDecode(j.value("sign_pk", ""));
    v.ohttp_key_config = *HexDecode(j.value("ohttp_key_config", ""));
    v.model_id = j.value("model_id", "");
    v.model_digest = *HexDecode(j.value("model_digest", ""));
    v.release_id = j.value("release_id", "");
    return v;
  }

  Result<VerifiedCollateral> VerifyCollateral(std::string_view, ByteView collateral, const TrustSettings&,
                                              int64_t) const override {
    auto j = nlohmann::json::parse(AsChars(collateral), nullptr, false);
    if (!j.is_object()) return Error(ErrorCode::kMalformed, "test collateral: not JSON");
    if (j.contains("verify_error")) {
      return Error(static_cast<ErrorCode>(j["verify_error"].get<int>()), "test collateral: verify_error");
    }
    return VerifiedCollateral{j.value("kind", ""), j.value("id", ""), j.value("issue_time", int64_t{0}),
                              j.value("next_update", int64_t{0})};
  }

  mutable size_t last_collateral_count = 0;
  // Set by tests to model later events (a revoked PCK, a TCB recovery that lowers the status).
  std::optional<ErrorCode> force_error;
  std::optional<attest::TcbStatus> force_tcb;
};

}  // namespace cmln::chain::testing
