// AttestLibraryVerifier: the chain's adapter over attest::VerifyBundle / attest::VerifyPlatformCollateral.
//
// Trust (TrustSettings):
//   * production platforms (tdx, snp) always use the roots compiled into cmln (attest/pinned_roots.h);
//     genesis cannot replace them;
//   * genesis "tee_trust" (TrustSettings.roots_json) may add, strictly (unknown keys refused, kMalformed):
//       { "nvidia_roots_pem": PEM,                      // NVIDIA Device Identity CA (no root is compiled in)
//         "sim": { "tdx_roots_pem": PEM,                // development PKI (attest/sim_pki.h), used only
//                  "snp_arks_pem": {"Milan": PEM, ...}, //   for sim-tdx / sim-snp / sim-gpu evidence and
//                  "gpu_roots_pem": PEM } }             //   only when allow_simulated_tee
//     `{}` means production roots only.
// Collateral: each CollateralInput is one document of attest::AddCollateral's format (bundle.h).
#include "chain/attestation_verifier.h"

#include <nlohmann/json.hpp>

#include "attest/bundle.h"
#include "attest/x509.h"

namespace cmln::chain {

namespace {

using Json = nlohmann::json;

Status CheckOnlyKeys(const Json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
  if (!obj.is_object()) return Error(ErrorCode::kMalformed, where + ": not an object");
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (const char* k : allowed) known = known || it.key() == k;
    if (!known) return Error(ErrorCode::kMalformed, where + "." + it.key() + ": unknown key");
  }
  return OkStatus();
}

Result<std::vector<attest::Certificate>> PemField(const Json& obj, const char* key, const std::string& where) {
  const Json& v = obj[key];
  if (!v.is_string()) return Error(ErrorCode::kMalformed, where + "." + key + ": not a string");
  auto certs = attest::ParsePemChain(v.get_ref<const std::string&>());
  if (!certs.ok()) return certs.error().WithContext(where + "." + key);
  return std::move(certs).value();
}

}  // namespace

Result<attest::BundleTrust> BundleTrustFromSettings(const TrustSettings& settings) {
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust, attest::ProductionBundleTrust());
  trust.allow_simulated = settings.allow_simulated_tee;
  if (settings.roots_json.empty()) return trust;
  Json doc = Json::parse(settings.roots_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error(ErrorCode::kBadEncoding, "tee_trust: not JSON");
  CMLN_TRY(CheckOnlyKeys(doc, {"nvidia_roots_pem", "sim"}, "tee_trust"));
  if (doc.contains("nvidia_roots_pem")) {
    CMLN_ASSIGN_OR_RETURN(trust.nvidia_anchors.roots, PemField(doc, "nvidia_roots_pem", "tee_trust"));
  }
  if (doc.contains("sim")) {
    const Json& sim = doc["sim"];
    CMLN_TRY(CheckOnlyKeys(sim, {"tdx_roots_pem", "snp_arks_pem", "gpu_roots_pem"}, "tee_trust.sim"));
    if (sim.contains("tdx_roots_pem")) {
      CMLN_ASSIGN_OR_RETURN(trust.simulated.tdx_roots, PemField(sim, "tdx_roots_pem", "tee_trust.sim"));
    }
    if (sim.contains("gpu_roots_pem")) {
      CMLN_ASSIGN_OR_RETURN(trust.sim_gpu_anchors.roots, PemField(sim, "gpu_roots_pem", "tee_trust.sim"));
      trust.sim_gpu_anchors.simulated = true;
    }
    if (sim.contains("snp_arks_pem")) {
      const Json& arks = sim["snp_arks_pem"];
      if (!arks.is_object()) return Error(ErrorCode::kMalformed, "tee_trust.sim.snp_arks_pem: not an object");
      for (auto it = arks.begin(); it != arks.end(); ++it) {
        const std::string where = "tee_trust.sim.snp_arks_pem." + it.key();
        attest::snp::SnpProduct product = attest::snp::SnpProduct::kUnknown;
        for (auto p : {attest::snp::SnpProduct::kMilan, attest::snp::SnpProduct::kGenoa, attest::snp::SnpProduct::kTurin}) {
          if (it.key() == attest::snp::SnpProductName(p)) product = p;
        }
        if (product == attest::snp::SnpProduct::kUnknown) return Error(ErrorCode::kMalformed, where + ": unknown product");
        if (!it.value().is_string()) return Error(ErrorCode::kMalformed, where + ": not a string");
        Status st = trust.simulated.snp_anchors.AddArkFromPem(product, it.value().get_ref<const std::string&>());
        if (!st.ok()) return st.error().WithContext(where);
      }
    }
  }
  return trust;
}

Result<VerifiedBundle> AttestLibraryVerifier::VerifyBundle(ByteView bundle, const TrustSettings& settings,
                                                           const std::vector<CollateralInput>& collateral,
                                                           const std::vector<ReleaseInput>&, int64_t now) const {
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust, BundleTrustFromSettings(settings));
  for (size_t i = 0; i < collateral.size(); ++i) {
    Status st = attest::AddCollateral(trust, collateral[i].platform, collateral[i].collateral);
    if (!st.ok()) {
      return st.error().WithContext("collateral " + collateral[i].platform + "/" + collateral[i].kind + "/" + collateral[i].id);
    }
  }
  CMLN_ASSIGN_OR_RETURN(attest::VerifiedBundle vb, attest::VerifyBundle(AsChars(bundle), trust, now));
  VerifiedBundle out;
  out.platform = vb.platform;
  out.simulated = vb.simulated;
  out.debug = vb.debug;
  out.tcb_status = vb.tcb_status;
  out.advisory_ids = vb.advisory_ids;
  out.measurements = vb.measurements;
  out.binding = AttestationBinding{vb.bundle.binding.chain_id, vb.bundle.binding.epoch, vb.bundle.binding.epoch_nonce,
                                   vb.bundle.binding.participant, vb.bundle.binding.node_id};
  out.sign_public_key = vb.sign_pk;
  out.ohttp_key_config = vb.bundle.ohttp_key_config;
  out.model_id = vb.bundle.model_id;
  out.model_digest = vb.bundle.model_digest;
  out.release_id = vb.bundle.release_id;
  return out;
}

Result<VerifiedCollateral> AttestLibraryVerifier::VerifyCollateral(std::string_view platform, ByteView collateral,
                                                                   const TrustSettings& settings, int64_t now) const {
  CMLN_ASSIGN_OR_RETURN(attest::BundleTrust trust, BundleTrustFromSettings(settings));
  CMLN_ASSIGN_OR_RETURN(attest::CollateralValidity v, attest::VerifyPlatformCollateral(platform, collateral, trust, now));
  return VerifiedCollateral{v.kind, v.id, v.issue_time, v.next_update};
}

}  // namespace cmln::chain
