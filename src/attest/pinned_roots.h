// The vendor trust anchors built into cmln: the Intel SGX Root CA (root of every TDX PCK, TCB info and QE
// identity chain) and AMD's ARK per SEV-SNP product, plus AMD's intermediates (ASK for VCEKs, ASVK for
// VLEKs) so an SNP report can be verified without a --chain file.
//
// Why compiled in: a verifier must not take its root from the same place as the evidence, and a binary
// that carries its roots cannot be pointed at the wrong data directory. The certificates are public and
// long-lived (Intel root to 2049, ARKs to 2045-2048); replacing one is a code change that is reviewed.
// The intermediates are not trusted by being here: every chain is still verified up to the pinned ARK.
//
// Thread safety: pure functions over constants.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attest/snp_verify.h"
#include "attest/x509.h"
#include "common/status.h"

namespace cmln::attest {

// PEM of the Intel SGX Root CA (CN=Intel SGX Root CA, O=Intel Corporation).
std::string_view IntelSgxRootCaPem();
// PEM of AMD's ARK for `product` (ARK-Milan, ARK-Genoa, ARK-Turin); empty for kUnknown.
std::string_view AmdArkPem(snp::SnpProduct product);
// The KDS cert_chain for `product` and key kind: ASK (VCEK) or ASVK (VLEK), then the ARK, as PEM; empty for
// kUnknown.
std::string AmdKdsChainPem(snp::SnpProduct product, snp::SigningKey signer);

// The parsed Intel root, for VerifyTdxQuote. Fails only if the constant were corrupt (kBadEncoding).
Result<std::vector<Certificate>> PinnedIntelRoots();
// Every pinned ARK, for VerifySnpReport.
Result<snp::SnpTrustAnchors> PinnedAmdArks();

}  // namespace cmln::attest
