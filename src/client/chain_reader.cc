#include "client/chain_reader.h"

namespace cmln::client {

namespace {

template <typename T, typename F>
Result<std::vector<T>> ParseList(const Result<nlohmann::json>& r, std::string_view what, F parse) {
  if (!r.ok()) return r.error();
  if (!r->is_array()) return Error(ErrorCode::kMalformed, std::string(what) + ": not a JSON array");
  std::vector<T> out;
  for (const auto& item : *r) {
    CMLN_ASSIGN_OR_RETURN(T v, parse(item));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

Result<ChainStatus> ChainReader::Status() const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json j, rest_.Get("/status"));
  return chain::ParseChainStatus(j);
}

Result<ChainParams> ChainReader::Params() const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json j, rest_.Get("/params"));
  return chain::ParseParams(j);
}

Result<std::vector<ReleaseInfo>> ChainReader::Releases() const {
  return ParseList<ReleaseInfo>(rest_.Get("/releases"), "/releases", chain::ParseReleaseRecord);
}

Result<std::vector<CollateralDoc>> ChainReader::Collateral() const {
  return ParseList<CollateralDoc>(rest_.Get("/collateral"), "/collateral", chain::ParseCollateralRecord);
}

Result<std::vector<AttestationRecord>> ChainReader::Attestations(const std::string& model_id) const {
  return ParseList<AttestationRecord>(rest_.Get("/attestations?model=" + model_id), "/attestations",
                                      chain::ParseAttestationRecord);
}

Result<EscrowInfo> ChainReader::Escrow(uint64_t id) const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json j, rest_.Get("/escrows/" + std::to_string(id)));
  return chain::ParseEscrow(j);
}

Result<std::vector<EscrowInfo>> ChainReader::EscrowsOf(const std::string& creator) const {
  return ParseList<EscrowInfo>(rest_.Get("/escrows?creator=" + creator), "/escrows", chain::ParseEscrow);
}

Result<AccountInfo> ChainReader::Account(const std::string& address) const {
  CMLN_ASSIGN_OR_RETURN(nlohmann::json j, rest_.Get("/accounts/" + address));
  return chain::ParseAccount(j);
}

}  // namespace cmln::client
