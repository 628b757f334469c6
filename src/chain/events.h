// Events the chain emits, with every type and attribute name in one place. Events are emitted only by
// the keeper's mutators and handlers (never by the message server), so no path can skip them. They are
// part of each transaction's result (REST tx lookup) but not of the app hash.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cmln::chain {

namespace event {
inline constexpr const char* kTransfer = "transfer";                     // sender, recipient, amount
inline constexpr const char* kFee = "fee";                               // payer, recipient, amount
inline constexpr const char* kReleaseRegistered = "release_registered";  // release_id, model_id, platform
inline constexpr const char* kReleaseRetired = "release_retired";        // release_id
inline constexpr const char* kParamsUpdated = "params_updated";
inline constexpr const char* kCollateralStored = "collateral_stored";    // platform, kind, id, next_update
inline constexpr const char* kAttestationVerified = "tee_attestation_verified";  // node_id, participant, ...
inline constexpr const char* kAttestationSuperseded = "tee_attestation_superseded";  // node_id
inline constexpr const char* kAttestationRevoked = "tee_attestation_revoked";    // node_id, reason
inline constexpr const char* kAttestationExpired = "tee_attestation_expired";    // node_id, epoch
inline constexpr const char* kEscrowCreated = "escrow_created";          // escrow_id, creator, model_id, amount
inline constexpr const char* kEscrowClosed = "escrow_closed";            // escrow_id, refund_height
inline constexpr const char* kEscrowRefunded = "escrow_refunded";        // escrow_id, creator, amount
// One per settled batch (per-escrow results are in the escrow records): node_id, batch_seq, host,
// entries, cost (claimed, saturating), paid.
inline constexpr const char* kUsageSettled = "usage_settled";
inline constexpr const char* kHostPaid = "host_paid";                    // address, amount, epoch
inline constexpr const char* kSubsidyPaid = "subsidy_paid";              // address, amount, epoch, tee_bonus
inline constexpr const char* kEpochStarted = "epoch_started";            // epoch, start_height, nonce
}  // namespace event

struct Event {
  std::string type;
  std::vector<std::pair<std::string, std::string>> attributes;

  nlohmann::json ToJson() const;
};

// Collects events of one transaction or block phase, in emission order.
class EventSink {
 public:
  void Emit(std::string type, std::vector<std::pair<std::string, std::string>> attributes) {
    events_.push_back(Event{std::move(type), std::move(attributes)});
  }
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event> Take() { return std::move(events_); }
  size_t size() const { return events_.size(); }
  void Truncate(size_t n) { events_.resize(n); }

 private:
  std::vector<Event> events_;
};

}  // namespace cmln::chain
