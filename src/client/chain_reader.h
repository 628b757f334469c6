// What the client reads from any network node's REST API: the chain's REST records (chain/rest_records.h)
// fetched over chain::RestClient.
//
// Nothing read here is trusted: the network node is not (DESIGN section 1). Attestation records are only
// candidates; the client verifies every bundle itself (node_verifier.h). Releases and prices come from
// chain consensus, which is trusted, through the node the user chose.
//
// Thread safety: a ChainReader may be used from several threads (each call opens its own connection).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chain/rest_client.h"
#include "chain/rest_records.h"
#include "common/status.h"

namespace cmln::client {

using chain::AccountInfo;
using chain::AttestationRecord;
using chain::ChainParams;
using chain::ChainStatus;
using chain::CollateralDoc;
using chain::EscrowInfo;
using chain::ReleaseInfo;

class ChainReader {
 public:
  explicit ChainReader(std::string base_url) : base_url_(base_url), rest_(std::move(base_url)) {}

  // Errors: kIoError when the node cannot be reached; the node's own code; the Parse* codes.
  Result<ChainStatus> Status() const;
  Result<ChainParams> Params() const;
  Result<std::vector<ReleaseInfo>> Releases() const;
  Result<std::vector<CollateralDoc>> Collateral() const;
  // Every record for `model_id` (any status; the caller keeps VERIFIED ones).
  Result<std::vector<AttestationRecord>> Attestations(const std::string& model_id) const;
  Result<EscrowInfo> Escrow(uint64_t id) const;
  Result<std::vector<EscrowInfo>> EscrowsOf(const std::string& creator) const;
  Result<AccountInfo> Account(const std::string& address) const;

  const chain::RestClient& rest() const { return rest_; }
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  chain::RestClient rest_;
};

}  // namespace cmln::client
