// Every key prefix of the chain's state, in one place (after cosmos-sdk's types/keys.go).
//
// State is a flat ordered key-value map. A key is a short ASCII prefix naming the record type followed
// by the record's id; numeric ids are 8-byte big-endian so byte order equals numeric order, which keeps
// iteration (and so every state transition) deterministic. Values are serialized state.proto records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cmln::chain::keys {

inline constexpr std::string_view kAccount = "acct/";           // + bech32 address -> Account
inline constexpr std::string_view kParams = "params";           // -> Params
inline constexpr std::string_view kMeta = "meta";               // -> ChainMeta
inline constexpr std::string_view kSupply = "supply";           // -> Supply
inline constexpr std::string_view kParticipant = "part/";       // + address -> Participant
inline constexpr std::string_view kRelease = "rel/";            // + release_id -> ReleaseRecord
inline constexpr std::string_view kCollateral = "coll/";        // + platform "/" kind "/" id -> CollateralRecord
inline constexpr std::string_view kAttestation = "att/";        // + node_id -> TeeAttestation
inline constexpr std::string_view kEscrow = "esc/";             // + u64be id -> Escrow
inline constexpr std::string_view kRefundQueue = "refq/";       // + u64be height + u64be escrow id -> ""
inline constexpr std::string_view kEarnings = "earn/";          // + address -> Earnings
inline constexpr std::string_view kEpoch = "epoch/";            // + u64be number -> EpochInfo
inline constexpr std::string_view kServed = "served/";          // + u64be epoch + address -> "" (served traffic)

std::string U64Key(uint64_t v);  // 8 bytes big-endian
uint64_t ParseU64Key(std::string_view eight_bytes);  // REQUIRES: size 8

inline std::string Account(std::string_view address) { return std::string(kAccount) + std::string(address); }
inline std::string Participant(std::string_view address) {
  return std::string(kParticipant) + std::string(address);
}
inline std::string Release(std::string_view id) { return std::string(kRelease) + std::string(id); }
inline std::string CollateralPrefix(std::string_view platform) {
  return std::string(kCollateral) + std::string(platform) + "/";
}
inline std::string Collateral(std::string_view platform, std::string_view kind, std::string_view id) {
  return CollateralPrefix(platform) + std::string(kind) + "/" + std::string(id);
}
inline std::string Attestation(std::string_view node_id) {
  return std::string(kAttestation) + std::string(node_id);
}
inline std::string Escrow(uint64_t id) { return std::string(kEscrow) + U64Key(id); }
inline std::string RefundQueueAt(uint64_t height) { return std::string(kRefundQueue) + U64Key(height); }
inline std::string RefundQueue(uint64_t height, uint64_t escrow_id) {
  return RefundQueueAt(height) + U64Key(escrow_id);
}
inline std::string Earnings(std::string_view address) { return std::string(kEarnings) + std::string(address); }
inline std::string Epoch(uint64_t n) { return std::string(kEpoch) + U64Key(n); }
inline std::string ServedPrefix(uint64_t epoch) { return std::string(kServed) + U64Key(epoch); }
inline std::string Served(uint64_t epoch, std::string_view address) {
  return ServedPrefix(epoch) + std::string(address);
}

}  // namespace cmln::chain::keys
