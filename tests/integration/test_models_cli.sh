# `medkd models`: the zoo listing, one network with options, JSON, and every bad input.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "--set" -- "$MEDKD" models --help

# The whole zoo at a size every network can take: each one is listed with its counts.
expect_exit 0 "GFLOPs" -- "$MEDKD" models --input 2,64,64,64 --classes 3
for name in unet unet_plus_plus resnet_unet resnet18_plain mobile_unet unetr swin_unetr \
  swin_unetr_light h_denseformer h_denseformer_light ux_net ux_net_light; do
  grep -qE "^$name +[0-9]+\.[0-9]{3} +[0-9]" "$SCRATCH/stdout" || fail "zoo listing lacks a row for $name"
done
grep -q "taps: enc.0" "$SCRATCH/stdout" || fail "zoo listing lacks tap shapes"

# A size one network cannot take: its row says why, the others are still listed.
expect_exit 0 "divisible by \[32, 32, 32\]" -- "$MEDKD" models --input 2,48,48,48 --classes 3
grep -qE "^unet +[0-9]" "$SCRATCH/stdout" || fail "one unusable network hid the rest of the zoo"

# Counts of reference implementations for the same hyperparameters (models.md): MONAI's
# SwinUNETR(feature_size=24, in 1, out 14) and UNETR(in 1, out 14, 96³).
expect_exit 0 '"params": 15703304,' -- "$MEDKD" models --model swin_unetr --set feature_size=24 \
  --input 1,96,96,96 --classes 14 --json
expect_file_contains "$SCRATCH/stdout" '"feature_size": 24'
expect_file_contains "$SCRATCH/stdout" '"name": "enc.5"'
expect_exit 0 '"params": 92784046,' -- "$MEDKD" models --model unetr --input 1,96,96,96 --classes 14 --json

# A tiny U-Net, counted by hand: 3-D, 1 channel, 2 classes, channels [2, 4], two conv blocks per
# stage, affine instance norms (2 parameters per channel), convs with bias.
#   params: encoder 1->2 (54+2) + 4, 2->2 (108+2) + 4, strided 2->4 (216+4) + 8, 4->4 (432+4) + 8;
#           transposed 4->2 kernel 2 (64+2); decoder 4->2 (216+2) + 4, 2->2 (108+2) + 4;
#           head 2->2 (4+2): 1254
#   MACs at 8³ (512 voxels, 64 at stride 2): convs 512·2·27 + 512·4·27 + 64·8·27 + 64·16·27,
#           transposed 64·4·2·8 (per input voxel), decoder 512·8·27 + 512·4·27, head 512·4;
#           norms 2 per element (normalise, affine): 4·(512·2·2) + 2·(64·4·2): 305664
expect_exit 0 '"params": 1254,' -- "$MEDKD" models --model unet --set 'channels=[2, 4]' \
  --input 1,8,8,8 --classes 2 --json
expect_file_contains "$SCRATCH/stdout" '"macs": 305664,'
expect_file_contains "$SCRATCH/stdout" '"input_shape": \['
expect_exit 0 '"kind": "transposed_conv"' -- "$MEDKD" models --model unet --set 'channels=[2, 4]' \
  --input 1,8,8,8 --classes 2 --json --layers

# A preset reports its preset options and what it was built with; 2-D input works the same.
expect_exit 0 'swin_unetr_light' -- "$MEDKD" models --model swin_unetr_light --input 3,64,64 --classes 2 --json
expect_file_contains "$SCRATCH/stdout" '"spatial_dims": 2'
expect_file_contains "$SCRATCH/stdout" '"num_heads": \['

# Bad input: exit 2, one line naming the option.
expect_exit 2 "--input" -- "$MEDKD" models --input 2,64
expect_exit 2 "--input" -- "$MEDKD" models --input 2,64,x,64
expect_exit 2 "--classes" -- "$MEDKD" models --classes 0
expect_exit 2 "unknown model 'nope'.*unet" -- "$MEDKD" models --model nope
expect_exit 2 "--set needs --model" -- "$MEDKD" models --set feature_size=24
expect_exit 2 "key=value" -- "$MEDKD" models --model swin_unetr --set feature_size
expect_exit 2 "unknown option 'colour'.*feature_size" -- "$MEDKD" models --model swin_unetr --set colour=red
expect_exit 2 "swin_unetr needs spatial sizes divisible by" -- "$MEDKD" models --model swin_unetr --input 2,144,144,144
expect_exit 2 "feature_size" -- "$MEDKD" models --model swin_unetr --set feature_size=[1,2] --input 1,64,64,64
finish
