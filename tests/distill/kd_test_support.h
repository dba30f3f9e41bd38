// Helpers shared by the distillation tests: tiny hand-written tensors and the gradient contract
// (students get gradients, teachers none).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include <torch/torch.h>

namespace medkd::testing {

// A float64 tensor of the given shape from values listed in row-major order.
inline torch::Tensor values(std::initializer_list<double> data, std::vector<int64_t> shape) {
  return torch::tensor(std::vector<double>(data), torch::kDouble).view(shape);
}

// A copy of `x` that is a leaf requiring gradients: what a student's tap looks like to a loss.
inline torch::Tensor as_student(const torch::Tensor& x) {
  return x.detach().clone().requires_grad_(true);
}

// Runs backward on `loss` and checks the contract: the student receives a finite gradient that
// is not identically zero; the teacher, created without requires_grad, receives none.
inline void expect_student_gradient_only(const torch::Tensor& loss, const torch::Tensor& student,
                                         const torch::Tensor& teacher) {
  ASSERT_EQ(loss.dim(), 0) << "a loss must be a scalar, got " << loss.sizes();
  ASSERT_TRUE(loss.requires_grad());
  loss.backward();
  ASSERT_TRUE(student.grad().defined());
  EXPECT_TRUE(torch::isfinite(student.grad()).all().item<bool>()) << student.grad();
  EXPECT_GT(student.grad().abs().sum().item<double>(), 0) << student.grad();
  EXPECT_FALSE(teacher.requires_grad());
  EXPECT_FALSE(teacher.grad().defined());
}

}  // namespace medkd::testing
