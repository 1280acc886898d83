// ProgressBar: rate limiting on a non-terminal, final line, ETA arithmetic, silencing.
#include "core/progress.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

namespace greenai {
namespace {

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(Progress, NonTtyPrintsAtMostEveryFiveSecondsAndAlwaysTheFinalLine) {
  unsetenv("GREENAI_NO_PROGRESS");
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  double t = 100;
  {
    ProgressBar bar("train", 100, f, [&] { return t; });
    for (int i = 1; i <= 100; ++i) {
      t += 0.25;  // 25 s in all: the first update draws, then one every 5 s
      bar.Update(i, "loss 0.5");
    }
    bar.Finish("done");
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  EXPECT_EQ(CountLines(out), 5 + 1) << out;  // updates at 0.25, 5.25, 10.25, 15.25, 20.25 s + final
  EXPECT_NE(out.find("100/100"), std::string::npos);
  EXPECT_NE(out.find("done"), std::string::npos);
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(Progress, RenderShowsPercentElapsedAndEta) {
  double t = 0;
  ProgressBar bar("epoch 1/2", 200, nullptr, [&] { return t; });
  t = 10;
  const std::string s = bar.Render(50, "x");
  // 50 of 200 in 10 s: 25 %, 30 s left.
  EXPECT_NE(s.find(" 25%"), std::string::npos) << s;
  EXPECT_NE(s.find("50/200"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 30.0 s"), std::string::npos) << s;
  EXPECT_NE(s.find("10.0 s"), std::string::npos) << s;
}

TEST(Progress, EnvironmentSilences) {
  setenv("GREENAI_NO_PROGRESS", "1", 1);
  std::FILE* f = std::tmpfile();
  {
    ProgressBar bar("x", 10, f);
    bar.Update(5);
    bar.Finish();
  }
  EXPECT_TRUE(ReadAll(f).empty());
  std::fclose(f);
  unsetenv("GREENAI_NO_PROGRESS");
}

TEST(Progress, FormatDuration) {
  EXPECT_EQ(FormatDuration(1.25), "1.2 s");
  EXPECT_EQ(FormatDuration(185), "3 min 05 s");
  EXPECT_EQ(FormatDuration(7380), "2 h 03 min");
}

}  // namespace
}  // namespace greenai
