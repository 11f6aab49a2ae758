"""``alignkit demo``: the λ sweep of "To Align or Not to Align", multi-seed and paired."""

import time

import numpy as np

from . import comma_list
from ._files import save_plot

NAME = "demo"
FLAGS = {"max_epochs": "--max-epochs", "n_jobs": "--n-jobs", "random_state": "--random-state"}
HELP = (
    "Sweep the alignment weight λ on the synthetic redundancy/uniqueness generator at "
    "three redundancy levels, over several seeds, symmetric and with m0's "
    "contrastive gradient stopped; print each accuracy's paired difference from λ = 0 "
    "(± s.e., t), the Bayes ceilings and what is and is not beyond noise, and save a plot."
)

_SCORERS = ("fused", "m0", "m1")
_VARIANTS = {"symmetric": None, "stop_gradient=[0]": [0]}

_lambdas = comma_list(float, lambda v: min(v) >= 0 and v == sorted(set(v)) and v[0] == 0,
                      "increasing non-negative numbers starting at 0, e.g. 0,0.5,2")
_redundancies = comma_list(int, lambda v: all(0 <= r <= 8 for r in v),
                           "redundancy levels in 0..8 separated by commas, e.g. 0,4,8")


def _random_state(value):
    return value if value == "paper" else int(value)


def add_arguments(parser):
    parser.add_argument("--redundancy", type=_redundancies, default=[0, 4, 8], metavar="R,R,...",
                        help="redundancy levels r (shared label bits out of 8); default 0,4,8")
    parser.add_argument("--lams", type=_lambdas, default=[0.0, 0.5, 2.0], metavar="0,L,...",
                        help="λ values to sweep, starting at 0; default 0,0.5,2")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds per λ (training rows, initial weights, batch order); default 3")
    parser.add_argument("--n-train", type=int, default=1024, help="training rows; default 1024")
    parser.add_argument("--n-test", type=int, default=8192, help="test rows; default 8192")
    parser.add_argument("--max-epochs", type=int, default=100, help="epochs per fit; default 100")
    parser.add_argument("--n-jobs", type=int, default=2, help="parallel fits; default 2")
    parser.add_argument("--output", default="alignkit-demo.png",
                        help="where to save the plot; default alignkit-demo.png")
    parser.add_argument("--random-state", type=_random_state, default="paper",
                        help="generator draws: 'paper' (the emergence paper's) or an int; "
                             "default paper")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _check(args):
    if args.seeds < 2:
        raise ValueError(f"--seeds must be at least 2 (a standard error needs two); got {args.seeds}.")
    if args.n_train < 16 or args.n_test < 16:
        raise ValueError(f"--n-train and --n-test must be at least 16; got {args.n_train} "
                         f"and {args.n_test}.")
    if args.max_epochs < 1:
        raise ValueError(f"--max-epochs must be at least 1; got {args.max_epochs}.")


def demo_model(modality_dims, max_epochs=100, **params):
    """The demo's model: standardised inputs, paper-like width-12 encoders.

    One torch thread per fit; the fits themselves run in parallel.
    ``benchmarks/bench_regularisation.py`` runs its weight-decay control.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from alignkit import AlignedMultimodalClassifier

    return make_pipeline(StandardScaler(), AlignedMultimodalClassifier(
        modality_dims=modality_dims, hidden_dims=(12,), embed_dim=12, projection_dim=12,
        lr=1e-2, max_epochs=max_epochs, batch_size=256, n_threads=1, **params,
    ))


def _sweeps(r, args):
    """Both variants' sweeps at redundancy ``r``, and the Bayes ceilings of the data."""
    from alignkit.datasets import make_rus_classification
    from alignkit.metrics import make_alignment_scorer, modality_scorer
    from alignkit.model_selection import lambda_sweep

    data = make_rus_classification(args.n_train + args.n_test, redundancy=r, heterogeneity=2,
                                   return_joint=True, random_state=args.random_state)
    scoring = {"fused": "accuracy", "m0": modality_scorer(0), "m1": modality_scorer(1),
               "cka": make_alignment_scorer("unbiased_cka")}
    sweeps = {}
    for variant, stop_gradient in _VARIANTS.items():
        model = demo_model(data.modality_dims, args.max_epochs, stop_gradient=stop_gradient)
        sweeps[variant] = lambda_sweep(
            model, data.X, data.y, lams=args.lams, seeds=args.seeds, train_size=args.n_train,
            test_size=args.n_test, scoring=scoring, param="alignedmultimodalclassifier__lam",
            n_jobs=args.n_jobs, verbose=int(not args.no_progress),
        ).summary
    ceilings = {"fused": data.bayes_accuracy["X1,X2"], "m0": data.bayes_accuracy["X1"],
                "m1": data.bayes_accuracy["X2"]}
    return sweeps, ceilings


def _verdict(row, critical):
    if not np.isfinite(row["t"]) or abs(row["t"]) < critical:
        return "n.s."
    return "up" if row["t"] > 0 else "down"


def _report(results, args):
    from scipy import stats

    critical = float(stats.t.ppf(0.975, args.seeds - 1))
    print(f"\nλ sweep on make_rus_classification(random_state={args.random_state!r}, "
          f"heterogeneity=2): {args.n_train} training and {args.n_test} test rows per seed, "
          f"{args.seeds} seeds, {args.max_epochs} epochs, width-12 encoders.")
    print(f"Δ = accuracy(λ) - accuracy(0), paired by seed, ± its s.e.; 'up'/'down': |t| >= "
          f"{critical:.2f} (paired t, two-sided 5 %, {args.seeds - 1} df), else 'n.s.'.")
    header = (f"{'r':>2} {'λ':>4} {'variant':<17} {'fused':>6} {'Δ fused':>17} "
              f"{'Δ acc m0':>17} {'Δ acc m1':>17} {'CKA':>6}")
    for r, (sweeps, ceilings) in results.items():
        print(f"\nr = {r} ({r} shared, {8 - r} unique label bits); Bayes ceilings: fused "
              f"{ceilings['fused']:.3f}, m0 {ceilings['m0']:.3f}, m1 {ceilings['m1']:.3f}")
        print(header)
        print("-" * len(header))
        for lam in args.lams:
            for variant, summary in sweeps.items():
                if lam == 0 and variant != "symmetric":
                    continue  # λ = 0 is the same fit in both variants
                rows = summary[summary["lam"] == lam].set_index("scorer")
                cells = []
                for name in _SCORERS:
                    row = rows.loc[name]
                    if lam == 0:
                        cells.append(f"{row['mean']:.3f}±{row['sem']:.3f}     ")
                    else:
                        cells.append(f"{row['delta']:+.3f}±{row['delta_sem']:.3f} "
                                     f"{_verdict(row, critical):<4}")
                name = "-" if lam == 0 else variant
                print(f"{r:>2} {lam:>4g} {name:<17} {rows.loc['fused', 'mean']:>6.3f} "
                      + " ".join(f"{c:>17}" for c in cells) + f" {rows.loc['cka', 'mean']:>6.3f}")
    print("\n(at λ = 0 the cells give the accuracy itself ± its s.e. over seeds)")
    _conclusions(results, args, critical)


def _conclusions(results, args, critical):
    """What the run shows and does not show, read off the table."""
    largest = args.lams[-1]
    print("\nWhat this run shows (beyond noise = |t| >= %.2f):" % critical)
    for r, (sweeps, ceilings) in results.items():
        for variant, summary in sweeps.items():
            rows = summary[summary["lam"] > 0]
            parts = []
            for name in _SCORERS:
                up = rows[(rows["scorer"] == name) & (rows["t"] >= critical)]["lam"].tolist()
                down = rows[(rows["scorer"] == name) & (rows["t"] <= -critical)]["lam"].tolist()
                word = (f"up at λ = {', '.join(f'{v:g}' for v in up)}" if up else "")
                word += ("; " if up and down else "") + (
                    f"down at λ = {', '.join(f'{v:g}' for v in down)}" if down else "")
                parts.append(f"{name} {word or 'no change beyond noise'}")
            print(f"  r = {r}, {variant}: " + "; ".join(parts) + ".")
    fused = {}
    for r, (sweeps, _) in results.items():
        summary = sweeps["symmetric"]
        fused[r] = summary[(summary["scorer"] == "fused") & (summary["lam"] == largest)].iloc[0]
    print(f"  Fused accuracy's change at λ = {largest:g} by r: "
          + ", ".join(f"r = {r}: {row['delta']:+.3f}±{row['delta_sem']:.3f}"
                      for r, row in fused.items()) + ".")
    gains = []
    for r, (sweeps, _) in results.items():
        summary = sweeps["symmetric"]
        rows = summary[(summary["scorer"] == "fused") & (summary["lam"] > 0)]
        up = rows[rows["t"] >= critical]
        gains.append(f"r = {r}: " + (", ".join(
            f"λ = {row['lam']:g} ({row['delta']:+.3f}±{row['delta_sem']:.3f})"
            for _, row in up.iterrows()) if len(up) else "none"))
    print("  λ > 0 that raises fused accuracy beyond noise (the paper's λ* > 0): "
          + "; ".join(gains) + ".")

    def change(variant, scorer):
        return ", ".join(
            f"r = {r}: {row['delta']:+.3f}±{row['delta_sem']:.3f}"
            for r, (sweeps, _) in results.items()
            for _, row in sweeps[variant][(sweeps[variant]["scorer"] == scorer)
                                          & (sweeps[variant]["lam"] == largest)].iterrows())

    print(f"  Regularisation vs transfer at λ = {largest:g}: m0 under symmetric alignment "
          f"({change('symmetric', 'm0')}; a gain where r = 0 shares no label bit cannot be "
          f"transfer); m1 under stop_gradient=[0], pulled towards an m0 that trains as at "
          f"λ = 0 ({change('stop_gradient=[0]', 'm1')}).")


def _draw(results, lams):
    """Accuracy ± s.e. with Bayes ceilings, paired Δ of both variants, and CKA, per r."""
    import matplotlib.pyplot as plt

    from alignkit.plotting import LambdaSweepDisplay

    rows = ["accuracy", "Δ symmetric", "Δ stop_gradient=[0]", "unbiased CKA"]
    _, axes = plt.subplots(len(rows), len(results), sharex=True, sharey="row", squeeze=False,
                             figsize=(4.2 * len(results), 2.6 * len(rows) + 0.4),
                             layout="constrained")
    labels = list(_SCORERS)  # the legends write them out: "fused", "modality m0", ...
    for col, (r, (sweeps, ceilings)) in enumerate(results.items()):
        sym, sg = sweeps["symmetric"], sweeps["stop_gradient=[0]"]
        LambdaSweepDisplay.from_sweep(sym, scores=labels, alignment=[], ceilings=ceilings,
                                      performance_name="test accuracy", ax=axes[0, col])
        LambdaSweepDisplay.from_sweep(sym, scores=labels, alignment=[], delta=True,
                                      performance_name="Δ vs λ = 0, symmetric", ax=axes[1, col])
        LambdaSweepDisplay.from_sweep(sg, scores=labels, alignment=[], delta=True,
                                      performance_name="Δ vs λ = 0, m0 detached", ax=axes[2, col])
        both = {"symmetric": sym, "stop_gradient=[0]": sg}
        display = LambdaSweepDisplay(
            lams, {v: s.query("scorer == 'cka'")["mean"].to_numpy() for v, s in both.items()},
            performance_err={v: s.query("scorer == 'cka'")["sem"].to_numpy()
                             for v, s in both.items()},
            performance_name="unbiased CKA",
        ).plot(ax=axes[3, col])
        axes[0, col].set_title(f"r = {r} ({r} shared, {8 - r} unique bits)")
        for ax in axes[:, col]:
            ax.legend(fontsize="x-small")
    return display


def run(args):
    _check(args)
    start = time.perf_counter()
    results = {r: _sweeps(r, args) for r in args.redundancy}
    _report(results, args)
    print()
    save_plot(args.output, lambda: _draw(results, args.lams))
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0
