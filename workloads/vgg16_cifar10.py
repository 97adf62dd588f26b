"""VGG16 with batch norm in its CIFAR-10 form: 13 convolutions, 32x32 inputs, 10 classes.

The classic CIFAR set-up (as in the many "pytorch-cifar" reproductions): 3x3 convolutions with
batch norm and ReLU, five 2x2 max-pools taking 32x32 down to 1x1x512, then one linear layer
to 10 classes. Forward cost is 0.313 GMAC (0.626 GFLOP) per image; a training step is about
three times that.

Sizes:
- ``train``: SGD with momentum at batch 64; one run = 10 epochs over the 50,000 training images.
- ``infer``: forward passes at batch 256; one run = one pass over the 10,000 test images.
- ``infer-pruned``: the same with 50 % of every weight pruned by magnitude (asked for by name,
  not in the default suite): dense kernels, so expect the dense time (``workloads.compression``).
  No int8/int4: torch's dynamic quantization covers linear layers only, and VGG16's time is
  in its convolutions (static int8 convolutions need calibration: not built).
``--channels-last`` stores activations NHWC, the layout CPU (oneDNN) and tensor-core kernels
prefer.
"""

from __future__ import annotations

import torch
from torch import nn

from workloads import datasets
from workloads.base import PrepareContext, PreparedWorkload, RunDefinition, WorkloadSpec
from workloads.compression import compress
from workloads.inference import forward_step
from workloads.inputs import image_data
from workloads.training import Trainer, batches_of, make_optimizer, parameter_bytes

# Output channels per convolution; "M" is a 2x2 max-pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
TRAIN_IMAGES, TEST_IMAGES, EPOCHS = 50_000, 10_000, 10


class VGG16(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [
                    nn.Conv2d(channels, item, 3, padding=1, bias=False),
                    nn.BatchNorm2d(item),
                    nn.ReLU(inplace=True),
                ]
                channels = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 3, 32, 32)
        x = self.features(x)  # (B, 512, 1, 1)
        return self.classifier(torch.flatten(x, 1))  # (B, classes)


def imagenet_vgg16(batch_norm: bool, classes: int = 1000) -> nn.Sequential:
    """torchvision's ``vgg16``/``vgg16_bn`` layout (224x224 inputs, 7x7 average pool, two 4,096-wide
    hidden layers): the network published GPU measurements ran, counted by ``run.demand`` to
    compare them with the estimate. Not a workload: nothing here times it."""
    layers: list[nn.Module] = []
    channels = 3
    for item in VGG16_LAYOUT:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers.append(nn.Conv2d(channels, item, 3, padding=1))
        layers += [nn.BatchNorm2d(item)] if batch_norm else []
        layers.append(nn.ReLU(inplace=True))
        channels = item
    head = [nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True)]
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(), *head, nn.Dropout(), nn.Linear(4096, classes)
    )


def scaled_init(model: nn.Module) -> None:
    """torchvision's VGG initialisation (He-normal convolutions, fan-out): the scale a trained
    network's activations keep. With PyTorch's default init an untrained VGG16 in eval mode
    shrinks its features to ~1e-5 by the last block, so every image gets the same logits (the
    classifier's bias) and no fidelity figure could mean anything. Inference only: training
    keeps the init it has always been measured with."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                fan_out = module.out_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) * (2 / fan_out) ** 0.5
                )
            elif isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * 0.01)
                module.bias.zero_()


def prepare(ctx: PrepareContext) -> PreparedWorkload:
    training = ctx.size == "train"
    batch = 64 if training else 256
    torch.manual_seed(ctx.seed)
    device = torch.device(ctx.device_id)
    memory_format = torch.channels_last if ctx.options.channels_last else torch.contiguous_format
    model = VGG16().to(device=device, memory_format=memory_format)
    real = datasets.load_cifar10(ctx.data_dir, "train" if training else "test")
    pool = batch * (4 if training else 2)
    images, labels, source, note = image_data(ctx, real, pool, (3, 32, 32), "CIFAR-10")
    images = images.contiguous(memory_format=memory_format)
    batches = batches_of(images, labels, batch, device)
    batches = [(x.contiguous(memory_format=memory_format), y) for x, y in batches]
    common = dict(
        items_per_step=batch,
        item_unit="images",
        data_source=source,
        data_note=note,
        parameters=sum(p.numel() for p in model.parameters()),
        details={
            "batch": batch,
            "channels_last": bool(ctx.options.channels_last),
            "weight_bytes": parameter_bytes(model),
        },
    )
    if training:
        optimizer = make_optimizer("sgd", model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        trainer = Trainer(ctx, model, optimizer, nn.functional.cross_entropy, batches)
        return PreparedWorkload(
            step=trainer.step,
            mode="train",
            evaluate_loss=trainer.evaluate_loss,
            run=RunDefinition(
                f"{EPOCHS} epochs over {TRAIN_IMAGES:,} CIFAR-10 training images", EPOCHS * TRAIN_IMAGES
            ),
            **common,
        )
    scaled_init(model)
    model.eval()
    common["details"].update(compress(ctx, model, batches[0][0]))
    return PreparedWorkload(
        step=forward_step(ctx, model, [x for x, _ in batches]),
        mode="infer",
        run=RunDefinition(f"one pass over the {TEST_IMAGES:,} CIFAR-10 test images", TEST_IMAGES),
        **common,
    )


SPEC = WorkloadSpec(
    name="vgg16-cifar10",
    summary="VGG16-BN on 32x32 CIFAR-10: SGD training at batch 64, inference at batch 256",
    sizes=("train", "infer", "infer-pruned"),
    prepare=prepare,
    trainable=True,
    preload=("torch._dynamo",),  # every optimizer's constructor imports it: 1 s
    default_sizes=("train", "infer"),
)
