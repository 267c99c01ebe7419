"""``python -m needgraph`` runs the CLI."""

from needgraph.cli import main

main()
