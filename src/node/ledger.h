// The node's money-side state in memory: the authorization replay cache (B3) and the quota ledger
// (reservations against each escrow, docs/node-protocol.md "Quota"). The usage billed by receipts until a
// batch takes it: node/usage_aggregator.h.
//
// Thread safety: every class here is internally synchronized; share one instance between handlers.
#pragma once

#include <chrono>
#include <cstring>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chain/usage_batch.h"
#include "common/status.h"
#include "node/chain_client.h"
#include "seal/crypto.h"

namespace cmln::node {

// Remembers authorizations (by SHA-256 of their encoding) until their timestamp leaves the clock-skew
// window, after which the node refuses them as stale anyway. Bounded: when full of unexpired entries a
// new authorization is refused (kLimitExceeded) rather than forgetting one that could then be replayed.
class ReplayCache {
 public:
  explicit ReplayCache(size_t max_entries) : max_entries_(max_entries) {}

  // OK and records `id` (valid until `expires_at`, unix seconds); kReplay if seen and unexpired;
  // kLimitExceeded if full. `now` drives expiry.
  Status Accept(const seal::Digest32& id, int64_t expires_at, int64_t now);
  size_t size() const;

 private:
  struct DigestHash {
    size_t operator()(const seal::Digest32& d) const {
      size_t h;
      std::memcpy(&h, d.data(), sizeof(h));
      return h;
    }
  };
  void EvictExpired(int64_t now);

  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<seal::Digest32, int64_t, DigestHash> seen_;
  std::multimap<int64_t, seal::Digest32> by_expiry_;
};

// Reservations against escrows. For each escrow it knows the chain's view (cached for `cache_ms`, read
// through `fetch`), the cost of usage the node recorded but has not yet seen settled, and the sum of
// in-flight reservations; a reservation is granted when it fits in remaining − unsettled − in-flight.
// If the chain cannot be reached, the last view read is used however old (D5: keep serving within
// known quota); an escrow never read fails with kIoError.
class QuotaLedger {
 public:
  using FetchEscrow = std::function<Result<EscrowState>(uint64_t)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  QuotaLedger(FetchEscrow fetch, std::chrono::milliseconds cache_ttl, Clock clock = std::chrono::steady_clock::now);

  struct Reservation {
    uint64_t escrow_id = 0;
    uint64_t amount = 0;
  };

  // Checks, in the order of docs/node-protocol.md: escrow exists (kNotFound), is OPEN (kNotActive), is for
  // `model_id` (kModelMismatch), was created by the requester (kUnauthorized), and `amount` fits
  // (kInsufficientFunds). On success the amount is reserved until Commit or Release.
  Result<Reservation> Reserve(uint64_t escrow_id, const seal::Digest32& requester_key_hash, const std::string& model_id,
                              uint64_t amount);
  // The request ended and cost `actual` (recorded as unsettled usage); the reservation is released.
  void Commit(const Reservation& r, uint64_t actual);
  // The request ended without charge.
  void Release(const Reservation& r);
  // Usage recorded earlier (e.g. journaled by a previous run) that the chain has not settled yet.
  void AddUnsettled(uint64_t escrow_id, uint64_t cost);
  // The chain settled (or refused for good) a batch entry: its cost leaves the unsettled sum and the
  // escrow's cached view is dropped (its remaining changed).
  void Settled(uint64_t escrow_id, uint64_t cost);

  // For tests and metrics.
  uint64_t unsettled(uint64_t escrow_id) const;
  uint64_t in_flight(uint64_t escrow_id) const;

 private:
  struct Entry {
    std::optional<EscrowState> view;
    std::chrono::steady_clock::time_point fetched{};
    uint64_t generation = 0;  // bumped by Settled: a fetch started before it is not cached
    uint64_t unsettled = 0;
    uint64_t in_flight = 0;
  };

  FetchEscrow fetch_;
  std::chrono::milliseconds ttl_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<uint64_t, Entry> escrows_;
};

}  // namespace cmln::node
