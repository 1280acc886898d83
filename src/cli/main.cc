// greenai: measure, analyze, train, compress, run and report on ML models.
#include <cstdio>

#include "cli/commands.h"
#include "core/omp_env.h"

int main(int argc, char** argv) {
  greenai::ShortOpenMPSpin(argv);
  CLI::App app{"greenai: energy-aware toolkit for ML models (measure, analyze, train, compress, run, report)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "greenai 0.1.0");
  int exit_code = 0;
  greenai::cli::RegisterInfo(app, &exit_code);
  greenai::cli::RegisterRun(app, &exit_code);
  greenai::cli::RegisterConformance(app, &exit_code);
  greenai::cli::RegisterMeasure(app, &exit_code);
  greenai::cli::RegisterMonitor(app, &exit_code);
  greenai::cli::RegisterZoo(app, &exit_code);
  greenai::cli::RegisterAnalyze(app, &exit_code);
  greenai::cli::RegisterTrain(app, &exit_code);
  greenai::cli::RegisterEval(app, &exit_code);
  greenai::cli::RegisterBench(app, &exit_code);
  greenai::cli::RegisterPrune(app, &exit_code);
  greenai::cli::RegisterLowRank(app, &exit_code);
  greenai::cli::RegisterQuantize(app, &exit_code);
  greenai::cli::RegisterDistill(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
