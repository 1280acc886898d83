// `greenai measure` / `greenai monitor` end to end, on the built binary. Skipped when
// the binary has not been built in this build folder (test_energy does not depend on
// the whole CLI).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "energy/emissions_csv.h"
#include "energy/metrics_server.h"
#include "energy/tables.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

// The product binary when built, else the energy-only development binary.
const std::string kBinary = std::filesystem::exists(std::string(GREENAI_BINARY_DIR) + "/greenai")
                                ? std::string(GREENAI_BINARY_DIR) + "/greenai"
                                : std::string(GREENAI_BINARY_DIR) + "/greenai-energy";

struct Ran {
  int code = -1;
  std::string out, err;
};

pid_t Spawn(const std::vector<std::string>& args, const TempDir& d) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::freopen((d.path() + "/out").c_str(), "w", stdout);
    ::freopen((d.path() + "/err").c_str(), "w", stderr);
    std::vector<char*> argv{const_cast<char*>(kBinary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kBinary.c_str(), argv.data());
    ::_exit(99);
  }
  return pid;
}

Ran Wait(pid_t pid, const TempDir& d) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  Ran r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = d.Read("out");
  r.err = d.Read("err");
  return r;
}

Ran RunGreenai(const std::vector<std::string>& args, const TempDir& d) { return Wait(Spawn(args, d), d); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kBinary)) GTEST_SKIP() << kBinary << " not built";
  }
  TempDir d_;
};

TEST_F(Cli, ForwardsExitCodeAndAppendsACodeCarbonRow) {
  auto r = RunGreenai({"measure", "--country", "FRA", "--interval", "0.05", "--output-dir", d_.path(), "--", "sh", "-c",
                "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3"},
               d_);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("exited with code 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("estimated"), std::string::npos);
  std::string csv = d_.Read("emissions.csv");
  ASSERT_EQ(csv.substr(0, csv.find('\n') + 1), EmissionsCsvHeader());
  std::string row = csv.substr(csv.find('\n') + 1);
  ASSERT_FALSE(row.empty());
  auto f = SplitCsvLine(row.substr(0, row.size() - 1));
  EXPECT_EQ(f.size(), kCodeCarbonColumns.size());
  EXPECT_EQ(f[16], "FRA");
  EXPECT_GT(std::stod(f[13]), 0.0);  // energy_consumed
}

TEST_F(Cli, JsonKeepsStdoutForTheObject) {
  auto r = RunGreenai({"measure", "--json", "--no-csv", "--intensity", "100", "--units", "10", "--unit-name", "inference",
                "--", "sh", "-c", "echo hello"},
               d_);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["carbon"]["intensity_g_per_kwh"], 100.0);
  EXPECT_EQ(j["sci"]["unit"], "inference");
  EXPECT_NE(r.err.find("hello"), std::string::npos);  // the command's stdout went to stderr
  EXPECT_FALSE(std::filesystem::exists(d_.path() + "/emissions.csv"));
}

TEST_F(Cli, MissingCommandExits127WithoutARow) {
  auto r = RunGreenai({"measure", "--output-dir", d_.path(), "--", "greenai-no-such-command", "x"}, d_);
  EXPECT_EQ(r.code, 127);
  EXPECT_NE(r.err.find("greenai measure: command not found: greenai-no-such-command"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d_.path() + "/emissions.csv"));
}

TEST_F(Cli, CommandKilledBySignal) {
  auto r = RunGreenai({"measure", "--output-dir", d_.path(), "--", "sh", "-c", "kill -KILL $$"}, d_);
  EXPECT_EQ(r.code, 128 + SIGKILL);
  EXPECT_NE(r.err.find("killed by signal 9 (SIGKILL)"), std::string::npos) << r.err;
  // The energy was spent: the run is still recorded, as one complete row.
  std::string csv = d_.Read("emissions.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 2);
}

TEST_F(Cli, SignalsSentToGreenaiReachTheCommand) {
  // The command marks when it runs: by then greenai has its handlers installed. (A fixed
  // 500 ms sleep raced greenai's start-up in the slow sanitizer build on a loaded machine.)
  const std::string marker = d_.path() + "/started";
  pid_t pid = Spawn({"measure", "--no-csv", "--", "sh", "-c", "touch '" + marker + "'; exec sleep 30"}, d_);
  for (int i = 0; i < 300 && !std::filesystem::exists(marker); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(std::filesystem::exists(marker)) << "the command did not start within 15 s";
  auto t0 = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  Ran r = Wait(pid, d_);
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_NE(r.err.find("SIGTERM"), std::string::npos) << r.err;
}

TEST_F(Cli, BadInputsAreOneLineErrors) {
  d_.Write("bad.csv", "timestamp,g_co2e_per_kwh\n2024-01-01T00:00:00Z,12\n2024-01-01T01:00:00Z,x\n");
  d_.Write("marker-absent", "");
  std::string marker = d_.path() + "/ran";
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  } cases[] = {
      {{"measure", "--country", "FRX", "--", "touch", marker}, "close matches: FRA (France)"},
      {{"measure", "--intensity-csv", d_.path() + "/bad.csv", "--", "touch", marker}, "bad.csv: line 3"},
      {{"measure", "--output-dir", d_.path() + "/missing-dir", "--", "touch", marker}, "missing-dir"},
      {{"measure", "--interval", "0", "--", "touch", marker}, "--interval"},
  };
  for (const auto& c : cases) {
    auto r = RunGreenai(c.args, d_);
    EXPECT_EQ(r.code, 2) << c.needle;
    EXPECT_EQ(r.err.rfind("greenai measure: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(marker)) << "command ran despite bad input: " << c.needle;
  }
}

TEST_F(Cli, MonitorServesPrometheusText) {
  pid_t pid = Spawn({"monitor", "--port", "0", "--interval", "0.05", "--intensity", "200", "--duration", "20"}, d_);
  int port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::string err = d_.Read("err");
    size_t p = err.find("127.0.0.1:");
    if (p != std::string::npos) port = std::atoi(err.c_str() + p + 10);
  }
  ASSERT_GT(port, 0) << d_.Read("err");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto body = HttpGetLoopback(port, "/metrics");
  ::kill(pid, SIGTERM);
  Ran r = Wait(pid, d_);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_NE(body->find("greenai_energy_joules_total{component=\"cpu\""), std::string::npos) << *body;
  EXPECT_NE(body->find("greenai_power_watts{component=\"cpu\""), std::string::npos);
  EXPECT_NE(body->find("greenai_emissions_grams_total"), std::string::npos);
  EXPECT_EQ(r.code, 0) << r.err;
}

}  // namespace
}  // namespace greenai::energy
