// Attention-similarity distillation of Teach-Former (coarse map: the bottleneck; fine map: the
// last decoder stage): the student's feature map, scaled to unit L1 mass, should match the
// teacher's.
//
// Hossain, Kamran, Ong & Tavakkoli, "Teach-Former: enhancing slim models with multimodal,
// multi-teacher insights for medical image segmentation", Scientific Reports 15, 2025 (attention
// similarity between the student's and each teacher's E_n and D_{n-1}).
#pragma once

#include <string>

#include <torch/torch.h>

#include "medkd/distill/term_registry.h"

namespace medkd::distill {

// How the student tensor is brought to something comparable with the teacher's.
//   kInterpolate:  linear interpolation along the channel axis to the teacher's channel count
//                  (interpolate_channels). The `adapter` option of a config is the caller's: it
//                  projects the student with a learned 1×1 conv first and passes kInterpolate,
//                  which is then the identity.
//   kAttentionMap: both tensors reduced to Σ_c F_c² per voxel ([N, 1, *S]), so channel counts
//                  never need to match.
enum class ChannelMatch { kInterpolate, kAttentionMap };

// How each sample's map is scaled before the difference.
//   kL1: unit L1 mass over all its elements, the paper's Eq. 1. With L elements every value is
//        ~1/L and the distance ~1/√L: at a 16³ × 32 tap it stays near 0.009 all run, so at weight
//        1 it barely moves the student.
//   kL2: unit L2 norm, as attention transfer normalises its maps: the distance lies in [0, 2]
//        whatever the map size.
enum class SimilarityNorm { kL1, kL2 };

// "interpolate" -> kInterpolate, "attention_map" -> kAttentionMap; anything else is a
// medkd::Error listing the valid names.
ChannelMatch parse_channel_match(const std::string& name);

// One tap pair of Teach-Former's attention similarity:
//   s' = match_channels(s); s' = resize(s' → spatial size of t) if the sizes differ;
//   attention_similarity = mean_n ‖ s'_n / ‖s'_n‖ − t_n / ‖t_n‖ ‖₂,
// ‖·‖ the L1 norm (kL1, the paper) or the L2 norm (kL2) over all elements of sample n (channels
// and space), clamped below at 1e-12
// so an all-zero map does not divide by zero. Channels are matched before the spatial resize. The
// caller sums the coarse (bottleneck) and fine (dec.last) pairs.
//
// student: [N, C_s, *S_s]; teacher: [N, C_t, *S_t] (2 or 3 spatial axes, the same number).
// Returns a scalar. Throws medkd::Error naming both shapes when the batch size or the number of
// spatial axes differ.
torch::Tensor attention_similarity(const torch::Tensor& student, const torch::Tensor& teacher,
                                   ChannelMatch mode = ChannelMatch::kInterpolate,
                                   SimilarityNorm norm = SimilarityNorm::kL1);

// The `attention_similarity` distillation term (term_registry.h).
TermEntry attention_similarity_term_entry();

}  // namespace medkd::distill
