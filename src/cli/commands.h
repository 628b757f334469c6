// Registration of cmln subcommands. Each Register* adds one subcommand to the app; its callback
// stores the process exit code with SetExitCode (0 success, 1 operation failed/rejected, 2 usage).
#pragma once

#include <CLI/CLI.hpp>

namespace cmln::cli {

void RegisterAll(CLI::App& app);
void RegisterVersion(CLI::App& app);
void RegisterKeys(CLI::App& app);
void RegisterAttest(CLI::App& app);
// Adds `sim` under the `attest` subcommand (src/cli/attest_sim_command.cc).
void RegisterAttestSim(CLI::App& attest);
void RegisterChain(CLI::App& app);
// Adds `abci` under the `chain` subcommand (src/cli/abci_command.cc).
void RegisterChainAbci(CLI::App& chain);
void RegisterTx(CLI::App& app);
void RegisterQuery(CLI::App& app);
void RegisterEngine(CLI::App& app);
void RegisterNode(CLI::App& app);
// The client side (src/cli/proxy_command.cc, chat_command.cc, devnet_command.cc).
void RegisterProxy(CLI::App& app);
void RegisterChat(CLI::App& app);
void RegisterDevnet(CLI::App& app);

void SetExitCode(int code);
int ExitCode();

}  // namespace cmln::cli
