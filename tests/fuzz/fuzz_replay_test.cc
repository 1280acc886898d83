// Replays the fuzz target over tests/fuzz/seeds plus deterministic mutations of them (bit
// flips, truncations, byte insertions) so ordinary `make test` keeps the loader's "no crash,
// export reloads" property, and any crash file saved in seeds/ stays a regression test.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> out;
  const std::filesystem::path dir = std::filesystem::path(GREENAI_SOURCE_DIR) / "tests/fuzz/seeds";
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream f(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

void Feed(const std::string& s) { LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(FuzzReplay, SeedsAndMutations) {
  auto seeds = Seeds();
  ASSERT_GE(seeds.size(), 5u);
  std::mt19937 rng(12345);
  int runs = 0;
  for (const auto& s : seeds) {
    Feed(s);
    for (size_t cut = 0; cut < s.size(); cut += 7) Feed(s.substr(0, cut));
    for (int k = 0; k < 300; ++k) {
      std::string m = s;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        size_t pos = rng() % m.size();
        switch (rng() % 3) {
          case 0: m[pos] = static_cast<char>(m[pos] ^ (1u << (rng() % 8))); break;
          case 1: m[pos] = static_cast<char>(rng()); break;
          default: m.insert(pos, 1, static_cast<char>(rng())); break;
        }
      }
      Feed(m);
      ++runs;
    }
  }
  EXPECT_GT(runs, 1000);
}

}  // namespace
