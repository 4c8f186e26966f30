"""train: fine-tune the embedded model's LoRA adapter from the corpus and published issues."""

from __future__ import annotations

from pathlib import Path

import click

from digest.cli.common import CONTEXT, EXIT_CODES_HELP, AppState, err, pass_app, progress_bars
from digest.errors import ConfigError
from digest.store import StatePaths


@click.command(
    context_settings=CONTEXT,
    epilog=EXIT_CODES_HELP,
    help="""Fine-tune a LoRA adapter for the embedded Gemma 3 270M from brief corpora.

By default it trains on the bundled code-mixed corpus (digest/data/corpus, 932 lines; its
evaluation split is never read). --from-issues adds the briefs of your published issues that
you reviewed or edited, with the source text the store kept for each: over months the model
drifts toward this newsletter's own way of writing. A seeded share of the lines is held out as
a validation split; its loss is printed after every epoch.

The adapter, its training.json (data, split, hyperparameters, hardware, losses) and a
MODEL_CARD.md go to --output. Use it with `summarizer.adapter: PATH` in feeds.yaml, and measure
it with bench/bench_briefs.py before you switch.

Time: a full run (932 lines, 3 epochs) takes about 1.5–2 h on a 2-core CPU with bfloat16
instructions and well under a minute on one datacenter GPU (see docs/summarizer.md).

--merged DIR also writes the base model with the adapter added into its weights, a folder a
model server loads (vLLM, transformers serve, …; recipes in docs/summarizer.md). With
--from-adapter (a folder, or `builtin` for the bundled adapter) nothing is trained: that adapter
is merged.

\b
Example:
  digest train --output adapters/2026-12
  digest train --from-issues --output adapters/with-my-issues
  digest train --corpus my-briefs.jsonl --epochs 2 --output adapters/mine
  digest train --output adapters/mine --merged models/mine-merged
  digest train --from-adapter builtin --merged models/briefs-mixed-merged
""",
)
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON Lines corpus (repeatable; default: the bundled one of --style).",
)
@click.option(
    "--style",
    type=click.Choice(["mixed", "korean"]),
    default="mixed",
    show_default=True,
    help="Which bundled corpus, and which rules the issues' briefs must pass.",
)
@click.option("--from-issues", is_flag=True, help="Add your reviewed, published briefs.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the adapter goes (default: .digest/adapters/briefs-STYLE).",
)
@click.option(
    "--base",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The base model folder (default: the embedded model, converted once).",
)
@click.option(
    "--merged",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write base + adapter merged into one model folder, for a model server.",
)
@click.option(
    "--from-adapter",
    help="Merge this adapter folder (or `builtin`) into --merged instead of training one.",
)
@click.option("--epochs", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option("--rank", type=click.IntRange(1, 256), default=16, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(min=1e-6, max=1.0), default=3e-4)
@click.option("--batch-size", type=click.IntRange(1, 256), default=8, show_default=True)
@click.option("--max-steps", type=click.IntRange(min=0), default=0, help="Stop early (tests).")
@click.option("--seed", type=int, default=1, show_default=True, help="Split and shuffle seed.")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="auto: CUDA when torch sees a GPU.",
)
@pass_app
def train(
    app: AppState,
    corpora: tuple[Path, ...],
    style: str,
    from_issues: bool,
    output: Path | None,
    base: Path | None,
    merged: Path | None,
    from_adapter: str | None,
    epochs: int,
    rank: int,
    learning_rate: float,
    batch_size: int,
    max_steps: int,
    seed: int,
    device: str,
) -> None:
    """`digest train`: fine-tune a LoRA adapter for the embedded model (see the help text)."""
    if from_adapter is not None:
        if merged is None:
            raise ConfigError("digest train --from-adapter merges an adapter: add --merged DIR")
        if base is None:
            base = _embedded_base(app)
        _merge(app, base, _adapter_folder(from_adapter), merged)
        return
    from digest.summarize.corpus import training_set
    from digest.summarize.train import Hyperparameters, train_adapter

    config = app.config if (from_issues or base is None or output is None) else None
    lines, described = training_set(list(corpora), style, config if from_issues else None)
    if config is not None and base is None:
        from digest.summarize.embedded import embedded_folder

        base = embedded_folder(config.state_path)
    if base is None:
        raise ConfigError("digest train: give --base FOLDER or a feeds.yaml for the embedded model")
    if output is None:
        assert config is not None
        output = StatePaths(config.state_path).adapters / f"briefs-{style}"
    for corpus in described:
        app.say(f"corpus {corpus['name']}: {corpus['lines']} lines")
    hp = Hyperparameters(
        rank=rank,
        alpha=2 * rank,
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch_size,
        seed=seed,
        max_steps=max_steps,
    )
    with progress_bars(app) as bars:
        done = 0

        def step(finished: int, total: int, loss: float) -> None:
            nonlocal done
            if bars is not None:
                if done == 0:
                    bars.stage("training", total=total)
                bars.advance(finished - done)
            elif finished * 10 // total != done * 10 // total:  # a line every 10 % off a terminal
                app.say(f"step {finished}/{total}: loss {loss:.3f}")
            done = finished

        def epoch(n: int, loss: float) -> None:
            app.say(f"epoch {n}: validation loss {loss:.3f}")

        result = train_adapter(
            base,
            lines,
            output,
            hp,
            device=device,
            corpora=described,
            progress=step,
            epoch_done=epoch,
        )
    losses = " → ".join(f"{x:.2f}" for x in result.validation_loss)
    err.print(
        f"adapter in {result.output}: {result.train_lines} lines × {result.steps} steps on "
        f"{result.device} in {result.seconds:.0f} s; validation loss {losses} (kept epoch "
        f"{result.best_epoch})\n"
        f"use it: summarizer.adapter: {result.output}   measure it: "
        f".venv/bin/python bench/bench_briefs.py --adapter {result.output}",
        markup=False,
    )
    if merged is not None:
        _merge(app, base, output, merged)


def _embedded_base(app: AppState) -> Path:
    from digest.summarize.embedded import embedded_folder

    return embedded_folder(app.config.state_path)


def _adapter_folder(name: str) -> Path:
    """`builtin` (the bundled adapter) or a folder, checked to hold an adapter."""
    from digest.summarize.adapters import ADAPTER_CONFIG, builtin_folder

    folder = builtin_folder() if name == "builtin" else Path(name)
    if not (folder / ADAPTER_CONFIG).is_file():
        raise ConfigError(
            f"digest train --from-adapter {name}: {folder} has no {ADAPTER_CONFIG} — give a "
            "folder made by `digest train`, or builtin"
        )
    return folder


def _merge(app: AppState, base: Path, adapter: Path, output: Path) -> None:
    """Write the merged folder and say how to serve it."""
    from digest.summarize.merge import ADAPTER_SUBFOLDER, write_merged

    app.say(f"merging {adapter} into {base} …")
    result = write_merged(base, adapter, output)
    err.print(
        f"merged model in {result.output} ({result.bytes / 1e6:,.0f} MB, {result.adapter_id}, "
        f"{result.seconds:.0f} s)\n"
        f"serve it: transformers serve {result.output} --port 8000   (recipes for vLLM, "
        "Ollama, llama.cpp: docs/summarizer.md)\n"
        f"feeds.yaml: summarizer: {{backend: openai, model: {result.output}, "
        f"adapter: {result.output / ADAPTER_SUBFOLDER}}}",
        markup=False,
    )


COMMANDS = [train]
