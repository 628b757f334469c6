#include "chain/attestation_verifier.h"

namespace cmln::chain {

Result<VerifiedBundle> AttestLibraryVerifier::VerifyBundle(ByteView, const TrustSettings&,
                                                           const std::vector<CollateralInput>&,
                                                           const std::vector<ReleaseInput>&, int64_t) const {
  return Error(ErrorCode::kUnsupported,
               "attestation bundle verification is not available in this build (attest has no bundle entry point)");
}

Result<VerifiedCollateral> AttestLibraryVerifier::VerifyCollateral(std::string_view, ByteView,
                                                                   const TrustSettings&, int64_t) const {
  return Error(ErrorCode::kUnsupported,
               "collateral verification is not available in this build (attest has no collateral entry point)");
}

}  // namespace cmln::chain
