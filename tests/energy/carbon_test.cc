// Carbon resolution and arithmetic against hand-computed values and the published
// table rows (data/carbon/, from Our World in Data / provider region data).
#include <gtest/gtest.h>

#include "energy/carbon.h"
#include "energy/tables.h"
#include "test_util.h"

namespace greenai::energy {
namespace {

using testing::TempDir;

TEST(Carbon, CountryFromEmbeddedTable) {
  CarbonOptions o;
  o.country = "fra";
  auto c = ResolveCarbon(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->g_per_kwh, 56.039);  // FRA,France,2023,56.039 in the OWID table
  EXPECT_EQ(c->country_iso3, "FRA");
  EXPECT_TRUE(c->warning.empty());
  // 3.6 MJ = 1 kWh -> 56.039 g; with PUE 1.5 -> 84.0585 g.
  EXPECT_NEAR(c->Grams(3.6e6, 0, 1), 56.039, 1e-9);
  o.pue = 1.5;
  EXPECT_NEAR(ResolveCarbon(o)->Grams(3.6e6, 0, 1), 84.0585, 1e-9);
}

TEST(Carbon, DefaultIsWorldAverageWithWarning) {
  auto c = ResolveCarbon({});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->g_per_kwh, 475.0);
  EXPECT_FALSE(c->warning.empty());
  EXPECT_EQ(c->warning.find('\n'), std::string::npos);
}

TEST(Carbon, UnknownCountryListsCloseMatches) {
  CarbonOptions o;
  o.country = "FRX";
  auto c = ResolveCarbon(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("FRX"), std::string::npos);
  EXPECT_NE(c.status().message().find("FRA (France)"), std::string::npos) << c.status().message();
  auto names = CloseCountryMatches("Germany");
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "DEU (Germany)");
}

TEST(Carbon, CloudRegionAndConflicts) {
  const auto& regions = CloudRegions();
  ASSERT_FALSE(regions.empty());
  CarbonOptions o;
  o.cloud = regions[0].provider + ":" + regions[0].region;
  auto c = ResolveCarbon(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->g_per_kwh, regions[0].g_per_kwh);
  o.cloud = "gcp:europe-wst1";
  auto bad = ResolveCarbon(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("close matches"), std::string::npos) << bad.status().message();
  o.cloud = "gcp-europe-west1";
  EXPECT_EQ(ResolveCarbon(o).status().code(), StatusCode::kInvalidArgument);
  CarbonOptions both;
  both.country = "FRA";
  both.intensity = 100;
  EXPECT_EQ(ResolveCarbon(both).status().code(), StatusCode::kInvalidArgument);
  CarbonOptions pue;
  pue.pue = 0.5;
  EXPECT_FALSE(ResolveCarbon(pue).ok());
}

TEST(Carbon, TimeSeriesIsIntegratedOverTheRun) {
  auto rows = ParseIntensityCsv(
      "timestamp,g_co2e_per_kwh\n"
      "2024-01-01T00:00:00Z,100\n"
      "2024-01-01T01:00:00Z,300\n"
      "1704074400,200\n",  // 02:00 UTC as Unix seconds
      "series.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_DOUBLE_EQ((*rows)[0].first, 1704067200.0);
  CarbonSource s;
  s.kind = CarbonSource::Kind::kTimeSeries;
  s.series = *rows;
  double t0 = 1704067200.0;
  // 30 min at 100 then 30 min at 300 -> mean 200.
  EXPECT_DOUBLE_EQ(s.MeanIntensity(t0 + 1800, t0 + 5400), 200.0);
  // Before the first row the first value holds; after the last the last.
  EXPECT_DOUBLE_EQ(s.MeanIntensity(t0 - 100, t0 - 50), 100.0);
  EXPECT_DOUBLE_EQ(s.MeanIntensity(t0 + 9000, t0 + 9999), 200.0);
  // 2 kWh over 01:30-02:30: mean (300*1800 + 200*1800)/3600 = 250 -> 500 g.
  EXPECT_NEAR(s.Grams(7.2e6, t0 + 5400, t0 + 9000), 500.0, 1e-9);
}

TEST(Carbon, MalformedIntensityCsvNamesTheLine) {
  auto r = ParseIntensityCsv("timestamp,g_co2e_per_kwh\n2024-01-01T00:00:00Z,100\n2024-01-01T01:00:00Z,abc\n", "x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x.csv: line 3"), std::string::npos) << r.status().message();
  r = ParseIntensityCsv("time,value\n1,2\n", "x.csv");
  EXPECT_NE(r.status().message().find("line 1"), std::string::npos);
  r = ParseIntensityCsv("timestamp,g_co2e_per_kwh\n10,1\n5,1\n", "x.csv");
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos);
  r = ParseIntensityCsv("timestamp,g_co2e_per_kwh\nyesterday,1\n", "x.csv");
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseIntensityCsv("", "x.csv").ok());
  TempDir d;
  d.Write("bad.csv", "timestamp,g_co2e_per_kwh\n1,2,3\n");
  CarbonOptions o;
  o.intensity_csv = d.path() + "/bad.csv";
  auto c = ResolveCarbon(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bad.csv: line 2"), std::string::npos);
  o.intensity_csv = d.path() + "/missing.csv";
  EXPECT_EQ(ResolveCarbon(o).status().code(), StatusCode::kIoError);
}

TEST(Carbon, SciPerFunctionalUnit) {
  // (0.5 kWh * 400 g/kWh + 100 g) / 1000 inferences = 0.3 g per inference.
  auto s = Sci({0.5, 400, 100, 1000});
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(*s, 0.3, 1e-12);
  EXPECT_FALSE(Sci({1, 1, 0, 0}).ok());
}

TEST(Carbon, TimestampsRoundTrip) {
  EXPECT_EQ(FormatTimestamp(1704067200.0), "2024-01-01T00:00:00");
  EXPECT_DOUBLE_EQ(*ParseTimestamp("2024-01-01T00:00:30"), 1704067230.0);
  EXPECT_DOUBLE_EQ(*ParseTimestamp("2024-01-01 00:01"), 1704067260.0);
  EXPECT_FALSE(ParseTimestamp("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2024-01-01T00:00:00+02:00"));
}

}  // namespace
}  // namespace greenai::energy
