"""The ``needgraph`` command line: a thin face over the library, one module per command group."""

from __future__ import annotations

import importlib
import warnings

import typer

from needgraph.cli.common import run_guarded
from needgraph.cli.evaluate import evaluate
from needgraph.cli.events import event_command, outcome_command
from needgraph.cli.generate import generate
from needgraph.cli.ingest import ingest
from needgraph.cli.model import predict_command, train_command
from needgraph.cli.reason import drivers_command, explain_command, recommend_command
from needgraph.cli.serve import serve
from needgraph.cli.stats import stats

app = typer.Typer(
    name="needgraph",
    help="Knowledge-graph reasoning for telecom customer-service analysis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("stats")(stats)
app.command("serve")(serve)
app.command("generate")(generate)
app.command("ingest")(ingest)
app.command("train")(train_command)
app.command("predict")(predict_command)
app.command("explain")(explain_command)
app.command("recommend")(recommend_command)
app.command("drivers")(drivers_command)
app.command("evaluate")(evaluate)
app.command("event")(event_command)
app.command("outcome")(outcome_command)


@app.callback()
def _root() -> None:
    """Knowledge-graph reasoning for telecom customer-service analysis."""


# Command groups live in their own modules; each exposes a ``typer.Typer`` named ``app``.
for _module, _name in (("needgraph.cli.ontology", "ontology"), ("needgraph.cli.keys", "keys")):
    try:
        app.add_typer(importlib.import_module(_module).app, name=_name)
    except ModuleNotFoundError as _exc:  # a group whose module is not in this checkout
        if _exc.name != _module:
            raise


def main() -> None:
    """Entry point of the ``needgraph`` console script."""
    # PyG still calls torch.jit.script at import; the deprecation is torch's, not the user's
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=FutureWarning)
    run_guarded(app)
