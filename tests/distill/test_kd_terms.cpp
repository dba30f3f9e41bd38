// Every registered distillation term, through the registry, on two tiny U-Nets: the contract of
// DESIGN.md §5 (zero when the student is the teacher, gradients for the student and its adapters,
// none for the teacher), and how several teachers are combined.
#include <gtest/gtest.h>

#include "medkd/core/error.h"
#include "medkd/distill/kd_term.h"
#include "medkd/distill/term_registry.h"
#include "medkd/models/registry.h"
#include "test_support.h"

using medkd::distill::KdTerm;
using medkd::distill::MultiTeacher;
using medkd::distill::TermContext;
using medkd::models::SegmentationModel;
using medkd::models::Taps;
using medkd::models::TapSet;
using medkd::testing::error_of;

namespace {

constexpr int64_t kClasses = 3;

SegmentationModel tiny_unet(const std::string& channels, uint64_t seed) {
  medkd::models::ModelConfig config;
  config.name = "unet";
  config.spatial_dims = 2;
  config.in_channels = 2;
  config.num_classes = kClasses;
  config.options = YAML::Load("{channels: " + channels + ", blocks_per_stage: 1}");
  torch::manual_seed(seed);
  return medkd::models::default_model_registry().create(config);
}

torch::Tensor batch_image() {
  torch::manual_seed(11);
  return torch::randn({2, 2, 16, 16});
}

torch::Tensor batch_target() {
  // Two regions and a square of class 2: boundaries for boundary_kd, prototypes for EMKD.
  torch::Tensor label = torch::zeros({2, 1, 16, 16}, torch::kInt64);
  label.index_put_(
      {torch::indexing::Slice(), 0, torch::indexing::Slice(4, 12), torch::indexing::Slice(2, 9)},
      1);
  label.index_put_(
      {torch::indexing::Slice(), 0, torch::indexing::Slice(6, 10), torch::indexing::Slice(10, 14)},
      2);
  return label;
}

TapSet with_logits(TapSet taps) {
  taps.insert("logits");
  return taps;
}

Taps teacher_taps(SegmentationModel& teacher, const KdTerm& term) {
  teacher->eval();
  Taps taps;
  torch::NoGradGuard frozen;
  teacher->forward_with_taps(batch_image(), taps, with_logits(term->teacher_taps()));
  return taps;
}

TermContext context_for(SegmentationModel& student, std::vector<SegmentationModel*> teachers) {
  TermContext context;
  context.student = student.get();
  for (size_t i = 0; i < teachers.size(); ++i) {
    context.teachers.push_back(teachers[i]->get());
    context.teacher_names.push_back("t" + std::to_string(i + 1));
  }
  context.spacing_mm = {1.0, 1.0};
  return context;
}

class EveryTerm : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryTerm, IsZeroWhenTheStudentIsTheTeacherWithTheSameWeights) {
  if (GetParam() == "hlfd") GTEST_SKIP() << "hlfd compares different layers of the two networks";
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  SegmentationModel teacher = tiny_unet("[4, 8, 16, 32]", 1);
  const KdTerm term = medkd::distill::default_term_registry().create(
      GetParam(), YAML::Node(), context_for(student, {&teacher}));
  student->eval();  // batch statistics aside, the same network
  Taps s;
  student->forward_with_taps(batch_image(), s, term->student_taps());
  const Taps t = teacher_taps(teacher, term);
  const torch::Tensor value =
      medkd::distill::combine_teachers(*term, s, {&t}, batch_target(), MultiTeacher::kSum);
  EXPECT_NEAR(value.item<double>(), 0.0, 1e-5) << GetParam();
}

TEST_P(EveryTerm, GivesTheStudentAndItsAdaptersGradientsAndTheTeacherNone) {
  SegmentationModel student = tiny_unet("[2, 4, 8, 16]", 2);
  SegmentationModel teacher = tiny_unet("[4, 8, 16, 32]", 3);
  const KdTerm term = medkd::distill::default_term_registry().create(
      GetParam(), YAML::Node(), context_for(student, {&teacher}));
  Taps s;
  student->train();
  student->forward_with_taps(batch_image(), s, term->student_taps());
  const Taps t = teacher_taps(teacher, term);
  const torch::Tensor value =
      medkd::distill::combine_teachers(*term, s, {&t}, batch_target(), MultiTeacher::kSum);
  ASSERT_TRUE(std::isfinite(value.item<double>())) << GetParam();
  EXPECT_GT(value.item<double>(), 0.0) << GetParam();
  value.backward();
  double student_gradient = 0;
  for (const auto& p : student->parameters())
    if (p.grad().defined()) student_gradient += p.grad().abs().sum().item<double>();
  EXPECT_GT(student_gradient, 0.0) << GetParam();
  for (const auto& p : term->parameters()) {
    ASSERT_TRUE(p.grad().defined()) << GetParam() << ": an adapter got no gradient";
    EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>()) << GetParam();
  }
  for (const auto& p : teacher->parameters()) EXPECT_FALSE(p.grad().defined()) << GetParam();
}

std::vector<std::string> all_terms() { return medkd::distill::default_term_registry().types(); }

INSTANTIATE_TEST_SUITE_P(Registry, EveryTerm, ::testing::ValuesIn(all_terms()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(MultiTeacher, SumOverTwoTeachersEqualsTheSumOfTheSingleTeacherTerms) {
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  SegmentationModel t1 = tiny_unet("[4, 8, 16, 32]", 5), t2 = tiny_unet("[4, 8, 16, 32]", 6);
  const auto& registry = medkd::distill::default_term_registry();
  for (const std::string type : {"pixel_kl", "attention_similarity"}) {
    const KdTerm term = registry.create(type, YAML::Node(), context_for(student, {&t1, &t2}));
    Taps s;
    student->eval();
    student->forward_with_taps(batch_image(), s, term->student_taps());
    const Taps a = teacher_taps(t1, term), b = teacher_taps(t2, term);
    const auto target = batch_target();
    const double both =
        medkd::distill::combine_teachers(*term, s, {&a, &b}, target, MultiTeacher::kSum)
            .item<double>();
    const double first =
        medkd::distill::combine_teachers(*term, s, {&a}, target, MultiTeacher::kSum).item<double>();
    const double second =
        medkd::distill::combine_teachers(*term, s, {&b}, target, MultiTeacher::kSum).item<double>();
    EXPECT_NEAR(both, first + second, 1e-6) << type;
    const double mean =
        medkd::distill::combine_teachers(*term, s, {&a, &b}, target, MultiTeacher::kMean)
            .item<double>();
    EXPECT_NEAR(mean, (first + second) / 2, 1e-6) << type;
  }
}

TEST(MultiTeacher, AnEnsembleOfTwoIdenticalTeachersEqualsOneTeacher) {
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  SegmentationModel t1 = tiny_unet("[4, 8, 16, 32]", 5), t2 = tiny_unet("[4, 8, 16, 32]", 5);
  for (const std::string type : {"pixel_kl", "hint", "channel_wise"}) {
    const KdTerm term = medkd::distill::default_term_registry().create(
        type, YAML::Node(), context_for(student, {&t1, &t2}));
    Taps s;
    student->eval();
    student->forward_with_taps(batch_image(), s, term->student_taps());
    const Taps a = teacher_taps(t1, term), b = teacher_taps(t2, term);
    const auto target = batch_target();
    const double ensemble =
        medkd::distill::combine_teachers(*term, s, {&a, &b}, target, MultiTeacher::kEnsemble)
            .item<double>();
    const double one =
        medkd::distill::combine_teachers(*term, s, {&a}, target, MultiTeacher::kSum).item<double>();
    EXPECT_NEAR(ensemble, one, 1e-5) << type;
  }
}

TEST(MultiTeacher, ConfidenceWeightsSumToOneAndFavourTheSurerTeacher) {
  // Voxel 0: teacher 1 sure (logits 5, 0), teacher 2 unsure (0, 0). Voxel 1: the reverse.
  const torch::Tensor sure_unsure = torch::tensor({5.0f, 0.0f, 0.0f, 0.0f}).view({1, 2, 1, 2});
  const torch::Tensor unsure_sure = torch::tensor({0.0f, 0.0f, 0.0f, 5.0f}).view({1, 2, 1, 2});
  // Channel-major: sure_unsure is channel 0 = [5, 0], channel 1 = [0, 0].
  const auto w = medkd::distill::confidence_weights({sure_unsure, unsure_sure});
  ASSERT_EQ(w.size(), 2u);
  EXPECT_TRUE(torch::allclose(w[0] + w[1], torch::ones({1, 1, 1, 2})));
  // Entropies: p = softmax(5, 0) = (0.993307, 0.006693): H = 0.040180; uniform: H = ln 2.
  // w = e^{-H1} / (e^{-H1} + e^{-H2}) = 0.960617 / (0.960617 + 0.5) = 0.657679.
  EXPECT_NEAR(w[0][0][0][0][0].item<double>(), 0.657679, 1e-4);
  EXPECT_NEAR(w[1][0][0][0][1].item<double>(), 0.657679, 1e-4);
}

TEST(MultiTeacher, UnknownModesTermsAndOptionsAreErrorsListingTheValidOnes) {
  EXPECT_NE(error_of([] { medkd::distill::parse_multi_teacher("vote"); }).find("ensemble"),
            std::string::npos);
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  SegmentationModel teacher = tiny_unet("[4, 8, 16, 32]", 1);
  const auto& registry = medkd::distill::default_term_registry();
  const auto context = context_for(student, {&teacher});
  EXPECT_NE(error_of([&] { registry.create("pixel_kld", YAML::Node(), context); }).find("pixel_kl"),
            std::string::npos);
  const std::string option =
      error_of([&] { registry.create("pixel_kl", YAML::Load("{temprature: 2}"), context); });
  EXPECT_NE(option.find("temperature"), std::string::npos) << option;
  const std::string tap =
      error_of([&] { registry.create("hint", YAML::Load("{taps: [enc.9]}"), context); });
  EXPECT_NE(tap.find("enc.9"), std::string::npos) << tap;
  EXPECT_NE(tap.find("bottleneck"), std::string::npos) << tap;  // the model's taps are listed
}

TEST(TermOptions, AreReadAndCheckedWithoutAnyNetwork) {
  const auto& registry = medkd::distill::default_term_registry();
  EXPECT_NO_THROW(registry.parse("attention_transfer", YAML::Load("{p: 4, reduction: sum}")));
  std::string m =
      error_of([&] { registry.parse("attention_transfer", YAML::Load("{reduction: max}")); });
  EXPECT_NE(m.find("mean, sum"), std::string::npos) << m;
  m = error_of([&] { registry.parse("pixel_kl", YAML::Load("{temperature: hot}")); });
  EXPECT_NE(m.find("temperature"), std::string::npos) << m;
  m = error_of([&] { registry.parse("pixel_kl", YAML::Load("{foreground: lesion}")); });
  EXPECT_NE(m.find("none, label, teacher, union"), std::string::npos) << m;
  m = error_of([&] { registry.parse("pixel_kl", YAML::Load("{foreground_weight: 0.9}")); });
  EXPECT_NE(m.find("needs foreground"), std::string::npos) << m;
  m = error_of([&] { registry.parse("hlfd", YAML::Load("{pixel_normalization: batch}")); });
  EXPECT_NE(m.find("authors, voxel"), std::string::npos) << m;
  m = error_of([&] {
    registry.parse("attention_similarity", YAML::Load("{channel_match: nearest}"), {"schedule"});
  });
  EXPECT_NE(m.find("attention_map, adapter, interpolate"), std::string::npos) << m;
  m = error_of([&] { registry.parse("hint", YAML::Load("{shedule: {}}"), {"schedule"}); });
  EXPECT_NE(m.find("and on every entry: schedule"), std::string::npos) << m;
}

TEST(Hlfd, TheAuthorsPixelLevelDividesEachKlByHalfItsChannelCount) {
  // With the teacher's logits as its only decoder tap, UPD and IPD both compare K = 3 channels:
  // the authors' kl_div(view(-1, 2), 'batchmean') is then 2/3 of the per-voxel mean.
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  SegmentationModel teacher = tiny_unet("[4, 8, 16, 32]", 2);
  const auto& registry = medkd::distill::default_term_registry();
  const auto value = [&](const std::string& normalization) {
    torch::manual_seed(5);  // the same adapters for both
    const KdTerm term = registry.create(
        "hlfd",
        YAML::Load("{beta: 0, lambda: 1, teacher_decoder: [logits], pixel_normalization: " +
                   normalization + "}"),
        context_for(student, {&teacher}));
    Taps s;
    student->forward_with_taps(batch_image(), s, with_logits(term->student_taps()));
    const Taps t = teacher_taps(teacher, term);
    return medkd::distill::combine_teachers(*term, s, {&t}, batch_target(), MultiTeacher::kSum)
        .item<double>();
  };
  const double authors = value("authors"), voxel = value("voxel");
  EXPECT_GT(voxel, 0);
  EXPECT_NEAR(authors, voxel * 2.0 / 3.0, 1e-6 * voxel);
}

TEST(Hlfd, ReadsTheTopRowNodesOfAUNetPlusPlusTeacher) {
  // RethinkingKD_ISBI24 feeds UNet++'s x0_1, x0_2, x0_3 to the pixel level; a 4-level UNet++
  // has x0_1 and x0_2 before its last node.
  SegmentationModel student = tiny_unet("[4, 8, 16, 32]", 1);
  medkd::models::ModelConfig config;
  config.name = "unet_plus_plus";
  config.spatial_dims = 2;
  config.in_channels = 2;
  config.num_classes = kClasses;
  config.options = YAML::Load("{filters: [4, 8, 16, 32]}");
  SegmentationModel teacher = medkd::models::default_model_registry().create(config);
  const KdTerm term = medkd::distill::default_term_registry().create(
      "hlfd", YAML::Node(), context_for(student, {&teacher}));
  const TapSet taps = term->teacher_taps();
  EXPECT_TRUE(taps.count("x0_1") && taps.count("x0_2"))
      << medkd::join_names({taps.begin(), taps.end()});
  EXPECT_FALSE(taps.count("dec.0"));
  // Other teachers keep every decoder stage but the last.
  SegmentationModel unet = tiny_unet("[4, 8, 16, 32]", 2);
  const KdTerm plain = medkd::distill::default_term_registry().create(
      "hlfd", YAML::Node(), context_for(student, {&unet}));
  EXPECT_TRUE(plain->teacher_taps().count("dec.0"));
}

}  // namespace
