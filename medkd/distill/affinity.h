// Affinity distillation: the student should relate its own features to one another the way the
// teacher does. Pair-wise between spatial nodes (structured KD) or between class regions (EMKD).
// Only the relations are compared, so student and teacher channel counts may differ.
//
// pairwise_affinity: Liu, Chen, Liu, Qin, Luo & Wang, "Structured knowledge distillation for
// semantic segmentation", CVPR 2019 (pair-wise distillation).
// region_affinity: Qin et al., "Efficient medical image segmentation based on knowledge
// distillation", IEEE TMI 2021 (EMKD, region affinity distillation).
#pragma once

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// Pair-wise affinity distillation. Each tap is max-pooled to a grid of nodes, adaptive max pooling
// to max(1, floor(size · pool_scale)) per spatial axis; if the student's grid differs from the
// teacher's it is resized (bi/trilinear) to the teacher's. With a_ij the cosine similarity between
// the channel vectors of nodes i and j (vectors L2-normalised, the norm clamped below at 1e-8),
//   pairwise_affinity = Σ_{n,i,j} (a^t_ij − a^s_ij)² / nodes² / N,   nodes = the teacher grid size.
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t] (same N and number of spatial axes).
// pool_scale in (0, 1]; DESIGN's default 0.5. Returns a scalar. Throws medkd::Error naming both
// shapes when the batch size or the number of spatial axes differ.
torch::Tensor pairwise_affinity(const torch::Tensor& student, const torch::Tensor& teacher,
                                double pool_scale = 0.5);

// Region affinity distillation. The label is resized by nearest neighbour at voxel centres
// (PyTorch's "nearest-exact", as deep supervision resizes targets) to each feature's spatial size.
// Per sample and class k, the prototype is the mean feature over the voxels of class k; the K×K
// matrix holds the cosine similarities between prototypes (L2 norms clamped below at 1e-8). Then
//   region_affinity = mean over samples of [ mean over present pairs i ≠ j of (A^t_ij − A^s_ij)² ],
// where a pair is present in a sample when both classes occur in that sample's label at the
// student's and at the teacher's size. Absent classes have no prototype and are left out of that
// sample's matrix; the diagonal (always 1 − 1) is left out, so two present classes give exactly
// EMKD's (cos^t(bg, fg) − cos^s(bg, fg))². Samples with fewer than two present classes are left
// out of the batch mean; if no sample has a pair the result is 0 (with a zero gradient).
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t]; label: [N, 1, *S_l] integer class indices in
// [0, num_classes) (same N and number of spatial axes for all three). Returns a scalar. Throws
// medkd::Error naming the shapes when they do not pair up, and on non-integer or out-of-range
// labels (naming the range found).
torch::Tensor region_affinity(const torch::Tensor& student, const torch::Tensor& teacher,
                              const torch::Tensor& label, int64_t num_classes);

// The `pairwise_affinity` and `region_affinity` distillation terms (term_registry.h).
TermEntry pairwise_affinity_term_entry();
TermEntry region_affinity_term_entry();

}  // namespace medkd::distill
