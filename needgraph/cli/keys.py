"""``needgraph keys``: issue, list and revoke API keys of the configured store.

Keys are stored hashed in the store's metadata (see :mod:`needgraph.security.keys`); ``create``
prints the key once, on stdout, and nothing else there (so ``KEY=$(needgraph keys create ...)``
works).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from needgraph.security.keys import KeyRing
from needgraph.security.roles import Role

app = typer.Typer(
    name="keys",
    help="Issue, list and revoke API keys (stored hashed in the configured store).",
    no_args_is_help=True,
    add_completion=False,
)


@contextmanager
def _ring() -> Iterator[KeyRing]:
    from needgraph.graph.factory import open_store

    with open_store() as store:
        yield KeyRing(store, cache_seconds=0)


@app.command("create")
def create_command(
    role: Annotated[Role, typer.Option("--role", help="analyst, engine, editor or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key.")],
) -> None:
    """Issue a key and print it once (only its salted hash is stored)."""
    with _ring() as ring:
        issued = ring.create(name, role, created_by="cli")
    typer.echo(
        f"issued key {issued.record.id} ({issued.record.role.value}) for {issued.record.name}; "
        "it is shown once, store it now:",
        err=True,
    )
    typer.echo(issued.key)


@app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON.")] = False,
) -> None:
    """List the keys (id, name, role, state); never the keys themselves."""
    from needgraph.cli.common import print_json

    with _ring() as ring:
        records = ring.list_keys()
    if as_json:
        print_json([r.public() for r in records])
        return
    if not records:
        typer.echo("no API keys (issue one with `needgraph keys create --role R --name N`)")
        return
    for r in records:
        state = f"revoked {r.revoked_at}" if r.revoked_at else "active"
        typer.echo(f"{r.id}  {r.role.value:<8} {r.name:<24} {r.created_at}  {state}")


@app.command("revoke")
def revoke_command(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `needgraph keys list`).")],
) -> None:
    """Revoke a key (API workers stop accepting it within their key cache time)."""
    with _ring() as ring:
        record = ring.revoke(key_id, revoked_by="cli")
    typer.echo(f"revoked {record.id} ({record.name}) at {record.revoked_at}")
