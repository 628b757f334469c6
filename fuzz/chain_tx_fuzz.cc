// Fuzz: transaction protobuf decoding and CheckTx on arbitrary bytes (C9, A16 for the chain's input).
// A fixed genesis with one funded account; every input goes through DecodeTx and App::CheckTx, which
// must return a result code and never crash, over-read or allocate without bound. Inputs that start
// with 0xFF are instead decoded as usage batches.
#include <cstddef>
#include <cstdint>

#include "chain/app.h"
#include "chain/tx.h"
#include "chain/usage_batch.h"

namespace {

cmln::chain::App* MakeApp() {
  static std::unique_ptr<cmln::chain::App> app = [] {
    auto a = cmln::chain::App::Open(":memory:", nullptr);
    if (!a.ok()) abort();
    auto key = cmln::seal::AccountPrivateKey::FromBytes(cmln::Bytes(32, 7));
    std::string addr = cmln::seal::AccountAddressToString(cmln::seal::AccountAddressFromPublicKey(key->public_key()));
    std::string g = R"({"chain_id":"fuzz","genesis_time":1,"params":{"authority":")" + addr +
                    R"("},"accounts":[{"address":")" + addr + R"(","balance":1000}]})";
    auto genesis = cmln::chain::ParseGenesis(g);
    if (!genesis.ok() || !(*a)->InitChain(*genesis).ok()) abort();
    return std::move(*a);
  }();
  return app.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cmln::ByteView in(data, size);
  if (size > 0 && data[0] == 0xFF) {
    (void)cmln::chain::DecodeUsageBatch(in.subspan(1));
    return 0;
  }
  (void)cmln::chain::DecodeTx(in, cmln::chain::kAbsoluteMaxTxBytes);
  (void)MakeApp()->CheckTx(in);
  return 0;
}
