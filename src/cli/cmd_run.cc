// greenai run
#include <cstdio>

#include "cli/commands.h"

namespace greenai::cli {

void RegisterRun(CLI::App& app, int* exit_code) {
  auto* sub = app.add_subcommand("run", "(not yet implemented)");
  sub->callback([exit_code] {
    std::fprintf(stderr, "greenai run: not implemented yet\n");
    *exit_code = 2;
  });
}

}  // namespace greenai::cli
