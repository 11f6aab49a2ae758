"""``alignkit demo``: the λ sweep of "To Align or Not to Align" in about a minute."""

import time

import numpy as np

from . import comma_list
from ._files import save_plot

NAME = "demo"
HELP = (
    "Sweep the alignment weight λ on the synthetic redundancy/uniqueness generator at "
    "three redundancy levels; print fused and per-modality accuracy, alignment (unbiased "
    "CKA) and the best λ, and save a plot."
)


_lambdas = comma_list(float, lambda v: min(v) >= 0 and v == sorted(set(v)),
                      "increasing non-negative numbers separated by commas, e.g. 0,0.5,1")
_redundancies = comma_list(int, lambda v: all(0 <= r <= 8 for r in v),
                           "redundancy levels in 0..8 separated by commas, e.g. 0,4,8")


def add_arguments(parser):
    parser.add_argument("--redundancy", type=_redundancies, default=[0, 4, 8], metavar="R,R,...",
                        help="redundancy levels r (shared label bits out of 8); default 0,4,8")
    parser.add_argument("--lams", type=_lambdas, default=[0.0, 0.1, 0.5, 1.0, 2.0, 4.0],
                        metavar="L,L,...", help="λ values to sweep; default 0,0.1,0.5,1,2,4")
    parser.add_argument("--n-samples", type=int, default=8192,
                        help="samples drawn from the generator (a quarter held out); default 8192")
    parser.add_argument("--max-epochs", type=int, default=10, help="epochs per fit; default 10")
    parser.add_argument("--output", default="alignkit-demo.png",
                        help="where to save the plot; default alignkit-demo.png")
    parser.add_argument("--random-state", type=int, default=0, help="seed; default 0")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _sweep(r, args, progress):
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import train_test_split

    from alignkit import AlignedMultimodalClassifier
    from alignkit.datasets import make_rus_classification
    from alignkit.metrics import make_alignment_scorer, modality_scorer

    X, y = make_rus_classification(n_samples=args.n_samples, redundancy=r,
                                   random_state=args.random_state)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state)
    scorers = {"fused": get_scorer("accuracy"), "m0": modality_scorer(0),
               "m1": modality_scorer(1), "cka": make_alignment_scorer("unbiased_cka")}
    scores = {name: [] for name in scorers}
    for lam in args.lams:
        clf = AlignedMultimodalClassifier(
            modality_dims=[12, 12], lam=lam, max_epochs=args.max_epochs, batch_size=256,
            random_state=args.random_state, n_threads=1,  # small nets: one thread is fastest
        ).fit(X_train, y_train)
        for name, scorer in scorers.items():
            scores[name].append(scorer(clf, X_test, y_test))
        progress.update()
    return scores


def _draw(results, lams):
    """One column of LambdaSweepDisplay panels per redundancy level, in one figure."""
    import matplotlib.pyplot as plt

    from alignkit.plotting import LambdaSweepDisplay

    _, axes = plt.subplots(2, len(results), sharex=True, squeeze=False,
                             figsize=(4.2 * len(results), 5.6))
    for col, (r, scores) in enumerate(results.items()):
        best = lams[int(np.argmax(scores["fused"]))]
        display = LambdaSweepDisplay(
            lams, {k: scores[k] for k in ("fused", "m0", "m1")}, {"unbiased CKA": scores["cka"]},
            best_lambda=best, performance_name="test accuracy", alignment_name="alignment",
        ).plot(ax=(axes[0, col], axes[1, col]))
        axes[0, col].set_title(f"redundancy r = {r} (unique bits {8 - r})")
    return display


def run(args):
    from tqdm.auto import tqdm

    if args.n_samples < 64:
        raise ValueError(f"--n-samples must be at least 64; got {args.n_samples}.")
    if args.max_epochs < 1:
        raise ValueError(f"--max-epochs must be at least 1; got {args.max_epochs}.")
    start = time.perf_counter()
    total = len(args.redundancy) * len(args.lams)
    with tqdm(total=total, desc="λ sweep", unit="fit", disable=args.no_progress) as progress:
        results = {r: _sweep(r, args, progress) for r in args.redundancy}

    print(f"\nλ sweep on make_rus_classification (n={args.n_samples}, 25% held out, "
          f"{args.max_epochs} epochs per fit); accuracy on the held-out quarter")
    header = f"{'r':>3} {'λ':>6} {'fused':>7} {'acc m0':>7} {'acc m1':>7} {'CKA':>7}"
    print(header)
    print("-" * len(header))
    for r, scores in results.items():
        best = int(np.argmax(scores["fused"]))
        for i, lam in enumerate(args.lams):
            mark = "  <- λ*" if i == best else ""
            print(f"{r:>3} {lam:>6g} {scores['fused'][i]:>7.3f} {scores['m0'][i]:>7.3f} "
                  f"{scores['m1'][i]:>7.3f} {scores['cka'][i]:>7.3f}{mark}")
        print(f"{'':>3} λ* = {args.lams[best]:g} for r = {r}")
    print()
    save_plot(args.output, lambda: _draw(results, args.lams))
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
