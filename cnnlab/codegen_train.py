"""The data-loading and training half of a generated script (see ``cnnlab.codegen``).

The emitted code repeats ``cnnlab.training.train``: the same split rule and normalization
as ``cnnlab.data``, the same shuffling and shift augmentation drawn from one seeded
generator, the chosen optimizer and per-step schedule, and an evaluation after each epoch.
"""

from __future__ import annotations

import inspect
import textwrap

from cnnlab import data
from cnnlab.datasets import DOWNLOAD_TEST_LIMIT, DOWNLOAD_TRAIN_LIMIT
from cnnlab.training import TrainConfig

_OPTIMIZERS = {
    "sgd": "torch.optim.SGD(model.parameters(), lr={lr!r}, momentum={momentum!r}, weight_decay={weight_decay!r})",
    "adam": "torch.optim.Adam(model.parameters(), lr={lr!r}, weight_decay={weight_decay!r})",
    "adamw": "torch.optim.AdamW(model.parameters(), lr={lr!r}, weight_decay={weight_decay!r})",
}
_SCHEDULES = {
    "constant": "lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)",
    "step": ("lr_scheduler.MultiStepLR(optimizer, milestones=[int(total_steps * 0.5), "
             "int(total_steps * 0.75)], gamma=0.1)"),
    "exponential": "lr_scheduler.ExponentialLR(optimizer, gamma=0.01 ** (1 / total_steps))",
    "cosine": "lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)",
    "onecycle": ("lr_scheduler.OneCycleLR(optimizer, max_lr={lr!r}, total_steps=total_steps, "
                 "pct_start=0.25)"),
    "warmup_cosine": "lr_scheduler.LambdaLR(optimizer, warmup_cosine(total_steps))",
}  # fmt: skip
_WARMUP_COSINE = '''
def warmup_cosine(total_steps: int):
    """Linear warm-up over the first 10 % of the steps, then cosine decay to 0."""
    warmup = max(1, int(total_steps * 0.1))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor
'''

_DATA = '''
TORCHVISION_CLASSES = {{"mnist": "MNIST", "fashion-mnist": "FashionMNIST", "cifar10": "CIFAR10"}}


def normalize(images: np.ndarray, train_index: np.ndarray, test_index: np.ndarray):
    """Convert uint8 (N, H, W[, C]) images into float32 (N, C, H, W) train and test splits,
    normalized per channel with the training split's mean and std."""
    if images.ndim == 3:
        images = images[:, :, :, None]  # (N, H, W) -> (N, H, W, 1)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
    x_train, x_test = x[train_index], x[test_index]
    mean = x_train.mean(dim=(0, 2, 3)).view(1, -1, 1, 1)
    std = x_train.std(dim=(0, 2, 3)).clamp_min(1e-6).view(1, -1, 1, 1)
    return (x_train - mean) / std, (x_test - mean) / std


def load_npz(path: str, seed: int, n_test: int = 1000):
    """Load MNIST-5k, 5,000 digits in an .npz file (``images``, ``labels``), split 4,000 / 1,000."""
    with np.load(path) as archive:
        images, labels = archive["images"], archive["labels"]
    train_index, test_index = stratified_split(labels, n_test, seed)
    x_train, x_test = normalize(images, train_index, test_index)
    y = torch.from_numpy(labels.astype(np.int64))
    return x_train, y[train_index], x_test, y[test_index]


def load_torchvision(name: str, root: str, seed: int, max_train: int = {max_train}, max_test: int = {max_test}):
    """Load a torchvision dataset (downloaded into ``root``) cut to class-balanced subsets."""
    import torchvision.datasets

    dataset = getattr(torchvision.datasets, TORCHVISION_CLASSES[name])
    train_set = dataset(root=root, train=True, download=True)
    test_set = dataset(root=root, train=False, download=True)
    images = np.concatenate([np.asarray(train_set.data), np.asarray(test_set.data)]).astype(np.uint8)
    labels = np.concatenate([np.asarray(train_set.targets), np.asarray(test_set.targets)])
    train_index = np.arange(len(train_set.data))
    test_index = np.arange(len(train_set.data), len(images))
    if max_train < len(train_index):
        train_index = train_index[stratified_split(labels[train_index], max_train, seed)[1]]
    if max_test < len(test_index):
        test_index = test_index[stratified_split(labels[test_index], max_test, seed)[1]]
    x_train, x_test = normalize(images, train_index, test_index)
    y = torch.from_numpy(labels.astype(np.int64))
    return x_train, y[train_index], x_test, y[test_index]
'''

_TRAIN = '''
@torch.inference_mode()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000):
    """Return (mean cross-entropy, accuracy in [0, 1]) in eval mode."""
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size])
        total_loss += F.cross_entropy(logits, y[start : start + batch_size], reduction="sum").item()
        correct += (logits.argmax(dim=1) == y[start : start + batch_size]).sum().item()
    model.train()
    return total_loss / len(x), correct / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="MNIST-5k .npz file (images, labels){data_default_help}")
    parser.add_argument("--torchvision", choices=sorted(TORCHVISION_CLASSES), default={torchvision_default!r},
                        help="load this torchvision dataset instead of --data")
    parser.add_argument("--root", default="./data", help="download folder for --torchvision")
    parser.add_argument("--epochs", type=int, default={epochs}, help="epochs to train (the schedule follows)")
    parser.add_argument("--max-steps", type=int, default={max_steps!r}, help="stop after this many steps")
    parser.add_argument("--seed", type=int, default={seed}, help="data split, weights and shuffling")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--save", help="write the trained state_dict to this file")
    args = parser.parse_args()

    if args.data:
        x_train, y_train, x_test, y_test = load_npz(args.data, args.seed)
    elif args.torchvision:
        x_train, y_train, x_test, y_test = load_torchvision(args.torchvision, args.root, args.seed)
    else:
        parser.error("give --data FILE.npz or --torchvision NAME")
    device = torch.device(args.device)
    x_train, y_train, x_test, y_test = (t.to(device) for t in (x_train, y_train, x_test, y_test))

    torch.manual_seed(args.seed)
    model = Net().to(device)
    model.train()
    optimizer = {optimizer}
    total_steps = math.ceil(len(x_train) / {batch_size}) * args.epochs
    if args.max_steps is not None:
        total_steps = min(total_steps, args.max_steps)
    scheduler = {scheduler}
    generator = torch.Generator().manual_seed(args.seed)  # shuffling and shifts

    step = 0
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        seen, correct, loss_sum = 0, 0, 0.0
        for index in batch_indices(len(x_train), {batch_size}, generator, device):
            x = random_shift(x_train[index], {shift}, generator)
            y = y_train[index]
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing={label_smoothing!r})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()

            step += 1
            seen += len(y)
            correct += (logits.argmax(dim=1) == y).sum().item()
            loss_sum += loss.item() * len(y)
            if step >= total_steps:
                break
        test_loss, test_acc = evaluate(model, x_test, y_test)
        print(f"epoch {{epoch}}: train loss {{loss_sum / seen:.4f}}, train accuracy "
              f"{{100 * correct / seen:.2f}} %, test loss {{test_loss:.4f}}, test accuracy "
              f"{{100 * test_acc:.2f}} % ({{time.perf_counter() - started:.1f}} s)")
        if step >= total_steps:
            break

    if args.save:
        torch.save(model.state_dict(), args.save)
        print(f"saved the weights to {{args.save}}")


if __name__ == "__main__":
    main()
'''


def training_source(train: TrainConfig) -> str:
    """Return the data, training-loop and ``main`` sections of a script for ``train``."""
    helpers = [inspect.getsource(fn) for fn in (data.stratified_split, data.batch_indices,
                                                data.random_shift)]  # fmt: skip
    data_source = _DATA.format(max_train=DOWNLOAD_TRAIN_LIMIT, max_test=DOWNLOAD_TEST_LIMIT)

    uses_npz = train.dataset == "mnist-5k"
    settings = {"lr": train.lr, "momentum": train.momentum, "weight_decay": train.weight_decay}
    schedule = _SCHEDULES[train.schedule].format(**settings)
    loop = _TRAIN.format(
        data_default_help="" if uses_npz else "; default: --torchvision",
        torchvision_default=None if uses_npz else train.dataset,
        epochs=train.epochs,
        max_steps=train.max_steps,
        seed=train.seed,
        optimizer=_OPTIMIZERS[train.optimizer].format(**settings),
        batch_size=train.batch_size,
        scheduler=schedule,
        shift=train.shift_augment,
        label_smoothing=train.label_smoothing,
    )

    notes = []
    if train.amp:
        notes.append(
            "# NOTE: the lab trained this run with mixed precision; this script uses float32."
        )
    parts = [
        "# ---- Data " + "-" * 81,
        "\n\n\n".join(h.rstrip() for h in helpers),
        data_source.strip(),
        "# ---- Training " + "-" * 77,
    ]
    if train.schedule == "warmup_cosine":
        parts.append(_WARMUP_COSINE.strip())
    if notes:
        parts.append("\n".join(notes))
    parts.append(textwrap.dedent(loop).strip())
    return "\n\n\n".join(parts)
