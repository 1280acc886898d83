#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/npy.h"
#include "train/data.h"
#include "train/data_loader.h"

namespace greenai::train {
namespace {

namespace fs = std::filesystem;

class DataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("greenai_data_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string IdxBytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data, uint8_t type = 0x08) {
    std::string s = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (uint32_t d : dims) {
      s.push_back(static_cast<char>(d >> 24));
      s.push_back(static_cast<char>(d >> 16));
      s.push_back(static_cast<char>(d >> 8));
      s.push_back(static_cast<char>(d));
    }
    s.append(data.begin(), data.end());
    return s;
  }
  void WritePlain(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  void WriteGz(const std::string& name, const std::string& bytes) {
    gzFile f = gzopen((dir_ / name).c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
    gzclose(f);
  }
  // 3 images of 2x2 with pixel values 0..11 and labels {2, 0, 1}.
  void WriteTiny(bool gz, const std::string& prefix = "train") {
    std::vector<uint8_t> px(12);
    for (int i = 0; i < 12; ++i) px[i] = static_cast<uint8_t>(i * 20);
    auto img = IdxBytes({3, 2, 2}, px), lab = IdxBytes({3}, {2, 0, 1});
    if (gz) {
      WriteGz(prefix + "-images-idx3-ubyte.gz", img);
      WriteGz(prefix + "-labels-idx1-ubyte.gz", lab);
    } else {
      WritePlain(prefix + "-images-idx3-ubyte", img);
      WritePlain(prefix + "-labels-idx1-ubyte", lab);
    }
  }
  fs::path dir_;
};

TEST_F(DataTest, IdxPlainAndGzipGiveTheSameScaledPixels) {
  for (bool gz : {false, true}) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteTiny(gz);
    auto ds = LoadDataset("mnist-idx:" + dir_.string(), Split::kTrain);
    ASSERT_TRUE(ds.ok()) << ds.status().ToString();
    ASSERT_EQ((*ds)->size(), 3);
    EXPECT_EQ((*ds)->sample_shape(), (Shape{1, 2, 2}));
    EXPECT_EQ((*ds)->num_classes(), 10);
    EXPECT_EQ((*ds)->label(0), 2);
    EXPECT_EQ((*ds)->label(2), 1);
    float buf[4];
    (*ds)->CopySample(1, buf);
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(buf[i], static_cast<float>((4 + i) * 20) / 255.0f);
  }
}

TEST_F(DataTest, IdxErrorsNameFileAndRule) {
  WritePlain("bad_magic", std::string("\x01\x02\x08\x01\0\0\0\0", 8));
  auto r = ReadIdxFile((dir_ / "bad_magic").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad magic"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("bad_magic"), std::string::npos);

  WritePlain("trunc", IdxBytes({5, 2, 2}, std::vector<uint8_t>(7)));
  r = ReadIdxFile((dir_ / "trunc").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();

  WritePlain("trailing", IdxBytes({1, 2}, std::vector<uint8_t>(3)));
  r = ReadIdxFile((dir_ / "trailing").string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos) << r.status().message();

  WritePlain("float", IdxBytes({1}, std::vector<uint8_t>(4), 0x0D));
  EXPECT_FALSE(ReadIdxFile((dir_ / "float").string()).ok());

  // A gzip stream cut in the middle is a gzip error or truncation, never a crash.
  std::string big = IdxBytes({64, 8, 8}, std::vector<uint8_t>(4096, 7));
  WriteGz("full.gz", big);
  std::ifstream in(dir_ / "full.gz", std::ios::binary);
  std::string gzbytes((std::istreambuf_iterator<char>(in)), {});
  WritePlain("cut.gz", gzbytes.substr(0, gzbytes.size() / 2));
  r = ReadIdxFile((dir_ / "cut.gz").string());
  EXPECT_FALSE(r.ok());

  EXPECT_EQ(ReadIdxFile((dir_ / "missing").string()).status().code(), StatusCode::kNotFound);
}

TEST_F(DataTest, IdxCountMismatchAndLabelRange) {
  WritePlain("train-images-idx3-ubyte", IdxBytes({2, 1, 1}, {1, 2}));
  WritePlain("train-labels-idx1-ubyte", IdxBytes({3}, {0, 1, 2}));
  auto r = LoadMnistFolder(dir_.string(), Split::kTrain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 images but 3 labels"), std::string::npos) << r.status().message();

  WritePlain("train-labels-idx1-ubyte", IdxBytes({2}, {0, 12}));
  r = LoadMnistFolder(dir_.string(), Split::kTrain);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("label 12"), std::string::npos) << r.status().message();
  DatasetOptions o;
  o.num_classes = 13;
  EXPECT_TRUE(LoadMnistFolder(dir_.string(), Split::kTrain, o).ok());
}

TEST_F(DataTest, NpyFolderAndCsv) {
  ASSERT_TRUE(SaveNpy(Tensor::FromVector<uint8_t>({3, 2}, {1, 2, 3, 4, 5, 6}), (dir_ / "x.npy").string()).ok());
  ASSERT_TRUE(SaveNpy(Tensor::FromVector<int32_t>({3}, {0, 4, 1}), (dir_ / "y.npy").string()).ok());
  auto ds = LoadDataset("npy:" + dir_.string(), Split::kTest);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->size(), 3);
  EXPECT_EQ((*ds)->num_classes(), 5);
  float b[2];
  (*ds)->CopySample(2, b);
  EXPECT_EQ(b[0], 5.0f);
  EXPECT_EQ(b[1], 6.0f);
  DatasetOptions o;
  o.num_classes = 3;
  auto bad = LoadDataset("npy:" + dir_.string(), Split::kTest, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("label 4"), std::string::npos) << bad.status().message();
  ASSERT_TRUE(SaveNpy(Tensor::FromVector<int32_t>({2}, {0, 1}), (dir_ / "y.npy").string()).ok());
  EXPECT_FALSE(LoadDataset("npy:" + dir_.string(), Split::kTest).ok());

  WritePlain("d.csv", "label,a,b\n1,0.5,2\n0,-1,3e1\n");
  ds = LoadDataset("csv:" + (dir_ / "d.csv").string(), Split::kTrain);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  EXPECT_EQ((*ds)->size(), 2);
  (*ds)->CopySample(1, b);
  EXPECT_EQ(b[0], -1.0f);
  EXPECT_EQ(b[1], 30.0f);
  WritePlain("bad.csv", "1,0.5,2\n0,x,3\n");
  auto bc = LoadDataset("csv:" + (dir_ / "bad.csv").string(), Split::kTrain);
  ASSERT_FALSE(bc.ok());
  EXPECT_NE(bc.status().message().find("line 2"), std::string::npos) << bc.status().message();
  EXPECT_FALSE(LoadDataset("parquet:foo", Split::kTrain).ok());
}

TEST(FashionMnist, TestSplitMatchesPublishedFacts) {
  if (!fs::exists(kFashionMnistDir)) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto ds = LoadDataset("fashion-mnist", Split::kTest);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  // Published: 10,000 test images of 28x28, exactly 1,000 per class; the first is an ankle boot (9).
  ASSERT_EQ((*ds)->size(), 10000);
  EXPECT_EQ((*ds)->sample_shape(), (Shape{1, 28, 28}));
  std::vector<int> counts(10);
  for (int64_t i = 0; i < (*ds)->size(); ++i) counts[static_cast<size_t>((*ds)->label(i))]++;
  for (int c : counts) EXPECT_EQ(c, 1000);
  EXPECT_EQ((*ds)->label(0), 9);
}

std::shared_ptr<const Dataset> Ramp(int64_t n, Shape sample) {
  Shape s = sample;
  s.insert(s.begin(), n);
  auto x = Tensor::Create(DType::kF32, s).value();
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>(i);
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) y[static_cast<size_t>(i)] = i % 3;
  return std::shared_ptr<const Dataset>(TensorDataset::Create(x, y, 3, "ramp").value().release());
}

std::vector<std::vector<float>> Epoch(DataLoader& dl, int64_t e) {
  dl.StartEpoch(e);
  std::vector<std::vector<float>> out;
  while (true) {
    auto b = dl.Next();
    EXPECT_TRUE(b.ok());
    if (!b.ok() || !b->has_value()) break;
    auto sp = (*b)->x.span<float>();
    out.emplace_back(sp.begin(), sp.end());
  }
  return out;
}

TEST(DataLoader, ShuffleIsAPermutationSeededAndPrefetchInvariant) {
  auto ds = Ramp(10, {1});
  LoaderOptions o;
  o.batch_size = 4;
  o.seed = 7;
  auto a = DataLoader::Create(ds, o).value();
  EXPECT_EQ(a->num_batches(), 3);
  auto e0 = Epoch(*a, 0);
  ASSERT_EQ(e0.size(), 3u);
  EXPECT_EQ(e0[2].size(), 2u);  // last partial batch kept
  std::multiset<float> seen;
  for (auto& b : e0) seen.insert(b.begin(), b.end());
  std::multiset<float> want;
  for (int i = 0; i < 10; ++i) want.insert(static_cast<float>(i));
  EXPECT_EQ(seen, want);
  EXPECT_NE(Epoch(*a, 1), e0);  // a different order each epoch (10! orders; equal by chance ~3e-7)
  o.prefetch = 0;
  auto sync = DataLoader::Create(ds, o).value();
  EXPECT_EQ(Epoch(*sync, 0), e0);
  o.drop_last = true;
  o.shuffle = false;
  auto dl = DataLoader::Create(ds, o).value();
  auto plain = Epoch(*dl, 0);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[1], (std::vector<float>{4, 5, 6, 7}));
}

TEST(DataLoader, NormalizeCropAndFlip) {
  auto ds = Ramp(2, {1, 3, 3});  // sample 0 holds 0..8
  LoaderOptions o;
  o.batch_size = 2;
  o.shuffle = false;
  o.mean = {4.0f};
  o.std = {2.0f};
  auto dl = DataLoader::Create(ds, o).value();
  auto e = Epoch(*dl, 0);
  EXPECT_FLOAT_EQ(e[0][0], -2.0f);
  EXPECT_FLOAT_EQ(e[0][8], 2.0f);

  // With padding 1 every crop is the image shifted by (dy-1, dx-1) in [-1, 1]^2, zero-filled,
  // possibly mirrored: check each augmented sample is one of those 18 candidates.
  LoaderOptions a;
  a.batch_size = 1;
  a.crop_padding = 1;
  a.hflip = true;
  a.seed = 3;
  auto al = DataLoader::Create(Ramp(1, {1, 3, 3}), a).value();
  std::set<std::vector<float>> candidates, got;
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx)
      for (int flip = 0; flip < 2; ++flip) {
        std::vector<float> img(9);
        for (int y = 0; y < 3; ++y)
          for (int x = 0; x < 3; ++x) {
            int xo = flip ? 2 - x : x, sy = y + dy, sx = xo + dx;
            img[static_cast<size_t>(y * 3 + x)] = (sy < 0 || sy > 2 || sx < 0 || sx > 2) ? 0.f : float(sy * 3 + sx);
          }
        candidates.insert(img);
      }
  for (int e2 = 0; e2 < 40; ++e2) {
    auto b = Epoch(*al, e2);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_TRUE(candidates.count(b[0])) << "epoch " << e2;
    got.insert(b[0]);
  }
  EXPECT_GT(got.size(), 5u);  // augmentation actually varies
  a.crop_padding = 0;
  EXPECT_FALSE(DataLoader::Create(Ramp(2, {4}), a).ok());  // flip needs [C,H,W]
  LoaderOptions bad;
  bad.batch_size = 0;
  EXPECT_FALSE(DataLoader::Create(ds, bad).ok());
}

// Destroying a loader whose producer is blocked on a full queue must not hang or crash.
TEST(DataLoader, StopMidEpochJoinsCleanly) {
  auto ds = Ramp(1000, {16});
  LoaderOptions o;
  o.batch_size = 8;
  o.prefetch = 3;
  for (int rep = 0; rep < 20; ++rep) {
    auto dl = DataLoader::Create(ds, o).value();
    dl->StartEpoch(rep);
    auto b = dl->Next();
    ASSERT_TRUE(b.ok());
    // Destructor runs with the producer blocked on a full queue.
  }
  auto dl = DataLoader::Create(ds, o).value();
  auto direct = dl->MakeBatch(0, 200);
  EXPECT_FALSE(direct.ok());
}

}  // namespace
}  // namespace greenai::train
