// Subcommands of the `greenai` program: one file per subcommand (cli/cmd_<name>.cc),
// each registering itself on the CLI11 app. A command's callback stores its process
// exit code in *exit_code. Commands print errors as one line "greenai <cmd>: <message>"
// on stderr and exit non-zero; with --json, stdout holds exactly one JSON object.
#pragma once

#include <CLI/CLI.hpp>

namespace greenai::cli {

void RegisterInfo(CLI::App& app, int* exit_code);
void RegisterRun(CLI::App& app, int* exit_code);
void RegisterConformance(CLI::App& app, int* exit_code);
void RegisterMeasure(CLI::App& app, int* exit_code);
void RegisterMonitor(CLI::App& app, int* exit_code);
void RegisterZoo(CLI::App& app, int* exit_code);
void RegisterAnalyze(CLI::App& app, int* exit_code);
void RegisterTrain(CLI::App& app, int* exit_code);
void RegisterEval(CLI::App& app, int* exit_code);
void RegisterBench(CLI::App& app, int* exit_code);
void RegisterPrune(CLI::App& app, int* exit_code);
void RegisterLowRank(CLI::App& app, int* exit_code);
void RegisterQuantize(CLI::App& app, int* exit_code);
void RegisterDistill(CLI::App& app, int* exit_code);

}  // namespace greenai::cli
