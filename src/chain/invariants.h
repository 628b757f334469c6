// Invariants of the chain's state, written as code (after cosmos-sdk's keeper/invariants.go) and run by
// the tests after every block. Each returns kInternal naming the broken invariant and the numbers.
//
//   supply:   sum(balances) + sum(escrow remainders) + sum(pending earnings) == genesis + minted
//   escrow:   per escrow amount == remaining + settled + refunded; REFUNDED <=> refunded and nothing
//             remains; supply.escrowed == sum(remaining)
//   flow:     total_escrow_created == total_settled + total_refunded + escrowed;
//             total_settled == total_paid_out + pending_earnings
//   attest:   no VERIFIED attestation past its TTL; every VERIFIED key is 32 bytes
#pragma once

#include "chain/kv_store.h"
#include "common/status.h"

namespace cmln::chain {

Status CheckInvariants(const StateReader& state);

}  // namespace cmln::chain
