#include "chain/invariants.h"

#include "chain/keeper.h"
#include "chain/keys.h"
#include "chain/proto/state.pb.h"

namespace cmln::chain {

namespace {
using u128 = Uint128;
std::string S(u128 v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return out;
}
Error Broken(const std::string& m) { return Error(ErrorCode::kInternal, "invariant broken: " + m); }
}  // namespace

Status CheckInvariants(const StateReader& state) {
  v1::Supply supply;
  if (auto v = state.Get(std::string(keys::kSupply))) supply.ParseFromString(*v);
  v1::ChainMeta meta;
  if (auto v = state.Get(std::string(keys::kMeta))) meta.ParseFromString(*v);

  u128 balances = 0, escrowed = 0, pending = 0;
  std::string err;
  state.Scan(keys::kAccount, [&](const std::string&, const std::string& v) {
    v1::Account a;
    a.ParseFromString(v);
    balances += a.balance();
    return true;
  });
  state.Scan(keys::kEscrow, [&](const std::string&, const std::string& v) {
    v1::Escrow e;
    e.ParseFromString(v);
    escrowed += e.remaining();
    if (static_cast<u128>(e.remaining()) + e.settled() + e.refunded() != e.amount()) {
      err = "escrow " + std::to_string(e.id()) + ": remaining + settled + refunded != amount";
      return false;
    }
    if (e.status() == v1::ESCROW_STATUS_REFUNDED && e.remaining() != 0) {
      err = "escrow " + std::to_string(e.id()) + " refunded but has a remainder";
      return false;
    }
    if (e.status() != v1::ESCROW_STATUS_REFUNDED && e.refunded() != 0) {
      err = "escrow " + std::to_string(e.id()) + " has a refund but is not REFUNDED";
      return false;
    }
    return true;
  });
  if (!err.empty()) return Broken(err);
  state.Scan(keys::kEarnings, [&](const std::string&, const std::string& v) {
    v1::Earnings e;
    e.ParseFromString(v);
    pending += e.pending();
    return true;
  });
  const u128 total = balances + escrowed + pending;
  const u128 expected = static_cast<u128>(supply.genesis()) + supply.minted();
  if (total != expected) {
    return Broken("supply: balances " + S(balances) + " + escrowed " + S(escrowed) + " + pending " + S(pending) +
                  " != genesis " + S(supply.genesis()) + " + minted " + S(supply.minted()));
  }
  if (escrowed != supply.escrowed()) return Broken("supply.escrowed " + S(supply.escrowed()) + " != " + S(escrowed));
  if (pending != supply.pending_earnings()) {
    return Broken("supply.pending_earnings " + S(supply.pending_earnings()) + " != " + S(pending));
  }
  if (static_cast<u128>(supply.total_settled()) + supply.total_refunded() + supply.escrowed() !=
      supply.total_escrow_created()) {
    return Broken("flow: settled + refunded + escrowed != escrow created");
  }
  if (static_cast<u128>(supply.total_paid_out()) + supply.pending_earnings() != supply.total_settled()) {
    return Broken("flow: paid out + pending != settled");
  }
  state.Scan(keys::kAttestation, [&](const std::string&, const std::string& v) {
    v1::TeeAttestation a;
    a.ParseFromString(v);
    if (a.status() == v1::ATTESTATION_STATUS_VERIFIED) {
      if (a.expires_after_epoch() < meta.current_epoch()) {
        err = "attestation of node " + a.node_id() + " VERIFIED past its TTL";
        return false;
      }
      if (a.sign_public_key().size() != 32) {
        err = "attestation of node " + a.node_id() + " has a sign key of the wrong size";
        return false;
      }
    }
    return true;
  });
  if (!err.empty()) return Broken(err);
  return OkStatus();
}

}  // namespace cmln::chain
