// cmln: the one command-line tool of Confidential MLNode. Each subcommand lives in its own file
// (src/cli/<name>_command.cc) and registers itself through cli/commands.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"cmln — Confidential MLNode"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cmln ") + CMLN_VERSION);
  cmln::cli::RegisterAll(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (CLI11 returns its own code; normalize so scripts can rely on it).
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  return cmln::cli::ExitCode();
}
