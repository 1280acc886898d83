// Built-in architectures: forward shapes through a Session, hand-counted parameter totals,
// seeded determinism, and the size checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "runtime/session.h"
#include "train/archs.h"
#include "train/trainer.h"

namespace greenai::train {
namespace {

int64_t CountParams(const Model& m) {
  int64_t n = 0;
  for (const auto& name : TrainableParams(m)) n += m.graph->FindInitializer(name)->numel();
  return n;
}

TEST(Archs, EveryArchRunsABatchAndGivesLogits) {
  for (const auto& name : ArchNames()) {
    ArchOptions o;
    o.input_shape = {1, 28, 28};
    o.num_classes = 10;
    auto m = BuildArch(name, o);
    ASSERT_TRUE(m.ok()) << name << ": " << m.status().ToString();
    auto s = Session::Create(**m);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    Tensor x = Tensor::Create(DType::kF32, {3, 1, 28, 28}).value();
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = static_cast<float>((i * 7919) % 255) / 255.f;
    auto out = (*s)->Run({{kArchInput, x}});
    ASSERT_TRUE(out.ok()) << name << ": " << out.status().ToString();
    ASSERT_EQ((*out)[0].shape(), (Shape{3, 10})) << name;
    for (float v : (*out)[0].span<float>()) EXPECT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(Archs, ParameterCountsMatchHandCount) {
  ArchOptions o;
  auto mlp = BuildArch("mlp", o);
  ASSERT_TRUE(mlp.ok());
  // 784*512 + 512 + 512*256 + 256 + 256*10 + 10
  EXPECT_EQ(CountParams(**mlp), 535818);
  auto cnn = BuildArch("cnn", o);
  ASSERT_TRUE(cnn.ok());
  // convs (no bias): 1*16*9 + 16*16*9 + 16*32*9 + 32*32*9 = 144 + 2304 + 4608 + 9216
  // BN scale+bias: 2*(16+16+32+32) = 192; fc1: (32*7*7)*128 + 128; fc2: 128*10 + 10
  EXPECT_EQ(CountParams(**cnn), 144 + 2304 + 4608 + 9216 + 192 + 1568 * 128 + 128 + 1290);
}

TEST(Archs, SameSeedSameWeightsOtherSeedDifferent) {
  ArchOptions o;
  o.seed = 5;
  auto a = BuildArch("cnn", o), b = BuildArch("cnn", o);
  o.seed = 6;
  auto c = BuildArch("cnn", o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  const Tensor* wa = (*a)->graph->FindInitializer("conv2.weight");
  const Tensor* wb = (*b)->graph->FindInitializer("conv2.weight");
  const Tensor* wc = (*c)->graph->FindInitializer("conv2.weight");
  ASSERT_TRUE(wa && wb && wc);
  EXPECT_EQ(0, std::memcmp(wa->raw(), wb->raw(), wa->nbytes()));
  EXPECT_NE(0, std::memcmp(wa->raw(), wc->raw(), wa->nbytes()));
}

TEST(Archs, BadSizesAreErrorsNamingTheRule) {
  ArchOptions o;
  auto r = BuildArch("vgg99", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown architecture 'vgg99'"), std::string::npos);
  o.input_shape = {784};
  r = BuildArch("cnn", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("[C, H, W]"), std::string::npos);
  o.input_shape = {1, 28, 28};
  o.patch = 5;
  r = BuildArch("transformer-tiny", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not tile"), std::string::npos);
  o.patch = 7;
  o.widths = {0};
  EXPECT_FALSE(BuildArch("mlp", o).ok());
  o.widths = {};
  o.num_classes = 1;
  EXPECT_FALSE(BuildArch("mlp", o).ok());
}

}  // namespace
}  // namespace greenai::train
