// The thin message server: stateless checks on each message (ValidateBasic), the message's signer, and
// routing to exactly one keeper handler. It reads and writes no state itself (STYLE point 12).
#pragma once

#include <string>

#include "chain/keeper.h"
#include "chain/proto/tx.pb.h"
#include "common/status.h"

namespace cmln::chain {

// Stateless checks: addresses are gonka1 bech32, amounts > 0, ids within length caps, a release with
// measurements and a 32-byte model digest, a 64-byte Ed25519 signature on usage. kInvalidArgument /
// kMalformed naming the field.
Status ValidateBasic(const v1::Msg& msg);

// The address that must have signed the transaction carrying `msg`.
std::string MsgSigner(const v1::Msg& msg);

// Short type name for events and JSON ("send", "submit_tee_attestation", ...).
std::string MsgTypeName(const v1::Msg& msg);

// Runs the message's handler. On error the caller discards the keeper's cache store.
Status DeliverMsg(Keeper& keeper, const v1::Msg& msg);

}  // namespace cmln::chain
