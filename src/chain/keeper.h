// The keeper: every stateful rule of the chain (after cosmos-sdk's x/bank keeper).
//
// Layering (STYLE point 12): a message is checked statelessly by msg_server.cc (ValidateBasic), routed
// to one handler here that performs the stateful checks, and only then changes state through the
// private mutators (Debit, Credit, LockEscrow, PayFromEscrows, RefundEscrow, PayEarnings, Mint). Those
// mutators are the only code that touches balances, escrows, earnings and the supply record, and they
// emit the events themselves, so no path can move tokens without bookkeeping.
//
// A Keeper is a short-lived view over one CacheStore for one transaction or one block phase; on an
// error the caller discards that CacheStore, so a handler may fail after partial writes without leaving
// a trace. Determinism: the keeper reads no clock (block time comes from BlockContext), draws no
// randomness, uses no floating point (the subsidy split is integer basis-point arithmetic in 128 bits),
// and iterates only ordered key ranges.
//
// Not thread-safe; one keeper per cache store at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chain/attestation_verifier.h"
#include "chain/events.h"
#include "chain/kv_store.h"
#include "chain/proto/state.pb.h"
#include "chain/proto/tx.pb.h"
#include "common/status.h"
#include "seal/account_key.h"

namespace cmln::chain {

namespace pb = ::cmln::chain::v1;

// 128-bit products for basis-point and share arithmetic (never floating point).
__extension__ typedef unsigned __int128 Uint128;

inline constexpr uint32_t kBasisPoints = 10000;
inline constexpr uint32_t kMinTeeRewardMultiplierBps = 10000;
inline constexpr uint32_t kMaxTeeRewardMultiplierBps = 12500;
inline constexpr uint32_t kDefaultTeeRewardMultiplierBps = 11000;
inline constexpr std::string_view kEpochNonceDomain = "gonka/cmln/epoch-nonce/v1";

// What the block header tells the state machine. Nothing else about the outside world is visible.
struct BlockContext {
  uint64_t height = 0;
  int64_t time = 0;            // unix seconds, from the block header
  std::string proposer;        // bech32 address credited with fees
  Bytes last_app_hash;         // app hash after the previous block (epoch nonce input)
};

// Params with every default documented: epoch_length 20 blocks (devnet), attestation_ttl_epochs 2,
// escrow limits 1..10^15 ngonka, settlement grace 10 blocks, tee multiplier 11000 bps, initial subsidy
// 10^12 ngonka with decay 9990 bps per epoch, allow_simulated_tee false, min fee 0, 4096 batch
// entries, 1 MiB transactions, no model prices.
pb::Params DefaultParams();
// kInvalidArgument naming the field: zero epoch length, multiplier outside 10000..12500, decay above
// 10000, min escrow above max, unsorted or duplicate model prices, zero limits, bad authority address.
Status ValidateParams(const pb::Params& p);

class Keeper {
 public:
  // All pointers must outlive the keeper. `verifier` may be null only if no attestation messages are
  // delivered and no epoch boundary re-evaluates attestations.
  Keeper(CacheStore* store, const BlockContext& ctx, EventSink* events, const AttestationVerifier* verifier);

  // --- reads -------------------------------------------------------------------------------------
  pb::Params GetParams() const;
  pb::ChainMeta GetMeta() const;
  pb::Supply GetSupply() const;
  std::optional<pb::Account> GetAccount(const std::string& address) const;
  std::optional<pb::Escrow> GetEscrow(uint64_t id) const;
  std::optional<pb::TeeAttestation> GetAttestation(const std::string& node_id) const;
  std::optional<pb::ReleaseRecord> GetRelease(const std::string& release_id) const;
  std::optional<pb::EpochInfo> GetEpoch(uint64_t number) const;
  uint64_t Balance(const std::string& address) const;

  // --- transaction prologue (ante handler) -----------------------------------------------------
  // Checks sequence (lower: kReplay; higher: kSequenceMismatch), account existence (kNotFound), fee
  // (kInsufficientFee, kInsufficientFunds); then pays the fee to the proposer, increments the
  // sequence and records the public key. On error nothing is written.
  Status ConsumeFeeAndSequence(const std::string& signer, const seal::AccountPublicKey& public_key,
                               uint64_t sequence, uint64_t fee);

  // --- message handlers (stateful checks, then mutators) ------------------------------------------
  Status Send(const pb::MsgSend& m);
  Status RegisterRelease(const pb::MsgRegisterRelease& m);
  Status RetireRelease(const pb::MsgRetireRelease& m);
  Status UpdateParams(const pb::MsgUpdateParams& m);
  Status SubmitCollateral(const pb::MsgSubmitCollateral& m);
  Status SubmitTeeAttestation(const pb::MsgSubmitTeeAttestation& m);
  Status RevokeTeeAttestation(const pb::MsgRevokeTeeAttestation& m);
  Result<uint64_t> CreateConfidentialEscrow(const pb::MsgCreateConfidentialEscrow& m);
  Status SettleConfidentialUsage(const pb::MsgSettleConfidentialUsage& m);

  // --- block phases --------------------------------------------------------------------------------
  // Refunds escrows whose grace window ended; at the last block of an epoch (height % epoch_length
  // == 0) closes open escrows, pays host earnings, splits the subsidy, re-evaluates and expires
  // attestations and starts the next epoch.
  Status EndBlock();

 private:

  template <typename M>
  std::optional<M> Load(const std::string& key) const;
  template <typename M>
  void Store(const std::string& key, const M& m);

  // Mutators: the only writers of balances, escrows, earnings and supply.
  Status Debit(const std::string& address, uint64_t amount);
  Status Credit(const std::string& address, uint64_t amount);
  Result<uint64_t> LockEscrow(const std::string& creator, const Bytes& creator_key_hash, uint64_t amount,
                              const std::string& model_id);
  // Pays min(costs[i], remaining) from each escrows[i] into the host's pending earnings (one earnings
  // and one supply update for the whole batch, one usage_settled event); returns the total paid.
  // REQUIRES: escrows.size() == costs.size(), distinct escrows.
  Result<uint64_t> PayFromEscrows(std::vector<pb::Escrow>& escrows, const std::vector<uint64_t>& costs,
                                  const std::string& host, const std::string& node_id, uint64_t batch_seq);
  Status CloseEscrow(pb::Escrow& escrow);
  Status RefundEscrow(uint64_t escrow_id);
  Status PayEarnings(const std::string& address, uint64_t epoch);
  Status Mint(const std::string& address, uint64_t amount, uint64_t epoch, bool tee_bonus);

  Status RequireAuthority(const std::string& signer) const;
  std::vector<ReleaseInput> ActiveReleasesForModel(const std::string& model_id, uint64_t epoch) const;
  bool ReleaseActive(const pb::ReleaseRecord& r, uint64_t epoch) const;
  Result<std::vector<CollateralInput>> FreshCollateral(const std::string& platform) const;
  TrustSettings Trust() const;
  Status ApplyAttestationPolicy(const pb::MsgSubmitTeeAttestation& m, const VerifiedBundle& v,
                                const pb::ReleaseRecord& release) const;
  void SetAttestationStatus(pb::TeeAttestation& a, pb::AttestationStatus status, const std::string& reason);
  Status EpochBoundary();

  CacheStore* store_;
  BlockContext ctx_;
  EventSink* events_;
  const AttestationVerifier* verifier_;
};


}  // namespace cmln::chain
