// TensorProto (.pb) and NPY files: round trips for every dtype, decoding of the typed
// TensorProto fields from hand-built bytes, cross-checks against the ONNX suite's data and
// against .npy bytes written per the NPY format spec, and bad-input messages.
#include <sys/stat.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/npy.h"
#include "graph/tensor_proto.h"
#include "test_util.h"
#include "wire.h"

namespace greenai {
namespace {

using testutil::TempDir;

constexpr DType kAllNumeric[] = {DType::kF32, DType::kF64, DType::kF16, DType::kBF16, DType::kI8,
                                 DType::kU8,  DType::kI16, DType::kU16, DType::kI32,  DType::kU32,
                                 DType::kI64, DType::kU64, DType::kBool};

// Seeded random bytes (bool: 0/1) so every bit pattern of the dtype gets exercised.
Tensor RandomTensor(DType dt, Shape shape, uint32_t seed) {
  auto t = Tensor::Create(dt, std::move(shape));
  EXPECT_TRUE(t.ok());
  std::mt19937 rng(seed);
  auto* b = static_cast<unsigned char*>(t->raw());
  for (size_t i = 0; i < t->nbytes(); ++i) b[i] = static_cast<unsigned char>(dt == DType::kBool ? rng() & 1 : rng());
  return *t;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

TEST(TensorProtoFile, RoundTripsEveryDtype) {
  TempDir dir;
  uint32_t seed = 1;
  for (DType dt : kAllNumeric) {
    for (const Shape& shape : {Shape{}, Shape{0}, Shape{3, 5, 2}}) {
      Tensor t = RandomTensor(dt, shape, seed++);
      const std::string path = dir / "t.pb";
      ASSERT_TRUE(SaveTensorProtoFile(t, "my_tensor", path).ok());
      std::string name;
      auto r = LoadTensorProtoFile(path, &name);
      ASSERT_TRUE(r.ok()) << DTypeName(dt) << ": " << r.status().ToString();
      EXPECT_EQ(name, "my_tensor");
      EXPECT_TRUE(SameBytes(t, *r)) << DTypeName(dt) << " " << ShapeToString(shape);
    }
  }
  auto s = Tensor::Create(DType::kString, {2});
  ASSERT_TRUE(s.ok());
  s->data<std::string>()[0] = "hello";
  s->data<std::string>()[1] = std::string("a\0b", 3);
  ASSERT_TRUE(SaveTensorProtoFile(*s, "s", dir / "s.pb").ok());
  auto rs = LoadTensorProtoFile(dir / "s.pb");
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->data<std::string>()[1], std::string("a\0b", 3));
}

TEST(TensorProtoFile, DecodesTypedFields) {
  using namespace testwire;  // NOLINT
  struct Case {
    int dtype;
    Msg msg;
    std::vector<double> want;
  };
  std::vector<Case> cases;
  auto add = [&](int dtype, std::vector<double> want, auto fill) {
    Msg m = TensorMsg("v", dtype, {static_cast<int64_t>(want.size())});
    fill(m);
    cases.push_back({dtype, m, want});
  };
  add(1, {1.5, -2}, [](Msg& m) { m.Float(tensor::float_data, 1.5f).Float(tensor::float_data, -2.f); });
  add(3, {-128, 127}, [](Msg& m) { m.Varint(tensor::int32_data, -128).Varint(tensor::int32_data, 127); });
  add(2, {0, 255}, [](Msg& m) { m.Varint(tensor::int32_data, 0).Varint(tensor::int32_data, 255); });
  add(5, {-32768}, [](Msg& m) { m.Varint(tensor::int32_data, -32768); });
  add(4, {65535}, [](Msg& m) { m.Varint(tensor::int32_data, 65535); });
  add(6, {-7}, [](Msg& m) { m.Varint(tensor::int32_data, -7); });
  add(9, {0, 1, 1}, [](Msg& m) { m.Varint(tensor::int32_data, 0).Varint(tensor::int32_data, 1).Varint(tensor::int32_data, 5); });
  // float16 1.0 = 0x3C00, -2.0 = 0xC000; bfloat16 1.0 = 0x3F80, 0.5 = 0x3F00 (low 16 bits of int32).
  add(10, {1, -2}, [](Msg& m) { m.Varint(tensor::int32_data, 0x3C00).Varint(tensor::int32_data, 0xC000); });
  add(16, {1, 0.5}, [](Msg& m) { m.Varint(tensor::int32_data, 0x3F80).Varint(tensor::int32_data, 0x3F00); });
  add(7, {-5000000000.0}, [](Msg& m) { m.Varint(tensor::int64_data, -5000000000); });
  add(12, {4000000000.0}, [](Msg& m) { m.Varint(tensor::uint64_data, 4000000000); });
  add(13, {1e19}, [](Msg& m) { m.Varint(tensor::uint64_data, static_cast<int64_t>(10000000000000000000ull)); });
  add(11, {0.1}, [](Msg& m) {
    m.Tag(tensor::double_data, 1);
    double d = 0.1;
    m.b.append(reinterpret_cast<const char*>(&d), 8);
  });
  for (const auto& c : cases) {
    auto r = TensorFromProtoBytes(c.msg.b);
    ASSERT_TRUE(r.ok()) << "dtype " << c.dtype << ": " << r.status().ToString();
    EXPECT_EQ(static_cast<int>(r->dtype()), c.dtype);
    ASSERT_EQ(r->numel(), static_cast<int64_t>(c.want.size()));
    for (size_t i = 0; i < c.want.size(); ++i) EXPECT_EQ(r->GetAsDouble(static_cast<int64_t>(i)), c.want[i]) << c.dtype;
  }
  Msg s = TensorMsg("s", 8, {2});
  s.Bytes(tensor::string_data, "x").Bytes(tensor::string_data, "yz");
  auto rs = TensorFromProtoBytes(s.b);
  ASSERT_TRUE(rs.ok()) << rs.status().ToString();
  EXPECT_EQ(rs->data<std::string>()[1], "yz");
  // Wrong field for the dtype, and a count that does not match dims.
  Msg w = TensorMsg("w", 7, {1});
  w.Float(tensor::float_data, 1.f);
  auto rw = TensorFromProtoBytes(w.b);
  ASSERT_FALSE(rw.ok());
  EXPECT_NE(rw.status().message().find("tensor 'w': data_type int64 but values are in float_data"),
            std::string::npos) << rw.status().message();
  Msg n = TensorMsg("n", 1, {3});
  n.Float(tensor::float_data, 1.f);
  auto rn = TensorFromProtoBytes(n.b);
  ASSERT_FALSE(rn.ok());
  EXPECT_NE(rn.status().message().find("tensor 'n': float_data has 1 values but dims [3] need 3"), std::string::npos)
      << rn.status().message();
}

TEST(TensorProtoFile, MatchesSuiteData) {
  const std::string d = "/usr/share/libonnx-testdata/data/node/test_add/test_data_set_0/";
  if (!std::filesystem::exists(d)) GTEST_SKIP() << "ONNX test data not installed";
  auto a = LoadTensorProtoFile(d + "input_0.pb");
  auto b = LoadTensorProtoFile(d + "input_1.pb");
  std::string name;
  auto c = LoadTensorProtoFile(d + "output_0.pb", &name);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(name, "sum");
  ASSERT_EQ(c->shape(), (Shape{3, 4, 5}));
  for (int64_t i = 0; i < c->numel(); ++i)
    EXPECT_EQ(c->data<float>()[i], a->data<float>()[i] + b->data<float>()[i]) << i;  // the suite's Add output

  const std::string s = "/usr/share/libonnx-testdata/data/node/test_cast_FLOAT_to_STRING/test_data_set_0/";
  auto f = LoadTensorProtoFile(s + "input_0.pb");
  auto str = LoadTensorProtoFile(s + "output_0.pb");
  ASSERT_TRUE(f.ok() && str.ok()) << str.status().ToString();
  ASSERT_EQ(str->dtype(), DType::kString);
  ASSERT_EQ(str->numel(), f->numel());
  EXPECT_NEAR(std::strtod(str->data<std::string>()[0].c_str(), nullptr), f->data<float>()[0], 1e-6);
}

TEST(TensorProtoFile, SequenceFileIsUnimplemented) {
  const std::string p = "/usr/share/libonnx-testdata/data/node/test_sequence_insert_at_back/test_data_set_0/input_0.pb";
  if (!std::filesystem::exists(p)) GTEST_SKIP() << "ONNX test data not installed";
  auto r = LoadTensorProtoFile(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("holds a SequenceProto or OptionalProto"), std::string::npos);
}

TEST(TensorProtoFile, BadInput) {
  TempDir dir;
  testutil::WriteBytes(dir / "junk.pb", "\xff\xff\xff\xff");
  auto r = LoadTensorProtoFile(dir / "junk.pb");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a valid TensorProto"), std::string::npos) << r.status().message();
  using namespace testwire;  // NOLINT
  Msg huge = TensorMsg("h", 1, {int64_t{1} << 40});
  auto rh = TensorFromProtoBytes(huge.b);
  ASSERT_FALSE(rh.ok());
  EXPECT_EQ(rh.status().code(), StatusCode::kResourceExhausted);
}

TEST(Npy, RoundTripsEveryDtype) {
  TempDir dir;
  uint32_t seed = 100;
  for (DType dt : kAllNumeric) {
    if (dt == DType::kBF16) continue;
    for (const Shape& shape : {Shape{}, Shape{7}, Shape{2, 0}, Shape{4, 3, 2}}) {
      Tensor t = RandomTensor(dt, shape, seed++);
      ASSERT_TRUE(SaveNpy(t, dir / "t.npy").ok());
      auto r = LoadNpy(dir / "t.npy");
      ASSERT_TRUE(r.ok()) << DTypeName(dt) << ": " << r.status().ToString();
      EXPECT_TRUE(SameBytes(t, *r)) << DTypeName(dt) << " " << ShapeToString(shape);
      EXPECT_EQ(testutil::ReadBytes(dir / "t.npy").find("\n") % 64, 63u) << "data must start 64-byte aligned";
    }
  }
  Status bf = SaveNpy(RandomTensor(DType::kBF16, {2}, 1), dir / "bf.npy");
  EXPECT_EQ(bf.code(), StatusCode::kUnimplemented);
}

// Bytes laid out as the NPY spec describes: magic, version, little-endian header length,
// a Python dict literal padded with spaces and '\n', then the C-order data.
std::string NpyBytes(int major, const std::string& dict, const std::string& data, bool pad = true) {
  std::string h = dict;
  size_t pre = major == 1 ? 10 : 12;
  if (pad) h.append((64 - (pre + h.size() + 1) % 64) % 64, ' ');
  h += "\n";
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  uint32_t len = static_cast<uint32_t>(h.size());
  for (size_t i = 0; i < pre - 8; ++i) out.push_back(static_cast<char>(len >> (8 * i)));
  return out + h + data;
}

TEST(Npy, ReadsSpecBytesForAllVersions) {
  int32_t vals[6] = {1, -2, 3, -4, 5, 2147483647};
  std::string data(reinterpret_cast<const char*>(vals), sizeof(vals));
  // The numpy >= 1.24 header adds growth padding spaces inside the line; older ones do not.
  for (int major : {1, 2, 3}) {
    auto r = NpyFromBytes(NpyBytes(major, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }    ", data));
    ASSERT_TRUE(r.ok()) << major << ": " << r.status().ToString();
    EXPECT_EQ(r->dtype(), DType::kI32);
    EXPECT_EQ(r->shape(), (Shape{2, 3}));
    EXPECT_EQ(r->data<int32_t>()[5], 2147483647);
    EXPECT_EQ(r->data<int32_t>()[1], -2);
  }
  uint16_t h[2] = {0x3C00, 0xC000};  // float16 1.0, -2.0
  auto rh = NpyFromBytes(NpyBytes(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }",
                                  std::string(reinterpret_cast<const char*>(h), 4)));
  ASSERT_TRUE(rh.ok()) << rh.status().ToString();
  EXPECT_EQ(rh->GetAsDouble(1), -2.0);
  auto rb = NpyFromBytes(NpyBytes(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }", "\x01"));
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ(rb->rank(), 0);
  EXPECT_TRUE(rb->data<bool>()[0]);
  // Our writer produces exactly the spec layout for a simple case (numpy < 1.24 writes the same).
  auto mine = NpyToBytes(Tensor::FromVector<int32_t>({2, 3}, std::vector<int32_t>(vals, vals + 6)));
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(*mine, NpyBytes(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data));
}

TEST(Npy, ReadsFilesWrittenByNumpy) {
  TempDir dir;
  std::string script = "import numpy as np\n"
                       "np.save('" + (dir / "a.npy") + "', np.arange(24, dtype='<f8').reshape(2,3,4) / 8)\n"
                       "np.save('" + (dir / "b.npy") + "', np.array([[True, False]]))\n"
                       "np.save('" + (dir / "c.npy") + "', np.arange(-3, 3, dtype=np.int16))\n";
  testutil::WriteBytes(dir / "gen.py", script);
  if (std::system(("python3 " + (dir / "gen.py") + " >/dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "python3 with numpy not available";
  auto a = LoadNpy(dir / "a.npy");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->shape(), (Shape{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(a->data<double>()[i], i / 8.0);
  auto b = LoadNpy(dir / "b.npy");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->dtype(), DType::kBool);
  EXPECT_TRUE(b->data<bool>()[0]);
  EXPECT_FALSE(b->data<bool>()[1]);
  auto c = LoadNpy(dir / "c.npy");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data<int16_t>()[0], -3);
}

TEST(Npy, BadInputMessages) {
  std::string four(16, '\0');
  auto expect_err = [](const Result<Tensor>& r, StatusCode code, const std::string& needle) {
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", four)),
             StatusCode::kUnimplemented, "fortran_order True is not supported");
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", four)),
             StatusCode::kUnimplemented, "big-endian dtype '>f4'");
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", four)),
             StatusCode::kInvalidArgument, "shape [2, 3] of float32 needs 24 data bytes but the file holds 16");
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", four)),
             StatusCode::kUnimplemented, "dtype '<c8' is not supported");
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '<f4', 'shape': (4,), }", four)), StatusCode::kInvalidArgument,
             "lacks one of");
  std::string ok = NpyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", four);
  expect_err(NpyFromBytes(ok.substr(0, 40)), StatusCode::kInvalidArgument, "header declares");
  expect_err(NpyFromBytes("hello world"), StatusCode::kInvalidArgument, "not a .npy file");
  std::string v9 = ok;
  v9[6] = 9;
  expect_err(NpyFromBytes(v9), StatusCode::kUnimplemented, "format version 9.0");
  expect_err(NpyFromBytes(NpyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", "")),
             StatusCode::kResourceExhausted, "more than 2^34 elements");
  auto missing = LoadNpy("/nonexistent/x.npy");
  expect_err(missing, StatusCode::kNotFound, "/nonexistent/x.npy");
}

TEST(FileUtil, AtomicWriteReplacesAndKeepsMode) {
  TempDir dir;
  const std::string p = dir / "f.txt";
  ASSERT_TRUE(WriteFileAtomic(p, "one").ok());
  ::chmod(p.c_str(), 0640);
  ASSERT_TRUE(WriteFileAtomic(p, "two!").ok());
  EXPECT_EQ(testutil::ReadBytes(p), "two!");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  auto r = ReadFileToString(p, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  Status s = WriteFileAtomic(dir / "no/such/dir/f.txt", "x");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no/such/dir/f.txt"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace greenai
