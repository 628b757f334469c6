#include "cli/commands.h"

namespace cmln::cli {

namespace {
int g_exit_code = 0;
}

void SetExitCode(int code) { g_exit_code = code; }
int ExitCode() { return g_exit_code; }

void RegisterAll(CLI::App& app) {
  RegisterVersion(app);
  RegisterKeys(app);
  RegisterAttest(app);
  RegisterChain(app);
  RegisterChainAbci(*app.get_subcommand("chain"));
  RegisterTx(app);
  RegisterQuery(app);
  RegisterEngine(app);
  RegisterNode(app);
  RegisterProxy(app);
  RegisterChat(app);
  RegisterDevnet(app);
}

}  // namespace cmln::cli
