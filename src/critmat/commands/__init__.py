"""CLI command groups, one module per capability; :mod:`critmat.cli` assembles them into the app.

- :mod:`~critmat.commands.catalogue`: ``materials``, ``material``, ``restrictions``
- :mod:`~critmat.commands.statistics`: ``production``, ``dependency``, ``trend``, ``reliance``,
  ``unit-values``
- :mod:`~critmat.commands.geopolrisk`, :mod:`~critmat.commands.criticality`,
  :mod:`~critmat.commands.assess`, :mod:`~critmat.commands.stress`: the risk methods, each with
  ``register(app: typer.Typer) -> None``
- :mod:`~critmat.commands.data`: ``data pull|ensure|import|status``
- :mod:`~critmat.commands.report`: ``report``
- :mod:`~critmat.commands.admin`: ``users``, ``orgs``, ``db``, ``serve``

Shared by the command modules: :mod:`~critmat.commands.options`, the options and arguments
several commands take (``--format``, ``--importer``, ``--hs``, ``--output``, ...), and
:mod:`~critmat.commands.columns`, the header and kind of every table column by row key (a table
is declared by its keys).

Every module presents through :mod:`critmat.cli_output` and imports at module level only what
that needs (Typer, Rich's console, critmat's config and errors): the libraries a command runs on
(pandas, DuckDB, the store, the platform, the web stack) load inside the command function.

The command modules (and :mod:`critmat.cli`) do not use ``from __future__ import annotations``.
Typer builds the whole command tree from the functions' annotations on every start, even for
``critmat --version``; with string annotations it compiles and evaluates each of them again
(about 70 ms for this app on the development machine, against under 20 ms to read evaluated
annotations). A name used in an annotation must therefore be imported at run time.
"""
